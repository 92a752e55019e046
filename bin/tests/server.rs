//! Server commands over RESP2 and RESP3: INFO, CONFIG GET/SET/RESETSTAT, TIME, SLOWLOG,
//! LATENCY HISTOGRAM, COMMAND and SHUTDOWN.

mod common;

use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{TestServer, free_port};
use redis::Value;

fn info(con: &mut redis::Connection, sections: &[&str]) -> String {
    redis::cmd("INFO").arg(sections).query(con).expect("INFO")
}

/// `field:value` lines of an INFO reply.
fn fields(text: &str) -> HashMap<String, String> {
    text.lines()
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect()
}

fn headers(text: &str) -> Vec<String> {
    text.lines().filter(|line| line.starts_with("# ")).map(|line| line[2..].to_owned()).collect()
}

fn number(fields: &HashMap<String, String>, name: &str) -> u64 {
    fields.get(name).unwrap_or_else(|| panic!("INFO lacks {name}")).parse().expect("numeric field")
}

fn error_text<T: std::fmt::Debug>(result: redis::RedisResult<T>) -> String {
    result.expect_err("an error reply").to_string()
}

/// Opens several connections, so that both cores of the test server have some.
fn connections(server: &TestServer, count: usize) -> Vec<redis::Connection> {
    (0..count).map(|_| server.client()).collect()
}

#[test]
fn info_sections_follow_redis() {
    let server = TestServer::start();
    let mut con = server.client();
    let default = info(&mut con, &[]);
    assert_eq!(
        headers(&default),
        [
            "Server",
            "Clients",
            "Memory",
            "Persistence",
            "Stats",
            "Replication",
            "CPU",
            "Modules",
            "Errorstats",
            "Cluster",
            "Keyspace"
        ]
    );
    assert!(default.contains("\r\n\r\n# Clients\r\n"), "sections are separated by a blank line");
    assert_eq!(headers(&info(&mut con, &["default"])), headers(&default));
    let all = headers(&info(&mut con, &["all"]));
    for section in ["Commandstats", "Latencystats", "Shards"] {
        assert!(all.contains(&section.to_owned()), "INFO all lacks {section}");
    }
    assert_eq!(headers(&info(&mut con, &["everything"])), all);
    assert_eq!(headers(&info(&mut con, &["CPU", "server"])), ["Server", "CPU"]);
    assert_eq!(info(&mut con, &["bogus"]), "");
}

