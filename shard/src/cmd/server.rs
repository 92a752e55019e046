//! Server commands (INFO, CONFIG, TIME, SHUTDOWN, LATENCY, SLOWLOG, COMMAND), CLIENT, and
//! each core's part of the node-wide ones.
//!
//! Statistics, slow logs and connections live on the core that received the connection, so
//! every node-wide answer fans out to all cores (`Fanout::*`) and merges their parts here:
//! counters are summed, latency histograms merged value by value, slow-log entries ordered
//! by the time they were logged, client lists ordered by client id. Keyspace commands and
//! fan-outs belong to `cmd::keyspace` and are tried first.

use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::LazyLock;
use std::time::Instant;

use bytes::Bytes;
use nokv_net::command::{CommandTable, introspection};
use nokv_net::errors;
use nokv_net::frame::{ParseLimits, Reply};
use nokv_net::handler::ConnectionState;
use nokv_net::server::{BufferUsage, ClientInfo, KillFilter, format_client_list_line};

use super::connection::validate_client_name;
use super::info::{self, CommandFigures, commands_from_reply, commands_to_reply, histogram_buckets, merge_commands};
use super::{CommandError, CommandResult, into_reply, is_word, syntax_error};
use crate::call::{CoreCall, Fanout};
use crate::config::{AppendFsync, ClientOutputBufferLimits, RuntimeConfig};
use crate::core::Core;
use crate::stats::unix_time_us;

/// The command table, for COMMAND and LATENCY HISTOGRAM name checks.
static TABLE: LazyLock<CommandTable> = LazyLock::new(CommandTable::new);

/// SLOWLOG GET's default count.
const SLOWLOG_DEFAULT_COUNT: i64 = 10;

/// Runs a keyless server command on the connection's core.
pub async fn execute(core: &Rc<Core>, conn: &mut ConnectionState, args: &[Bytes]) -> Reply {
    let name = super::lowercase_name(args);
    if let Some(result) = super::keyspace::execute(core, &name, args).await {
        return into_reply(result);
    }
    let result = match name.as_str() {
        "info" => Ok(info::info(core, args).await),
        "config" => config(core, conn, args).await,
        "time" => Ok(time()),
        "shutdown" => shutdown(core, conn, args),
        "latency" => latency(core, args).await,
        "slowlog" => slowlog(core, args).await,
        "command" => command(args),
        "client" => client(core, conn, args).await,
        _ => Ok(Reply::error(format!("ERR unknown command '{name}'"))),
    };
    into_reply(result)
}

fn error(text: impl Into<String>) -> CommandError {
    CommandError::Reply(Reply::error(text))
}

fn lowercase(arg: &[u8]) -> String {
    String::from_utf8_lossy(arg).to_ascii_lowercase()
}

/// Redis's reply to a subcommand given the wrong arguments.
fn subcommand_syntax_error(container: &str, subcommand: &[u8]) -> CommandError {
    error(format!(
        "ERR unknown subcommand or wrong number of arguments for '{}'. Try {} HELP.",
        String::from_utf8_lossy(subcommand),
        container.to_ascii_uppercase()
    ))
}

