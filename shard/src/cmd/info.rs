//! INFO: every core reports its own figures ([`CoreFigures`], the `Fanout::Info` part), the
//! connection's core sums them, adds the process-wide ones (memory and CPU from `/proc`, the
//! key count from `Fanout::DbSize`) and renders Redis 7.0's sections with Redis's field names.
//!
//! ```text
//! Fanout::Info reply of one core (all integers are u64 counters):
//!   Array [ Bulk "name:value\n"...   counters, summed across cores
//!           Bulk "shardN:k=v,k=v..."  this core's line of the `shards` section
//!           Array [ Array [ Bulk name, calls, usec, rejected_calls, failed_calls,
//!                           Array [ value_us, count, value_us, count, ... ] ] ... ] ]
//! ```
//!
//! The command entries (also the `Fanout::LatencyHistogram` reply) carry each command's
//! recorded latency values, so the merged histograms give exact node-wide percentiles.
//! `used_memory` is the process's resident set (there is no allocator accounting), so
//! `mem_fragmentation_ratio` is 1; `used_memory_dataset` is what the engines hold (memtables
//! and the block, index and row caches). The `nokv_*_budget_bytes` fields are the configured
//! budgets next to their use, and `nokv_memory_budget_bytes` adds the stated overhead (see
//! `MemoryBudgets`): what RSS should stay below. `expires` in the keyspace line is 0: expiring keys are not counted.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::{Display, Write as _};
use std::rc::Rc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hdrhistogram::Histogram;
use nokv_net::frame::Reply;

use super::connection::REDIS_VERSION;
use crate::call::Fanout;
use crate::config::MemoryBudgets;
use crate::core::Core;
use crate::stats::{CommandStat, latency_histogram, unix_time_us};

/// How often a core samples its counters for the instantaneous rates (Redis's `hz` 10).
const SAMPLE_INTERVAL: Duration = Duration::from_millis(100);
/// Linux's `USER_HZ`: the unit of the CPU times in `/proc/<pid>/stat` (100 on every
/// mainstream architecture; reading it needs `sysconf`, which safe std does not offer).
const CLOCK_TICKS_PER_SEC: f64 = 100.0;

/// Redis 7.0's sections in output order, then NoKV's own.
const SECTIONS: [&str; 14] = [
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "commandstats",
    "errorstats",
    "latencystats",
    "cluster",
    "keyspace",
    "shards",
];

/// The sections `INFO` and `INFO default` show.
const DEFAULT_SECTIONS: [&str; 11] = [
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "errorstats",
    "cluster",
    "keyspace",
];

/// One command's statistics on one core, or merged.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CommandFigures {
    /// Full name (`get`, `client|list`).
    pub name: String,
    /// Calls.
    pub calls: u64,
    /// Total µs.
    pub usec: u64,
    /// Calls refused before running.
    pub rejected_calls: u64,
    /// Calls that replied with an error.
    pub failed_calls: u64,
    /// Recorded latencies: (value in µs, count).
    pub latency_us: Vec<(u64, u64)>,
}

impl CommandFigures {
    /// The figures of `stat`.
    pub fn of(name: &str, stat: &CommandStat) -> CommandFigures {
        let latency_us = stat.latency_us.iter_recorded().map(|v| (v.value_iterated_to(), v.count_at_value())).collect();
        CommandFigures {
            name: name.to_owned(),
            calls: stat.calls,
            usec: stat.usec,
            rejected_calls: stat.rejected_calls,
            failed_calls: stat.failed_calls,
            latency_us,
        }
    }

    fn to_reply(&self) -> Reply {
        let int = |value: u64| Reply::Integer(value as i64);
        let latency = self.latency_us.iter().flat_map(|&(value, count)| [int(value), int(count)]).collect();
        Reply::Array(vec![
            Reply::bulk(&self.name),
            int(self.calls),
            int(self.usec),
            int(self.rejected_calls),
            int(self.failed_calls),
            Reply::Array(latency),
        ])
    }

    fn from_reply(reply: &Reply) -> Option<CommandFigures> {
        let Reply::Array(items) = reply else { return None };
        let [Reply::Bulk(name), calls, usec, rejected, failed, Reply::Array(latency)] = items.as_slice() else {
            return None;
        };
        let values: Vec<u64> = latency.iter().filter_map(as_u64).collect();
        Some(CommandFigures {
            name: String::from_utf8_lossy(name).into_owned(),
            calls: as_u64(calls)?,
            usec: as_u64(usec)?,
            rejected_calls: as_u64(rejected)?,
            failed_calls: as_u64(failed)?,
            latency_us: values.chunks_exact(2).map(|pair| (pair[0], pair[1])).collect(),
        })
    }
}

fn as_u64(reply: &Reply) -> Option<u64> {
    match reply {
        Reply::Integer(value) => u64::try_from(*value).ok(),
        _ => None,
    }
}

/// A list of command figures as a reply (the `Fanout::LatencyHistogram` part).
pub fn commands_to_reply(commands: &[CommandFigures]) -> Reply {
    Reply::Array(commands.iter().map(CommandFigures::to_reply).collect())
}

/// The command figures of a core's reply; malformed entries are skipped.
pub fn commands_from_reply(reply: &Reply) -> Vec<CommandFigures> {
    match reply {
        Reply::Array(items) => items.iter().filter_map(CommandFigures::from_reply).collect(),
        _ => Vec::new(),
    }
}

