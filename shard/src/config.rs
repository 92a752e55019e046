//! The node's configuration, with Redis's option names where Redis has the option.
//!
//! `bin` fills a [`NodeConfig`] from the TOML file and the command line; `CONFIG GET/SET`
//! read and change the runtime-changeable options through [`RuntimeConfig`], which every core
//! shares (it is read on the request path, so it is a few atomics and a rarely-written lock).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use nokv_engine::compaction::picker::CompactionOptions;
use nokv_net::server::{LiveSettings, OutputBufferLimit, ServerConfig};

use crate::error::{Error, Result};

/// When a write is acknowledged, with Redis's `appendfsync` names and meanings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AppendFsync {
    /// Reply only after the journal's fdatasync: survives power loss.
    #[default]
    Always,
    /// fdatasync once a second; a completed O_DIRECT write already survives a process crash.
    Everysec,
    /// Never fdatasync explicitly.
    No,
}

impl AppendFsync {
    /// Parses Redis's spelling.
    pub fn parse(text: &str) -> Option<AppendFsync> {
        match text.to_ascii_lowercase().as_str() {
            "always" => Some(AppendFsync::Always),
            "everysec" => Some(AppendFsync::Everysec),
            "no" => Some(AppendFsync::No),
            _ => None,
        }
    }

    /// Redis's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            AppendFsync::Always => "always",
            AppendFsync::Everysec => "everysec",
            AppendFsync::No => "no",
        }
    }
}

/// `client-output-buffer-limit`: one limit per client class, with Redis's syntax
/// (`normal 0 0 0 replica 256mb 64mb 60 pubsub 32mb 8mb 60`). Only `normal` is enforced:
/// NoKV has no replicas or Pub/Sub clients; the other two are kept for CONFIG GET.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientOutputBufferLimits {
    pub normal: OutputBufferLimit,
    pub replica: OutputBufferLimit,
    pub pubsub: OutputBufferLimit,
}

impl Default for ClientOutputBufferLimits {
    fn default() -> Self {
        let limit = |hard_bytes, soft_bytes, soft_secs| OutputBufferLimit { hard_bytes, soft_bytes, soft_secs };
        Self { normal: limit(0, 0, 0), replica: limit(256 << 20, 64 << 20, 60), pubsub: limit(32 << 20, 8 << 20, 60) }
    }
}

impl ClientOutputBufferLimits {
    /// Applies `<class> <hard> <soft> <soft seconds>` groups (any subset of the classes) on top
    /// of `self`, as Redis's CONFIG SET and config file do; on error nothing changes and the
    /// message is Redis's.
    pub fn updated(&self, text: &str) -> std::result::Result<Self, &'static str> {
        let words: Vec<&str> = text.split_whitespace().collect();
        if !words.len().is_multiple_of(4) {
            return Err("Wrong number of arguments in buffer limit configuration.");
        }
        let mut limits = *self;
        for group in words.chunks_exact(4) {
            let class = match group[0].to_ascii_lowercase().as_str() {
                "normal" => &mut limits.normal,
                "replica" | "slave" => &mut limits.replica,
                "pubsub" => &mut limits.pubsub,
                _ => return Err("Invalid client class specified in buffer limit configuration."),
            };
            let parsed = (parse_memory(group[1]), parse_memory(group[2]), group[3].parse::<u64>().ok());
            let (Some(hard_bytes), Some(soft_bytes), Some(soft_secs)) = parsed else {
                return Err("Error in hard, soft or soft_seconds setting in buffer limit configuration.");
            };
            if soft_secs > i32::MAX as u64 {
                return Err("Error in hard, soft or soft_seconds setting in buffer limit configuration.");
            }
            *class = OutputBufferLimit { hard_bytes, soft_bytes, soft_secs };
        }
        Ok(limits)
    }

    /// Redis's CONFIG GET text: bytes, classes in Redis's order and names.
    pub fn to_redis_string(&self) -> String {
        let class = |name: &str, limit: &OutputBufferLimit| {
            format!("{name} {} {} {}", limit.hard_bytes, limit.soft_bytes, limit.soft_secs)
        };
        [class("normal", &self.normal), class("slave", &self.replica), class("pubsub", &self.pubsub)].join(" ")
    }
}