fn help_reply(lines: &[&'static str]) -> Reply {
    Reply::Array(lines.iter().map(|line| Reply::simple(line)).collect())
}

fn time() -> Reply {
    let now_us = unix_time_us();
    Reply::Array(vec![Reply::bulk((now_us / 1_000_000).to_string()), Reply::bulk((now_us % 1_000_000).to_string())])
}

/// `SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]`. Every acknowledged write is already in the
/// journal, so SAVE and NOSAVE stop the same way (memtables are flushed on the way out).
fn shutdown(core: &Core, conn: &mut ConnectionState, args: &[Bytes]) -> CommandResult {
    let (mut save, mut nosave, mut abort, mut other_flags) = (false, false, false, false);
    for arg in &args[1..] {
        match lowercase(arg).as_str() {
            "save" => save = true,
            "nosave" => nosave = true,
            "now" | "force" => other_flags = true,
            "abort" => abort = true,
            _ => return Err(syntax_error()),
        }
    }
    if (abort && (save || nosave || other_flags)) || (save && nosave) {
        return Err(syntax_error());
    }
    if abort {
        // A shutdown, once requested, is not cancellable here: it runs at once.
        return Err(error("ERR Errors trying to SHUTDOWN. Check logs."));
    }
    tracing::info!(client = conn.id, "SHUTDOWN requested");
    core.node.request_shutdown();
    // Redis answers nothing: the client sees the connection close.
    conn.kill_requested = true;
    Ok(Reply::ok())
}

// ---------------------------------------------------------------------------------------
// CONFIG

/// Every parameter CONFIG GET knows, in reply order.
const PARAMETERS: &[&str] = &[
    "port",
    "bind",
    "dir",
    "requirepass",
    "appendonly",
    "appendfsync",
    "appendfilename",
    "save",
    "dbfilename",
    "databases",
    "maxclients",
    "timeout",
    "tcp-keepalive",
    "tcp-backlog",
    "slowlog-log-slower-than",
    "slowlog-max-len",
    "maxmemory",
    "maxmemory-policy",
    "maxmemory-samples",
    "maxmemory-clients",
    "proto-max-bulk-len",
    "client-query-buffer-limit",
    "client-output-buffer-limit",
    "hz",
    "dynamic-hz",
    "loglevel",
    "logfile",
    "pidfile",
    "unixsocket",
    "daemonize",
    "supervised",
    "protected-mode",
    "io-threads",
    "cluster-enabled",
    "notify-keyspace-events",
    "latency-monitor-threshold",
    "latency-tracking",
    "latency-tracking-info-percentiles",
    "lua-time-limit",
    "busy-reply-threshold",
    "replica-read-only",
    "repl-backlog-size",
    "lfu-log-factor",
    "lfu-decay-time",
    "active-expire-effort",
    "lazyfree-lazy-expire",
    "hash-max-listpack-entries",
    "hash-max-listpack-value",
    "list-max-listpack-size",
    "list-compress-depth",
    "set-max-intset-entries",
    "zset-max-listpack-entries",
    "zset-max-listpack-value",
    "hash-max-ziplist-entries",
    "hash-max-ziplist-value",
    "list-max-ziplist-size",
    "zset-max-ziplist-entries",
    "zset-max-ziplist-value",
    "enable-debug-command",
    "shards",
    "gc-life-time",
    "cache-size",
    "memtable-size",
];

/// The parameters CONFIG SET changes at run time.
const SETTABLE: &[&str] = &[
    "requirepass",
    "protected-mode",
    "client-output-buffer-limit",
    "appendfsync",
    "maxclients",
    "timeout",
    "slowlog-log-slower-than",
    "slowlog-max-len",
    "save",
    "appendonly",
    "maxmemory",
    "maxmemory-policy",
];

/// The current value of a known parameter.
fn parameter_value(core: &Core, name: &str) -> String {
    let config: &RuntimeConfig = &core.node.config;
    let node = &config.node;
    let limits = ParseLimits::default();
    if let Some(value) = config.informational(name) {
        return value;
    }
    let fixed = match name {
        "port" => return node.port.to_string(),
        "bind" => return node.bind.join(" "),
        "dir" => return std::fs::canonicalize(&node.dir).unwrap_or_else(|_| node.dir.clone()).display().to_string(),
        "requirepass" => return config.requirepass(),
        "appendfsync" => return config.appendfsync().as_str().to_owned(),
        "maxclients" => return config.maxclients().to_string(),
        "timeout" => return config.timeout_secs().to_string(),
        "protected-mode" => return yes_no(config.protected_mode()).to_owned(),
        "client-output-buffer-limit" => return config.client_output_buffer_limit().to_redis_string(),
        "slowlog-log-slower-than" => return config.slowlog_log_slower_than_us().to_string(),
        "slowlog-max-len" => return config.slowlog_max_len().to_string(),
        "proto-max-bulk-len" => return limits.proto_max_bulk_len.to_string(),
        "client-query-buffer-limit" => return limits.client_query_buffer_limit.to_string(),
        "shards" => return core.mesh.cores().to_string(),
        "gc-life-time" => return node.gc_life_time_secs.to_string(),
        "cache-size" => return node.cache_size_total_bytes().to_string(),
        "memtable-size" => return node.memtable_size_bytes.to_string(),
        "appendonly" | "latency-tracking" | "replica-read-only" | "dynamic-hz" => "yes",
        "appendfilename" => "appendonly.aof",
        "dbfilename" => "dump.rdb",
        "databases" | "io-threads" | "lfu-decay-time" | "active-expire-effort" => "1",
        "maxmemory" | "maxmemory-clients" | "latency-monitor-threshold" | "list-compress-depth" => "0",
        "supervised" => "no",
        "tcp-keepalive" => "300",
        "tcp-backlog" => "511",
        "maxmemory-policy" => "noeviction",
        "maxmemory-samples" => "5",
        "hz" | "lfu-log-factor" => "10",
        "loglevel" => "notice",
        "daemonize" | "cluster-enabled" | "lazyfree-lazy-expire" | "enable-debug-command" => "no",
        "latency-tracking-info-percentiles" => "50 99 99.9",
        "lua-time-limit" | "busy-reply-threshold" => "5000",
        "repl-backlog-size" => "1048576",
        "hash-max-listpack-entries" | "hash-max-ziplist-entries" => "512",
        "zset-max-listpack-entries" | "zset-max-ziplist-entries" => "128",
        "hash-max-listpack-value" | "zset-max-listpack-value" | "hash-max-ziplist-value" | "zset-max-ziplist-value" => {
            "64"
        }
        "list-max-listpack-size" | "list-max-ziplist-size" => "-2",
        "set-max-intset-entries" => "512",
        _ => "",
    };
    fixed.to_owned()
}

fn yes_no(on: bool) -> &'static str {
    if on { "yes" } else { "no" }
}

async fn config(core: &Rc<Core>, conn: &mut ConnectionState, args: &[Bytes]) -> CommandResult {
    match lowercase(&args[1]).as_str() {
        "get" => Ok(config_get(core, &args[2..])),
        "set" => config_set(core, conn, &args[2..]),
        "resetstat" => {
            core.fanout(Fanout::ResetStats).await;
            Ok(Reply::ok())
        }
        _ => Err(CommandError::Reply(errors::unknown_subcommand("config", &args[1]))),
    }
}

/// `CONFIG GET pattern...`: every parameter matching any pattern (case-insensitive globs),
/// once, as a map (a flat array on RESP2).
fn config_get(core: &Core, patterns: &[Bytes]) -> Reply {
    let pairs = PARAMETERS
        .iter()
        .filter(|name| patterns.iter().any(|pattern| glob_match(pattern, name.as_bytes(), true)))
        .map(|name| (Reply::bulk_static(name), Reply::bulk(parameter_value(core, name))));
    Reply::Map(pairs.collect())
}