/// What one core reports for INFO.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CoreFigures {
    /// Counters summed across cores, by name.
    pub counters: BTreeMap<String, u64>,
    /// The core's line of the `shards` section.
    pub shard_line: String,
    /// Per-command statistics.
    pub commands: Vec<CommandFigures>,
}

impl CoreFigures {
    /// The `Fanout::Info` reply.
    pub fn to_reply(&self) -> Reply {
        let mut counters = String::new();
        for (name, value) in &self.counters {
            let _ = writeln!(counters, "{name}:{value}");
        }
        Reply::Array(vec![Reply::bulk(counters), Reply::bulk(&self.shard_line), commands_to_reply(&self.commands)])
    }

    /// Decodes a `Fanout::Info` reply; `None` when it is not one (an error from a core).
    pub fn from_reply(reply: &Reply) -> Option<CoreFigures> {
        let Reply::Array(items) = reply else { return None };
        let [Reply::Bulk(counters), Reply::Bulk(shard_line), commands] = items.as_slice() else { return None };
        let counters = String::from_utf8_lossy(counters)
            .lines()
            .filter_map(|line| {
                let (name, value) = line.split_once(':')?;
                Some((name.to_owned(), value.parse().ok()?))
            })
            .collect();
        Some(CoreFigures {
            counters,
            shard_line: String::from_utf8_lossy(shard_line).into_owned(),
            commands: commands_from_reply(commands),
        })
    }
}

/// One command's statistics merged across cores.
#[derive(Debug, Clone)]
pub struct MergedCommand {
    /// Calls.
    pub calls: u64,
    /// Total µs.
    pub usec: u64,
    /// Refused calls.
    pub rejected_calls: u64,
    /// Failed calls.
    pub failed_calls: u64,
    /// Latency in µs.
    pub latency_us: Histogram<u64>,
}

/// Merges command figures of several cores by name.
pub fn merge_commands(figures: impl IntoIterator<Item = CommandFigures>) -> BTreeMap<String, MergedCommand> {
    let mut merged: BTreeMap<String, MergedCommand> = BTreeMap::new();
    for figure in figures {
        let entry = merged.entry(figure.name).or_insert_with(|| MergedCommand {
            calls: 0,
            usec: 0,
            rejected_calls: 0,
            failed_calls: 0,
            latency_us: latency_histogram(),
        });
        entry.calls += figure.calls;
        entry.usec += figure.usec;
        entry.rejected_calls += figure.rejected_calls;
        entry.failed_calls += figure.failed_calls;
        for (value, count) in figure.latency_us {
            let _ = entry.latency_us.record_n(value.max(1), count);
        }
    }
    merged
}

/// The node's figures: every core's, combined.
#[derive(Debug, Default)]
pub struct NodeFigures {
    /// Summed counters.
    pub counters: BTreeMap<String, u64>,
    /// One line per core.
    pub shard_lines: Vec<String>,
    /// Merged command statistics.
    pub commands: BTreeMap<String, MergedCommand>,
}

impl NodeFigures {
    /// Combines the cores' figures.
    pub fn merge(cores: Vec<CoreFigures>) -> NodeFigures {
        let mut node = NodeFigures::default();
        let mut commands = Vec::new();
        for core in cores {
            for (name, value) in core.counters {
                *node.counters.entry(name).or_default() += value;
            }
            node.shard_lines.push(core.shard_line);
            commands.extend(core.commands);
        }
        node.commands = merge_commands(commands);
        node
    }

    fn counter(&self, name: &str) -> u64 {
        self.counters.get(name).copied().unwrap_or(0)
    }
}

/// What the process as a whole uses, from `/proc`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ProcessFigures {
    /// Resident set.
    pub rss_bytes: u64,
    /// Peak resident set.
    pub peak_rss_bytes: u64,
    /// The machine's memory.
    pub total_system_memory_bytes: u64,
    /// CPU seconds in user mode, whole process.
    pub cpu_user_secs: f64,
    /// CPU seconds in kernel mode, whole process.
    pub cpu_sys_secs: f64,
    /// The answering core's thread, user mode.
    pub thread_user_secs: f64,
    /// The answering core's thread, kernel mode.
    pub thread_sys_secs: f64,
}

impl ProcessFigures {
    /// Reads `/proc/self` (zeros where a file is missing).
    pub fn read() -> ProcessFigures {
        let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
        let status = read("/proc/self/status");
        let (cpu_user_secs, cpu_sys_secs) = cpu_times(&read("/proc/self/stat")).unwrap_or_default();
        let (thread_user_secs, thread_sys_secs) = cpu_times(&read("/proc/thread-self/stat")).unwrap_or_default();
        ProcessFigures {
            rss_bytes: kib_field(&status, "VmRSS:").unwrap_or(0) * 1024,
            peak_rss_bytes: kib_field(&status, "VmHWM:").unwrap_or(0) * 1024,
            total_system_memory_bytes: kib_field(&read("/proc/meminfo"), "MemTotal:").unwrap_or(0) * 1024,
            cpu_user_secs,
            cpu_sys_secs,
            thread_user_secs,
            thread_sys_secs,
        }
    }
}