/// Redis's `memtoull`: a byte count with an optional unit (`b`, `k` = 1000, `kb` = 1024, `m`,
/// `mb`, `g`, `gb`, any case).
pub fn parse_memory(text: &str) -> Option<u64> {
    let lower = text.to_ascii_lowercase();
    let digits_end = lower.find(|c: char| !c.is_ascii_digit()).unwrap_or(lower.len());
    let (digits, unit) = lower.split_at(digits_end);
    let multiplier: u64 = match unit {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1024,
        "m" => 1000 * 1000,
        "mb" => 1024 * 1024,
        "g" => 1000 * 1000 * 1000,
        "gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    digits.parse::<u64>().ok()?.checked_mul(multiplier)
}

/// Smallest `memtable-size`, and smallest `cache-size` per shard.
const MIN_BUDGET_BYTES: u64 = 1 << 20;
/// Largest `memtable-size`: a flush writes the whole memtable in one go.
const MAX_MEMTABLE_BYTES: u64 = 4 << 30;
/// `cache-size` per shard when it is not set: the 128 MiB of block and row caches every shard
/// had before the option existed.
pub const DEFAULT_CACHE_BYTES_PER_SHARD: u64 = 128 << 20;
/// Frozen memtables a shard keeps before writes wait for a flush (the engine's
/// `max_frozen_memtables`; with the active one they make the memtable budget).
pub const MAX_FROZEN_MEMTABLES: usize = 2;

/// One shard's cache budgets, split from its part of `cache-size` 1 : 7 (block : row).
///
/// Why this split: the row cache answers a repeated point read (GET, the common Redis command)
/// with one hash lookup and holds only the row, where the block cache holds a whole 4 KiB block
/// per hot key; the block cache serves everything else (scans, large values in the value log,
/// and for keys the row cache has evicted, the Write CF blocks a read needs first), so neither
/// can be dropped without losing a workload. Point reads get the larger part:
/// - after 1M SETs of 1 KiB values (632k keys) with `cache-size 1gb`, 1 : 1 left a third of the
///   keys outside the row cache and their GETs read blocks from disk (GET -P16 91k ops per
///   CPU-second); 1 : 3 held them all (167k; perf/results/cache-split-2026-12-05.md);
/// - after the bench-matrix write rows (3.3M SETs over 1M keys, 800k of them 1 KiB), 1 : 3 left
///   a fifth of the GETs to the engine at ~22 us of CPU each (GET 1 KiB -P16 135-172k), and
///   1 : 7 serves all but a few of them from rows (273-307k;
///   perf/results/cache-split-1-7-2026-12-07.md). A block of random 1 KiB values mostly holds
///   copies of rows, and an eighth still holds the Write CF blocks of a million keys.
///
/// Table indexes and bloom filters are not in `cache-size`: the engine holds them for every
/// open table (a budget for them was a cliff, see `nokv_engine::cache`). They grow with the
/// data, about 1.5% of it with 1 KiB values and 3-4% with 100 B values, and INFO memory reports
/// them as `nokv_table_meta_bytes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheBudget {
    /// Data blocks and value-log records.
    pub block_bytes: u64,
    /// Newest values of recently written or read keys.
    pub row_bytes: u64,
}

impl CacheBudget {
    /// Splits one shard's budget 1 : 7; the parts add up to `shard_bytes`.
    pub fn split(shard_bytes: u64) -> CacheBudget {
        let block_bytes = shard_bytes / 8;
        CacheBudget { block_bytes, row_bytes: shard_bytes - block_bytes }
    }

    /// The budgets together.
    pub fn total_bytes(&self) -> u64 {
        self.block_bytes + self.row_bytes
    }
}