/// A validated CONFIG SET change.
enum Change {
    Requirepass(String),
    Appendfsync(AppendFsync),
    Maxclients(u64),
    Timeout(u64),
    ProtectedMode(bool),
    OutputBufferLimits(ClientOutputBufferLimits),
    SlowlogSlowerThan(i64),
    SlowlogMaxLen(u64),
    Informational(String, String),
    Nothing,
}

fn set_failed(argument: &[u8], reason: &str) -> CommandError {
    error(format!(
        "ERR CONFIG SET failed (possibly related to argument '{}') - {reason}",
        String::from_utf8_lossy(argument)
    ))
}

fn integer_in(argument: &[u8], value: &[u8], min: i64, max: i64) -> Result<i64, CommandError> {
    let parsed = nokv_net::number::parse_i64(value)
        .ok_or_else(|| set_failed(argument, "argument couldn't be parsed into an integer"))?;
    if parsed < min || parsed > max {
        return Err(set_failed(argument, &format!("argument must be between {min} and {max} inclusive")));
    }
    Ok(parsed)
}

fn parse_change(config: &RuntimeConfig, name: &str, argument: &[u8], value: &[u8]) -> Result<Change, CommandError> {
    let text = String::from_utf8_lossy(value);
    Ok(match name {
        "protected-mode" if text.eq_ignore_ascii_case("yes") => Change::ProtectedMode(true),
        "protected-mode" if text.eq_ignore_ascii_case("no") => Change::ProtectedMode(false),
        "client-output-buffer-limit" => Change::OutputBufferLimits(
            config.client_output_buffer_limit().updated(&text).map_err(|reason| set_failed(argument, reason))?,
        ),
        "requirepass" => Change::Requirepass(text.into_owned()),
        "appendfsync" => {
            Change::Appendfsync(AppendFsync::parse(&text).ok_or_else(|| {
                set_failed(argument, "argument(s) must be one of the following: everysec, always, no")
            })?)
        }
        "maxclients" => Change::Maxclients(integer_in(argument, value, 1, u32::MAX.into())? as u64),
        "timeout" => Change::Timeout(integer_in(argument, value, 0, i32::MAX.into())? as u64),
        "slowlog-log-slower-than" => Change::SlowlogSlowerThan(integer_in(argument, value, -1, i64::MAX)?),
        "slowlog-max-len" => Change::SlowlogMaxLen(integer_in(argument, value, 0, i64::MAX)? as u64),
        // Accepted and reported back by CONFIG GET, but NoKV does not evict: its data set lives on
        // disk and memory is bounded by the memtable and cache budgets instead.
        "maxmemory" => Change::Informational(name.to_owned(), integer_in(argument, value, 0, i64::MAX)?.to_string()),
        "maxmemory-policy" => Change::Informational(name.to_owned(), text.to_ascii_lowercase()),
        "save" if text.trim().is_empty() => Change::Nothing,
        "save" => return Err(set_failed(argument, "NoKV writes no snapshots: every write is journaled")),
        "appendonly" if text.eq_ignore_ascii_case("yes") => Change::Nothing,
        "appendonly" if text.eq_ignore_ascii_case("no") => {
            return Err(set_failed(argument, "NoKV always journals writes"));
        }
        _ => return Err(set_failed(argument, "argument must be 'yes' or 'no'")),
    })
}

/// `CONFIG SET parameter value [parameter value ...]`: all or nothing, checked in Redis's
/// order (unknown, immutable and duplicate names first, then the values).
fn config_set(core: &Core, conn: &mut ConnectionState, pairs: &[Bytes]) -> CommandResult {
    if !pairs.len().is_multiple_of(2) {
        return Err(syntax_error());
    }
    let mut names: Vec<String> = Vec::new();
    for pair in pairs.chunks_exact(2) {
        let name = lowercase(&pair[0]);
        if !PARAMETERS.contains(&name.as_str()) {
            return Err(CommandError::Reply(errors::config_set_unknown(&pair[0])));
        }
        if !SETTABLE.contains(&name.as_str()) {
            return Err(set_failed(&pair[0], "can't set immutable config"));
        }
        if names.contains(&name) {
            return Err(set_failed(&pair[0], "duplicate parameter"));
        }
        names.push(name);
    }
    let mut changes = Vec::new();
    for (name, pair) in names.iter().zip(pairs.chunks_exact(2)) {
        changes.push(parse_change(&core.node.config, name, &pair[0], &pair[1])?);
    }
    let config = &core.node.config;
    for change in changes {
        match change {
            Change::Requirepass(password) => {
                // The caller stays authenticated, as every connection does in Redis.
                conn.authenticated = true;
                config.set_requirepass(password);
            }
            Change::Appendfsync(value) => config.set_appendfsync(value),
            Change::Maxclients(value) => config.set_maxclients(value),
            Change::Timeout(value) => config.set_timeout_secs(value),
            Change::ProtectedMode(on) => config.set_protected_mode(on),
            Change::OutputBufferLimits(limits) => config.set_client_output_buffer_limit(limits),
            Change::SlowlogSlowerThan(value) => config.set_slowlog_log_slower_than_us(value),
            Change::SlowlogMaxLen(value) => config.set_slowlog_max_len(value),
            Change::Informational(name, value) => config.set_informational(name, value),
            Change::Nothing => {}
        }
    }
    Ok(Reply::ok())
}

// ---------------------------------------------------------------------------------------
// LATENCY

