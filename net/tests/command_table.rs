//! The command table as a specification: which commands exist, their arity and key positions,
//! Redis's dispatch errors, and `COMMAND` replies byte-identical to Redis 7.0.15's.
//!
//! `fixtures/command_{info,docs}_resp{2,3}.bin` are the replies of a Redis 7.0.15 server to
//! `COMMAND INFO <names.txt> nosuchcommand` and `COMMAND DOCS <names.txt> nosuchcommand`, with
//! `names.txt` listing every command and subcommand of the table except the containers (whose
//! Redis subcommand lists are longer than ours) and CLIENT SETINFO and NO-TOUCH (Redis 7.2);
//! `net/tools/gen_command_fixtures.py` records them.

use bytes::Bytes;
use nokv_net::command::introspection::{command_count, command_docs_reply, command_info_reply, command_list};
use nokv_net::command::{
    CommandFlags, CommandSpec, CommandTable, RequestPolicy, ResponsePolicy, arity_ok, key_positions,
};
use nokv_net::frame::{Protocol, Reply};

const TOP_LEVEL: &[&str] = &[
    "ping",
    "echo",
    "hello",
    "auth",
    "select",
    "quit",
    "reset",
    "client",
    "get",
    "set",
    "setnx",
    "setex",
    "psetex",
    "getset",
    "getdel",
    "getex",
    "mget",
    "mset",
    "msetnx",
    "incr",
    "decr",
    "incrby",
    "decrby",
    "incrbyfloat",
    "append",
    "strlen",
    "getrange",
    "setrange",
    "del",
    "unlink",
    "exists",
    "touch",
    "type",
    "expire",
    "pexpire",
    "expireat",
    "pexpireat",
    "ttl",
    "pttl",
    "expiretime",
    "pexpiretime",
    "persist",
    "keys",
    "scan",
    "randomkey",
    "rename",
    "renamenx",
    "copy",
    "info",
    "dbsize",
    "flushdb",
    "flushall",
    "time",
    "config",
    "shutdown",
    "latency",
    "slowlog",
    "command",
    "multi",
    "exec",
    "discard",
    "watch",
    "unwatch",
];

const SUBCOMMANDS: &[&str] = &[
    "client|id",
    "client|setname",
    "client|getname",
    "client|list",
    "client|info",
    "client|kill",
    "client|no-evict",
    "client|help",
    "client|setinfo",
    "client|no-touch",
    "config|get",
    "config|set",
    "config|resetstat",
    "latency|histogram",
    "latency|latest",
    "latency|reset",
    "latency|doctor",
    "latency|help",
    "slowlog|get",
    "slowlog|len",
    "slowlog|reset",
    "slowlog|help",
    "command|count",
    "command|info",
    "command|docs",
    "command|list",
];

fn table() -> CommandTable {
    CommandTable::new()
}

fn args(words: &[&str]) -> Vec<Bytes> {
    words.iter().map(|w| Bytes::copy_from_slice(w.as_bytes())).collect()
}

fn spec(name: &str) -> &'static CommandSpec {
    table().get(name.as_bytes()).unwrap_or_else(|| panic!("{name} missing"))
}

fn keys(words: &[&str]) -> Vec<usize> {
    let request = args(words);
    key_positions(spec(words[0]), &request).collect()
}

fn error_text(reply: Reply) -> String {
    match reply {
        Reply::Error(text) => String::from_utf8(text.to_vec()).expect("utf-8"),
        other => panic!("error expected, got {other:?}"),
    }
}

fn all_specs() -> Vec<&'static CommandSpec> {
    table().commands().iter().flat_map(|spec| std::iter::once(spec).chain(spec.subcommands.iter())).collect()
}

// ---------------------------------------------------------------------------------------------
// Contents

#[test]
fn every_command_in_scope_is_present_and_nothing_else() {
    let table = table();
    let names: Vec<&str> = table.commands().iter().map(|spec| spec.name).collect();
    let mut expected = TOP_LEVEL.to_vec();
    let mut actual = names.clone();
    expected.sort_unstable();
    actual.sort_unstable();
    assert_eq!(actual, expected);
    for full_name in SUBCOMMANDS {
        let spec = table.get_full(full_name.as_bytes()).unwrap_or_else(|| panic!("{full_name} missing"));
        assert_eq!(spec.name, *full_name);
    }
    let subcommand_count: usize = table.commands().iter().map(|spec| spec.subcommands.len()).sum();
    assert_eq!(subcommand_count, SUBCOMMANDS.len());
}

#[test]
fn command_count_equals_the_table_size() {
    assert_eq!(command_count(&table()), Reply::Integer(TOP_LEVEL.len() as i64));
    assert_eq!(table().len(), TOP_LEVEL.len());
}