/// A `Name:   123 kB` field of `/proc/self/status` or `/proc/meminfo`, in KiB.
pub fn kib_field(text: &str, name: &str) -> Option<u64> {
    let line = text.lines().find(|line| line.starts_with(name))?;
    line[name.len()..].split_whitespace().next()?.parse().ok()
}

/// (user, system) CPU seconds from a `/proc/<pid>/stat` line: fields 14 and 15, counted after
/// the command name, which may itself hold spaces and parentheses.
pub fn cpu_times(stat: &str) -> Option<(f64, f64)> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |index: usize| fields.get(index)?.parse::<u64>().ok();
    Some((ticks(11)? as f64 / CLOCK_TICKS_PER_SEC, ticks(12)? as f64 / CLOCK_TICKS_PER_SEC))
}

/// Redis's `bytesToHuman`: `943.28K`, `6.45M`, `0B`.
pub fn bytes_to_human(bytes: u64) -> String {
    const UNITS: [(&str, u64); 5] = [("K", 1 << 10), ("M", 1 << 20), ("G", 1 << 30), ("T", 1 << 40), ("P", 1 << 50)];
    if bytes < 1024 {
        return format!("{bytes}B");
    }
    let (unit, size) = UNITS.iter().rev().find(|(_, size)| bytes >= *size).copied().unwrap_or(UNITS[0]);
    format!("{:.2}{unit}", bytes as f64 / size as f64)
}

/// The sections `INFO args...` asks for (lower case), as Redis 7's `genInfoSectionDict`
/// resolves `default`, `all` and `everything`; unknown names select nothing.
pub fn requested_sections(args: &[Bytes]) -> BTreeSet<&'static str> {
    let mut wanted = BTreeSet::new();
    if args.is_empty() {
        wanted.extend(DEFAULT_SECTIONS);
    }
    for arg in args {
        let name = String::from_utf8_lossy(arg).to_ascii_lowercase();
        match name.as_str() {
            "default" => wanted.extend(DEFAULT_SECTIONS),
            "all" | "everything" => wanted.extend(SECTIONS),
            _ => wanted.extend(SECTIONS.iter().copied().filter(|section| *section == name)),
        }
    }
    wanted
}

/// Node-wide facts the sections show besides the counters.
#[derive(Debug, Clone, Default)]
pub struct ServerFacts {
    /// `process_id`.
    pub process_id: u32,
    /// `run_id`.
    pub run_id: String,
    /// `tcp_port`.
    pub tcp_port: u16,
    /// Seconds since start.
    pub uptime_secs: u64,
    /// Unix time of start, seconds.
    pub started_at_unix_secs: u64,
    /// `maxclients`.
    pub maxclients: u64,
    /// Number of cores.
    pub shards: usize,
    /// Number of regions.
    pub regions: usize,
    /// Live keys; `None` when a core could not count.
    pub keys: Option<u64>,
    /// The memory budgets and stated overhead.
    pub budgets: MemoryBudgets,
}

/// Everything the renderer needs: the node's figures, the process's and the server's facts.
#[derive(Debug, Default)]
pub struct InfoSnapshot {
    /// Summed per-core figures.
    pub node: NodeFigures,
    /// `/proc` figures.
    pub process: ProcessFigures,
    /// Server facts.
    pub facts: ServerFacts,
}

/// `key:value\r\n` lines of one section.
struct Section {
    text: String,
}

impl Section {
    fn new(title: &str) -> Section {
        Section { text: format!("# {title}\r\n") }
    }

    fn field(&mut self, name: &str, value: impl Display) -> &mut Section {
        let _ = write!(self.text, "{name}:{value}\r\n");
        self
    }

    fn zeros(&mut self, names: &[&str]) -> &mut Section {
        for name in names {
            self.field(name, 0);
        }
        self
    }
}

/// Renders the requested sections, in Redis's order, separated by blank lines.
pub fn render(snapshot: &InfoSnapshot, sections: &BTreeSet<&'static str>) -> String {
    let rendered: Vec<String> =
        SECTIONS.iter().filter(|name| sections.contains(*name)).map(|name| render_section(snapshot, name)).collect();
    rendered.join("\r\n")
}

fn render_section(snapshot: &InfoSnapshot, name: &str) -> String {
    match name {
        "server" => server_section(&snapshot.facts),
        "clients" => clients_section(snapshot),
        "memory" => memory_section(snapshot),
        "persistence" => persistence_section(snapshot),
        "stats" => stats_section(&snapshot.node),
        "replication" => replication_section(&snapshot.facts),
        "cpu" => cpu_section(&snapshot.process),
        "modules" => Section::new("Modules").text,
        "commandstats" => commandstats_section(&snapshot.node),
        "errorstats" => Section::new("Errorstats").text,
        "latencystats" => latencystats_section(&snapshot.node),
        "cluster" => Section::new("Cluster").field("cluster_enabled", 0).text.clone(),
        "keyspace" => keyspace_section(&snapshot.facts),
        _ => shards_section(snapshot),
    }
}

fn os_name() -> String {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!("Linux {} {}", release.trim(), std::env::consts::ARCH)
}

