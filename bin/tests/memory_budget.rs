//! Memory budgets an operator sets: `cache-size` (all caches of all shards) and `memtable-size`
//! (per shard) come from the flags, CONFIG GET reports them in bytes, and a value that is not a
//! memory size, or too small, stops the server at startup with the option's name.

mod common;

use std::process::Command;

use common::TestServer;

fn config_get(con: &mut redis::Connection, name: &str) -> Vec<String> {
    redis::cmd("CONFIG").arg("GET").arg(name).query(con).expect("CONFIG GET")
}

#[test]
fn config_get_reports_the_budgets_in_bytes() {
    let server = TestServer::start_with(&["--cache-size", "64mb", "--memtable-size", "2mb"]);
    let mut con = server.client();
    assert_eq!(config_get(&mut con, "cache-size"), ["cache-size", "67108864"]);
    assert_eq!(config_get(&mut con, "memtable-size"), ["memtable-size", "2097152"]);
}

#[test]
fn default_cache_size_is_144mb_per_shard() {
    let server = TestServer::start();
    let mut con = server.client();
    assert_eq!(config_get(&mut con, "cache-size"), ["cache-size", (288u64 << 20).to_string().as_str()]);
    assert_eq!(config_get(&mut con, "memtable-size"), ["memtable-size", (64u64 << 20).to_string().as_str()]);
}

#[test]
fn bad_budgets_stop_the_server_with_the_option_name() {
    let cases: [(&[&str], &str); 3] = [
        (&["--cache-size", "12xb"], "invalid cache-size \"12xb\": argument must be a memory value"),
        (&["--shards", "2", "--cache-size", "1mb"], "invalid config cache-size: must be at least 1mb per shard"),
        (&["--memtable-size", "8gb"], "invalid config memtable-size: must be between 1mb and 4gb"),
    ];
    for (args, expected) in cases {
        let output = Command::new(env!("CARGO_BIN_EXE_nokv")).args(args).output().expect("run nokv");
        assert!(!output.status.success(), "{args:?} started");
        let text = String::from_utf8_lossy(&output.stderr);
        assert!(text.contains(expected), "{args:?}: {text}");
    }
}