#[test]
fn lookup_ignores_letter_case() {
    let table = table();
    assert_eq!(table.get(b"GeT").map(|s| s.name), Some("get"));
    assert_eq!(table.get_full(b"CLIENT|SetName").map(|s| s.name), Some("client|setname"));
    assert!(table.get(b"nosuch").is_none());
    assert!(table.get(&[b'g'; 1000]).is_none());
    assert!(table.get_full(b"client|nosuch").is_none());
}

#[test]
fn table_invariants_hold() {
    let specs = all_specs();
    let mut names: Vec<&str> = specs.iter().map(|s| s.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), specs.len(), "names are unique");
    for spec in &specs {
        assert_eq!(spec.name, spec.name.to_ascii_lowercase());
        assert!(spec.arity != 0, "{}", spec.name);
        assert!(spec.acl_categories.iter().all(|c| c.starts_with('@')), "{}", spec.name);
        assert!(!spec.doc.summary.is_empty() && !spec.doc.since.is_empty(), "{}", spec.name);
        if spec.first_key > 0 {
            // The legacy range lies within the mandatory arguments.
            let min_argc = spec.arity.unsigned_abs() as i32;
            assert!(spec.first_key < min_argc && spec.step > 0, "{}", spec.name);
            assert!(spec.last_key < 0 || spec.last_key < min_argc, "{}", spec.name);
            assert!(!spec.key_specs.is_empty(), "{}", spec.name);
        }
        for sub in spec.subcommands {
            assert!(sub.name.starts_with(&format!("{}|", spec.name)));
        }
        if spec.is_container() {
            // COMMAND alone is valid (arity -1); the other containers need a subcommand.
            assert!(matches!(spec.arity, -1 | -2) && spec.first_key == 0, "{}", spec.name);
        }
        assert!(max_key_spec_index(spec.doc.arguments) <= spec.key_specs.len(), "{}", spec.name);
    }
}

/// One more than the highest key spec index an argument refers to (0 if none does).
fn max_key_spec_index(arguments: &[nokv_net::command::Arg]) -> usize {
    let own = arguments.iter().filter_map(|a| a.key_spec_index).map(|i| i as usize + 1);
    let nested = arguments.iter().map(|a| max_key_spec_index(a.arguments));
    own.chain(nested).max().unwrap_or(0)
}

#[test]
fn typed_policies_match_the_tips() {
    for spec in all_specs() {
        let has = |tip: &str| spec.tips.contains(&tip);
        assert_eq!(
            spec.request_policy == RequestPolicy::MultiShard,
            has("request_policy:multi_shard"),
            "{}",
            spec.name
        );
        assert_eq!(spec.request_policy == RequestPolicy::AllShards, has("request_policy:all_shards"), "{}", spec.name);
        assert_eq!(spec.response_policy == ResponsePolicy::AggSum, has("response_policy:agg_sum"), "{}", spec.name);
    }
    assert_eq!(spec("mget").request_policy, RequestPolicy::MultiShard);
    assert_eq!(spec("mset").response_policy, ResponsePolicy::AllSucceeded);
    assert_eq!(spec("del").response_policy, ResponsePolicy::AggSum);
    assert_eq!(spec("dbsize").request_policy, RequestPolicy::AllShards);
}

#[test]
fn flags_say_what_a_command_does() {
    assert!(spec("get").is_readonly() && spec("get").flags.contains(CommandFlags::FAST));
    assert!(spec("set").is_write() && spec("set").flags.contains(CommandFlags::DENYOOM));
    assert!(spec("hello").flags.contains(CommandFlags::NO_AUTH));
    assert!(spec("shutdown").flags.contains(CommandFlags::ADMIN.union(CommandFlags::NO_MULTI)));
}

// ---------------------------------------------------------------------------------------------
// Arity and keys

#[test]
fn arity_is_exact_when_positive_and_a_minimum_when_negative() {
    assert_eq!(spec("get").arity, 2);
    assert!(arity_ok(spec("get"), 2) && !arity_ok(spec("get"), 1) && !arity_ok(spec("get"), 3));
    assert_eq!(spec("mset").arity, -3);
    assert!(!arity_ok(spec("mset"), 2) && arity_ok(spec("mset"), 3) && arity_ok(spec("mset"), 9));
    assert_eq!(spec("set").arity, -3);
    assert_eq!(spec("ping").arity, -1);
}