const LATENCY_HELP: &[&str] = &[
    "LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DOCTOR",
    "    Return a human readable latency analysis report.",
    "HISTOGRAM [COMMAND ...]",
    "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
    "    If no commands are specified then all histograms are replied.",
    "LATEST",
    "    Return the latest latency samples for all events.",
    "RESET [<event> ...]",
    "    Reset latency data of one or more <event> classes.",
    "    (default: reset all data for all event classes)",
    "HELP",
    "    Prints this help.",
];

const LATENCY_DOCTOR: &str = "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n";

/// LATENCY: HISTOGRAM from the per-command statistics; NoKV has no latency monitor events,
/// so LATEST is empty, RESET resets nothing and DOCTOR says the monitor is off.
async fn latency(core: &Rc<Core>, args: &[Bytes]) -> CommandResult {
    match lowercase(&args[1]).as_str() {
        "histogram" => latency_histogram(core, &args[2..]).await,
        "latest" if args.len() == 2 => Ok(Reply::Array(Vec::new())),
        "reset" => Ok(Reply::Integer(0)),
        "doctor" if args.len() == 2 => {
            Ok(Reply::Verbatim { format: *b"txt", text: Bytes::from_static(LATENCY_DOCTOR.as_bytes()) })
        }
        "help" if args.len() == 2 => Ok(help_reply(LATENCY_HELP)),
        _ => Err(subcommand_syntax_error("latency", &args[1])),
    }
}

/// Whether a command's full name is selected by LATENCY HISTOGRAM's arguments (a container
/// selects its subcommands); no arguments select everything.
fn selected(full_name: &str, names: &[Bytes]) -> bool {
    names.is_empty()
        || names.iter().any(|name| {
            let name = lowercase(name);
            full_name == name || full_name.strip_prefix(name.as_str()).is_some_and(|rest| rest.starts_with('|'))
        })
}

async fn latency_histogram(core: &Rc<Core>, names: &[Bytes]) -> CommandResult {
    let parts = core.fanout(Fanout::LatencyHistogram(names.to_vec())).await;
    let merged = merge_commands(parts.iter().flat_map(commands_from_reply));
    let entries = merged.into_iter().filter(|(_, command)| !command.latency_us.is_empty()).map(|(name, command)| {
        let buckets = histogram_buckets(&command.latency_us)
            .into_iter()
            .map(|(bound_us, count)| (Reply::Integer(bound_us as i64), Reply::Integer(count as i64)));
        let fields = vec![
            (Reply::bulk_static("calls"), Reply::Integer(command.latency_us.len() as i64)),
            (Reply::bulk_static("histogram_usec"), Reply::Map(buckets.collect())),
        ];
        (Reply::bulk(name), Reply::Map(fields))
    });
    Ok(Reply::Map(entries.collect()))
}

// ---------------------------------------------------------------------------------------
// SLOWLOG

const SLOWLOG_HELP: &[&str] = &[
    "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GET [<count>]",
    "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
    "    Entries are made of:",
    "    id, timestamp, time in microseconds, arguments array, client IP and port,",
    "    client name",
    "LEN",
    "    Return the length of the slowlog.",
    "RESET",
    "    Reset the slowlog.",
    "HELP",
    "    Prints this help.",
];

async fn slowlog(core: &Rc<Core>, args: &[Bytes]) -> CommandResult {
    match lowercase(&args[1]).as_str() {
        "get" if args.len() <= 3 => slowlog_get(core, args.get(2)).await,
        "len" => {
            let parts = core.fanout(Fanout::SlowlogLen).await;
            Ok(Reply::Integer(parts.iter().map(|part| if let Reply::Integer(n) = part { *n } else { 0 }).sum()))
        }
        "reset" => {
            core.fanout(Fanout::SlowlogReset).await;
            Ok(Reply::ok())
        }
        "help" if args.len() == 2 => Ok(help_reply(SLOWLOG_HELP)),
        _ => Err(subcommand_syntax_error("slowlog", &args[1])),
    }
}

/// One core's newest slow-log entries, in Redis's entry layout: `[id, timestamp, duration,
/// args, client address, client name]`.
fn slowlog_part(core: &Core, count: usize) -> Reply {
    let entries = core.slowlog.borrow().newest(count);
    let items = entries.into_iter().map(|entry| {
        Reply::Array(vec![
            Reply::Integer(entry.id as i64),
            Reply::Integer(entry.timestamp_secs as i64),
            Reply::Integer(entry.duration_us as i64),
            Reply::Array(entry.args.into_iter().map(Reply::Bulk).collect()),
            Reply::bulk(entry.client_addr),
            Reply::bulk(entry.client_name),
        ])
    });
    Reply::Array(items.collect())
}

fn entry_id(entry: &Reply) -> i64 {
    match entry {
        Reply::Array(fields) => match fields.first() {
            Some(Reply::Integer(id)) => *id,
            _ => -1,
        },
        _ => -1,
    }
}

/// `SLOWLOG GET [count]`: the newest entries of every core, merged newest first (ids grow
/// across cores).
async fn slowlog_get(core: &Rc<Core>, count: Option<&Bytes>) -> CommandResult {
    let count = match count {
        None => SLOWLOG_DEFAULT_COUNT,
        Some(arg) => match nokv_net::number::parse_i64(arg) {
            Some(count) if count >= -1 => count,
            _ => return Err(error("ERR count should be greater than or equal to -1")),
        },
    };
    let limit = if count < 0 { usize::MAX } else { count as usize };
    let parts = core.fanout(Fanout::SlowlogGet(limit)).await;
    let mut entries: Vec<Reply> = parts
        .into_iter()
        .flat_map(|part| match part {
            Reply::Array(items) => items,
            _ => Vec::new(),
        })
        .collect();
    entries.sort_by_key(|entry| std::cmp::Reverse(entry_id(entry)));
    entries.truncate(limit);
    Ok(Reply::Array(entries))
}