/// Memory outside caches and memtables that every node has: the binary, the main and signal
/// threads, the routing table (RSS of an idle 1-shard node 34 MiB, 2-shard 52 MiB).
const FIXED_NODE_OVERHEAD_BYTES: u64 = 16 << 20;
/// The same per shard: its executor thread, glommio's io_uring rings and buffers (10.5 MiB),
/// the shard's engine and raft structures when empty.
const FIXED_SHARD_OVERHEAD_BYTES: u64 = 18 << 20;

/// What the node's memory should stay within, for INFO: the two budgets an operator sets and
/// the overhead NoKV states on top of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MemoryBudgets {
    /// `cache-size`.
    pub cache_bytes: u64,
    /// Every shard's active and frozen memtables at `memtable-size`.
    pub memtable_bytes: u64,
    /// Everything else: a fixed part per node and per shard, and per shard the images a flush
    /// (up to one memtable) and a compaction (one output table) build in memory before they
    /// write them, and the journal's index of unflushed raft entries (40 bytes an entry, up to
    /// twice that while its deque grows: at most half the memtable budget, as a memtable entry
    /// costs more than 160 bytes).
    pub overhead_bytes: u64,
}

impl MemoryBudgets {
    /// The three together: what RSS should stay below.
    pub fn total_bytes(&self) -> u64 {
        self.cache_bytes + self.memtable_bytes + self.overhead_bytes
    }
}

/// Everything a node needs to start.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeConfig {
    /// TCP port (`port`).
    pub port: u16,
    /// Addresses to listen on (`bind`).
    pub bind: Vec<String>,
    /// Data directory (`dir`).
    pub dir: PathBuf,
    /// Password clients must AUTH with (`requirepass`); empty: none.
    pub requirepass: String,
    /// `appendfsync`.
    pub appendfsync: AppendFsync,
    /// Maximum simultaneous clients per node (`maxclients`).
    pub maxclients: u32,
    /// Close clients idle this many seconds; 0: never (`timeout`).
    pub timeout_secs: u64,
    /// Without a password, serve only loopback clients (`protected-mode`, Redis's default yes).
    pub protected_mode: bool,
    /// `client-output-buffer-limit`.
    pub client_output_buffer_limit: ClientOutputBufferLimits,
    /// Number of shards (cores); 0: one per CPU (`shards`).
    pub shards: usize,
    /// Regions per shard at bootstrap.
    pub regions_per_shard: usize,
    /// Commands slower than this are logged in SLOWLOG (`slowlog-log-slower-than`, µs).
    pub slowlog_log_slower_than_us: i64,
    /// SLOWLOG length (`slowlog-max-len`).
    pub slowlog_max_len: u64,
    /// The node's total cache budget (`cache-size`): block and row caches of all
    /// shards together, split evenly across shards and within a shard by [`CacheBudget`].
    /// `None`: [`DEFAULT_CACHE_BYTES_PER_SHARD`] per shard.
    pub cache_size_bytes: Option<u64>,
    /// Memtable size per shard (`memtable-size`): a memtable is frozen and flushed at this size;
    /// a shard holds its active memtable and up to [`MAX_FROZEN_MEMTABLES`] frozen ones.
    pub memtable_size_bytes: u64,
    /// MVCC versions stay readable this long after they are overwritten (`gc-life-time`,
    /// TiDB's `tikv_gc_life_time`); 0 turns MVCC garbage collection off.
    pub gc_life_time_secs: u64,
}

impl Default for NodeConfig {
    fn default() -> Self {
        NodeConfig {
            port: 6379,
            bind: vec!["127.0.0.1".into()],
            dir: PathBuf::from("nokv-data"),
            requirepass: String::new(),
            appendfsync: AppendFsync::Always,
            maxclients: 10_000,
            timeout_secs: 0,
            protected_mode: true,
            client_output_buffer_limit: ClientOutputBufferLimits::default(),
            shards: 0,
            regions_per_shard: 4,
            slowlog_log_slower_than_us: 10_000,
            slowlog_max_len: 128,
            cache_size_bytes: None,
            memtable_size_bytes: 64 << 20,
            gc_life_time_secs: 600,
        }
    }
}