#[test]
fn info_fields_have_redis_names_and_values() {
    let server = TestServer::start();
    let mut others = connections(&server, 3);
    let mut con = server.client();
    for (i, other) in others.iter_mut().enumerate() {
        let _: () = redis::cmd("SET").arg(format!("key{i}")).arg(i).query(other).expect("set");
        let _: Option<String> = redis::cmd("GET").arg(format!("key{i}")).query(other).expect("get");
    }
    let text = info(&mut con, &["everything"]);
    let f = fields(&text);
    assert_eq!(f["redis_version"], "7.0.15");
    assert_eq!(f["redis_mode"], "standalone");
    assert_eq!(f["arch_bits"], "64");
    assert_eq!(number(&f, "process_id"), u64::from(server.pid()));
    assert_eq!(number(&f, "tcp_port"), u64::from(server.port));
    assert_eq!(f["run_id"].len(), 40);
    assert!(f["os"].starts_with("Linux "));
    for name in ["uptime_in_seconds", "uptime_in_days", "used_memory", "used_memory_rss", "used_memory_peak"] {
        number(&f, name);
    }
    assert!(f.contains_key("executable") && f.contains_key("config_file"));
    assert_eq!(number(&f, "connected_clients"), 4);
    assert_eq!(number(&f, "maxclients"), 10_000);
    assert_eq!(number(&f, "blocked_clients"), 0);
    assert!(number(&f, "used_memory") > 0);
    assert!(f["used_memory_human"].ends_with(['K', 'M', 'G']));
    assert_eq!(number(&f, "maxmemory"), 0);
    f["mem_fragmentation_ratio"].parse::<f64>().expect("ratio");
    assert_eq!(number(&f, "loading"), 0);
    assert_eq!(number(&f, "aof_enabled"), 1);
    assert_eq!(number(&f, "aof_rewrite_in_progress"), 0);
    number(&f, "rdb_changes_since_last_save");
    number(&f, "rdb_last_save_time");
    assert!(number(&f, "total_connections_received") >= 4);
    assert!(number(&f, "total_commands_processed") >= 6);
    assert!(number(&f, "total_net_input_bytes") > 0 && number(&f, "total_net_output_bytes") > 0);
    for name in [
        "instantaneous_ops_per_sec",
        "rejected_connections",
        "expired_keys",
        "evicted_keys",
        "keyspace_hits",
        "keyspace_misses",
        "total_error_replies",
        "acl_access_denied_auth",
    ] {
        number(&f, name);
    }
    assert_eq!(f["role"], "master");
    assert_eq!(number(&f, "connected_slaves"), 0);
    assert_eq!(f["master_replid"].len(), 40);
    number(&f, "master_repl_offset");
    f["used_cpu_sys"].parse::<f64>().expect("cpu");
    f["used_cpu_user"].parse::<f64>().expect("cpu");
    let set = &f["cmdstat_set"];
    assert!(set.starts_with("calls=3,usec="), "{set}");
    assert!(set.contains(",usec_per_call=") && set.ends_with(",rejected_calls=0,failed_calls=0"), "{set}");
    let latency = &f["latency_percentiles_usec_get"];
    assert!(latency.starts_with("p50=") && latency.contains(",p99=") && latency.contains(",p99.9="), "{latency}");
    assert_eq!(number(&f, "shards"), 2);
    for shard in ["shard0", "shard1"] {
        let line = &f[shard];
        for field in ["memtable_bytes=", "level_files=", "block_cache_hits=", "raft_rounds=", "commands_processed="] {
            assert!(line.contains(field), "{shard} lacks {field}: {line}");
        }
    }
    // The keyspace line counts what DBSIZE counts (and is absent while DBSIZE cannot count).
    let dbsize: redis::RedisResult<i64> = redis::cmd("DBSIZE").query(&mut con);
    let keyspace = info(&mut con, &["keyspace"]);
    match dbsize {
        Ok(keys) => assert!(keyspace.contains(&format!("db0:keys={keys},expires=0,avg_ttl=0")), "{keyspace}"),
        Err(_) => assert_eq!(keyspace, "# Keyspace\r\n"),
    }
}

#[test]
fn info_counts_failed_auth_and_errors() {
    let server = TestServer::start_with(&["--requirepass", "pw"]);
    let mut con = server.client();
    let _ = error_text(redis::cmd("AUTH").arg("wrong").query::<String>(&mut con));
    let _: String = redis::cmd("AUTH").arg("pw").query(&mut con).expect("auth");
    let f = fields(&info(&mut con, &["stats"]));
    assert_eq!(number(&f, "acl_access_denied_auth"), 1);
    assert!(number(&f, "total_error_replies") >= 1);
}

#[test]
fn info_is_verbatim_text_on_resp3() {
    let server = TestServer::start();
    let mut con = server.client_resp3();
    let reply: Value = redis::cmd("INFO").arg("server").query(&mut con).expect("INFO");
    let Value::VerbatimString { format, text } = reply else { panic!("expected verbatim text, got {reply:?}") };
    assert_eq!(format, redis::VerbatimFormat::Text);
    assert!(text.starts_with("# Server\r\nredis_version:"));
    let mut resp2 = server.client();
    let reply: Value = redis::cmd("INFO").arg("server").query(&mut resp2).expect("INFO");
    assert!(matches!(reply, Value::BulkString(_)), "{reply:?}");
}