// ---------------------------------------------------------------------------------------
// COMMAND

fn command(args: &[Bytes]) -> CommandResult {
    let table = &*TABLE;
    let Some(sub) = args.get(1) else { return Ok(introspection::command_all(table)) };
    match lowercase(sub).as_str() {
        "count" => Ok(introspection::command_count(table)),
        "info" => Ok(introspection::command_info_reply(table, &args[2..])),
        "docs" => Ok(introspection::command_docs_reply(table, &args[2..])),
        "list" => command_list(table, &args[2..]),
        _ => Err(CommandError::Reply(errors::unknown_subcommand("command", sub))),
    }
}

/// `COMMAND LIST [FILTERBY MODULE name | ACLCAT category | PATTERN pattern]`.
fn command_list(table: &CommandTable, filter: &[Bytes]) -> CommandResult {
    match filter {
        [] => Ok(introspection::command_list(table, None)),
        [filterby, kind, value] if is_word(filterby, "filterby") => match lowercase(kind).as_str() {
            "aclcat" => Ok(introspection::command_list(table, Some(value))),
            "module" => Ok(Reply::Array(Vec::new())),
            "pattern" => {
                let names = table
                    .commands()
                    .iter()
                    .flat_map(|spec| std::iter::once(spec).chain(spec.subcommands.iter()))
                    .filter(|spec| glob_match(value, spec.name.as_bytes(), true))
                    .map(|spec| Reply::bulk_static(spec.name));
                Ok(Reply::Array(names.collect()))
            }
            _ => Err(syntax_error()),
        },
        _ => Err(syntax_error()),
    }
}

// ---------------------------------------------------------------------------------------
// CLIENT

const CLIENT_HELP: &[&str] = &[
    "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GETNAME",
    "    Return the name of the current connection.",
    "ID",
    "    Return the ID of the current connection.",
    "INFO",
    "    Return information about the current client connection.",
    "KILL <ip:port>",
    "    Kill connection made from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Kill connections. Options are:",
    "    * ADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made from the specified address",
    "    * LADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made to specified local address",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Kill connections by type.",
    "    * USER <username>",
    "      Kill connections authenticated by <username>.",
    "    * SKIPME (YES|NO)",
    "      Skip killing current connection (default: yes).",
    "    * ID <client-id>",
    "      Kill connections by client id.",
    "LIST [options ...]",
    "    Return information about client connections. Options:",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Return clients of specified type.",
    "    * ID <client-id> [<client-id> ...]",
    "      Return clients of specified IDs only.",
    "NO-EVICT (ON|OFF)",
    "    Protect current client connection from eviction.",
    "NO-TOUCH (ON|OFF)",
    "    Will not touch LRU/LFU stats when this mode is on.",
    "SETNAME <name>",
    "    Assign the name <name> to the current connection.",
    "SETINFO <option> <value>",
    "    Set client meta attr. Options are:",
    "    * LIB-NAME: the client lib name.",
    "    * LIB-VER: the client lib version.",
    "HELP",
    "    Prints this help.",
];

/// Runs a CLIENT subcommand.
pub async fn client(core: &Rc<Core>, conn: &mut ConnectionState, args: &[Bytes]) -> CommandResult {
    let Some(sub) = args.get(1) else { return Err(CommandError::Reply(errors::wrong_number_of_arguments("client"))) };
    match (lowercase(sub).as_str(), args.len()) {
        ("id", 2) => Ok(Reply::Integer(conn.id as i64)),
        ("getname", 2) => Ok(conn.name.clone().map_or(Reply::Null, Reply::Bulk)),
        ("setname", 3) => {
            conn.name = validate_client_name(&args[2])?;
            Ok(Reply::ok())
        }
        ("setinfo", 4) => client_setinfo(conn, &args[2], &args[3]),
        ("info", 2) => Ok(client_info(core, conn)),
        ("list", _) => client_list(core, &args[2..]).await,
        ("kill", _) => client_kill(core, conn, &args[2..]).await,
        ("no-evict" | "no-touch", 3) if is_word(&args[2], "on") || is_word(&args[2], "off") => Ok(Reply::ok()),
        ("no-evict" | "no-touch", 3) => Err(syntax_error()),
        ("help", 2) => Ok(help_reply(CLIENT_HELP)),
        _ => Err(subcommand_syntax_error("client", sub)),
    }
}

fn client_setinfo(conn: &mut ConnectionState, attribute: &Bytes, value: &Bytes) -> CommandResult {
    let attribute_text = String::from_utf8_lossy(attribute);
    let is_lib_name = is_word(attribute, "lib-name");
    if !is_lib_name && !is_word(attribute, "lib-ver") {
        return Err(error(format!("ERR Unrecognized option '{attribute_text}'")));
    }
    if value.iter().any(|&byte| !(b'!'..=b'~').contains(&byte)) {
        return Err(error(format!("ERR {attribute_text} cannot contain spaces, newlines or special characters.")));
    }
    let value = (!value.is_empty()).then(|| value.clone());
    if is_lib_name {
        conn.library_name = value;
    } else {
        conn.library_version = value;
    }
    Ok(Reply::ok())
}

