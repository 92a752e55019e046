//! Node-wide keyspace commands: DBSIZE, KEYS, SCAN (options, errors, completeness under
//! concurrent writes), RANDOMKEY, FLUSHDB and FLUSHALL, over RESP2 and RESP3.

mod common;

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use common::TestServer;
use redis::{Connection, Value};

fn set_many(con: &mut Connection, keys: impl IntoIterator<Item = String>) {
    let mut pipe = redis::pipe();
    for key in keys {
        pipe.cmd("SET").arg(&key).arg("v").ignore();
    }
    let _: () = pipe.query(con).expect("set many");
}

fn dbsize(con: &mut Connection) -> i64 {
    redis::cmd("DBSIZE").query(con).expect("dbsize")
}

fn keys(con: &mut Connection, pattern: &str) -> HashSet<String> {
    let found: Vec<String> = redis::cmd("KEYS").arg(pattern).query(con).expect("keys");
    let unique: HashSet<String> = found.iter().cloned().collect();
    assert_eq!(unique.len(), found.len(), "KEYS returns each key once");
    unique
}

fn strings(list: &[&str]) -> HashSet<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// A whole SCAN with `options`; every key returned, and the number of calls.
fn scan_all(con: &mut Connection, options: &[&str]) -> (Vec<String>, usize) {
    scan_all_pausing(con, options, std::time::Duration::ZERO)
}

/// [`scan_all`] with a pause between calls.
fn scan_all_pausing(con: &mut Connection, options: &[&str], pause: std::time::Duration) -> (Vec<String>, usize) {
    let mut cursor = "0".to_string();
    let mut all = Vec::new();
    let mut calls = 0;
    loop {
        let (next, batch): (String, Vec<String>) =
            redis::cmd("SCAN").arg(&cursor).arg(options).query(con).expect("scan");
        calls += 1;
        all.extend(batch);
        if next == "0" {
            return (all, calls);
        }
        assert!(calls < 100_000, "scan does not end");
        cursor = next;
        std::thread::sleep(pause);
    }
}

/// The error text of a command, with its code put back (redis-rs keeps it apart).
fn error(con: &mut Connection, args: &[&str]) -> String {
    let error =
        redis::cmd(args[0]).arg(&args[1..]).query::<Value>(con).map(|v| panic!("{args:?}: got {v:?}")).unwrap_err();
    match error.code() {
        Some(code) => format!("{code} {}", error.detail().unwrap_or_default()),
        None => error.to_string(),
    }
}

#[test]
fn empty_keyspace() {
    let server = TestServer::start();
    let mut con = server.client();
    assert_eq!(dbsize(&mut con), 0);
    let key: Option<String> = redis::cmd("RANDOMKEY").query(&mut con).expect("randomkey");
    assert_eq!(key, None);
    assert!(keys(&mut con, "*").is_empty());
    let (cursor, batch): (String, Vec<String>) = redis::cmd("SCAN").arg(0).query(&mut con).expect("scan");
    assert_eq!((cursor.as_str(), batch.len()), ("0", 0));
    let mut resp3 = server.client_resp3();
    let key: Value = redis::cmd("RANDOMKEY").query(&mut resp3).expect("randomkey resp3");
    assert_eq!(key, Value::Nil);
}