#[test]
fn config_get_matches_patterns() {
    let server = TestServer::start();
    let mut con = server.client();
    let port: Vec<String> = redis::cmd("CONFIG").arg("GET").arg("port").query(&mut con).expect("get port");
    assert_eq!(port, ["port".to_owned(), server.port.to_string()]);
    let slowlog: HashMap<String, String> =
        redis::cmd("CONFIG").arg("GET").arg("SLOWLOG*").query(&mut con).expect("get slowlog*");
    assert_eq!(slowlog.len(), 2);
    assert_eq!(slowlog["slowlog-log-slower-than"], "10000");
    assert_eq!(slowlog["slowlog-max-len"], "128");
    let args = ["GET", "appendonly", "save", "databases", "maxmemory", "maxclients", "timeout", "port", "p?rt"];
    let flat: Vec<String> = redis::cmd("CONFIG").arg(&args).query(&mut con).expect("get several");
    assert_eq!(flat.len(), 14, "each parameter once: {flat:?}");
    let several: HashMap<String, String> =
        flat.chunks_exact(2).map(|pair| (pair[0].clone(), pair[1].clone())).collect();
    assert_eq!((several["appendonly"].as_str(), several["save"].as_str()), ("yes", ""));
    assert_eq!((several["databases"].as_str(), several["maxmemory"].as_str()), ("1", "0"));
    assert_eq!((several["maxclients"].as_str(), several["timeout"].as_str()), ("10000", "0"));
    for name in ["dir", "bind", "requirepass", "appendfsync", "proto-max-bulk-len", "client-query-buffer-limit"] {
        let pair: Vec<String> = redis::cmd("CONFIG").arg("GET").arg(name).query(&mut con).expect("get");
        assert_eq!(pair.len(), 2, "{name}");
    }
    let all: HashMap<String, String> = redis::cmd("CONFIG").arg("GET").arg("*").query(&mut con).expect("get *");
    assert!(all.len() > 30);
    let may_be_empty = ["requirepass", "save", "logfile", "pidfile", "unixsocket", "notify-keyspace-events"];
    for (name, value) in &all {
        assert!(!value.is_empty() || may_be_empty.contains(&name.as_str()), "{name} has no value");
    }
    let nothing: Vec<String> = redis::cmd("CONFIG").arg("GET").arg("no-such-thing").query(&mut con).expect("get");
    assert!(nothing.is_empty());
    let mut resp3 = server.client_resp3();
    let reply: Value = redis::cmd("CONFIG").arg("GET").arg("port").query(&mut resp3).expect("get port");
    assert!(matches!(reply, Value::Map(ref pairs) if pairs.len() == 1), "{reply:?}");
}

#[test]
fn config_set_changes_runtime_options() {
    let server = TestServer::start();
    let mut con = server.client();
    let ok: String = redis::cmd("CONFIG")
        .arg(&["SET", "timeout", "7", "SLOWLOG-MAX-LEN", "5", "appendfsync", "everysec", "maxclients", "500"])
        .query(&mut con)
        .expect("set");
    assert_eq!(ok, "OK");
    let got: HashMap<String, String> = redis::cmd("CONFIG")
        .arg(&["GET", "timeout", "slowlog-max-len", "appendfsync", "maxclients"])
        .query(&mut con)
        .expect("get");
    assert_eq!(got["timeout"], "7");
    assert_eq!(got["slowlog-max-len"], "5");
    assert_eq!(got["appendfsync"], "everysec");
    assert_eq!(got["maxclients"], "500");
    let _: String = redis::cmd("CONFIG").arg(&["SET", "save", ""]).query(&mut con).expect("save '' is accepted");
    let _: String = redis::cmd("CONFIG").arg(&["SET", "appendonly", "yes"]).query(&mut con).expect("appendonly yes");
    let cases: &[(&[&str], &str)] = &[
        (&["SET", "port", "1"], "CONFIG SET failed (possibly related to argument 'port') - can't set immutable config"),
        (&["SET", "foo", "1"], "Unknown option or number of arguments for CONFIG SET - 'foo'"),
        (&["SET", "timeout", "1", "timeout", "2"], "(possibly related to argument 'timeout') - duplicate parameter"),
        (&["SET", "timeout", "abc"], "argument couldn't be parsed into an integer"),
        (&["SET", "maxclients", "0"], "argument must be between 1 and 4294967295 inclusive"),
        (&["SET", "appendfsync", "sometimes"], "argument(s) must be one of the following: everysec, always, no"),
        (&["SET", "timeout", "1", "port"], "syntax error"),
        (&["SET", "timeout", "5", "foo", "1"], "Unknown option"),
    ];
    for (args, expected) in cases {
        let text = error_text(redis::cmd("CONFIG").arg(*args).query::<String>(&mut con));
        assert!(text.contains(expected), "CONFIG {args:?}: {text}");
    }
    let timeout: Vec<String> = redis::cmd("CONFIG").arg(&["GET", "timeout"]).query(&mut con).expect("get");
    assert_eq!(timeout[1], "7", "a failed CONFIG SET changes nothing");
}