#[test]
fn legacy_key_ranges_match_redis() {
    let range = |name: &str| {
        let s = spec(name);
        (s.first_key, s.last_key, s.step)
    };
    assert_eq!(range("mset"), (1, -1, 2));
    assert_eq!(range("msetnx"), (1, -1, 2));
    assert_eq!(range("mget"), (1, -1, 1));
    assert_eq!(range("del"), (1, -1, 1));
    assert_eq!(range("copy"), (1, 2, 1));
    assert_eq!(range("rename"), (1, 2, 1));
    assert_eq!(range("set"), (1, 1, 1));
    assert_eq!(range("getex"), (1, 1, 1));
    assert_eq!(range("ping"), (0, 0, 0));
}

#[test]
fn key_positions_route_each_command() {
    assert_eq!(keys(&["MSET", "a", "1", "b", "2", "c", "3"]), vec![1, 3, 5]);
    assert_eq!(keys(&["MGET", "a", "b", "c"]), vec![1, 2, 3]);
    assert_eq!(keys(&["DEL", "a"]), vec![1]);
    assert_eq!(keys(&["EXISTS", "a", "a"]), vec![1, 2]);
    assert_eq!(keys(&["COPY", "src", "dst", "DB", "0", "REPLACE"]), vec![1, 2]);
    assert_eq!(keys(&["RENAME", "old", "new"]), vec![1, 2]);
    assert_eq!(keys(&["SET", "k", "v", "EX", "10", "GET"]), vec![1]);
    assert_eq!(keys(&["GETEX", "k", "PERSIST"]), vec![1]);
    assert_eq!(keys(&["PING"]), Vec::<usize>::new());
    assert_eq!(keys(&["KEYS", "*"]), Vec::<usize>::new());
}

#[test]
fn key_positions_never_run_past_the_arguments() {
    // Arity is checked first in dispatch; called anyway, short requests yield no keys.
    assert_eq!(keys(&["COPY", "src"]), Vec::<usize>::new());
    assert_eq!(keys(&["GET"]), Vec::<usize>::new());
}

// ---------------------------------------------------------------------------------------------
// Dispatch errors

#[test]
fn resolve_finds_commands_and_subcommands() {
    let table = table();
    assert_eq!(table.resolve(&args(&["get", "k"])).map(|s| s.name), Ok("get"));
    assert_eq!(table.resolve(&args(&["CLIENT", "SETNAME", "x"])).map(|s| s.name), Ok("client|setname"));
    assert_eq!(table.resolve(&args(&["command"])).map(|s| s.name), Ok("command"));
    assert_eq!(table.resolve(&args(&["command", "count"])).map(|s| s.name), Ok("command|count"));
}

#[test]
fn resolve_replies_with_redis_dispatch_errors() {
    let table = table();
    let error = |words: &[&str]| error_text(table.resolve(&args(words)).expect_err("must fail"));
    assert_eq!(error(&["foo", "a", "b"]), "ERR unknown command 'foo', with args beginning with: 'a' 'b' ");
    assert_eq!(error(&["foo"]), "ERR unknown command 'foo', with args beginning with: ");
    assert_eq!(error(&["get"]), "ERR wrong number of arguments for 'get' command");
    assert_eq!(error(&["GET", "a", "b"]), "ERR wrong number of arguments for 'get' command");
    assert_eq!(error(&["client"]), "ERR wrong number of arguments for 'client' command");
    assert_eq!(error(&["client", "setname"]), "ERR wrong number of arguments for 'client|setname' command");
    assert_eq!(error(&["client", "nope"]), "ERR unknown subcommand 'nope'. Try CLIENT HELP.");
    assert_eq!(error(&["config", "rewrite"]), "ERR unknown subcommand 'rewrite'. Try CONFIG HELP.");
    // Subcommands the handlers do not answer stay unknown rather than reaching them.
    assert_eq!(error(&["latency", "graph", "command"]), "ERR unknown subcommand 'graph'. Try LATENCY HELP.");
    assert_eq!(error(&["client", "pause", "10"]), "ERR unknown subcommand 'pause'. Try CLIENT HELP.");
}

#[test]
fn resolve_reaches_the_introspection_subcommands_tools_call() {
    let table = table();
    let name = |words: &[&str]| table.resolve(&args(words)).map(|s| s.name);
    // redis_exporter sends LATENCY LATEST on every scrape.
    assert_eq!(name(&["LATENCY", "LATEST"]), Ok("latency|latest"));
    assert_eq!(name(&["latency", "reset", "command"]), Ok("latency|reset"));
    assert_eq!(name(&["latency", "doctor"]), Ok("latency|doctor"));
    assert_eq!(name(&["slowlog", "help"]), Ok("slowlog|help"));
    assert_eq!(name(&["client", "no-evict", "on"]), Ok("client|no-evict"));
    assert_eq!(name(&["client", "NO-TOUCH", "off"]), Ok("client|no-touch"));
    assert_eq!(name(&["client", "help"]), Ok("client|help"));
    let error = |words: &[&str]| error_text(table.resolve(&args(words)).expect_err("must fail"));
    assert_eq!(error(&["latency", "latest", "x"]), "ERR wrong number of arguments for 'latency|latest' command");
    assert_eq!(error(&["client", "no-touch"]), "ERR wrong number of arguments for 'client|no-touch' command");
}