#[test]
fn dbsize_keys_and_randomkey() {
    let server = TestServer::start();
    let mut con = server.client();
    let names = ["hello", "hallo", "hxllo", "hllo", "heeeello", "h[llo", "a*b", "ab", "user:1", "user:2", "user:10"];
    set_many(&mut con, names.iter().map(|s| s.to_string()));
    assert_eq!(dbsize(&mut con), names.len() as i64);
    assert_eq!(keys(&mut con, "*"), strings(&names));
    assert_eq!(keys(&mut con, "h?llo"), strings(&["hello", "hallo", "hxllo", "h[llo"]));
    assert_eq!(keys(&mut con, "h*llo"), strings(&["hello", "hallo", "hxllo", "hllo", "heeeello", "h[llo"]));
    assert_eq!(keys(&mut con, "h[ae]llo"), strings(&["hello", "hallo"]));
    assert_eq!(keys(&mut con, "h[^e]llo"), strings(&["hallo", "hxllo", "h[llo"]));
    assert_eq!(keys(&mut con, "h[a-b]llo"), strings(&["hallo"]));
    assert_eq!(keys(&mut con, "h\\[llo"), strings(&["h[llo"]));
    assert_eq!(keys(&mut con, "a\\*b"), strings(&["a*b"]));
    assert_eq!(keys(&mut con, "user:?"), strings(&["user:1", "user:2"]));
    assert_eq!(keys(&mut con, "user:*"), strings(&["user:1", "user:2", "user:10"]));
    assert!(keys(&mut con, "nomatch*").is_empty());
    let all = strings(&names);
    for _ in 0..20 {
        let key: String = redis::cmd("RANDOMKEY").query(&mut con).expect("randomkey");
        assert!(all.contains(&key), "{key}");
    }
    let mut pipe = redis::pipe();
    pipe.cmd("DEL").arg("hello").cmd("DBSIZE").cmd("PEXPIRE").arg("hallo").arg(1);
    let (deleted, size, expired): (i64, i64, i64) = pipe.query(&mut con).expect("pipe");
    assert_eq!((deleted, size, expired), (1, names.len() as i64 - 1, 1));
    std::thread::sleep(std::time::Duration::from_millis(20));
    assert_eq!(dbsize(&mut con), names.len() as i64 - 2, "expired keys are not counted");
    assert!(!keys(&mut con, "*").contains("hallo"), "KEYS hides expired keys");
    assert!(error(&mut con, &["KEYS"]).contains("wrong number of arguments"));
    assert!(error(&mut con, &["DBSIZE", "x"]).contains("wrong number of arguments"));
}

#[test]
fn scan_options_and_errors() {
    let server = TestServer::start();
    let mut con = server.client();
    let all: Vec<String> = (0..500).map(|n| format!("key:{n}")).collect();
    set_many(&mut con, all.clone());
    set_many(&mut con, (0..20).map(|n| format!("other:{n}")));
    let (found, calls) = scan_all(&mut con, &[]);
    let unique: HashSet<String> = found.iter().cloned().collect();
    assert_eq!(unique.len(), 520);
    assert_eq!(found.len(), 520, "no duplicates without concurrent changes");
    assert!(calls >= 520 / 10, "COUNT 10 by default: {calls} calls");
    let (found, calls) = scan_all(&mut con, &["COUNT", "10000"]);
    assert_eq!((found.len(), calls), (520, 1), "one call with a large COUNT");
    let (found, _) = scan_all(&mut con, &["MATCH", "other:*", "COUNT", "7"]);
    assert_eq!(found.iter().cloned().collect::<HashSet<_>>(), (0..20).map(|n| format!("other:{n}")).collect());
    let (found, _) = scan_all(&mut con, &["match", "key:4?", "type", "STRING"]);
    assert_eq!(found.len(), 10);
    let (found, _) = scan_all(&mut con, &["TYPE", "list"]);
    assert!(found.is_empty());
    let (found, _) = scan_all(&mut con, &["TYPE", "nosuchtype", "COUNT", "1000"]);
    assert!(found.is_empty());

    for (args, text) in [
        (&["SCAN", "x"][..], "ERR invalid cursor"),
        (&["SCAN", " 1"], "ERR invalid cursor"),
        (&["SCAN", "18446744073709551616"], "ERR invalid cursor"),
        (&["SCAN", "0", "COUNT", "0"], "ERR syntax error"),
        (&["SCAN", "0", "COUNT", "x"], "value is not an integer or out of range"),
        (&["SCAN", "0", "COUNT"], "ERR syntax error"),
        (&["SCAN", "0", "FOO", "bar"], "ERR syntax error"),
        (&["SCAN"], "wrong number of arguments"),
    ] {
        let message = error(&mut con, args);
        assert!(message.contains(text), "{args:?}: {message}");
    }
    let (cursor, batch): (String, Vec<String>) =
        redis::cmd("SCAN").arg("99999999999999999").query(&mut con).expect("cursor past the last slot");
    assert_eq!((cursor.as_str(), batch.len()), ("0", 0));

    let mut resp3 = server.client_resp3();
    let reply: Value =
        redis::cmd("SCAN").arg(0).arg("MATCH").arg("other:1").arg("COUNT").arg(1000).query(&mut resp3).expect("scan");
    assert_eq!(
        reply,
        Value::Array(vec![
            Value::BulkString(b"0".to_vec()),
            Value::Array(vec![Value::BulkString(b"other:1".to_vec())])
        ])
    );
}