impl NodeConfig {
    /// Checks the options, with messages naming the option.
    pub fn validate(&self) -> Result<()> {
        let invalid = |name: &'static str, reason: &str| Err(Error::Config { name, reason: reason.into() });
        if self.bind.is_empty() {
            return invalid("bind", "at least one address is needed");
        }
        if self.maxclients == 0 {
            return invalid("maxclients", "must be at least 1");
        }
        if self.regions_per_shard == 0 || self.regions_per_shard > 1024 {
            return invalid("regions-per-shard", "must be between 1 and 1024");
        }
        if self.shards > 256 {
            return invalid("shards", "at most 256");
        }
        if self.memtable_size_bytes < MIN_BUDGET_BYTES || self.memtable_size_bytes > MAX_MEMTABLE_BYTES {
            return invalid("memtable-size", "must be between 1mb and 4gb");
        }
        if self.cache_size_bytes.is_some_and(|total| total / (self.shard_count() as u64) < MIN_BUDGET_BYTES) {
            let reason = format!("must be at least 1mb per shard ({} shards)", self.shard_count());
            return Err(Error::Config { name: "cache-size", reason });
        }
        Ok(())
    }

    /// `cache-size`: the node's total cache budget in bytes.
    pub fn cache_size_total_bytes(&self) -> u64 {
        let shards = self.shard_count() as u64;
        self.cache_size_bytes.unwrap_or(DEFAULT_CACHE_BYTES_PER_SHARD.saturating_mul(shards))
    }

    /// One shard's part of `cache-size`.
    pub fn shard_cache_budget(&self) -> CacheBudget {
        CacheBudget::split(self.cache_size_total_bytes() / self.shard_count() as u64)
    }

    /// The memory the memtables of all shards may hold: each shard's active memtable and its
    /// frozen ones waiting for their flush.
    pub fn memtable_budget_total_bytes(&self) -> u64 {
        let per_shard = self.memtable_size_bytes.saturating_mul(1 + MAX_FROZEN_MEMTABLES as u64);
        per_shard.saturating_mul(self.shard_count() as u64)
    }

    /// The budgets and the stated overhead (see [`MemoryBudgets::overhead_bytes`]).
    pub fn memory_budgets(&self) -> MemoryBudgets {
        let shards = self.shard_count() as u64;
        let memtable_bytes = self.memtable_budget_total_bytes();
        let compaction_output_bytes = CompactionOptions::default().target_file_size_bytes;
        let per_shard = FIXED_SHARD_OVERHEAD_BYTES + self.memtable_size_bytes + compaction_output_bytes;
        let overhead_bytes = FIXED_NODE_OVERHEAD_BYTES + per_shard.saturating_mul(shards) + memtable_bytes / 2;
        MemoryBudgets { cache_bytes: self.cache_size_total_bytes(), memtable_bytes, overhead_bytes }
    }

    /// The connection loop's options this node starts with.
    pub fn server_config(&self) -> ServerConfig {
        ServerConfig {
            maxclients: self.maxclients as usize,
            timeout_secs: self.timeout_secs,
            protected_mode: self.protected_mode,
            client_output_buffer_limit: self.client_output_buffer_limit.normal,
            ..ServerConfig::default()
        }
    }

    /// The number of shards to run: `shards`, or one per CPU.
    pub fn shard_count(&self) -> usize {
        if self.shards > 0 {
            return self.shards;
        }
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    }
}

/// Options `CONFIG SET` may change while the node runs; shared by every core.
#[derive(Debug)]
pub struct RuntimeConfig {
    requirepass: RwLock<String>,
    appendfsync: AtomicU8,
    /// `maxclients`, `timeout`, `protected-mode` and the `normal` output limit, read by every
    /// core's connection loop.
    net: Arc<LiveSettings>,
    /// The `replica` and `pubsub` output limits, kept for CONFIG GET.
    output_limits: RwLock<ClientOutputBufferLimits>,
    slowlog_log_slower_than_us: AtomicU64,
    slowlog_max_len: AtomicU64,
    /// Options accepted for compatibility that change nothing (`maxmemory`), as last set.
    informational: RwLock<BTreeMap<String, String>>,
    /// The static part, for `CONFIG GET` of options that cannot change.
    pub node: NodeConfig,
}