#[test]
fn config_set_requirepass_keeps_the_caller_authenticated() {
    let server = TestServer::start();
    let mut con = server.client();
    let _: String = redis::cmd("CONFIG").arg(&["SET", "requirepass", "pw"]).query(&mut con).expect("set");
    let _: Option<String> = redis::cmd("GET").arg("k").query(&mut con).expect("the caller stays authenticated");
    let mut other = server.client();
    let text = error_text(redis::cmd("GET").arg("k").query::<Option<String>>(&mut other));
    assert!(text.contains("NOAUTH"), "{text}");
    let _: String = redis::cmd("AUTH").arg("pw").query(&mut other).expect("auth");
    let _: String = redis::cmd("CONFIG").arg(&["SET", "requirepass", ""]).query(&mut other).expect("clear");
    let _: Option<String> = redis::cmd("GET").arg("k").query(&mut server.client()).expect("no password");
}

#[test]
fn config_resetstat_clears_statistics() {
    let server = TestServer::start();
    let mut cons = connections(&server, 3);
    for con in &mut cons {
        let _: () = redis::cmd("SET").arg("k").arg("v").query(con).expect("set");
    }
    let mut con = server.client();
    assert!(info(&mut con, &["commandstats"]).contains("cmdstat_set:calls=3,"));
    let ok: String = redis::cmd("CONFIG").arg("RESETSTAT").query(&mut con).expect("resetstat");
    assert_eq!(ok, "OK");
    let text = info(&mut con, &["commandstats"]);
    assert!(!text.contains("cmdstat_set"), "{text}");
    let f = fields(&info(&mut con, &["stats"]));
    assert!(number(&f, "total_commands_processed") <= 3);
    assert_eq!(number(&f, "total_connections_received"), 0);
    assert_eq!(number(&fields(&info(&mut con, &["clients"])), "connected_clients"), 4);
}

#[test]
fn time_is_the_unix_time() {
    let server = TestServer::start();
    let mut con = server.client();
    let time: Vec<String> = redis::cmd("TIME").query(&mut con).expect("TIME");
    let (secs, micros): (u64, u64) = (time[0].parse().expect("secs"), time[1].parse().expect("micros"));
    let now = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").as_secs();
    assert!(secs.abs_diff(now) <= 2);
    assert!(micros < 1_000_000);
}

fn slowlog_entries(con: &mut redis::Connection, count: Option<i64>) -> Vec<Value> {
    let mut cmd = redis::cmd("SLOWLOG");
    cmd.arg("GET");
    if let Some(count) = count {
        cmd.arg(count);
    }
    cmd.query(con).expect("SLOWLOG GET")
}