#[test]
fn scan_returns_every_key_present_throughout_despite_concurrent_writes() {
    let server = TestServer::start();
    let mut con = server.client();
    let stable: Vec<String> = (0..2000).map(|n| format!("stable:{n}")).collect();
    set_many(&mut con, stable.clone());
    let stop = Arc::new(AtomicBool::new(false));
    let rounds_done = Arc::new(AtomicU64::new(0));
    let writer = {
        let stop = stop.clone();
        let rounds_done = rounds_done.clone();
        let mut writer_con = server.client();
        std::thread::spawn(move || {
            let mut round = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let mut pipe = redis::pipe();
                for n in 0..50 {
                    pipe.cmd("SET").arg(format!("churn:{round}:{n}")).arg("x").ignore();
                    if round > 0 {
                        pipe.cmd("DEL").arg(format!("churn:{}:{n}", round - 1)).ignore();
                    }
                }
                let _: () = pipe.query(&mut writer_con).expect("churn");
                round += 1;
                rounds_done.store(round, Ordering::Relaxed);
            }
            round
        })
    };
    while rounds_done.load(Ordering::Relaxed) == 0 {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    let started_at_round = rounds_done.load(Ordering::Relaxed);
    let (found, calls) = scan_all_pausing(&mut con, &["COUNT", "20"], std::time::Duration::from_millis(5));
    let ended_at_round = rounds_done.load(Ordering::Relaxed);
    stop.store(true, Ordering::Relaxed);
    let rounds = writer.join().expect("writer");
    let found: HashSet<String> = found.into_iter().collect();
    let missing: Vec<&String> = stable.iter().filter(|key| !found.contains(*key)).collect();
    assert!(missing.is_empty(), "{} stable keys missed ({calls} calls, {rounds} write rounds)", missing.len());
    assert!(ended_at_round >= started_at_round + 2, "the writer ran during the scan ({rounds} rounds in all)");
}

#[test]
fn flushdb_and_flushall() {
    let server = TestServer::start();
    let mut con = server.client();
    for mode in [None, Some("ASYNC"), Some("sync")] {
        set_many(&mut con, (0..300).map(|n| format!("f:{n}")));
        assert_eq!(dbsize(&mut con), 300);
        let mut flush = redis::cmd("FLUSHDB");
        if let Some(mode) = mode {
            flush.arg(mode);
        }
        let ok: String = flush.query(&mut con).expect("flushdb");
        assert_eq!(ok, "OK");
        assert_eq!(dbsize(&mut con), 0, "{mode:?}");
        let value: Option<String> = redis::cmd("GET").arg("f:1").query(&mut con).expect("get");
        assert_eq!(value, None);
    }
    set_many(&mut con, (0..100).map(|n| format!("g:{n}")));
    let ok: String = redis::cmd("FLUSHALL").arg("async").query(&mut con).expect("flushall");
    assert_eq!(ok, "OK");
    assert_eq!(dbsize(&mut con), 0);
    let (found, _) = scan_all(&mut con, &[]);
    assert!(found.is_empty());
    set_many(&mut con, ["again".to_string()]);
    assert_eq!(dbsize(&mut con), 1, "writes work after a flush");
    for args in [&["FLUSHDB", "foo"][..], &["FLUSHALL", "sync", "async"], &["FLUSHALL", "lazy"]] {
        assert!(error(&mut con, args).contains("ERR syntax error"), "{args:?}");
    }
}

/// Waits until a killed server's listening sockets are gone (io_uring may hold them briefly
/// after the process died).
fn wait_for_port_release(port: u16) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while std::net::TcpListener::bind(("127.0.0.1", port)).is_err() {
        assert!(std::time::Instant::now() < deadline, "port {port} stays in use");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn flushall_survives_restart() {
    let mut server = TestServer::start();
    let mut con = server.client();
    set_many(&mut con, (0..50).map(|n| format!("r:{n}")));
    let _: () = redis::cmd("FLUSHALL").query(&mut con).expect("flushall");
    set_many(&mut con, ["kept".to_string()]);
    drop(con);
    server.kill9();
    wait_for_port_release(server.port);
    server.restart();
    let mut con = server.client();
    assert_eq!(dbsize(&mut con), 1);
    assert_eq!(keys(&mut con, "*"), strings(&["kept"]));
}