fn server_section(facts: &ServerFacts) -> String {
    let now_us = unix_time_us();
    let executable = std::env::current_exe().map(|path| path.display().to_string()).unwrap_or_default();
    let mut section = Section::new("Server");
    section
        .field("redis_version", REDIS_VERSION)
        .field("redis_git_sha1", "00000000")
        .field("redis_git_dirty", 0)
        .field("redis_build_id", "0")
        .field("redis_mode", "standalone")
        .field("os", os_name())
        .field("arch_bits", usize::BITS)
        .field("monotonic_clock", "POSIX clock_gettime")
        .field("multiplexing_api", "io_uring")
        .field("atomicvar_api", "c11-builtin")
        .field("gcc_version", "0.0.0")
        .field("process_id", facts.process_id)
        .field("process_supervised", "no")
        .field("run_id", &facts.run_id)
        .field("tcp_port", facts.tcp_port)
        .field("server_time_usec", now_us)
        .field("uptime_in_seconds", facts.uptime_secs)
        .field("uptime_in_days", facts.uptime_secs / 86_400)
        .field("hz", 10)
        .field("configured_hz", 10)
        .field("lru_clock", (now_us / 1_000_000) & ((1 << 24) - 1))
        .field("executable", executable)
        .field("config_file", "")
        .field("io_threads_active", 0)
        .field("nokv_version", env!("CARGO_PKG_VERSION"));
    section.text
}

fn clients_section(snapshot: &InfoSnapshot) -> String {
    let node = &snapshot.node;
    let mut section = Section::new("Clients");
    section
        .field("connected_clients", node.counter("connected_clients"))
        .field("cluster_connections", 0)
        .field("maxclients", snapshot.facts.maxclients)
        .zeros(&[
            "client_recent_max_input_buffer",
            "client_recent_max_output_buffer",
            "blocked_clients",
            "tracking_clients",
            "clients_in_timeout_table",
        ]);
    section.text
}

fn memory_section(snapshot: &InfoSnapshot) -> String {
    let process = &snapshot.process;
    let used = process.rss_bytes;
    let peak = process.peak_rss_bytes.max(used);
    let dataset = (snapshot.node.counter("memtable_bytes") + snapshot.node.counter("cache_bytes")).min(used);
    let budgets = &snapshot.facts.budgets;
    let table_meta_bytes = snapshot.node.counter("table_meta_bytes");
    let percent = |part: u64, whole: u64| if whole == 0 { 0.0 } else { part as f64 * 100.0 / whole as f64 };
    let mut section = Section::new("Memory");
    section
        .field("used_memory", used)
        .field("used_memory_human", bytes_to_human(used))
        .field("used_memory_rss", used)
        .field("used_memory_rss_human", bytes_to_human(used))
        .field("used_memory_peak", peak)
        .field("used_memory_peak_human", bytes_to_human(peak))
        .field("used_memory_peak_perc", format!("{:.2}%", percent(used, peak)))
        .field("used_memory_overhead", used - dataset)
        .field("used_memory_startup", 0)
        .field("used_memory_dataset", dataset)
        .field("used_memory_dataset_perc", format!("{:.2}%", percent(dataset, used)))
        .field("allocator_allocated", used)
        .field("allocator_active", used)
        .field("allocator_resident", used)
        .field("total_system_memory", process.total_system_memory_bytes)
        .field("total_system_memory_human", bytes_to_human(process.total_system_memory_bytes))
        .zeros(&["used_memory_lua", "used_memory_vm_eval"])
        .field("used_memory_lua_human", "0B")
        .zeros(&["used_memory_scripts_eval", "number_of_cached_scripts", "number_of_functions"])
        .zeros(&["number_of_libraries", "used_memory_vm_functions", "used_memory_vm_total"])
        .field("used_memory_vm_total_human", "0B")
        .zeros(&["used_memory_functions", "used_memory_scripts"])
        .field("used_memory_scripts_human", "0B")
        .field("maxmemory", 0)
        .field("maxmemory_human", "0B")
        .field("maxmemory_policy", "noeviction")
        .field("allocator_frag_ratio", "1.00")
        .field("allocator_frag_bytes", 0)
        .field("allocator_rss_ratio", "1.00")
        .field("allocator_rss_bytes", 0)
        .field("rss_overhead_ratio", "1.00")
        .field("rss_overhead_bytes", 0)
        .field("mem_fragmentation_ratio", "1.00")
        .field("mem_fragmentation_bytes", 0)
        .zeros(&["mem_not_counted_for_evict", "mem_replication_backlog", "mem_total_replication_buffers"])
        .zeros(&["mem_clients_slaves", "mem_clients_normal", "mem_cluster_links", "mem_aof_buffer"])
        .field("mem_allocator", "libc")
        .zeros(&["active_defrag_running", "lazyfree_pending_objects", "lazyfreed_objects"])
        .field("nokv_memtable_bytes", snapshot.node.counter("memtable_bytes"))
        .field("nokv_memtable_budget_bytes", budgets.memtable_bytes)
        .field("nokv_cache_bytes", snapshot.node.counter("cache_bytes"))
        .field("nokv_cache_budget_bytes", budgets.cache_bytes)
        .field("nokv_journal_index_bytes", snapshot.node.counter("journal_index_bytes"))
        .field("nokv_overhead_budget_bytes", budgets.overhead_bytes)
        // Table indexes and filters have no budget: they follow the data on disk.
        .field("nokv_table_meta_bytes", table_meta_bytes)
        .field("nokv_memory_budget_bytes", budgets.total_bytes() + table_meta_bytes);
    section.text
}

