//! String commands against a running server: every command, option and error reply of the
//! family, with the replies Redis 7.0 gives; expiry interplay (observed by sleeping past short
//! expiries), pipelining, RESP3, and atomic INCR under concurrent clients.

mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{TestServer, info_stat};
use redis::{Connection, RedisError, Value};

/// Runs a command built from words.
fn cmd(words: &[&str]) -> redis::Cmd {
    let mut command = redis::cmd(words[0]);
    for word in &words[1..] {
        command.arg(*word);
    }
    command
}

fn query<T: redis::FromRedisValue>(con: &mut Connection, words: &[&str]) -> T {
    cmd(words).query(con).unwrap_or_else(|error| panic!("{words:?} failed: {error}"))
}

/// The full error text a command replies (`ERR syntax error`, `WRONGTYPE ...`).
fn error_of(con: &mut Connection, words: &[&str]) -> String {
    let error: RedisError = cmd(words).query::<Value>(con).expect_err(&format!("{words:?} must fail"));
    format!("{} {}", error.code().unwrap_or("?"), error.detail().unwrap_or(""))
}

fn get(con: &mut Connection, key: &str) -> Option<String> {
    query(con, &["GET", key])
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("clock after 1970").as_millis() as u64
}

/// Sleeps past a short expiry set just before.
fn sleep_ms(ms: u64) {
    std::thread::sleep(Duration::from_millis(ms));
}

const SYNTAX: &str = "ERR syntax error";
const NOT_INTEGER: &str = "ERR value is not an integer or out of range";
const NOT_FLOAT: &str = "ERR value is not a valid float";

#[test]
fn get_and_set_plain_and_binary_values() {
    let server = TestServer::start();
    let mut con = server.client();
    assert_eq!(get(&mut con, "missing"), None);
    assert_eq!(query::<String>(&mut con, &["SET", "k", "v1"]), "OK");
    assert_eq!(get(&mut con, "k").as_deref(), Some("v1"));
    assert_eq!(query::<String>(&mut con, &["set", "k", "v2"]), "OK");
    assert_eq!(get(&mut con, "k").as_deref(), Some("v2"));
    let binary = b"a\r\nb\x00\xff".to_vec();
    let _: () = redis::cmd("SET").arg("bin").arg(&binary).query(&mut con).expect("set binary");
    let back: Vec<u8> = redis::cmd("GET").arg("bin").query(&mut con).expect("get binary");
    assert_eq!(back, binary);
    assert_eq!(query::<String>(&mut con, &["SET", "empty", ""]), "OK");
    assert_eq!(get(&mut con, "empty").as_deref(), Some(""));
}

#[test]
fn set_nx_xx_and_get_options() {
    let server = TestServer::start();
    let mut con = server.client();
    assert_eq!(query::<Option<String>>(&mut con, &["SET", "k", "a", "XX"]), None);
    assert_eq!(get(&mut con, "k"), None);
    assert_eq!(query::<Option<String>>(&mut con, &["SET", "k", "a", "NX"]).as_deref(), Some("OK"));
    assert_eq!(query::<Option<String>>(&mut con, &["SET", "k", "b", "nx"]), None);
    assert_eq!(get(&mut con, "k").as_deref(), Some("a"));
    assert_eq!(query::<Option<String>>(&mut con, &["SET", "k", "b", "XX"]).as_deref(), Some("OK"));
    assert_eq!(get(&mut con, "k").as_deref(), Some("b"));
    // GET replies the old value (nil when missing), whether or not NX / XX lets the write happen.
    assert_eq!(query::<Option<String>>(&mut con, &["SET", "k", "c", "GET"]).as_deref(), Some("b"));
    assert_eq!(query::<Option<String>>(&mut con, &["SET", "k", "d", "NX", "GET"]).as_deref(), Some("c"));
    assert_eq!(get(&mut con, "k").as_deref(), Some("c"));
    assert_eq!(query::<Option<String>>(&mut con, &["SET", "new", "x", "GET"]), None);
    assert_eq!(get(&mut con, "new").as_deref(), Some("x"));
    assert_eq!(query::<Option<String>>(&mut con, &["SET", "absent", "x", "XX", "GET"]), None);
    assert_eq!(get(&mut con, "absent"), None);
    assert_eq!(query::<Option<String>>(&mut con, &["SET", "k", "e", "XX", "GET"]).as_deref(), Some("c"));
    assert_eq!(get(&mut con, "k").as_deref(), Some("e"));
    // Repeating an option is accepted, as in Redis.
    assert_eq!(query::<Option<String>>(&mut con, &["SET", "k", "f", "GET", "GET"]).as_deref(), Some("e"));
    assert_eq!(query::<Option<String>>(&mut con, &["SET", "k", "g", "XX", "XX"]).as_deref(), Some("OK"));
}