impl RuntimeConfig {
    /// Starts from the node's configuration.
    pub fn new(node: NodeConfig) -> RuntimeConfig {
        RuntimeConfig {
            requirepass: RwLock::new(node.requirepass.clone()),
            appendfsync: AtomicU8::new(node.appendfsync as u8),
            net: Arc::new(LiveSettings::new(&node.server_config())),
            output_limits: RwLock::new(node.client_output_buffer_limit),
            slowlog_log_slower_than_us: AtomicU64::new(node.slowlog_log_slower_than_us as u64),
            slowlog_max_len: AtomicU64::new(node.slowlog_max_len),
            informational: RwLock::new(BTreeMap::new()),
            node,
        }
    }

    /// The password, empty when none.
    pub fn requirepass(&self) -> String {
        self.requirepass.read().map(|p| p.clone()).unwrap_or_default()
    }

    /// True when clients must authenticate.
    pub fn requires_auth(&self) -> bool {
        self.requirepass.read().map(|p| !p.is_empty()).unwrap_or(false)
    }

    /// Sets the password.
    pub fn set_requirepass(&self, password: String) {
        if let Ok(mut guard) = self.requirepass.write() {
            *guard = password;
        }
    }

    /// `appendfsync`.
    pub fn appendfsync(&self) -> AppendFsync {
        match self.appendfsync.load(Ordering::Relaxed) {
            0 => AppendFsync::Always,
            1 => AppendFsync::Everysec,
            _ => AppendFsync::No,
        }
    }

    /// Sets `appendfsync`.
    pub fn set_appendfsync(&self, value: AppendFsync) {
        self.appendfsync.store(value as u8, Ordering::Relaxed);
    }

    /// The settings every core's connection loop reads (share them with `Server::with_settings`).
    pub fn net_settings(&self) -> Arc<LiveSettings> {
        self.net.clone()
    }

    /// `maxclients`.
    pub fn maxclients(&self) -> u64 {
        self.net.maxclients() as u64
    }

    /// Sets `maxclients`; the next accepted client sees it.
    pub fn set_maxclients(&self, value: u64) {
        self.net.set_maxclients(usize::try_from(value).unwrap_or(usize::MAX));
    }

    /// `timeout` in seconds.
    pub fn timeout_secs(&self) -> u64 {
        self.net.timeout_secs()
    }

    /// Sets `timeout`; connected clients see it within a second.
    pub fn set_timeout_secs(&self, value: u64) {
        self.net.set_timeout_secs(value);
    }

    /// `protected-mode`.
    pub fn protected_mode(&self) -> bool {
        self.net.protected_mode()
    }

    /// Sets `protected-mode`; it applies to clients that connect afterwards.
    pub fn set_protected_mode(&self, on: bool) {
        self.net.set_protected_mode(on);
    }

    /// `client-output-buffer-limit`.
    pub fn client_output_buffer_limit(&self) -> ClientOutputBufferLimits {
        let mut limits = self.output_limits.read().map(|limits| *limits).unwrap_or_default();
        limits.normal = self.net.output_buffer_limit();
        limits
    }

    /// Sets `client-output-buffer-limit`; connections adopt the `normal` class at their next batch.
    pub fn set_client_output_buffer_limit(&self, limits: ClientOutputBufferLimits) {
        if let Ok(mut guard) = self.output_limits.write() {
            *guard = limits;
        }
        self.net.set_output_buffer_limit(limits.normal);
    }

    /// `slowlog-log-slower-than` in µs (negative disables; stored as i64 bits).
    pub fn slowlog_log_slower_than_us(&self) -> i64 {
        self.slowlog_log_slower_than_us.load(Ordering::Relaxed) as i64
    }

    /// Sets `slowlog-log-slower-than`.
    pub fn set_slowlog_log_slower_than_us(&self, value: i64) {
        self.slowlog_log_slower_than_us.store(value as u64, Ordering::Relaxed);
    }

