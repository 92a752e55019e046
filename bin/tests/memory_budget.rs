//! Memory budgets an operator sets: `cache-size` (all caches of all shards) and `memtable-size`
//! (per shard) come from the flags, CONFIG GET reports them in bytes, and a value that is not a
//! memory size, or too small, stops the server at startup with the option's name. INFO memory
//! shows each budget next to its use.

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

fn info_memory_field(con: &mut redis::Connection, name: &str) -> u64 {
    let text: String = redis::cmd("INFO").arg("memory").query(con).expect("INFO");
    let line = text.lines().find_map(|line| line.strip_prefix(&format!("{name}:"))).expect("field present");
    line.trim().parse().expect("a number")
}

#[test]
fn info_memory_shows_budgets_next_to_their_use() {
    let server = TestServer::start_with(&["--cache-size", "64mb", "--memtable-size", "2mb"]);
    let mut con = server.client();
    for i in 0..2000 {
        let _: () = redis::cmd("SET").arg(format!("key:{i}")).arg(vec![b'v'; 100]).query(&mut con).expect("SET");
    }
    let _: Option<Vec<u8>> = redis::cmd("GET").arg("key:7").query(&mut con).expect("GET");
    assert_eq!(info_memory_field(&mut con, "nokv_cache_budget_bytes"), 64 << 20);
    assert_eq!(info_memory_field(&mut con, "nokv_memtable_budget_bytes"), 2 * 3 * (2 << 20), "2 shards x 3 memtables");
    let cache_bytes = info_memory_field(&mut con, "nokv_cache_bytes");
    assert!(cache_bytes > 0 && cache_bytes <= 64 << 20, "{cache_bytes}");
    let memtable_bytes = info_memory_field(&mut con, "nokv_memtable_bytes");
    assert!(memtable_bytes > 2000 * 100 && memtable_bytes <= 2 * 3 * (2 << 20), "{memtable_bytes}");
    let overhead = info_memory_field(&mut con, "nokv_overhead_budget_bytes");
    let total = info_memory_field(&mut con, "nokv_memory_budget_bytes");
    let table_meta = info_memory_field(&mut con, "nokv_table_meta_bytes");
    assert_eq!(total, (64 << 20) + 2 * 3 * (2 << 20) + overhead + table_meta);
    assert!(info_memory_field(&mut con, "used_memory") < total, "an idle small node stays within its budgets");
}

#[test]
fn default_cache_size_is_128mb_per_shard() {
    let server = TestServer::start();
    let mut con = server.client();
    assert_eq!(config_get(&mut con, "cache-size"), ["cache-size", (256u64 << 20).to_string().as_str()]);
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