#[test]
fn set_rejects_invalid_option_combinations() {
    let server = TestServer::start();
    let mut con = server.client();
    for options in [
        &["NX", "XX"][..],
        &["XX", "NX"],
        &["EX", "10", "PX", "10"],
        &["PX", "10", "EXAT", "10"],
        &["EXAT", "10", "PXAT", "10"],
        &["KEEPTTL", "EX", "10"],
        &["PX", "10", "KEEPTTL"],
        &["EX"],
        &["PERSIST"],
        &["foo"],
        &["EX", "abc", "foo"],
        &["EX", "0", "NX", "XX"],
    ] {
        let mut words = vec!["SET", "k", "v"];
        words.extend_from_slice(options);
        assert_eq!(error_of(&mut con, &words), SYNTAX, "{words:?}");
    }
    assert_eq!(get(&mut con, "k"), None, "a rejected SET writes nothing");
    let invalid = "ERR invalid expire time in 'set' command";
    for (option, amount) in [
        ("EX", "0"),
        ("EX", "-1"),
        ("PX", "0"),
        ("EXAT", "-5"),
        ("PXAT", "0"),
        ("EX", "9223372036854775807"),
        ("PX", "9223372036854775807"),
        ("EXAT", "9223372036854775807"),
    ] {
        assert_eq!(error_of(&mut con, &["SET", "k", "v", option, amount]), invalid, "{option} {amount}");
    }
    assert_eq!(error_of(&mut con, &["SET", "k", "v", "EX", "abc"]), NOT_INTEGER);
    assert_eq!(error_of(&mut con, &["SET", "k", "v", "PX", "1.5"]), NOT_INTEGER);
    assert_eq!(error_of(&mut con, &["SET", "k"]), "ERR wrong number of arguments for 'set' command");
}

#[test]
fn set_expiry_options_expire_the_key() {
    let server = TestServer::start();
    let mut con = server.client();
    let later_ms = (now_ms() + 300).to_string();
    let later_s = (now_ms() / 1000 + 1000).to_string();
    assert_eq!(query::<String>(&mut con, &["SET", "px", "v", "PX", "300"]), "OK");
    assert_eq!(query::<String>(&mut con, &["SET", "pxat", "v", "PXAT", &later_ms]), "OK");
    assert_eq!(query::<String>(&mut con, &["SET", "ex", "v", "EX", "1000"]), "OK");
    assert_eq!(query::<String>(&mut con, &["SET", "exat", "v", "EXAT", &later_s]), "OK");
    for key in ["px", "pxat", "ex", "exat"] {
        assert_eq!(get(&mut con, key).as_deref(), Some("v"), "{key} before its expiry");
    }
    sleep_ms(500);
    assert_eq!(get(&mut con, "px"), None);
    assert_eq!(get(&mut con, "pxat"), None);
    assert_eq!(get(&mut con, "ex").as_deref(), Some("v"));
    assert_eq!(get(&mut con, "exat").as_deref(), Some("v"));
    // An absolute time in the past sets nothing visible.
    assert_eq!(query::<String>(&mut con, &["SET", "past", "v", "EXAT", "1"]), "OK");
    assert_eq!(get(&mut con, "past"), None);
    assert_eq!(query::<String>(&mut con, &["SET", "ex", "w", "PXAT", "1"]), "OK");
    assert_eq!(get(&mut con, "ex"), None, "SET with a past PXAT removes the old value too");
    // The last of repeated expiries wins.
    assert_eq!(query::<String>(&mut con, &["SET", "twice", "v", "PX", "100000", "PX", "200"]), "OK");
    sleep_ms(400);
    assert_eq!(get(&mut con, "twice"), None);
}

#[test]
fn set_clears_the_ttl_unless_keepttl() {
    let server = TestServer::start();
    let mut con = server.client();
    let _: String = query(&mut con, &["SET", "kept", "a", "PX", "300"]);
    assert_eq!(query::<String>(&mut con, &["SET", "kept", "b", "KEEPTTL"]), "OK");
    let _: String = query(&mut con, &["SET", "cleared", "a", "PX", "300"]);
    assert_eq!(query::<String>(&mut con, &["SET", "cleared", "b"]), "OK");
    let _: String = query(&mut con, &["SET", "getset", "a", "PX", "300"]);
    assert_eq!(query::<Option<String>>(&mut con, &["GETSET", "getset", "b"]).as_deref(), Some("a"));
    let _: String = query(&mut con, &["SET", "kept_get", "a", "PX", "300"]);
    assert_eq!(query::<Option<String>>(&mut con, &["SET", "kept_get", "b", "KEEPTTL", "GET"]).as_deref(), Some("a"));
    assert_eq!(get(&mut con, "kept").as_deref(), Some("b"));
    sleep_ms(500);
    assert_eq!(get(&mut con, "kept"), None, "KEEPTTL kept the expiry");
    assert_eq!(get(&mut con, "kept_get"), None, "KEEPTTL GET kept the expiry");
    assert_eq!(get(&mut con, "cleared").as_deref(), Some("b"), "SET cleared the expiry");
    assert_eq!(get(&mut con, "getset").as_deref(), Some("b"), "GETSET cleared the expiry");
}