fn persistence_section(snapshot: &InfoSnapshot) -> String {
    let facts = &snapshot.facts;
    // Redis's status of its last AOF write: "err" while any core refuses writes for a disk error.
    let write_status = if snapshot.node.counter("disk_error_cores") > 0 { "err" } else { "ok" };
    let mut section = Section::new("Persistence");
    section
        .zeros(&["loading", "async_loading", "current_cow_peak", "current_cow_size", "current_cow_size_age"])
        .field("current_fork_perc", "0.00")
        .zeros(&["current_save_keys_processed", "current_save_keys_total"])
        // Every acknowledged write is already in the journal: nothing waits for a save.
        .field("rdb_changes_since_last_save", 0)
        .field("rdb_bgsave_in_progress", 0)
        .field("rdb_last_save_time", facts.started_at_unix_secs)
        .field("rdb_last_bgsave_status", "ok")
        .field("rdb_last_bgsave_time_sec", -1)
        .field("rdb_current_bgsave_time_sec", -1)
        .zeros(&["rdb_saves", "rdb_last_cow_size", "rdb_last_load_keys_expired", "rdb_last_load_keys_loaded"])
        .field("aof_enabled", 1)
        .zeros(&["aof_rewrite_in_progress", "aof_rewrite_scheduled"])
        .field("aof_last_rewrite_time_sec", -1)
        .field("aof_current_rewrite_time_sec", -1)
        .field("aof_last_bgrewrite_status", "ok")
        .zeros(&["aof_rewrites", "aof_rewrites_consecutive_failures"])
        .field("aof_last_write_status", write_status)
        .zeros(&["aof_last_cow_size", "module_fork_in_progress", "module_fork_last_cow_size"])
        .zeros(&["aof_current_size", "aof_base_size", "aof_pending_rewrite", "aof_buffer_length"])
        .zeros(&["aof_pending_bio_fsync", "aof_delayed_fsync"]);
    section.text
}

fn kbps(bytes_per_sec: u64) -> String {
    format!("{:.2}", bytes_per_sec as f64 / 1024.0)
}

fn stats_section(node: &NodeFigures) -> String {
    let mut section = Section::new("Stats");
    section
        .field("total_connections_received", node.counter("connections_received"))
        .field("total_commands_processed", node.counter("commands_processed"))
        .field("instantaneous_ops_per_sec", node.counter("instantaneous_ops_per_sec"))
        .field("total_net_input_bytes", node.counter("net_input_bytes"))
        .field("total_net_output_bytes", node.counter("net_output_bytes"))
        .zeros(&["total_net_repl_input_bytes", "total_net_repl_output_bytes"])
        .field("instantaneous_input_kbps", kbps(node.counter("instantaneous_input_bytes_per_sec")))
        .field("instantaneous_output_kbps", kbps(node.counter("instantaneous_output_bytes_per_sec")))
        .field("instantaneous_input_repl_kbps", "0.00")
        .field("instantaneous_output_repl_kbps", "0.00")
        .field("rejected_connections", node.counter("rejected_connections"))
        .zeros(&["sync_full", "sync_partial_ok", "sync_partial_err"])
        .field("expired_keys", node.counter("expired_keys"))
        .field("expired_stale_perc", "0.00")
        .zeros(&["expired_time_cap_reached_count", "expire_cycle_cpu_milliseconds", "evicted_keys"])
        .zeros(&["evicted_clients", "total_eviction_exceeded_time", "current_eviction_exceeded_time"])
        .field("keyspace_hits", node.counter("keyspace_hits"))
        .field("keyspace_misses", node.counter("keyspace_misses"))
        .zeros(&["pubsub_channels", "pubsub_patterns", "pubsubshard_channels", "latest_fork_usec"])
        .zeros(&["total_forks", "migrate_cached_sockets", "slave_expires_tracked_keys"])
        .zeros(&["active_defrag_hits", "active_defrag_misses", "active_defrag_key_hits"])
        .zeros(&["active_defrag_key_misses", "total_active_defrag_time", "current_active_defrag_time"])
        .zeros(&["tracking_total_keys", "tracking_total_items", "tracking_total_prefixes"])
        .field("unexpected_error_replies", 0)
        .field("total_error_replies", node.counter("error_replies"))
        .field("dump_payload_sanitizations", 0)
        .field("total_reads_processed", node.counter("reads_processed"))
        .field("total_writes_processed", node.counter("writes_processed"))
        .zeros(&["io_threaded_reads_processed", "io_threaded_writes_processed"])
        .field("client_output_buffer_limit_disconnections", node.counter("output_buffer_limit_disconnections"))
        .zeros(&["reply_buffer_shrinks", "reply_buffer_expands"])
        .field("acl_access_denied_auth", node.counter("auth_failures"));
    section.text
}

/// A replication id for this run: 40 hex digits derived from the run id (NoKV has no
/// replicas, but tools expect one).
fn master_replid(run_id: &str) -> String {
    let mut id: String = run_id.chars().rev().collect();
    id.truncate(40);
    while id.len() < 40 {
        id.push('0');
    }
    id
}