fn verbatim(text: Vec<u8>) -> Reply {
    Reply::Verbatim { format: *b"txt", text: Bytes::from(text) }
}

fn client_info(core: &Core, conn: &ConnectionState) -> Reply {
    let info = core.clients.get(conn.id).unwrap_or_else(|| ClientInfo::of(conn, BufferUsage::default()));
    let mut line = format_client_list_line(&info, Instant::now());
    line.push(b'\n');
    verbatim(line)
}

/// A client type as CLIENT LIST and CLIENT KILL name them; every NoKV client is `normal`.
fn client_type_is_normal(name: &Bytes) -> Result<bool, CommandError> {
    match lowercase(name).as_str() {
        "normal" => Ok(true),
        "master" | "slave" | "replica" | "pubsub" => Ok(false),
        _ => Err(error(format!("ERR Unknown client type '{}'", String::from_utf8_lossy(name)))),
    }
}

/// The clients `CLIENT LIST` arguments select: `None` all, `Some(ids)` only those.
enum ListFilter {
    All,
    Nobody,
    Ids(Vec<u64>),
}

fn parse_list_filter(args: &[Bytes]) -> Result<ListFilter, CommandError> {
    match args {
        [] => Ok(ListFilter::All),
        [kind, name] if is_word(kind, "type") => {
            Ok(if client_type_is_normal(name)? { ListFilter::All } else { ListFilter::Nobody })
        }
        [kind, ids @ ..] if is_word(kind, "id") && !ids.is_empty() => {
            let parse = |id: &Bytes| nokv_net::number::parse_i64(id).ok_or_else(|| error("ERR Invalid client ID"));
            let ids: Result<Vec<i64>, CommandError> = ids.iter().map(parse).collect();
            Ok(ListFilter::Ids(ids?.into_iter().filter_map(|id| u64::try_from(id).ok()).collect()))
        }
        _ => Err(syntax_error()),
    }
}

/// The id of a CLIENT LIST line (`id=7 addr=...`).
fn line_id(line: &[u8]) -> u64 {
    let digits = line.strip_prefix(b"id=").unwrap_or_default();
    let end = digits.iter().position(|b| !b.is_ascii_digit()).unwrap_or(digits.len());
    std::str::from_utf8(&digits[..end]).ok().and_then(|d| d.parse().ok()).unwrap_or(0)
}

async fn client_list(core: &Rc<Core>, args: &[Bytes]) -> CommandResult {
    let filter = parse_list_filter(args)?;
    if matches!(filter, ListFilter::Nobody) {
        return Ok(verbatim(Vec::new()));
    }
    let parts = core.fanout(Fanout::ClientList(args.to_vec())).await;
    let mut lines: BTreeMap<u64, Vec<u8>> = BTreeMap::new();
    for part in parts {
        let (Reply::Bulk(text) | Reply::Verbatim { text, .. }) = part else { continue };
        for line in text.split(|&b| b == b'\n').filter(|line| !line.is_empty()) {
            lines.insert(line_id(line), line.to_vec());
        }
    }
    let ordered: Vec<&Vec<u8>> = match &filter {
        // Redis lists ID requests in the order asked, repeats included.
        ListFilter::Ids(ids) => ids.iter().filter_map(|id| lines.get(id)).collect(),
        _ => lines.values().collect(),
    };
    let mut text = Vec::new();
    for line in ordered {
        text.extend_from_slice(line);
        text.push(b'\n');
    }
    Ok(verbatim(text))
}

/// What CLIENT KILL's arguments ask for.
struct KillRequest {
    filter: KillFilter,
    /// The old `CLIENT KILL addr:port` form (replies OK or an error, not a count).
    old_form: bool,
    /// A TYPE or USER criterion no NoKV client can match.
    matches_nobody: bool,
}

fn parse_kill(args: &[Bytes]) -> Result<KillRequest, CommandError> {
    if let [addr] = args {
        let filter = KillFilter { addr: Some(String::from_utf8_lossy(addr).into_owned()), ..KillFilter::default() };
        return Ok(KillRequest { filter, old_form: true, matches_nobody: false });
    }
    if args.is_empty() || !args.len().is_multiple_of(2) {
        return Err(syntax_error());
    }
    let mut request = KillRequest {
        filter: KillFilter { skip_me: true, ..KillFilter::default() },
        old_form: false,
        matches_nobody: false,
    };
    for pair in args.chunks_exact(2) {
        let (option, value) = (lowercase(&pair[0]), &pair[1]);
        let text = String::from_utf8_lossy(value).into_owned();
        match option.as_str() {
            "id" => match nokv_net::number::parse_i64(value) {
                Some(id) if id >= 1 => request.filter.id = Some(id as u64),
                _ => return Err(error("ERR client-id should be greater than 0")),
            },
            "type" => request.matches_nobody |= !client_type_is_normal(value)?,
            "addr" => request.filter.addr = Some(text),
            "laddr" => request.filter.local_addr = Some(text),
            "user" if text == "default" => {}
            "user" => return Err(error(format!("ERR No such user '{text}'"))),
            "skipme" if is_word(value, "yes") => request.filter.skip_me = true,
            "skipme" if is_word(value, "no") => request.filter.skip_me = false,
            _ => return Err(syntax_error()),
        }
    }
    Ok(request)
}