#[test]
fn setnx_setex_psetex() {
    let server = TestServer::start();
    let mut con = server.client();
    assert_eq!(query::<i64>(&mut con, &["SETNX", "k", "a"]), 1);
    assert_eq!(query::<i64>(&mut con, &["SETNX", "k", "b"]), 0);
    assert_eq!(get(&mut con, "k").as_deref(), Some("a"));
    assert_eq!(query::<String>(&mut con, &["SETEX", "ex", "1000", "v"]), "OK");
    assert_eq!(query::<String>(&mut con, &["PSETEX", "px", "300", "v"]), "OK");
    assert_eq!(query::<String>(&mut con, &["PSETEX", "k", "300", "b"]), "OK");
    assert_eq!(get(&mut con, "k").as_deref(), Some("b"));
    sleep_ms(500);
    assert_eq!(get(&mut con, "px"), None);
    assert_eq!(get(&mut con, "k"), None);
    assert_eq!(get(&mut con, "ex").as_deref(), Some("v"));
    assert_eq!(query::<i64>(&mut con, &["SETNX", "k", "c"]), 1, "an expired key is missing for SETNX");
    for amount in ["0", "-5", "9223372036854775807"] {
        assert_eq!(error_of(&mut con, &["SETEX", "k", amount, "v"]), "ERR invalid expire time in 'setex' command");
    }
    for amount in ["0", "-5", "9223372036854775000"] {
        assert_eq!(error_of(&mut con, &["PSETEX", "k", amount, "v"]), "ERR invalid expire time in 'psetex' command");
    }
    assert_eq!(error_of(&mut con, &["SETEX", "k", "abc", "v"]), NOT_INTEGER);
    assert_eq!(error_of(&mut con, &["PSETEX", "k", "1.5", "v"]), NOT_INTEGER);
    assert_eq!(get(&mut con, "k").as_deref(), Some("c"), "rejected SETEX / PSETEX write nothing");
}

#[test]
fn getset_getdel() {
    let server = TestServer::start();
    let mut con = server.client();
    assert_eq!(query::<Option<String>>(&mut con, &["GETSET", "k", "a"]), None);
    assert_eq!(query::<Option<String>>(&mut con, &["GETSET", "k", "b"]).as_deref(), Some("a"));
    assert_eq!(get(&mut con, "k").as_deref(), Some("b"));
    assert_eq!(query::<Option<String>>(&mut con, &["GETDEL", "k"]).as_deref(), Some("b"));
    assert_eq!(get(&mut con, "k"), None);
    assert_eq!(query::<Option<String>>(&mut con, &["GETDEL", "k"]), None);
}

#[test]
fn getex_changes_or_removes_the_expiry() {
    let server = TestServer::start();
    let mut con = server.client();
    assert_eq!(query::<Option<String>>(&mut con, &["GETEX", "missing"]), None);
    assert_eq!(query::<Option<String>>(&mut con, &["GETEX", "missing", "EX", "abc"]), None, "nil before parsing");
    for key in ["plain", "ex", "px", "exat", "pxat", "persist", "past"] {
        let _: String = query(&mut con, &["SET", key, "v", "PX", "400"]);
    }
    let later_s = (now_ms() / 1000 + 1000).to_string();
    let later_ms = (now_ms() + 100_000).to_string();
    assert_eq!(query::<Option<String>>(&mut con, &["GETEX", "plain"]).as_deref(), Some("v"));
    assert_eq!(query::<Option<String>>(&mut con, &["GETEX", "ex", "EX", "1000"]).as_deref(), Some("v"));
    assert_eq!(query::<Option<String>>(&mut con, &["GETEX", "px", "px", "100000"]).as_deref(), Some("v"));
    assert_eq!(query::<Option<String>>(&mut con, &["GETEX", "exat", "EXAT", &later_s]).as_deref(), Some("v"));
    assert_eq!(query::<Option<String>>(&mut con, &["GETEX", "pxat", "PXAT", &later_ms]).as_deref(), Some("v"));
    assert_eq!(query::<Option<String>>(&mut con, &["GETEX", "persist", "PERSIST"]).as_deref(), Some("v"));
    assert_eq!(query::<Option<String>>(&mut con, &["GETEX", "past", "PXAT", "1"]).as_deref(), Some("v"));
    assert_eq!(get(&mut con, "past"), None, "a past PXAT deletes the key after replying");
    sleep_ms(600);
    assert_eq!(get(&mut con, "plain"), None, "GETEX without options keeps the expiry");
    for key in ["ex", "px", "exat", "pxat", "persist"] {
        assert_eq!(get(&mut con, key).as_deref(), Some("v"), "{key}: GETEX replaced the expiry");
    }
    let _: String = query(&mut con, &["SET", "k", "v"]);
    for options in [&["NX"][..], &["GET"], &["KEEPTTL"], &["EX", "10", "PERSIST"], &["PERSIST", "EX", "10"], &["EX"]] {
        let mut words = vec!["GETEX", "k"];
        words.extend_from_slice(options);
        assert_eq!(error_of(&mut con, &words), SYNTAX, "{words:?}");
    }
    assert_eq!(error_of(&mut con, &["GETEX", "k", "EX", "abc"]), NOT_INTEGER);
    assert_eq!(error_of(&mut con, &["GETEX", "k", "EX", "0"]), "ERR invalid expire time in 'getex' command");
    assert_eq!(error_of(&mut con, &["GETEX", "k", "PX", "-1"]), "ERR invalid expire time in 'getex' command");
    assert_eq!(query::<Option<String>>(&mut con, &["GETEX", "k", "PERSIST", "persist"]).as_deref(), Some("v"));
}