fn replication_section(facts: &ServerFacts) -> String {
    let mut section = Section::new("Replication");
    section
        .field("role", "master")
        .field("connected_slaves", 0)
        .field("master_failover_state", "no-failover")
        .field("master_replid", master_replid(&facts.run_id))
        .field("master_replid2", "0".repeat(40))
        .field("master_repl_offset", 0)
        .field("second_repl_offset", -1)
        .field("repl_backlog_active", 0)
        .field("repl_backlog_size", 1_048_576)
        .field("repl_backlog_first_byte_offset", 0)
        .field("repl_backlog_histlen", 0);
    section.text
}

fn cpu_section(process: &ProcessFigures) -> String {
    let secs = |value: f64| format!("{value:.6}");
    let mut section = Section::new("CPU");
    section
        .field("used_cpu_sys", secs(process.cpu_sys_secs))
        .field("used_cpu_user", secs(process.cpu_user_secs))
        .field("used_cpu_sys_children", secs(0.0))
        .field("used_cpu_user_children", secs(0.0))
        .field("used_cpu_sys_main_thread", secs(process.thread_sys_secs))
        .field("used_cpu_user_main_thread", secs(process.thread_user_secs));
    section.text
}

fn commandstats_section(node: &NodeFigures) -> String {
    let mut section = Section::new("Commandstats");
    for (name, command) in node.commands.iter().filter(|(_, c)| c.calls + c.rejected_calls + c.failed_calls > 0) {
        let per_call = if command.calls == 0 { 0.0 } else { command.usec as f64 / command.calls as f64 };
        section.field(
            &format!("cmdstat_{name}"),
            format_args!(
                "calls={},usec={},usec_per_call={per_call:.2},rejected_calls={},failed_calls={}",
                command.calls, command.usec, command.rejected_calls, command.failed_calls
            ),
        );
    }
    section.text
}

fn latencystats_section(node: &NodeFigures) -> String {
    let mut section = Section::new("Latencystats");
    for (name, command) in node.commands.iter().filter(|(_, c)| !c.latency_us.is_empty()) {
        let at = |percentile: f64| command.latency_us.value_at_percentile(percentile) as f64;
        section.field(
            &format!("latency_percentiles_usec_{name}"),
            format_args!("p50={:.3},p99={:.3},p99.9={:.3}", at(50.0), at(99.0), at(99.9)),
        );
    }
    section.text
}

fn keyspace_section(facts: &ServerFacts) -> String {
    let mut section = Section::new("Keyspace");
    if let Some(keys) = facts.keys.filter(|&keys| keys > 0) {
        section.field("db0", format_args!("keys={keys},expires=0,avg_ttl=0"));
    }
    section.text
}

fn shards_section(snapshot: &InfoSnapshot) -> String {
    let mut section = Section::new("Shards");
    section.field("shards", snapshot.facts.shards).field("regions", snapshot.facts.regions);
    for line in &snapshot.node.shard_lines {
        let _ = write!(section.text, "{line}\r\n");
    }
    section.text
}

/// The power-of-two buckets of `LATENCY HISTOGRAM`, as Redis 7 computes them from its
/// nanosecond HDR histogram (first bucket 1024 ns, base 2): the bucket bound in µs is the
/// highest value equivalent to `1024 * 2^k` ns at 2 significant digits, divided by 1000;
/// each bucket holds the cumulative count of calls at or below its bound, and a bucket is
/// shown only when that count grew.
pub fn histogram_buckets(latency_us: &Histogram<u64>) -> Vec<(u64, u64)> {
    let total = latency_us.len();
    let mut recorded: Vec<(u64, u64)> =
        latency_us.iter_recorded().map(|v| (v.value_iterated_to(), v.count_at_value())).collect();
    recorded.sort_unstable();
    let mut buckets = Vec::new();
    let (mut cumulative, mut next, mut previous) = (0u64, 0usize, 0u64);
    for shift in 0..54u32 {
        if previous >= total {
            break;
        }
        let bound_ns = 1u64 << (10 + shift);
        let bound_us = (bound_ns + (1u64 << (3 + shift)) - 1) / 1000;
        while next < recorded.len() && recorded[next].0 <= bound_us {
            cumulative += recorded[next].1;
            next += 1;
        }
        if cumulative > previous {
            buckets.push((bound_us, cumulative));
        }
        previous = cumulative;
    }
    buckets
}

/// Starts this core's sampler of instantaneous rates, once.
fn ensure_sampler(core: &Rc<Core>) {
    if std::mem::replace(&mut core.metrics.borrow_mut().sampling, true) {
        return;
    }
    sample(core);
    let core = core.clone();
    glommio::spawn_local(async move {
        while !core.node.shutting_down() {
            glommio::timer::sleep(SAMPLE_INTERVAL).await;
            sample(&core);
        }
    })
    .detach();
}

fn sample(core: &Core) {
    let stats = core.server_stats.snapshot();
    let now = Instant::now();
    let mut metrics = core.metrics.borrow_mut();
    metrics.ops.track(now, stats.commands_processed);
    metrics.input_bytes.track(now, stats.net_input_bytes);
    metrics.output_bytes.track(now, stats.net_output_bytes);
}