    /// The value last set for an informational option, if any.
    pub fn informational(&self, name: &str) -> Option<String> {
        self.informational.read().ok().and_then(|map| map.get(name).cloned())
    }

    /// Records an informational option.
    pub fn set_informational(&self, name: String, value: String) {
        if let Ok(mut map) = self.informational.write() {
            map.insert(name, value);
        }
    }

    /// `slowlog-max-len`.
    pub fn slowlog_max_len(&self) -> u64 {
        self.slowlog_max_len.load(Ordering::Relaxed)
    }

    /// Sets `slowlog-max-len`.
    pub fn set_slowlog_max_len(&self, value: u64) {
        self.slowlog_max_len.store(value, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_redis_like() {
        let config = NodeConfig::default();
        config.validate().expect("valid");
        assert_eq!((config.port, config.appendfsync), (6379, AppendFsync::Always));
        assert_eq!(AppendFsync::parse("EVERYSEC"), Some(AppendFsync::Everysec));
        assert_eq!(AppendFsync::parse("sometimes"), None);
    }

    #[test]
    fn cache_budget_keeps_the_old_default_and_gives_rows_seven_eighths() {
        let config = NodeConfig { shards: 2, ..NodeConfig::default() };
        assert_eq!(config.cache_size_total_bytes(), 256 << 20);
        let budget = config.shard_cache_budget();
        assert_eq!((budget.block_bytes, budget.row_bytes), (16 << 20, 112 << 20));
        assert_eq!(config.memtable_budget_total_bytes(), 2 * 3 * (64 << 20));
        let config = NodeConfig { shards: 3, cache_size_bytes: Some(512 << 20), ..NodeConfig::default() };
        let budget = config.shard_cache_budget();
        assert_eq!(budget.total_bytes(), (512 << 20) / 3);
        assert!(budget.row_bytes.abs_diff(7 * budget.block_bytes) <= 7);
        let tiny = NodeConfig { shards: 4, cache_size_bytes: Some(3 << 20), ..NodeConfig::default() };
        assert!(tiny.validate().expect_err("too small").to_string().contains("cache-size"));
    }

    #[test]
    fn runtime_config_round_trips() {
        let runtime = RuntimeConfig::new(NodeConfig::default());
        assert!(!runtime.requires_auth());
        runtime.set_requirepass("secret".into());
        assert!(runtime.requires_auth());
        runtime.set_appendfsync(AppendFsync::No);
        assert_eq!(runtime.appendfsync(), AppendFsync::No);
        runtime.set_slowlog_log_slower_than_us(-1);
        assert_eq!(runtime.slowlog_log_slower_than_us(), -1);
        runtime.set_maxclients(5);
        runtime.set_protected_mode(false);
        assert_eq!((runtime.net_settings().maxclients(), runtime.net_settings().protected_mode()), (5, false));
    }

    #[test]
    fn output_buffer_limits_parse_and_print_like_redis() {
        let defaults = ClientOutputBufferLimits::default();
        assert_eq!(defaults.to_redis_string(), "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60");
        let changed = defaults.updated("normal 4mb 2mb 2").expect("valid");
        assert_eq!(changed.normal, OutputBufferLimit { hard_bytes: 4 << 20, soft_bytes: 2 << 20, soft_secs: 2 });
        assert_eq!(changed.replica, defaults.replica);
        let changed = defaults.updated("replica 1kb 1k 3 NORMAL 0 0 0").expect("valid");
        assert_eq!(changed.to_redis_string(), "normal 0 0 0 slave 1024 1000 3 pubsub 33554432 8388608 60");
        assert_eq!(defaults.updated("normal 4mb 2mb"), Err("Wrong number of arguments in buffer limit configuration."));
        assert_eq!(defaults.updated("foo 1 1 1"), Err("Invalid client class specified in buffer limit configuration."));
        for bad in ["normal 1x 1 1", "normal 1 1 -1", "normal -1 0 0"] {
            assert_eq!(
                defaults.updated(bad),
                Err("Error in hard, soft or soft_seconds setting in buffer limit configuration."),
                "{bad}"
            );
        }
    }
}