#[test]
fn mget_mset_msetnx_on_one_core() {
    let server = TestServer::start();
    let mut con = server.client();
    assert_eq!(query::<String>(&mut con, &["MSET", "{t}a", "1", "{t}b", "2", "{t}a", "3"]), "OK");
    let values: Vec<Option<String>> = query(&mut con, &["MGET", "{t}a", "{t}b", "{t}missing"]);
    assert_eq!(values, vec![Some("3".to_owned()), Some("2".to_owned()), None]);
    assert_eq!(query::<i64>(&mut con, &["MSETNX", "{t}c", "1", "{t}a", "9"]), 0);
    assert_eq!(get(&mut con, "{t}c"), None, "MSETNX writes nothing when a key exists");
    assert_eq!(get(&mut con, "{t}a").as_deref(), Some("3"));
    assert_eq!(query::<i64>(&mut con, &["MSETNX", "{t}c", "1", "{t}d", "2"]), 1);
    let values: Vec<Option<String>> = query(&mut con, &["MGET", "{t}c", "{t}d"]);
    assert_eq!(values, vec![Some("1".to_owned()), Some("2".to_owned())]);
    let _: String = query(&mut con, &["SET", "{t}ttl", "v", "PX", "300"]);
    assert_eq!(query::<String>(&mut con, &["MSET", "{t}ttl", "w"]), "OK");
    sleep_ms(500);
    assert_eq!(get(&mut con, "{t}ttl").as_deref(), Some("w"), "MSET clears the expiry");
    assert_eq!(error_of(&mut con, &["MSET", "{t}a", "1", "{t}b"]), "ERR wrong number of arguments for 'mset' command");
    assert_eq!(
        error_of(&mut con, &["MSETNX", "{t}a", "1", "{t}b"]),
        "ERR wrong number of arguments for 'msetnx' command"
    );
    assert_eq!(error_of(&mut con, &["MSET", "{t}a"]), "ERR wrong number of arguments for 'mset' command");
}

/// Keys owned by core 0 in `count` different regions, using the server's default region layout.
fn keys_in_different_regions_of_core_zero(count: usize) -> Vec<String> {
    let regions_per_shard = nokv_shard::NodeConfig::default().regions_per_shard;
    let map = nokv_shard::routing::RegionMap::bootstrap(2, regions_per_shard).expect("region map");
    let mut seen_regions = Vec::new();
    let mut keys = Vec::new();
    for index in 0.. {
        let key = format!("key:{index}");
        let region = map.region_of_key(key.as_bytes());
        if region.owner_core == 0 && !seen_regions.contains(&region.id) {
            seen_regions.push(region.id);
            keys.push(key);
            if keys.len() == count {
                break;
            }
        }
    }
    keys
}

#[test]
fn msetnx_and_mset_across_regions_of_one_core() {
    let server = TestServer::start();
    let mut con = server.client();
    let keys = keys_in_different_regions_of_core_zero(3);
    let command = |name: &str, value: &str| -> Vec<String> {
        std::iter::once(name.to_owned()).chain(keys.iter().flat_map(|key| [key.clone(), value.to_owned()])).collect()
    };
    let msetnx = command("MSETNX", "1");
    let msetnx: Vec<&str> = msetnx.iter().map(String::as_str).collect();
    assert_eq!(query::<i64>(&mut con, &msetnx), 1);
    assert_eq!(query::<i64>(&mut con, &msetnx), 0);
    let mset = command("MSET", "2");
    let mset: Vec<&str> = mset.iter().map(String::as_str).collect();
    assert_eq!(query::<String>(&mut con, &mset), "OK");
    let mut mget = vec!["MGET"];
    mget.extend(keys.iter().map(String::as_str));
    let values: Vec<String> = query(&mut con, &mget);
    assert_eq!(values, vec!["2"; keys.len()]);
    let _: i64 = query(&mut con, &["DEL", &keys[1]]);
    assert_eq!(query::<i64>(&mut con, &msetnx), 0, "the other keys still exist");
    assert_eq!(get(&mut con, &keys[1]), None);
}