/// `CLIENT KILL`: the caller's core kills locally (it knows the caller), the others through
/// `Fanout::ClientKill`.
async fn client_kill(core: &Rc<Core>, conn: &mut ConnectionState, args: &[Bytes]) -> CommandResult {
    let request = parse_kill(args)?;
    let mut killed = 0;
    if !request.matches_nobody {
        let outcome = core.clients.kill(&request.filter, conn.id);
        killed += outcome.killed;
        if outcome.killed_self {
            conn.close_after_reply = true;
        }
        let others: Vec<_> = (0..core.mesh.cores())
            .filter(|&other| other != core.id)
            .map(|other| core.call_core(other, CoreCall::Fanout(Fanout::ClientKill(args.to_vec()))))
            .collect();
        for reply in crate::store::join_all(others).await {
            if let Reply::Integer(count) = reply {
                killed += count as usize;
            }
        }
    }
    if !request.old_form {
        return Ok(Reply::Integer(killed as i64));
    }
    if killed == 0 { Err(CommandError::Reply(Reply::error_static(errors::NO_SUCH_CLIENT))) } else { Ok(Reply::ok()) }
}

// ---------------------------------------------------------------------------------------
// Fan-out parts

/// This core's part of a node-wide operation.
pub async fn fanout_part(core: &Rc<Core>, fanout: Fanout) -> Reply {
    if let Some(reply) = super::keyspace::fanout_part(core, &fanout).await {
        return reply;
    }
    match fanout {
        Fanout::Info => info::core_figures(core).to_reply(),
        Fanout::ClientList(args) => match parse_list_filter(&args) {
            Ok(ListFilter::All) => Reply::Bulk(core.clients.client_list(Instant::now(), None).into()),
            Ok(ListFilter::Ids(ids)) => Reply::Bulk(core.clients.client_list(Instant::now(), Some(&ids)).into()),
            Ok(ListFilter::Nobody) => Reply::Bulk(Bytes::new()),
            Err(error) => into_reply(Err(error)),
        },
        Fanout::ClientKill(args) => match parse_kill(&args) {
            // The caller lives on another core: no client here is the caller (id 0).
            Ok(request) if !request.matches_nobody => {
                Reply::Integer(core.clients.kill(&request.filter, 0).killed as i64)
            }
            Ok(_) => Reply::Integer(0),
            Err(error) => into_reply(Err(error)),
        },
        Fanout::ResetStats => {
            reset_stats(core);
            Reply::ok()
        }
        Fanout::LatencyHistogram(names) => {
            let stats = core.stats.borrow();
            let figures: Vec<CommandFigures> = stats
                .commands()
                .iter()
                .filter(|(name, stat)| stat.calls > 0 && selected(name, &names))
                .map(|(name, stat)| CommandFigures::of(name, stat))
                .collect();
            commands_to_reply(&figures)
        }
        Fanout::SlowlogGet(count) => slowlog_part(core, count),
        Fanout::SlowlogLen => Reply::Integer(core.slowlog.borrow().len() as i64),
        Fanout::SlowlogReset => {
            core.slowlog.borrow_mut().reset();
            Reply::ok()
        }
        other => Reply::error(format!("ERR no core handles the fan-out {other:?}")),
    }
}

/// CONFIG RESETSTAT on this core: command statistics, connection counters, failed AUTHs and
/// the sampled rates (not the slow log, as in Redis).
fn reset_stats(core: &Core) {
    core.stats.borrow_mut().reset();
    core.server_stats.reset();
    core.auth_failures.set(0);
    core.metrics.borrow_mut().reset();
}

// ---------------------------------------------------------------------------------------
// Glob patterns

/// Redis's `stringmatchlen`: `*`, `?`, `[abc]`, `[^a-z]`, `\x`; `nocase` folds ASCII case.
pub fn glob_match(pattern: &[u8], text: &[u8], nocase: bool) -> bool {
    let same = |a: u8, b: u8| if nocase { a.eq_ignore_ascii_case(&b) } else { a == b };
    let (mut p, mut t) = (0, 0);
    while p < pattern.len() {
        match pattern[p] {
            b'*' => {
                while p + 1 < pattern.len() && pattern[p + 1] == b'*' {
                    p += 1;
                }
                if p + 1 == pattern.len() {
                    return true;
                }
                return (t..=text.len()).any(|start| glob_match(&pattern[p + 1..], &text[start..], nocase));
            }
            b'?' if t < text.len() => t += 1,
            b'[' if t < text.len() => {
                let (matched, class_len) = match_class(&pattern[p + 1..], text[t], nocase);
                if !matched {
                    return false;
                }
                t += 1;
                p += 1 + class_len;
                continue;
            }
            b'\\' if p + 1 < pattern.len() && t < text.len() => {
                p += 1;
                if !same(pattern[p], text[t]) {
                    return false;
                }
                t += 1;
            }
            byte if t < text.len() && same(byte, text[t]) => t += 1,
            _ => return false,
        }
        p += 1;
    }
    t == text.len()
}

