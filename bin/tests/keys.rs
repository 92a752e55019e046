//! Key commands: DEL, UNLINK, EXISTS, TOUCH, TYPE, the EXPIRE and TTL families, PERSIST, RENAME,
//! RENAMENX, COPY, expired-key reclamation, and the cross-core forms (MGET, MSET, MSETNX, DEL,
//! EXISTS, RENAME, COPY with keys on both cores), over RESP2 and RESP3, pipelined and not.

mod common;

use std::time::{Duration, Instant};

use common::TestServer;
use redis::{Connection, Value};

/// Regions at bootstrap with the harness's two shards and the default 4 regions per shard:
/// 8 regions of 2048 slots, region `i` owned by core `i % 2`.
const SLOTS_PER_REGION: u16 = 2048;

fn crc16(data: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &byte in data {
        crc ^= u16::from(byte) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 { (crc << 1) ^ 0x1021 } else { crc << 1 };
        }
    }
    crc
}

fn slot(key: &str) -> u16 {
    let bytes = key.as_bytes();
    let tag = bytes.iter().position(|&b| b == b'{').and_then(|open| {
        let rest = &bytes[open + 1..];
        rest.iter().position(|&b| b == b'}').filter(|&close| close > 0).map(|close| &rest[..close])
    });
    crc16(tag.unwrap_or(bytes)) % 16384
}

fn region(key: &str) -> u16 {
    slot(key) / SLOTS_PER_REGION
}

fn core(key: &str) -> u16 {
    region(key) % 2
}

/// The first key `prefix<n>` for which `wanted` holds.
fn find_key(prefix: &str, wanted: impl Fn(&str) -> bool) -> String {
    (0..100_000).map(|n| format!("{prefix}{n}")).find(|key| wanted(key)).expect("some key qualifies")
}

fn set(con: &mut Connection, key: &str, value: &str) {
    let _: () = redis::cmd("SET").arg(key).arg(value).query(con).expect("set");
}

fn get(con: &mut Connection, key: &str) -> Option<String> {
    redis::cmd("GET").arg(key).query(con).expect("get")
}