#[test]
fn incr_decr_incrby_decrby() {
    let server = TestServer::start();
    let mut con = server.client();
    assert_eq!(query::<i64>(&mut con, &["INCR", "n"]), 1);
    assert_eq!(query::<i64>(&mut con, &["INCRBY", "n", "41"]), 42);
    assert_eq!(query::<i64>(&mut con, &["DECR", "n"]), 41);
    assert_eq!(query::<i64>(&mut con, &["DECRBY", "n", "50"]), -9);
    assert_eq!(query::<i64>(&mut con, &["INCRBY", "n", "-1"]), -10);
    assert_eq!(get(&mut con, "n").as_deref(), Some("-10"));
    assert_eq!(query::<i64>(&mut con, &["DECR", "fresh"]), -1);
    let overflow = "ERR increment or decrement would overflow";
    let _: String = query(&mut con, &["SET", "max", "9223372036854775807"]);
    assert_eq!(error_of(&mut con, &["INCR", "max"]), overflow);
    assert_eq!(error_of(&mut con, &["INCRBY", "max", "1"]), overflow);
    assert_eq!(query::<i64>(&mut con, &["INCRBY", "max", "-1"]), i64::MAX - 1);
    let _: String = query(&mut con, &["SET", "min", "-9223372036854775808"]);
    assert_eq!(error_of(&mut con, &["DECR", "min"]), overflow);
    assert_eq!(error_of(&mut con, &["DECRBY", "min", "1"]), overflow);
    assert_eq!(error_of(&mut con, &["DECRBY", "n", "-9223372036854775808"]), "ERR decrement would overflow");
    assert_eq!(query::<i64>(&mut con, &["DECRBY", "zero", "9223372036854775807"]), -i64::MAX);
    for bad in [" 1", "01", "1.5", "abc", "", "9223372036854775808"] {
        let _: String = query(&mut con, &["SET", "bad", bad]);
        assert_eq!(error_of(&mut con, &["INCR", "bad"]), NOT_INTEGER, "{bad:?}");
    }
    for bad in ["abc", "1.5", "+1", "99999999999999999999"] {
        assert_eq!(error_of(&mut con, &["INCRBY", "n", bad]), NOT_INTEGER, "{bad:?}");
        assert_eq!(error_of(&mut con, &["DECRBY", "n", bad]), NOT_INTEGER, "{bad:?}");
    }
    assert_eq!(get(&mut con, "n").as_deref(), Some("-10"), "failed increments change nothing");
}

#[test]
fn in_place_updates_keep_the_ttl() {
    let server = TestServer::start();
    let mut con = server.client();
    for key in ["incr", "incrbyfloat", "append", "setrange"] {
        let _: String = query(&mut con, &["SET", key, "1", "PX", "400"]);
    }
    assert_eq!(query::<i64>(&mut con, &["INCR", "incr"]), 2);
    assert_eq!(query::<String>(&mut con, &["INCRBYFLOAT", "incrbyfloat", "0.5"]), "1.5");
    assert_eq!(query::<i64>(&mut con, &["APPEND", "append", "x"]), 2);
    assert_eq!(query::<i64>(&mut con, &["SETRANGE", "setrange", "1", "y"]), 2);
    assert_eq!(get(&mut con, "incr").as_deref(), Some("2"));
    sleep_ms(600);
    for key in ["incr", "incrbyfloat", "append", "setrange"] {
        assert_eq!(get(&mut con, key), None, "{key} kept the expiry");
    }
    assert_eq!(query::<i64>(&mut con, &["INCR", "incr"]), 1, "an expired counter starts again from 0");
}

#[test]
fn incrbyfloat_computes_and_prints_like_redis() {
    let server = TestServer::start();
    let mut con = server.client();
    let incr = |con: &mut Connection, key: &str, by: &str| -> String { query(con, &["INCRBYFLOAT", key, by]) };
    assert_eq!(incr(&mut con, "f", "10.5"), "10.5");
    assert_eq!(incr(&mut con, "f", "0.1"), "10.6");
    assert_eq!(get(&mut con, "f").as_deref(), Some("10.6"));
    let _: String = query(&mut con, &["SET", "f", "0.1"]);
    assert_eq!(incr(&mut con, "f", "0.2"), "0.3", "80-bit precision, as Redis on x86-64");
    assert_eq!(incr(&mut con, "f", "5.0e3"), "5000.29999999999999982");
    let _: String = query(&mut con, &["SET", "f", "3"]);
    assert_eq!(incr(&mut con, "f", "-3"), "0");
    assert_eq!(incr(&mut con, "g", "-0.0"), "0");
    assert_eq!(incr(&mut con, "h", ".5"), "0.5");
    assert_eq!(incr(&mut con, "i", "+5"), "5");
    assert_eq!(incr(&mut con, "j", "0x10"), "16");
    let _: String = query(&mut con, &["SET", "big", "17179869184"]);
    assert_eq!(incr(&mut con, "big", "1.5"), "17179869185.5");
    let _: String = query(&mut con, &["SET", "huge", "1e30"]);
    assert_eq!(incr(&mut con, "huge", "0"), "1000000000000000000024696061952");
    let nan_or_inf = "ERR increment would produce NaN or Infinity";
    assert_eq!(error_of(&mut con, &["INCRBYFLOAT", "f", "inf"]), nan_or_inf);
    let _: String = query(&mut con, &["SET", "inf", "inf"]);
    assert_eq!(error_of(&mut con, &["INCRBYFLOAT", "inf", "-inf"]), nan_or_inf);
    for bad in ["nan", "abc", " 1", "1 ", "", "1e5000", "1e"] {
        assert_eq!(error_of(&mut con, &["INCRBYFLOAT", "f", bad]), NOT_FLOAT, "increment {bad:?}");
    }
    for bad in ["abc", "", "1 2"] {
        let _: String = query(&mut con, &["SET", "bad", bad]);
        assert_eq!(error_of(&mut con, &["INCRBYFLOAT", "bad", "1"]), NOT_FLOAT, "value {bad:?}");
    }
    // A NUL inside the value: "1\0" + "2" is not a float (strtold would stop at the NUL).
    let _: String = query(&mut con, &["SET", "nul", "1"]);
    let _: i64 = query(&mut con, &["SETRANGE", "nul", "2", "2"]);
    assert_eq!(error_of(&mut con, &["INCRBYFLOAT", "nul", "1"]), NOT_FLOAT);
    assert_eq!(get(&mut con, "f").as_deref(), Some("0"), "failed increments change nothing");
}

