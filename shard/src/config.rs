//! The node's configuration, with Redis's option names where Redis has the option.
//!
//! `bin` fills a [`NodeConfig`] from the TOML file and the command line; `CONFIG GET/SET`
//! read and change the runtime-changeable options through [`RuntimeConfig`], which every core
//! shares (it is read on the request path, so it is a few atomics and a rarely-written lock).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};

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
    /// Number of shards (cores); 0: one per CPU (`shards`).
    pub shards: usize,
    /// Regions per shard at bootstrap.
    pub regions_per_shard: usize,
    /// Commands slower than this are logged in SLOWLOG (`slowlog-log-slower-than`, µs).
    pub slowlog_log_slower_than_us: i64,
    /// SLOWLOG length (`slowlog-max-len`).
    pub slowlog_max_len: u64,
    /// Block cache per shard.
    pub block_cache_bytes: u64,
    /// Memtable size per shard.
    pub memtable_size_bytes: u64,
    /// Row cache per shard: the newest value of recently written or read keys.
    pub row_cache_bytes: u64,
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
            shards: 0,
            regions_per_shard: 4,
            slowlog_log_slower_than_us: 10_000,
            slowlog_max_len: 128,
            block_cache_bytes: 64 << 20,
            memtable_size_bytes: 64 << 20,
            row_cache_bytes: 64 << 20,
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
        if self.memtable_size_bytes < 1 << 20 {
            return invalid("memtable-size", "must be at least 1 MiB");
        }
        Ok(())
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
    maxclients: AtomicU64,
    timeout_secs: AtomicU64,
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
            maxclients: AtomicU64::new(u64::from(node.maxclients)),
            timeout_secs: AtomicU64::new(node.timeout_secs),
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

    /// `maxclients`.
    pub fn maxclients(&self) -> u64 {
        self.maxclients.load(Ordering::Relaxed)
    }

    /// Sets `maxclients`.
    pub fn set_maxclients(&self, value: u64) {
        self.maxclients.store(value, Ordering::Relaxed);
    }

    /// `timeout` in seconds.
    pub fn timeout_secs(&self) -> u64 {
        self.timeout_secs.load(Ordering::Relaxed)
    }

    /// Sets `timeout`.
    pub fn set_timeout_secs(&self, value: u64) {
        self.timeout_secs.store(value, Ordering::Relaxed);
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
    fn runtime_config_round_trips() {
        let runtime = RuntimeConfig::new(NodeConfig::default());
        assert!(!runtime.requires_auth());
        runtime.set_requirepass("secret".into());
        assert!(runtime.requires_auth());
        runtime.set_appendfsync(AppendFsync::No);
        assert_eq!(runtime.appendfsync(), AppendFsync::No);
        runtime.set_slowlog_log_slower_than_us(-1);
        assert_eq!(runtime.slowlog_log_slower_than_us(), -1);
    }
}