/// This core's part of INFO.
pub fn core_figures(core: &Rc<Core>) -> CoreFigures {
    ensure_sampler(core);
    let mut counters = BTreeMap::new();
    let mut put = |name: &str, value: u64| {
        counters.insert(name.to_owned(), value);
    };
    let server = core.server_stats.snapshot();
    put("connected_clients", core.clients.len() as u64);
    put("connections_received", server.connections_received);
    put("rejected_connections", server.rejected_connections);
    put("commands_processed", server.commands_processed);
    put("error_replies", server.error_replies);
    put("net_input_bytes", server.net_input_bytes);
    put("net_output_bytes", server.net_output_bytes);
    put("reads_processed", server.reads_processed);
    put("writes_processed", server.writes_processed);
    put("output_buffer_limit_disconnections", server.output_buffer_limit_disconnections);
    put("auth_failures", core.auth_failures.get());
    {
        let stats = core.stats.borrow();
        put("keyspace_hits", stats.keyspace_hits);
        put("keyspace_misses", stats.keyspace_misses);
        put("expired_keys", stats.expired_keys);
    }
    {
        let metrics = core.metrics.borrow();
        put("instantaneous_ops_per_sec", metrics.ops.per_sec());
        put("instantaneous_input_bytes_per_sec", metrics.input_bytes.per_sec());
        put("instantaneous_output_bytes_per_sec", metrics.output_bytes.per_sec());
    }
    let engine = core.store.engine();
    let cache = engine.cache_stats();
    put("memtable_bytes", engine.memtable_bytes());
    put("disk_error_cores", u64::from(core.store.disk_error().is_some()));
    // The caches `cache-size` budgets (blocks, rows), and the table metadata held beside them.
    let rows = core.store.rows().stats();
    put("cache_bytes", cache.block_bytes_used + rows.weight_bytes);
    put("table_meta_bytes", cache.index_bytes_used);
    put("journal_index_bytes", core.store.raft().journal().index_bytes());
    let commands = core.stats.borrow().commands().iter().map(|(name, stat)| CommandFigures::of(name, stat)).collect();
    CoreFigures { counters, shard_line: shard_line(core), commands }
}

/// `shardN:k=v,...`: one core's engine, cache, raft and connection figures.
fn shard_line(core: &Core) -> String {
    let engine = core.store.engine();
    let cache = engine.cache_stats();
    let stats = engine.stats();
    let raft = core.store.raft().stats();
    let rows = core.store.rows().stats();
    let gc = &core.store.gc().filter;
    let gc_stats = gc.stats();
    let mut files_per_level: Vec<usize> = Vec::new();
    let (mut sst_files, mut sst_bytes) = (0usize, 0u64);
    for (_, levels) in engine.level_summary() {
        files_per_level.resize(files_per_level.len().max(levels.len()), 0);
        for (level, (files, bytes)) in levels.into_iter().enumerate() {
            files_per_level[level] += files;
            sst_files += files;
            sst_bytes += bytes;
        }
    }
    let levels: Vec<String> = files_per_level.iter().map(usize::to_string).collect();
    format!(
        "shard{}:connected_clients={},commands_processed={},regions={},memtable_bytes={},sst_files={},\
         sst_bytes={},level_files={},value_log_bytes={},block_cache_hits={},block_cache_misses={},\
         index_cache_hits={},index_cache_misses={},cache_bytes={},flushes={},compactions={},compaction_read_bytes={},\
         table_write_bytes={},write_stalls={},\
         raft_rounds={},raft_journal_writes={},raft_entries_applied={},mesh_messages_sent={},\
         row_cache_hits={},row_cache_misses={},row_cache_rows={},row_cache_bytes={},mvcc_gc_safe_point={},\
         mvcc_gc_versions_dropped={},mvcc_gc_default_deletes={},mvcc_gc_delete_marks_collected={}",
        core.id,
        core.clients.len(),
        core.server_stats.snapshot().commands_processed,
        core.map().regions_of_core(core.id).count(),
        engine.memtable_bytes(),
        sst_files,
        sst_bytes,
        levels.join("/"),
        engine.value_log_bytes(),
        cache.block_hits,
        cache.block_misses,
        cache.index_hits,
        cache.index_misses,
        cache.block_bytes_used + cache.index_bytes_used,
        stats.flushes,
        stats.compactions,
        stats.compaction_read_bytes,
        stats.table_write_bytes,
        stats.write_stalls,
        raft.rounds,
        raft.journal_writes,
        raft.entries_applied,
        core.mesh.messages_sent(),
        rows.hits,
        rows.misses,
        rows.rows,
        rows.weight_bytes,
        gc.safe_point().into_inner(),
        gc_stats.versions_dropped,
        gc_stats.default_deletes,
        gc_stats.delete_marks_collected,
    )
}

/// Sums the cores' DBSIZE parts; `None` if a core failed.
async fn count_keys(core: &Rc<Core>) -> Option<u64> {
    let parts = core.fanout(Fanout::DbSize).await;
    parts.iter().map(as_u64).sum()
}