#[test]
fn incrbyfloat_replies_a_bulk_string_in_resp3() {
    let server = TestServer::start();
    let mut con = server.client_resp3();
    let reply: Value = query(&mut con, &["INCRBYFLOAT", "{r}f", "1.5"]);
    assert_eq!(reply, Value::BulkString(b"1.5".to_vec()));
    let reply: Value = query(&mut con, &["GET", "missing"]);
    assert_eq!(reply, Value::Nil);
    let reply: Value = query(&mut con, &["MGET", "{r}f", "{r}missing"]);
    assert_eq!(reply, Value::Array(vec![Value::BulkString(b"1.5".to_vec()), Value::Nil]));
    let reply: Value = query(&mut con, &["INCR", "n"]);
    assert_eq!(reply, Value::Int(1));
    let reply: Value = query(&mut con, &["SET", "k", "v", "NX"]);
    assert_eq!(reply, Value::Okay);
    let reply: Value = query(&mut con, &["SET", "k", "v", "NX"]);
    assert_eq!(reply, Value::Nil);
}

#[test]
fn append_and_strlen() {
    let server = TestServer::start();
    let mut con = server.client();
    assert_eq!(query::<i64>(&mut con, &["STRLEN", "k"]), 0);
    assert_eq!(query::<i64>(&mut con, &["APPEND", "k", "hello"]), 5);
    assert_eq!(query::<i64>(&mut con, &["APPEND", "k", " world"]), 11);
    assert_eq!(query::<i64>(&mut con, &["APPEND", "k", ""]), 11);
    assert_eq!(get(&mut con, "k").as_deref(), Some("hello world"));
    assert_eq!(query::<i64>(&mut con, &["STRLEN", "k"]), 11);
    assert_eq!(query::<i64>(&mut con, &["APPEND", "empty", ""]), 0);
    assert_eq!(get(&mut con, "empty").as_deref(), Some(""), "APPEND of nothing creates an empty string");
    let _: i64 = query(&mut con, &["INCR", "n"]);
    assert_eq!(query::<i64>(&mut con, &["APPEND", "n", "0"]), 2);
    assert_eq!(query::<i64>(&mut con, &["INCR", "n"]), 11);
}

#[test]
fn getrange_indexes_like_redis() {
    let server = TestServer::start();
    let mut con = server.client();
    let _: String = query(&mut con, &["SET", "s", "heXYo  Z"]);
    let range = |con: &mut Connection, start: &str, end: &str| -> String { query(con, &["GETRANGE", "s", start, end]) };
    assert_eq!(range(&mut con, "0", "-1"), "heXYo  Z");
    assert_eq!(range(&mut con, "-3", "-1"), "  Z");
    assert_eq!(range(&mut con, "5", "2"), "");
    assert_eq!(range(&mut con, "100", "200"), "");
    assert_eq!(range(&mut con, "-100", "2"), "heX");
    assert_eq!(range(&mut con, "0", "100"), "heXYo  Z");
    assert_eq!(range(&mut con, "0", "-100"), "h");
    assert_eq!(range(&mut con, "-1", "-5"), "");
    assert_eq!(range(&mut con, "9223372036854775807", "-9223372036854775808"), "");
    assert_eq!(query::<String>(&mut con, &["GETRANGE", "missing", "0", "-1"]), "");
    let _: String = query(&mut con, &["SET", "e", ""]);
    assert_eq!(query::<String>(&mut con, &["GETRANGE", "e", "0", "-1"]), "");
    assert_eq!(error_of(&mut con, &["GETRANGE", "s", "a", "1"]), NOT_INTEGER);
    assert_eq!(error_of(&mut con, &["GETRANGE", "s", "0", "1.5"]), NOT_INTEGER);
}