/// Matches `byte` against a `[...]` class (`class` starts after the `[`); returns whether it
/// matched and how many pattern bytes the class used, its `]` included (an unterminated class
/// runs to the end of the pattern, as in Redis).
fn match_class(class: &[u8], byte: u8, nocase: bool) -> (bool, usize) {
    let fold = |b: u8| if nocase { b.to_ascii_lowercase() } else { b };
    let negate = class.first() == Some(&b'^');
    let mut i = usize::from(negate);
    let mut matched = false;
    while i < class.len() && class[i] != b']' {
        if class[i] == b'\\' && i + 1 < class.len() {
            matched |= fold(class[i + 1]) == fold(byte);
            i += 2;
        } else if i + 2 < class.len() && class[i + 1] == b'-' {
            let (low, high) = (fold(class[i].min(class[i + 2])), fold(class[i].max(class[i + 2])));
            matched |= (low..=high).contains(&fold(byte));
            i += 3;
        } else {
            matched |= fold(class[i]) == fold(byte);
            i += 1;
        }
    }
    let used = if i < class.len() { i + 1 } else { class.len() };
    (matched != negate, used)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(words: &[&str]) -> Vec<Bytes> {
        words.iter().map(|w| Bytes::copy_from_slice(w.as_bytes())).collect()
    }

    #[test]
    fn glob_matches_like_redis() {
        let cases: &[(&str, &str, bool)] = &[
            ("*", "anything", true),
            ("slowlog*", "slowlog-max-len", true),
            ("SLOWLOG*", "slowlog-max-len", true),
            ("max*len", "maxmemory", false),
            ("h?", "hz", true),
            ("h?", "h", false),
            ("[a-c]x", "bx", true),
            ("[^a-c]x", "bx", false),
            ("[c-a]x", "bx", true),
            ("a\\*", "a*", true),
            ("a\\*", "ab", false),
            ("*-len", "proto-max-bulk-len", true),
            ("", "", true),
            ("[ab", "a", true),
        ];
        for &(pattern, text, expected) in cases {
            assert_eq!(glob_match(pattern.as_bytes(), text.as_bytes(), true), expected, "{pattern} ~ {text}");
        }
        assert!(!glob_match(b"A", b"a", false));
    }

    #[test]
    fn kill_arguments_parse_like_redis() {
        let old = parse_kill(&args(&["1.2.3.4:5"])).expect("old form");
        assert!(old.old_form && !old.filter.skip_me);
        assert_eq!(old.filter.addr.as_deref(), Some("1.2.3.4:5"));
        let new = parse_kill(&args(&["ID", "7", "skipme", "no", "type", "pubsub"])).expect("new form");
        assert_eq!(new.filter.id, Some(7));
        assert!(!new.filter.skip_me && new.matches_nobody && !new.old_form);
        let message = |words: &[&str]| match parse_kill(&args(words)) {
            Err(CommandError::Reply(Reply::Error(text))) => String::from_utf8_lossy(&text).into_owned(),
            _ => String::new(),
        };
        assert_eq!(message(&["id", "x"]), "ERR client-id should be greater than 0");
        assert_eq!(message(&["type", "foo"]), "ERR Unknown client type 'foo'");
        assert_eq!(message(&["user", "bob"]), "ERR No such user 'bob'");
        assert_eq!(message(&["skipme", "maybe"]), "ERR syntax error");
        assert_eq!(message(&["foo", "bar"]), "ERR syntax error");
        assert_eq!(message(&["id", "1", "addr"]), "ERR syntax error");
    }

    #[test]
    fn list_filters_and_line_ids() {
        assert!(matches!(parse_list_filter(&[]), Ok(ListFilter::All)));
        assert!(matches!(parse_list_filter(&args(&["type", "pubsub"])), Ok(ListFilter::Nobody)));
        assert!(matches!(parse_list_filter(&args(&["ID", "3", "1"])), Ok(ListFilter::Ids(ids)) if ids == [3, 1]));
        assert!(parse_list_filter(&args(&["id", "x"])).is_err());
        assert!(parse_list_filter(&args(&["bogus"])).is_err());
        assert_eq!(line_id(b"id=42 addr=127.0.0.1:1"), 42);
        assert_eq!(line_id(b"garbage"), 0);
    }

    #[test]
    fn latency_selection_includes_subcommands_of_a_container() {
        assert!(selected("get", &[]));
        assert!(selected("client|list", &args(&["CLIENT"])));
        assert!(selected("client|list", &args(&["client|list"])));
        assert!(!selected("clientx", &args(&["client"])));
        assert!(!selected("set", &args(&["get"])));
    }

    #[test]
    fn config_changes_are_validated_with_redis_messages() {
        let config = RuntimeConfig::new(crate::config::NodeConfig::default());
        let message = |name: &str, value: &str| match parse_change(&config, name, name.as_bytes(), value.as_bytes()) {
            Err(CommandError::Reply(Reply::Error(text))) => String::from_utf8_lossy(&text).into_owned(),
            _ => String::new(),
        };
        assert_eq!(
            message("maxclients", "x"),
            "ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument couldn't be parsed into an integer"
        );
        assert_eq!(
            message("timeout", "-1"),
            "ERR CONFIG SET failed (possibly related to argument 'timeout') - argument must be between 0 and 2147483647 inclusive"
        );
        assert_eq!(
            message("appendfsync", "sometimes"),
            "ERR CONFIG SET failed (possibly related to argument 'appendfsync') - argument(s) must be one of the following: everysec, always, no"
        );
        assert_eq!(
            message("protected-mode", "maybe"),
            "ERR CONFIG SET failed (possibly related to argument 'protected-mode') - argument must be 'yes' or 'no'"
        );
        assert_eq!(
            message("client-output-buffer-limit", "normal 4mb 2mb"),
            "ERR CONFIG SET failed (possibly related to argument 'client-output-buffer-limit') - Wrong number of arguments in buffer limit configuration."
        );
        let change = parse_change(&config, "slowlog-log-slower-than", b"x", b"-1");
        assert!(matches!(change, Ok(Change::SlowlogSlowerThan(-1))));
        assert!(matches!(parse_change(&config, "save", b"save", b""), Ok(Change::Nothing)));
    }
}