#[test]
fn slowlog_merges_every_core_newest_first() {
    let server = TestServer::start();
    let mut con = server.client();
    let _: String = redis::cmd("CONFIG").arg(&["SET", "slowlog-log-slower-than", "0"]).query(&mut con).expect("set");
    let _: String = redis::cmd("SLOWLOG").arg("RESET").query(&mut con).expect("reset");
    let mut cons = connections(&server, 4);
    for (i, other) in cons.iter_mut().enumerate() {
        let _: String = redis::cmd("CLIENT").arg("SETNAME").arg(format!("c{i}")).query(other).expect("setname");
        let _: () = redis::cmd("SET").arg(format!("slow{i}")).arg("v").query(other).expect("set");
    }
    let entries = slowlog_entries(&mut con, Some(-1));
    assert!(entries.len() >= 9, "every command of every core is logged: {entries:?}");
    let ids: Vec<i64> = entries
        .iter()
        .map(|entry| match entry {
            Value::Array(fields) => redis::from_redis_value(&fields[0]).expect("id"),
            other => panic!("entry {other:?}"),
        })
        .collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first, unique ids: {ids:?}");
    let newest = &entries[0];
    let Value::Array(fields) = newest else { panic!("{newest:?}") };
    assert_eq!(fields.len(), 6);
    let args: Vec<String> = redis::from_redis_value(&fields[3]).expect("args");
    assert_eq!(args, ["SET", "slow3", "v"]);
    let addr: String = redis::from_redis_value(&fields[4]).expect("addr");
    assert!(addr.starts_with("127.0.0.1:"));
    let name: String = redis::from_redis_value(&fields[5]).expect("name");
    assert_eq!(name, "c3");
    assert_eq!(slowlog_entries(&mut con, None).len(), 10.min(entries.len() + 1));
    assert_eq!(slowlog_entries(&mut con, Some(2)).len(), 2);
    assert!(slowlog_entries(&mut con, Some(0)).is_empty());
    let len: i64 = redis::cmd("SLOWLOG").arg("LEN").query(&mut con).expect("len");
    assert!(len >= 12);
    for bad in ["-2", "x"] {
        let text = error_text(redis::cmd("SLOWLOG").arg("GET").arg(bad).query::<Value>(&mut con));
        assert!(text.contains("count should be greater than or equal to -1"), "{text}");
    }
    let _: String = redis::cmd("CONFIG").arg(&["SET", "slowlog-log-slower-than", "-1"]).query(&mut con).expect("set");
    let _: String = redis::cmd("SLOWLOG").arg("RESET").query(&mut con).expect("reset");
    let len: i64 = redis::cmd("SLOWLOG").arg("LEN").query(&mut con).expect("len");
    assert_eq!(len, 0);
    let _: String = redis::cmd("CONFIG")
        .arg(&["SET", "slowlog-log-slower-than", "0", "slowlog-max-len", "1"])
        .query(&mut con)
        .expect("set");
    let _: () = redis::cmd("SET").arg("a").arg("b").query(&mut con).expect("set");
    let len: i64 = redis::cmd("SLOWLOG").arg("LEN").query(&mut con).expect("len");
    assert!(len <= 2, "at most one entry per core: {len}");
}