fn int(con: &mut Connection, args: &[&str]) -> i64 {
    let mut cmd = redis::cmd(args[0]);
    for arg in &args[1..] {
        cmd.arg(*arg);
    }
    cmd.query(con).unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

fn error(con: &mut Connection, args: &[&str]) -> String {
    let mut cmd = redis::cmd(args[0]);
    for arg in &args[1..] {
        cmd.arg(*arg);
    }
    cmd.query::<Value>(con).map(|v| panic!("{args:?} should fail, got {v:?}")).unwrap_err().to_string()
}

/// Checks an error reply's text (redis-rs shows the text without its `ERR ` code).
fn assert_error(con: &mut Connection, args: &[&str], text: &str) {
    let text = text.strip_prefix("ERR ").unwrap_or(text);
    let message = error(con, args);
    assert!(message.contains(text), "{args:?}: expected {text:?} in {message:?}");
}

#[test]
fn del_unlink_exists_touch_type() {
    let server = TestServer::start();
    let mut con = server.client();
    set(&mut con, "a", "1");
    set(&mut con, "b", "2");
    assert_eq!(int(&mut con, &["EXISTS", "a", "a", "b", "nope"]), 3, "EXISTS counts duplicates");
    assert_eq!(int(&mut con, &["TOUCH", "a", "nope", "a"]), 2);
    let kind: String = redis::cmd("TYPE").arg("a").query(&mut con).expect("type");
    assert_eq!(kind, "string");
    let kind: String = redis::cmd("TYPE").arg("nope").query(&mut con).expect("type none");
    assert_eq!(kind, "none");
    assert_eq!(int(&mut con, &["DEL", "a", "a", "nope"]), 1, "DEL counts a key once");
    assert_eq!(int(&mut con, &["UNLINK", "b", "b"]), 1);
    assert_eq!(int(&mut con, &["EXISTS", "a", "b"]), 0);
    assert_eq!(int(&mut con, &["DEL", "a"]), 0);
    assert_error(&mut con, &["DEL"], "wrong number of arguments for 'del' command");
    assert_error(&mut con, &["TYPE"], "wrong number of arguments");

    let mut resp3 = server.client_resp3();
    set(&mut resp3, "r", "x");
    let kind: Value = redis::cmd("TYPE").arg("r").query(&mut resp3).expect("type resp3");
    assert_eq!(kind, Value::SimpleString("string".into()));
    let (exists, deleted, gone): (i64, i64, i64) = redis::pipe()
        .cmd("EXISTS")
        .arg("r")
        .cmd("DEL")
        .arg("r")
        .cmd("EXISTS")
        .arg("r")
        .query(&mut resp3)
        .expect("pipe");
    assert_eq!((exists, deleted, gone), (1, 1, 0));
}

#[test]
fn expire_options_and_errors() {
    let server = TestServer::start();
    let mut con = server.client();
    set(&mut con, "k", "v");
    assert_eq!(int(&mut con, &["EXPIRE", "nope", "100"]), 0, "missing key");
    assert_eq!(int(&mut con, &["EXPIRE", "k", "100", "XX"]), 0, "XX needs an expiry");
    assert_eq!(int(&mut con, &["EXPIRE", "k", "100", "GT"]), 0, "no expiry counts as infinite for GT");
    assert_eq!(int(&mut con, &["EXPIRE", "k", "100", "NX"]), 1);
    assert_eq!(int(&mut con, &["EXPIRE", "k", "200", "nx"]), 0, "NX refuses an existing expiry");
    assert_eq!(int(&mut con, &["EXPIRE", "k", "50", "GT"]), 0);
    assert_eq!(int(&mut con, &["EXPIRE", "k", "150", "GT"]), 1);
    assert_eq!(int(&mut con, &["EXPIRE", "k", "200", "LT"]), 0);
    assert_eq!(int(&mut con, &["EXPIRE", "k", "120", "XX", "LT"]), 1);
    assert_eq!(int(&mut con, &["TTL", "k"]), 120);
    assert_eq!(int(&mut con, &["PERSIST", "k"]), 1);
    assert_eq!(int(&mut con, &["EXPIRE", "k", "20", "LT"]), 1, "LT on a key without expiry sets it");
    assert_eq!(int(&mut con, &["EXPIRE", "k", "-5", "GT"]), 0);
    assert_eq!(int(&mut con, &["EXPIRE", "k", "-5", "LT"]), 1, "a past time deletes");
    assert_eq!(get(&mut con, "k"), None);

    assert_error(&mut con, &["EXPIRE", "k", "10", "foo"], "ERR Unsupported option foo");
    assert_error(&mut con, &["EXPIRE", "k", "x", "foo"], "ERR Unsupported option foo");
    assert_error(&mut con, &["EXPIRE", "k", "10", "NX", "XX"], "NX and XX, GT or LT options at the same time");
    assert_error(&mut con, &["EXPIRE", "k", "10", "NX", "GT"], "NX and XX, GT or LT options at the same time");
    assert_error(&mut con, &["EXPIRE", "k", "10", "GT", "LT"], "GT and LT options at the same time");
    assert_error(&mut con, &["EXPIRE", "k", "x"], "value is not an integer or out of range");
    assert_error(&mut con, &["EXPIRE", "k", "99999999999999999"], "invalid expire time in 'expire' command");
    assert_error(&mut con, &["PEXPIRE", "k", "9223372036854775807"], "invalid expire time in 'pexpire' command");
    assert_error(&mut con, &["EXPIREAT", "k", "9223372036854776"], "invalid expire time in 'expireat' command");
    assert_error(&mut con, &["EXPIRE", "k"], "wrong number of arguments");

    for (command, when) in [("EXPIRE", "0"), ("PEXPIRE", "-1"), ("EXPIREAT", "1"), ("PEXPIREAT", "1000")] {
        set(&mut con, "gone", "v");
        assert_eq!(int(&mut con, &[command, "gone", when]), 1, "{command} {when}");
        assert_eq!(int(&mut con, &["EXISTS", "gone"]), 0, "{command} {when} deletes");
    }
    set(&mut con, "far", "v");
    assert_eq!(int(&mut con, &["EXPIREAT", "far", "9223372036854775"]), 1, "the largest EXPIREAT that fits");
    assert_eq!(int(&mut con, &["EXPIRETIME", "far"]), 9_223_372_036_854_775);
}

#[test]
fn ttl_family_and_persist() {
    let server = TestServer::start();
    let mut con = server.client();
    for command in ["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"] {
        assert_eq!(int(&mut con, &[command, "missing"]), -2, "{command}");
    }
    set(&mut con, "k", "v");
    for command in ["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"] {
        assert_eq!(int(&mut con, &[command, "k"]), -1, "{command}");
    }
    let at_ms: i64 = 4_102_444_800_000; // 2100-01-01
    assert_eq!(int(&mut con, &["PEXPIREAT", "k", &(at_ms + 400).to_string()]), 1);
    assert_eq!(int(&mut con, &["PEXPIRETIME", "k"]), at_ms + 400);
    assert_eq!(int(&mut con, &["EXPIRETIME", "k"]), at_ms / 1000, "rounded to the nearest second");
    assert_eq!(int(&mut con, &["PEXPIREAT", "k", &(at_ms + 600).to_string()]), 1);
    assert_eq!(int(&mut con, &["EXPIRETIME", "k"]), at_ms / 1000 + 1);
    assert_eq!(int(&mut con, &["EXPIRE", "k", "100"]), 1);
    let ttl = int(&mut con, &["TTL", "k"]);
    assert!((99..=100).contains(&ttl), "{ttl}");
    let pttl = int(&mut con, &["PTTL", "k"]);
    assert!((99_000..=100_000).contains(&pttl), "{pttl}");
    assert_eq!(int(&mut con, &["PERSIST", "k"]), 1);
    assert_eq!(int(&mut con, &["PERSIST", "k"]), 0, "no expiry left");
    assert_eq!(int(&mut con, &["PERSIST", "missing"]), 0);
    assert_eq!(int(&mut con, &["TTL", "k"]), -1);
    assert_eq!(get(&mut con, "k").as_deref(), Some("v"), "PERSIST keeps the value");
    assert_eq!(int(&mut con, &["PEXPIRE", "k", "5000"]), 1);
    let _: () = redis::cmd("SET").arg("k").arg("new").query(&mut con).expect("set");
    assert_eq!(int(&mut con, &["TTL", "k"]), -1, "SET clears the expiry");
}

#[test]
fn short_expiry_counts_down_and_the_key_disappears() {
    let server = TestServer::start();
    let mut con = server.client();
    set(&mut con, "short", "v");
    assert_eq!(int(&mut con, &["PEXPIRE", "short", "400"]), 1);
    let first = int(&mut con, &["PTTL", "short"]);
    std::thread::sleep(Duration::from_millis(100));
    let second = int(&mut con, &["PTTL", "short"]);
    assert!(0 < second && second < first && first <= 400, "{first} then {second}");
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(get(&mut con, "short"), None);
    assert_eq!(int(&mut con, &["EXISTS", "short"]), 0);
    assert_eq!(int(&mut con, &["TTL", "short"]), -2);
    let kind: String = redis::cmd("TYPE").arg("short").query(&mut con).expect("type");
    assert_eq!(kind, "none");
    assert_eq!(int(&mut con, &["EXPIRE", "short", "10"]), 0, "an expired key is absent for writes too");
    assert_error(&mut con, &["RENAME", "short", "other"], "ERR no such key");
}

/// True when a full SCAN with COUNT 1 finishes in one call: only then is there no record left,
/// live or expired, for the scan to examine (an expired record is examined but not returned).
fn storage_is_empty(con: &mut Connection) -> bool {
    let (cursor, keys): (String, Vec<String>) = redis::cmd("SCAN").arg(0).arg("COUNT").arg(1).query(con).expect("scan");
    cursor == "0" && keys.is_empty()
}

/// True when SCAN returns no key at all.
fn keys_are_all_hidden(con: &mut Connection) -> bool {
    let (cursor, keys): (String, Vec<String>) =
        redis::cmd("SCAN").arg(0).arg("COUNT").arg(10_000).query(con).expect("scan");
    cursor == "0" && keys.is_empty()
}

#[test]
fn expired_keys_are_reclaimed_without_being_read() {
    let server = TestServer::start();
    let mut con = server.client();
    let mut pipe = redis::pipe();
    for n in 0..300 {
        let key = format!("exp:{n}");
        pipe.cmd("SET").arg(&key).arg("v").ignore().cmd("PEXPIRE").arg(&key).arg(300).ignore();
    }
    let _: () = pipe.query(&mut con).expect("set with expiry");
    assert!(!storage_is_empty(&mut con), "records exist before they expire");
    std::thread::sleep(Duration::from_millis(350));
    assert_eq!(int(&mut con, &["DBSIZE"]), 0, "expired keys are not counted");
    let deadline = Instant::now() + Duration::from_secs(20);
    assert!(keys_are_all_hidden(&mut con));
    while !storage_is_empty(&mut con) {
        assert!(Instant::now() < deadline, "the sweeper did not reclaim the expired keys");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn rename_and_renamenx() {
    let server = TestServer::start();
    let mut con = server.client();
    assert_error(&mut con, &["RENAME", "nope", "x"], "ERR no such key");
    assert_error(&mut con, &["RENAMENX", "nope", "x"], "ERR no such key");
    assert_error(&mut con, &["RENAME", "nope", "nope"], "ERR no such key");
    set(&mut con, "{t}a", "1");
    let ok: String = redis::cmd("RENAME").arg("{t}a").arg("{t}a").query(&mut con).expect("same key");
    assert_eq!(ok, "OK");
    assert_eq!(int(&mut con, &["RENAMENX", "{t}a", "{t}a"]), 0);
    assert_eq!(int(&mut con, &["PEXPIRE", "{t}a", "100000"]), 1);
    let ok: String = redis::cmd("RENAME").arg("{t}a").arg("{t}b").query(&mut con).expect("rename");
    assert_eq!(ok, "OK");
    assert_eq!(get(&mut con, "{t}a"), None);
    assert_eq!(get(&mut con, "{t}b").as_deref(), Some("1"));
    assert!(int(&mut con, &["PTTL", "{t}b"]) > 90_000, "RENAME keeps the TTL");
    set(&mut con, "{t}c", "3");
    assert_eq!(int(&mut con, &["RENAMENX", "{t}b", "{t}c"]), 0, "destination exists");
    let ok: String = redis::cmd("RENAME").arg("{t}c").arg("{t}b").query(&mut con).expect("overwrite");
    assert_eq!(ok, "OK");
    assert_eq!(get(&mut con, "{t}b").as_deref(), Some("3"));
    assert_eq!(int(&mut con, &["TTL", "{t}b"]), -1, "the destination takes the source's (absent) TTL");
    assert_eq!(int(&mut con, &["RENAMENX", "{t}b", "{t}d"]), 1);
    assert_eq!(get(&mut con, "{t}d").as_deref(), Some("3"));
    assert_error(&mut con, &["RENAME", "a"], "wrong number of arguments");
}

#[test]
fn rename_and_copy_across_regions_and_cores() {
    let server = TestServer::start();
    let mut con = server.client();
    let source = find_key("src", |k| core(k) == 0);
    let other_region = find_key("dst", |k| core(k) == 0 && region(k) != region(&source));
    let other_core = find_key("far", |k| core(k) == 1);
    for destination in [&other_region, &other_core] {
        set(&mut con, &source, "payload");
        assert_eq!(int(&mut con, &["PEXPIRE", &source, "100000"]), 1);
        let ok: String = redis::cmd("RENAME").arg(&source).arg(destination).query(&mut con).expect("rename");
        assert_eq!(ok, "OK");
        assert_eq!(get(&mut con, &source), None, "{destination}");
        assert_eq!(get(&mut con, destination).as_deref(), Some("payload"));
        assert!(int(&mut con, &["PTTL", destination]) > 90_000, "TTL moves with the key");
        assert_eq!(int(&mut con, &["COPY", destination, &source]), 1);
        assert_eq!(get(&mut con, &source).as_deref(), Some("payload"));
        assert!(int(&mut con, &["PTTL", &source]) > 90_000, "COPY keeps the TTL");
        assert_eq!(int(&mut con, &["COPY", destination, &source]), 0, "destination exists");
        set(&mut con, destination, "newer");
        assert_eq!(int(&mut con, &["COPY", destination, &source, "REPLACE"]), 1);
        assert_eq!(get(&mut con, &source).as_deref(), Some("newer"));
        assert_eq!(int(&mut con, &["RENAMENX", destination, &source]), 0);
        assert_eq!(int(&mut con, &["DEL", &source]), 1);
        assert_eq!(int(&mut con, &["RENAMENX", destination, &source]), 1);
        assert_eq!(get(&mut con, &source).as_deref(), Some("newer"));
        assert_eq!(int(&mut con, &["EXISTS", destination]), 0);
        assert_error(&mut con, &["RENAME", destination, &source], "ERR no such key");
        assert_eq!(int(&mut con, &["COPY", destination, &source, "REPLACE"]), 0, "missing source");
        assert_error(&mut con, &["COPY", &source, destination, "DB", "1"], "DB index is out of range");
        assert_eq!(int(&mut con, &["DEL", &source]), 1);
    }
}

#[test]
fn copy_options_and_errors() {
    let server = TestServer::start();
    let mut con = server.client();
    set(&mut con, "{c}x", "1");
    set(&mut con, "{c}y", "2");
    assert_eq!(int(&mut con, &["COPY", "{c}x", "{c}y"]), 0);
    assert_eq!(int(&mut con, &["COPY", "{c}x", "{c}y", "replace"]), 1);
    assert_eq!(get(&mut con, "{c}y").as_deref(), Some("1"));
    assert_eq!(int(&mut con, &["COPY", "{c}x", "{c}z", "DB", "0"]), 1);
    assert_eq!(int(&mut con, &["COPY", "{c}missing", "{c}w"]), 0);
    assert_eq!(int(&mut con, &["COPY", "{c}x", "{c}y", "REPLACE", "DB", "0", "DB", "0", "REPLACE"]), 1);
    assert_error(&mut con, &["COPY", "{c}x", "{c}x"], "ERR source and destination objects are the same");
    assert_error(&mut con, &["COPY", "{c}x", "{c}y", "DB", "1"], "ERR DB index is out of range");
    assert_error(&mut con, &["COPY", "{c}x", "{c}y", "DB", "x"], "value is not an integer or out of range");
    assert_error(&mut con, &["COPY", "{c}x", "{c}y", "DB", "99999999999"], "value is out of range");
    assert_error(&mut con, &["COPY", "{c}x", "{c}y", "DB"], "ERR syntax error");
    assert_error(&mut con, &["COPY", "{c}x", "{c}y", "foo"], "ERR syntax error");
    assert_error(&mut con, &["COPY", "{c}x"], "wrong number of arguments");
}

#[test]
fn cross_core_del_exists_touch_unlink_with_many_keys() {
    let server = TestServer::start();
    let mut con = server.client();
    let keys: Vec<String> = (0..400).map(|n| format!("many:{n}")).collect();
    assert!(keys.iter().any(|k| core(k) == 0) && keys.iter().any(|k| core(k) == 1));
    let mut pipe = redis::pipe();
    for key in &keys {
        pipe.cmd("SET").arg(key).arg(key).ignore();
    }
    let _: () = pipe.query(&mut con).expect("set many");
    let mut exists = redis::cmd("EXISTS");
    exists.arg(&keys).arg("missing").arg(&keys[0]);
    let count: i64 = exists.query(&mut con).expect("exists");
    assert_eq!(count, 401, "duplicates count, on whichever core");
    let count: i64 = redis::cmd("TOUCH").arg(&keys[..10]).query(&mut con).expect("touch");
    assert_eq!(count, 10);
    let deleted: i64 = redis::cmd("DEL").arg(&keys[..200]).arg(&keys[0]).arg("missing").query(&mut con).expect("del");
    assert_eq!(deleted, 200);
    let deleted: i64 = redis::cmd("UNLINK").arg(&keys).query(&mut con).expect("unlink");
    assert_eq!(deleted, 200);
    let count: i64 = redis::cmd("EXISTS").arg(&keys).query(&mut con).expect("exists none");
    assert_eq!(count, 0);
}

/// Whether single-core MGET exists yet (the strings family provides it; the cross-core split
/// only forwards to it).
fn has_mget(con: &mut Connection) -> bool {
    let reply = redis::cmd("MGET").arg("{probe}a").query::<Value>(con);
    !matches!(&reply, Err(e) if e.to_string().contains("unknown command"))
}

#[test]
fn cross_core_mget_mset_msetnx() {
    let server = TestServer::start();
    let mut con = server.client();
    if !has_mget(&mut con) {
        eprintln!("skipped: single-core MGET/MSET are not in this build yet");
        return;
    }
    let keys: Vec<String> = (0..300).map(|n| format!("m:{n}")).collect();
    let mut mset = redis::cmd("MSET");
    for key in &keys {
        mset.arg(key).arg(format!("v{key}"));
    }
    let ok: String = mset.query(&mut con).expect("mset");
    assert_eq!(ok, "OK");
    let mut mget = redis::cmd("MGET");
    mget.arg("nope").arg(&keys).arg(&keys[5]);
    let values: Vec<Option<String>> = mget.query(&mut con).expect("mget");
    assert_eq!(values.len(), keys.len() + 2);
    assert_eq!(values[0], None);
    for (key, value) in keys.iter().zip(&values[1..]) {
        assert_eq!(value.as_deref(), Some(format!("v{key}").as_str()), "position kept");
    }
    assert_eq!(values.last().cloned().flatten(), Some(format!("v{}", keys[5])));

    let (a, b) = (find_key("nx", |k| core(k) == 0), find_key("nx", |k| core(k) == 1));
    let set: i64 = redis::cmd("MSETNX").arg(&a).arg("1").arg(&b).arg("2").query(&mut con).expect("msetnx");
    assert_eq!(set, 1);
    let c = find_key("nx-new", |k| core(k) == 0);
    let set: i64 = redis::cmd("MSETNX").arg(&c).arg("3").arg(&b).arg("x").query(&mut con).expect("msetnx blocked");
    assert_eq!(set, 0, "one existing key blocks every pair");
    assert_eq!(get(&mut con, &c), None);
    assert_eq!(get(&mut con, &b).as_deref(), Some("2"));
    assert_error(&mut con, &["MSET", &a, "1", &b], "wrong number of arguments for 'mset' command");
    assert_error(&mut con, &["MSETNX", &a, "1", &b], "wrong number of arguments for 'msetnx' command");

    let mut resp3 = server.client_resp3();
    let values: Value = redis::cmd("MGET").arg(&a).arg("nope").arg(&b).query(&mut resp3).expect("mget resp3");
    assert_eq!(
        values,
        Value::Array(vec![Value::BulkString(b"1".to_vec()), Value::Nil, Value::BulkString(b"2".to_vec())])
    );
}