#[test]
fn setrange_pads_and_checks_offsets() {
    let server = TestServer::start();
    let mut con = server.client();
    assert_eq!(query::<i64>(&mut con, &["SETRANGE", "s", "0", ""]), 0);
    assert_eq!(query::<i64>(&mut con, &["SETRANGE", "s", "5", ""]), 0);
    assert_eq!(get(&mut con, "s"), None, "an empty SETRANGE creates nothing");
    let _: String = query(&mut con, &["SET", "s", "hello"]);
    assert_eq!(query::<i64>(&mut con, &["SETRANGE", "s", "10", ""]), 5);
    assert_eq!(query::<i64>(&mut con, &["SETRANGE", "s", "2", "XY"]), 5);
    assert_eq!(get(&mut con, "s").as_deref(), Some("heXYo"));
    assert_eq!(query::<i64>(&mut con, &["SETRANGE", "s", "7", "Z"]), 8);
    let padded: Vec<u8> = redis::cmd("GET").arg("s").query(&mut con).expect("get");
    assert_eq!(padded, b"heXYo\0\0Z");
    assert_eq!(query::<i64>(&mut con, &["SETRANGE", "new", "3", "ab"]), 5);
    let padded: Vec<u8> = redis::cmd("GET").arg("new").query(&mut con).expect("get");
    assert_eq!(padded, b"\0\0\0ab");
    assert_eq!(error_of(&mut con, &["SETRANGE", "s", "-1", "x"]), "ERR offset is out of range");
    assert_eq!(error_of(&mut con, &["SETRANGE", "s", "abc", "x"]), NOT_INTEGER);
    let too_long = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";
    assert_eq!(error_of(&mut con, &["SETRANGE", "s", "536870912", "x"]), too_long);
    assert_eq!(error_of(&mut con, &["SETRANGE", "absent", "536870912", "x"]), too_long);
    assert_eq!(query::<i64>(&mut con, &["SETRANGE", "absent", "536870912", ""]), 0);
    assert_eq!(query::<i64>(&mut con, &["STRLEN", "s"]), 8);
}

#[test]
fn pipelined_mixed_commands() {
    let server = TestServer::start();
    let mut con = server.client();
    let mut pipe = redis::pipe();
    for i in 0..20 {
        let key = format!("p{i}");
        pipe.cmd("SET").arg(&key).arg(i);
        pipe.cmd("INCR").arg(&key);
        pipe.cmd("APPEND").arg(&key).arg("x");
        pipe.cmd("GET").arg(&key);
        pipe.cmd("INCRBYFLOAT").arg(format!("f{i}")).arg("0.5");
    }
    let replies: Vec<Value> = pipe.query(&mut con).expect("pipeline");
    assert_eq!(replies.len(), 100);
    for (i, chunk) in replies.chunks(5).enumerate() {
        assert_eq!(chunk[0], Value::Okay);
        assert_eq!(chunk[1], Value::Int(i as i64 + 1));
        let appended = format!("{}x", i + 1);
        assert_eq!(chunk[2], Value::Int(appended.len() as i64));
        assert_eq!(chunk[3], Value::BulkString(appended.into_bytes()));
        assert_eq!(chunk[4], Value::BulkString(b"0.5".to_vec()));
    }
    assert_eq!(get(&mut con, "p7").as_deref(), Some("8x"));
}

/// Writes to distinct keys of one pipeline share raft rounds; a later request still sees every
/// earlier one, and writes to one key apply in request order.
#[test]
fn pipelined_writes_apply_in_request_order() {
    let server = TestServer::start();
    let mut con = server.client();
    let mut pipe = redis::pipe();
    for i in 0..64 {
        pipe.cmd("SET").arg(format!("w{i}")).arg(i);
    }
    for value in ["first", "second", "third"] {
        pipe.cmd("SET").arg("same").arg(value);
    }
    pipe.cmd("GET").arg("same");
    for i in 0..64 {
        pipe.cmd("GET").arg(format!("w{i}"));
    }
    pipe.cmd("DEL").arg("w0").arg("w1");
    pipe.cmd("SET").arg("w2").arg("again");
    pipe.cmd("EXISTS").arg("w0").arg("w1").arg("w2");
    let replies: Vec<Value> = pipe.query(&mut con).expect("pipeline");
    assert!(replies[..67].iter().all(|reply| *reply == Value::Okay), "{:?}", &replies[..67]);
    assert_eq!(replies[67], Value::BulkString(b"third".to_vec()));
    for i in 0..64 {
        assert_eq!(replies[68 + i], Value::BulkString(i.to_string().into_bytes()), "GET w{i}");
    }
    assert_eq!(replies[132], Value::Int(2));
    assert_eq!(replies[133], Value::Okay);
    assert_eq!(replies[134], Value::Int(1));
    assert_eq!(get(&mut con, "same").as_deref(), Some("third"));
}