#[test]
fn client_no_touch_carries_redis_7_2_metadata() {
    let no_touch = table().get_full(b"client|no-touch").expect("present");
    let no_evict = table().get_full(b"client|no-evict").expect("present");
    assert_eq!((no_touch.arity, no_touch.doc.since), (3, "7.2.0"));
    // Unlike NO-EVICT, NO-TOUCH is not an admin command.
    assert!(no_evict.flags.contains(CommandFlags::ADMIN) && !no_touch.flags.contains(CommandFlags::ADMIN));
    assert_eq!(no_touch.acl_categories, &["@slow", "@connection"]);
    assert_eq!(no_touch.doc.arguments, no_evict.doc.arguments);
}

// ---------------------------------------------------------------------------------------------
// COMMAND replies

fn fixture_names() -> Vec<Bytes> {
    let text = include_str!("fixtures/names.txt");
    let mut names: Vec<Bytes> = text.split_whitespace().map(|n| Bytes::copy_from_slice(n.as_bytes())).collect();
    names.push(Bytes::from_static(b"nosuchcommand"));
    names
}

/// Compares wire bytes, showing the neighbourhood of the first difference instead of two
/// 30 KB byte arrays.
fn assert_same_wire(actual: &[u8], expected: &[u8], what: &str) {
    let first_difference = actual.iter().zip(expected).position(|(a, e)| a != e);
    let Some(at) = first_difference.or((actual.len() != expected.len()).then(|| actual.len().min(expected.len())))
    else {
        return;
    };
    let window =
        |bytes: &[u8]| String::from_utf8_lossy(&bytes[at.saturating_sub(120)..(at + 80).min(bytes.len())]).into_owned();
    panic!("{what} differs at byte {at}\n  ours:  {:?}\n  redis: {:?}", window(actual), window(expected));
}

#[test]
fn command_info_is_byte_identical_to_redis() {
    let reply = command_info_reply(&table(), &fixture_names());
    assert_same_wire(&reply.to_bytes(Protocol::Resp2), include_bytes!("fixtures/command_info_resp2.bin"), "RESP2");
    assert_same_wire(&reply.to_bytes(Protocol::Resp3), include_bytes!("fixtures/command_info_resp3.bin"), "RESP3");
}

#[test]
fn command_docs_is_byte_identical_to_redis() {
    let reply = command_docs_reply(&table(), &fixture_names());
    assert_same_wire(&reply.to_bytes(Protocol::Resp2), include_bytes!("fixtures/command_docs_resp2.bin"), "RESP2");
    assert_same_wire(&reply.to_bytes(Protocol::Resp3), include_bytes!("fixtures/command_docs_resp3.bin"), "RESP3");
}

#[test]
fn command_info_without_names_lists_every_command() {
    let Reply::Array(entries) = command_info_reply(&table(), &[]) else { panic!("array expected") };
    assert_eq!(entries.len(), TOP_LEVEL.len());
    let Reply::Array(client) = &entries[7] else { panic!("entry expected") };
    assert_eq!(client[0], Reply::bulk("client"));
    let Reply::Set(subcommands) = &client[9] else { panic!("subcommands expected") };
    assert_eq!(subcommands.len(), 10);
}

#[test]
fn command_docs_of_a_container_nests_its_subcommands() {
    let reply = command_docs_reply(&table(), &args(&["latency"]));
    let wire = reply.to_bytes(Protocol::Resp3);
    let text = String::from_utf8_lossy(&wire);
    assert!(text.starts_with("%1\r\n$7\r\nlatency\r\n%5\r\n$7\r\nsummary\r\n"), "{text}");
    assert!(text.contains("$11\r\nsubcommands\r\n%5\r\n$17\r\nlatency|histogram\r\n"), "{text}");
}

#[test]
fn command_list_names_commands_and_subcommands() {
    let Reply::Array(names) = command_list(&table(), None) else { panic!("array expected") };
    assert_eq!(names.len(), TOP_LEVEL.len() + SUBCOMMANDS.len());
    assert!(names.contains(&Reply::bulk("config|get")));
    let Reply::Array(transactions) = command_list(&table(), Some(b"Transaction")) else { panic!("array expected") };
    let expected: Vec<Reply> = ["multi", "exec", "discard", "watch", "unwatch"].iter().map(Reply::bulk).collect();
    assert_eq!(transactions, expected);
}