/// A pipelined run whose GETs the row cache answers (their arguments logged as they are) and
/// whose other requests run (their arguments copied before): each entry shows its own request.
#[test]
fn slowlog_shows_each_request_of_a_pipelined_run() {
    let server = TestServer::start();
    let mut con = server.client();
    for key in ["p1", "p2"] {
        let _: () = redis::cmd("SET").arg(key).arg("v").query(&mut con).expect("set");
        let _: Option<String> = redis::cmd("GET").arg(key).query(&mut con).expect("get");
    }
    let _: String = redis::cmd("CONFIG").arg(&["SET", "slowlog-log-slower-than", "0"]).query(&mut con).expect("set");
    let _: String = redis::cmd("SLOWLOG").arg("RESET").query(&mut con).expect("reset");
    // Cached GETs, then a run of writes: two plain SETs committed together and an INCR.
    let (a, b, c, d, e, f): (Option<String>, Option<String>, Option<String>, String, String, i64) = redis::pipe()
        .cmd("GET")
        .arg("p1")
        .cmd("GET")
        .arg("absent")
        .cmd("GET")
        .arg("p2")
        .cmd("SET")
        .arg(&["p3", "w"])
        .cmd("SET")
        .arg(&["p4", "w"])
        .cmd("INCR")
        .arg("counter")
        .query(&mut con)
        .expect("pipeline");
    assert_eq!((a.as_deref(), b, c.as_deref(), &*d, &*e, f), (Some("v"), None, Some("v"), "OK", "OK", 1));
    let mut logged: Vec<Vec<String>> = slowlog_entries(&mut con, Some(-1))
        .iter()
        .map(|entry| match entry {
            Value::Array(fields) => redis::from_redis_value(&fields[3]).expect("args"),
            other => panic!("entry {other:?}"),
        })
        .filter(|args: &Vec<String>| args[0] != "SLOWLOG")
        .collect();
    logged.sort();
    let expected = [
        vec!["GET", "absent"],
        vec!["GET", "p1"],
        vec!["GET", "p2"],
        vec!["INCR", "counter"],
        vec!["SET", "p3", "w"],
        vec!["SET", "p4", "w"],
    ];
    assert_eq!(logged, expected);
}

#[test]
fn latency_histogram_aggregates_cores() {
    let server = TestServer::start();
    let mut cons = connections(&server, 4);
    for con in &mut cons {
        let _: () = redis::cmd("SET").arg("k").arg("v").query(con).expect("set");
        let _: Option<String> = redis::cmd("GET").arg("k").query(con).expect("get");
    }
    let mut con = server.client_resp3();
    let reply: Value =
        redis::cmd("LATENCY").arg(&["HISTOGRAM", "set", "GET", "nosuch"]).query(&mut con).expect("histogram");
    let Value::Map(commands) = reply else { panic!("{reply:?}") };
    let names: Vec<String> = commands.iter().map(|(k, _)| redis::from_redis_value(k).expect("name")).collect();
    assert_eq!(names, ["get", "set"]);
    for (_, entry) in &commands {
        let Value::Map(fields) = entry else { panic!("{entry:?}") };
        let calls: i64 = redis::from_redis_value(&fields[0].1).expect("calls");
        assert_eq!(redis::from_redis_value::<String>(&fields[0].0).expect("key"), "calls");
        assert_eq!(calls, 4);
        assert_eq!(redis::from_redis_value::<String>(&fields[1].0).expect("key"), "histogram_usec");
        let Value::Map(buckets) = &fields[1].1 else { panic!("{fields:?}") };
        let buckets: Vec<(i64, i64)> = buckets
            .iter()
            .map(|(b, c)| (redis::from_redis_value(b).expect("bucket"), redis::from_redis_value(c).expect("count")))
            .collect();
        assert!(buckets.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 < w[1].1), "cumulative: {buckets:?}");
        assert_eq!(buckets.last().expect("a bucket").1, 4);
        for (bucket, _) in &buckets {
            assert!([1, 2, 4, 8, 16, 33, 66, 132, 264, 528, 1056, 2113, 4227, 8454].contains(bucket) || *bucket > 8454);
        }
    }
    let mut resp2 = server.client();
    let all: Value = redis::cmd("LATENCY").arg("HISTOGRAM").query(&mut resp2).expect("histogram");
    let Value::Array(flat) = all else { panic!("{all:?}") };
    assert!(flat.len() >= 4 && flat.len() % 2 == 0);
    let none: Value = redis::cmd("LATENCY").arg(&["HISTOGRAM", "nosuch"]).query(&mut resp2).expect("histogram");
    assert_eq!(none, Value::Array(Vec::new()));
}