/// A pipelined run of GETs is answered from the row cache at one read timestamp per region where
/// it can be (`cmd::strings::cached_gets`), the rest the usual way: replies and keyspace
/// hit/miss counts must be those of the same GETs sent one at a time.
#[test]
fn pipelined_gets_agree_with_single_gets() {
    let server = TestServer::start();
    let mut con = server.client();
    for i in 0..40 {
        query::<()>(&mut con, &["SET", &format!("k{i}"), &format!("v{i}")]);
    }
    query::<()>(&mut con, &["SET", "short", "lived", "PX", "30"]);
    query::<()>(&mut con, &["DEL", "k3"]);
    sleep_ms(80);
    let keys: Vec<String> = (0..50).map(|i| format!("k{i}")).chain(["short".into(), "never".into()]).collect();
    let expected: Vec<Option<String>> =
        (0..50).map(|i| (i < 40 && i != 3).then(|| format!("v{i}"))).chain([None, None]).collect();
    for round in 0..2 {
        let (hits, misses) = (info_stat(&mut con, "keyspace_hits"), info_stat(&mut con, "keyspace_misses"));
        let mut pipe = redis::pipe();
        for key in &keys {
            pipe.cmd("GET").arg(key);
        }
        let piped: Vec<Option<String>> = pipe.query(&mut con).expect("pipeline");
        assert_eq!(piped, expected, "round {round}");
        assert_eq!(info_stat(&mut con, "keyspace_hits") - hits, 39);
        assert_eq!(info_stat(&mut con, "keyspace_misses") - misses, 13);
    }
    let singles: Vec<Option<String>> = keys.iter().map(|key| get(&mut con, key)).collect();
    assert_eq!(singles, expected);
}

#[test]
fn pipelined_sets_agree_with_single_sets() {
    let server = TestServer::start();
    let mut con = server.client();
    let mut pipe = redis::pipe();
    for i in 0..40 {
        pipe.cmd("SET").arg(format!("k{i}")).arg(format!("v{i}"));
        match i {
            // A repeated key ends the run of writes; a SET with options and other writes run
            // beside the plain SETs.
            10 => drop(pipe.cmd("SET").arg("k5").arg("again")),
            20 => drop(pipe.cmd("INCR").arg("counter")),
            25 => drop(pipe.cmd("SET").arg("k30").arg("first").arg("NX")),
            30 => drop(pipe.cmd("SET").arg("timed").arg("t").arg("EX").arg("100")),
            _ => {}
        }
    }
    let replies: Vec<redis::Value> = pipe.query(&mut con).expect("pipeline");
    assert_eq!(replies.len(), 44);
    let oks = replies.iter().filter(|reply| **reply == redis::Value::Okay).count();
    assert_eq!(oks, 43, "every SET is acknowledged: {replies:?}");
    assert!(replies.contains(&redis::Value::Int(1)), "INCR ran: {replies:?}");
    for i in 0..40 {
        let expected = match i {
            5 => "again".to_string(),
            _ => format!("v{i}"),
        };
        assert_eq!(get(&mut con, &format!("k{i}")).as_deref(), Some(expected.as_str()), "k{i}");
    }
    let ttl: i64 = redis::cmd("TTL").arg("timed").query(&mut con).expect("ttl");
    assert!((1..=100).contains(&ttl), "SET EX kept its expiry: {ttl}");
}

#[test]
fn pipelined_sets_and_incrs_from_several_clients_stay_consistent() {
    let server = TestServer::start();
    server.on_clients(3, |client, con| {
        for round in 0..50 {
            let mut pipe = redis::pipe();
            for key in 0..8 {
                pipe.cmd("SET").arg(format!("shared{key}")).arg(format!("{client}:{round}"));
            }
            pipe.cmd("INCR").arg("pipelined-counter");
            let _: Vec<redis::Value> = pipe.query(con).expect("pipeline");
        }
    });
    let mut con = server.client();
    assert_eq!(get(&mut con, "pipelined-counter").as_deref(), Some("150"));
    for key in 0..8 {
        let value = get(&mut con, &format!("shared{key}")).expect("every shared key is set");
        assert!(value.ends_with(":49"), "the last round of some client wins: {value}");
    }
}

#[test]
fn concurrent_incr_is_atomic() {
    let server = TestServer::start();
    server.on_clients(4, |_, con| {
        for _ in 0..500 {
            let _: i64 = redis::cmd("INCR").arg("counter").query(con).expect("incr");
        }
    });
    let mut con = server.client();
    assert_eq!(get(&mut con, "counter").as_deref(), Some("2000"));
}

#[test]
fn concurrent_setnx_has_one_winner() {
    let server = TestServer::start();
    let threads: Vec<_> = (0..4)
        .map(|thread| {
            let mut con = server.client();
            std::thread::spawn(move || -> i64 {
                (0..50)
                    .map(|round| {
                        let key = format!("lock{round}");
                        redis::cmd("SETNX").arg(&key).arg(thread).query::<i64>(&mut con).expect("setnx")
                    })
                    .sum()
            })
        })
        .collect();
    let winners: i64 = threads.into_iter().map(|thread| thread.join().expect("setnx thread")).sum();
    assert_eq!(winners, 50, "exactly one SETNX wins each key");
}