/// `INFO [section ...]`.
pub async fn info(core: &Rc<Core>, args: &[Bytes]) -> Reply {
    let sections = requested_sections(&args[1..]);
    let cores = core.fanout(Fanout::Info).await;
    let node = NodeFigures::merge(cores.iter().filter_map(CoreFigures::from_reply).collect());
    let keys = if sections.contains("keyspace") { count_keys(core).await } else { None };
    let shared = &core.node;
    let uptime = shared.started_at.elapsed();
    let facts = ServerFacts {
        process_id: std::process::id(),
        run_id: shared.run_id.clone(),
        tcp_port: shared.config.node.port,
        uptime_secs: uptime.as_secs(),
        started_at_unix_secs: (unix_time_us() / 1_000_000).saturating_sub(uptime.as_secs()),
        maxclients: shared.config.maxclients(),
        shards: core.mesh.cores(),
        regions: core.map().regions().len(),
        keys,
        budgets: shared.config.node.memory_budgets(),
    };
    let snapshot = InfoSnapshot { node, process: ProcessFigures::read(), facts };
    Reply::Verbatim { format: *b"txt", text: Bytes::from(render(&snapshot, &sections)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(words: &[&str]) -> Vec<Bytes> {
        words.iter().map(|w| Bytes::copy_from_slice(w.as_bytes())).collect()
    }

    fn figures(core: usize, calls: u64) -> CoreFigures {
        let mut counters = BTreeMap::new();
        counters.insert("connected_clients".to_owned(), 1);
        counters.insert("commands_processed".to_owned(), calls);
        CoreFigures {
            counters,
            shard_line: format!("shard{core}:connected_clients=1"),
            commands: vec![CommandFigures {
                name: "get".into(),
                calls,
                usec: calls * 10,
                rejected_calls: 0,
                failed_calls: 1,
                latency_us: vec![(10, calls)],
            }],
        }
    }

    #[test]
    fn core_figures_round_trip_through_a_reply() {
        let original = figures(0, 3);
        assert_eq!(CoreFigures::from_reply(&original.to_reply()), Some(original));
        assert_eq!(CoreFigures::from_reply(&Reply::error("ERR x")), None);
    }

    #[test]
    fn sections_resolve_like_redis() {
        let default = requested_sections(&[]);
        assert!(default.contains("keyspace") && !default.contains("commandstats") && !default.contains("shards"));
        assert_eq!(requested_sections(&args(&["default"])), default);
        let all = requested_sections(&args(&["ALL"]));
        assert!(all.contains("commandstats") && all.contains("latencystats") && all.contains("shards"));
        assert_eq!(requested_sections(&args(&["everything"])), all);
        assert_eq!(requested_sections(&args(&["Server", "cpu"])), BTreeSet::from(["server", "cpu"]));
        assert!(requested_sections(&args(&["bogus"])).is_empty());
    }

    #[test]
    fn renders_merged_figures_with_redis_field_names() {
        let node = NodeFigures::merge(vec![figures(0, 2), figures(1, 4)]);
        let snapshot = InfoSnapshot {
            node,
            process: ProcessFigures { rss_bytes: 2 << 20, ..ProcessFigures::default() },
            facts: ServerFacts { keys: Some(5), shards: 2, run_id: "ab".repeat(20), ..ServerFacts::default() },
        };
        let text = render(&snapshot, &requested_sections(&args(&["everything"])));
        for expected in [
            "# Server\r\nredis_version:7.0.15\r\n",
            "\r\nconnected_clients:2\r\n",
            "\r\ntotal_commands_processed:6\r\n",
            "\r\nused_memory:2097152\r\nused_memory_human:2.00M\r\n",
            "\r\naof_enabled:1\r\n",
            "\r\nrole:master\r\n",
            "\r\ncmdstat_get:calls=6,usec=60,usec_per_call=10.00,rejected_calls=0,failed_calls=2\r\n",
            "\r\nlatency_percentiles_usec_get:p50=10.000,p99=10.000,p99.9=10.000\r\n",
            "\r\n\r\n# Keyspace\r\ndb0:keys=5,expires=0,avg_ttl=0\r\n",
            "# Shards\r\nshards:2\r\nregions:0\r\nshard0:connected_clients=1\r\nshard1:connected_clients=1\r\n",
        ] {
            assert!(text.contains(expected), "missing {expected:?} in\n{text}");
        }
        assert!(!text.ends_with("\r\n\r\n"));
        let empty = InfoSnapshot { facts: ServerFacts { keys: Some(0), ..ServerFacts::default() }, ..snapshot };
        assert_eq!(render(&empty, &BTreeSet::from(["keyspace"])), "# Keyspace\r\n");
    }

    #[test]
    fn proc_parsers_read_linux_formats() {
        let stat = "42 (my (odd) name) S 1 42 42 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 3 0 100 0 0";
        assert_eq!(cpu_times(stat), Some((2.5, 0.75)));
        assert_eq!(cpu_times("garbage"), None);
        let status = "Name:\tnokv\nVmHWM:\t  2048 kB\nVmRSS:\t  1024 kB\n";
        assert_eq!(kib_field(status, "VmRSS:"), Some(1024));
        assert_eq!(kib_field(status, "VmSwap:"), None);
    }

    #[test]
    fn human_sizes_match_redis() {
        assert_eq!(bytes_to_human(0), "0B");
        assert_eq!(bytes_to_human(965_920), "943.28K");
        assert_eq!(bytes_to_human(6_758_400), "6.45M");
        assert_eq!(bytes_to_human(25_276_510_208), "23.54G");
    }

    #[test]
    fn histogram_buckets_are_cumulative_powers_of_two() {
        let mut histogram = latency_histogram();
        histogram.record_n(3, 2).expect("in range");
        histogram.record(10).expect("in range");
        histogram.record(40).expect("in range");
        assert_eq!(histogram_buckets(&histogram), vec![(4, 2), (16, 3), (66, 4)]);
        assert!(histogram_buckets(&latency_histogram()).is_empty());
    }
}