#[test]
fn command_introspection() {
    let server = TestServer::start();
    let mut con = server.client();
    let count: i64 = redis::cmd("COMMAND").arg("COUNT").query(&mut con).expect("count");
    let all: Vec<Value> = redis::cmd("COMMAND").query(&mut con).expect("command");
    assert_eq!(count as usize, all.len());
    let info: Vec<Value> =
        redis::cmd("COMMAND").arg(&["INFO", "get", "nosuch", "client|list"]).query(&mut con).expect("info");
    assert_eq!(info.len(), 3);
    let Value::Array(get) = &info[0] else { panic!("{info:?}") };
    assert_eq!(redis::from_redis_value::<String>(&get[0]).expect("name"), "get");
    assert_eq!(redis::from_redis_value::<i64>(&get[1]).expect("arity"), 2);
    assert_eq!(info[1], Value::Nil);
    let docs: HashMap<String, Value> = redis::cmd("COMMAND").arg(&["DOCS", "set"]).query(&mut con).expect("docs");
    assert!(docs.contains_key("set"));
    let list: Vec<String> = redis::cmd("COMMAND").arg("LIST").query(&mut con).expect("list");
    assert!(list.contains(&"config|get".to_owned()));
    let matching: Vec<String> =
        redis::cmd("COMMAND").arg(&["LIST", "FILTERBY", "PATTERN", "slowlog*"]).query(&mut con).expect("list");
    assert!(matching.contains(&"slowlog|get".to_owned()) && matching.iter().all(|name| name.starts_with("slowlog")));
    let text = error_text(redis::cmd("COMMAND").arg(&["LIST", "FILTERBY", "foo", "x"]).query::<Value>(&mut con));
    assert!(text.contains("syntax error"), "{text}");
}

#[test]
fn pipelined_server_commands() {
    let server = TestServer::start();
    let mut con = server.client();
    let (time, count, port, len): (Vec<String>, i64, Vec<String>, i64) = redis::pipe()
        .cmd("TIME")
        .cmd("COMMAND")
        .arg("COUNT")
        .cmd("CONFIG")
        .arg(&["GET", "port"])
        .cmd("SLOWLOG")
        .arg("LEN")
        .query(&mut con)
        .expect("pipeline");
    assert_eq!(time.len(), 2);
    assert!(count > 0 && len >= 0);
    assert_eq!(port[1], server.port.to_string());
}

#[test]
fn shutdown_stops_the_server_cleanly() {
    let temp = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("temp dir");
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_nokv"))
        .args(["--port", &port.to_string(), "--shards", "2", "--dir"])
        .arg(temp.path().join("data"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start nokv");
    let started = Instant::now();
    let mut con = loop {
        if let Ok(con) = redis::Client::open(format!("redis://127.0.0.1:{port}/")).and_then(|c| c.get_connection()) {
            break con;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "nokv did not start");
        std::thread::sleep(Duration::from_millis(50));
    };
    let _: () = redis::cmd("SET").arg("k").arg("v").query(&mut con).expect("set");
    let text = error_text(redis::cmd("SHUTDOWN").arg("bogus").query::<Value>(&mut con));
    assert!(text.contains("syntax error"), "{text}");
    let text = error_text(redis::cmd("SHUTDOWN").arg(&["SAVE", "NOSAVE"]).query::<Value>(&mut con));
    assert!(text.contains("syntax error"), "{text}");
    let text = error_text(redis::cmd("SHUTDOWN").arg("ABORT").query::<Value>(&mut con));
    assert!(text.contains("Errors trying to SHUTDOWN"), "{text}");
    // Redis replies nothing: the connection just closes.
    assert!(redis::cmd("SHUTDOWN").arg("NOSAVE").query::<Value>(&mut con).is_err());
    let status = loop {
        if let Some(status) = child.try_wait().expect("poll") {
            break status;
        }
        if started.elapsed() > Duration::from_secs(60) {
            child.kill().expect("kill the stuck server");
            panic!("nokv did not stop after SHUTDOWN");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "exit status {status}");
}
