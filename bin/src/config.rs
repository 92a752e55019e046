//! The `nokv` command line and configuration file.
//!
//! Options use Redis's names. Precedence: built-in defaults < TOML file < command-line flags.
//!
//! ```toml
//! port = 6379
//! bind = ["127.0.0.1"]        # or a single string, "127.0.0.1 ::1" as in redis.conf
//! dir = "./nokv-data"
//! requirepass = ""
//! appendfsync = "always"      # always | everysec | no
//! maxclients = 10000
//! timeout = 0
//! protected-mode = "yes"      # without a password, serve only loopback clients
//! client-output-buffer-limit = "normal 0 0 0 replica 256mb 64mb 60 pubsub 32mb 8mb 60"
//! shards = 0                  # 0: one per CPU
//! gc-life-time = 600          # seconds old MVCC versions stay readable; 0: no MVCC GC
//! cache-size = "512mb"        # block and row caches of all shards; default 128mb per shard
//! memtable-size = "64mb"      # per shard; a shard holds up to 3 (1 active, 2 frozen)
//! ```
//!
//! Memory sizes take Redis's units (`512mb`, `1gb`, `1000k`) or a plain byte count.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Parser;
use nokv_shard::{AppendFsync, NodeConfig, parse_memory};
use serde::Deserialize;

/// NoKV: a durable, Redis-compatible key-value server. With no arguments it serves
/// 127.0.0.1:6379 with data in ./nokv-data.
#[derive(Debug, Parser)]
#[command(name = "nokv", version)]
pub struct Cli {
    /// A TOML configuration file (options with Redis's names).
    pub config_file: Option<PathBuf>,
    /// TCP port.
    #[arg(long)]
    pub port: Option<u16>,
    /// Addresses to listen on (repeat, or separate with spaces).
    #[arg(long)]
    pub bind: Vec<String>,
    /// Data directory.
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Password clients must AUTH with.
    #[arg(long)]
    pub requirepass: Option<String>,
    /// When writes are acknowledged: always (after fdatasync), everysec or no.
    #[arg(long)]
    pub appendfsync: Option<String>,
    /// Maximum simultaneous clients.
    #[arg(long)]
    pub maxclients: Option<u32>,
    /// Close clients idle this many seconds (0: never).
    #[arg(long)]
    pub timeout: Option<u64>,
    /// Number of shards (one executor per core); 0: one per CPU.
    #[arg(long)]
    pub shards: Option<usize>,
    /// yes or no: without a password, serve only clients on the loopback interface.
    #[arg(long)]
    pub protected_mode: Option<String>,
    /// Per client class: `<class> <hard> <soft> <soft seconds>`, e.g. "normal 4mb 2mb 60".
    #[arg(long)]
    pub client_output_buffer_limit: Option<String>,
    /// Seconds an overwritten MVCC version stays readable before GC may drop it; 0: no GC.
    #[arg(long)]
    pub gc_life_time: Option<u64>,
    /// Total budget of the block and row caches of all shards, e.g. 512mb (default: 128mb per
    /// shard).
    #[arg(long)]
    pub cache_size: Option<String>,
    /// Memtable size per shard, e.g. 64mb; a shard holds up to three (one active, two flushing).
    #[arg(long)]
    pub memtable_size: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    port: Option<u16>,
    bind: Option<BindList>,
    dir: Option<PathBuf>,
    requirepass: Option<String>,
    appendfsync: Option<String>,
    maxclients: Option<u32>,
    timeout: Option<u64>,
    shards: Option<usize>,
    #[serde(rename = "protected-mode")]
    protected_mode: Option<String>,
    #[serde(rename = "client-output-buffer-limit")]
    client_output_buffer_limit: Option<String>,
    #[serde(rename = "gc-life-time")]
    gc_life_time: Option<u64>,
    #[serde(rename = "cache-size")]
    cache_size: Option<MemoryValue>,
    #[serde(rename = "memtable-size")]
    memtable_size: Option<MemoryValue>,
}

/// A memory size in the file: a byte count or text with a unit (`"512mb"`).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum MemoryValue {
    Bytes(u64),
    Text(String),
}

impl MemoryValue {
    fn into_text(self) -> String {
        match self {
            MemoryValue::Bytes(bytes) => bytes.to_string(),
            MemoryValue::Text(text) => text,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum BindList {
    One(String),
    Many(Vec<String>),
}

impl BindList {
    fn addresses(self) -> Vec<String> {
        match self {
            BindList::One(text) => text.split_whitespace().map(str::to_owned).collect(),
            BindList::Many(list) => list,
        }
    }
}

/// Builds the node configuration from the defaults, the file and the flags.
pub fn load(cli: Cli) -> anyhow::Result<NodeConfig> {
    let file = match &cli.config_file {
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
            toml::from_str::<FileConfig>(&text).with_context(|| format!("bad configuration in {}", path.display()))?
        }
        None => FileConfig::default(),
    };
    let mut config = NodeConfig { dir: PathBuf::from("./nokv-data"), ..NodeConfig::default() };
    apply(&mut config, file.port, file.bind.map(BindList::addresses), file.dir, file.requirepass)?;
    apply_tuning(&mut config, file.appendfsync, file.maxclients, file.timeout, file.shards)?;
    apply_client_limits(&mut config, file.protected_mode, file.client_output_buffer_limit)?;
    config.gc_life_time_secs = file.gc_life_time.unwrap_or(config.gc_life_time_secs);
    apply_budgets(
        &mut config,
        file.cache_size.map(MemoryValue::into_text),
        file.memtable_size.map(MemoryValue::into_text),
    )?;
    let bind =
        (!cli.bind.is_empty()).then(|| cli.bind.iter().flat_map(|b| b.split_whitespace()).map(str::to_owned).collect());
    apply(&mut config, cli.port, bind, cli.dir, cli.requirepass)?;
    apply_tuning(&mut config, cli.appendfsync, cli.maxclients, cli.timeout, cli.shards)?;
    apply_client_limits(&mut config, cli.protected_mode, cli.client_output_buffer_limit)?;
    config.gc_life_time_secs = cli.gc_life_time.unwrap_or(config.gc_life_time_secs);
    apply_budgets(&mut config, cli.cache_size, cli.memtable_size)?;
    config.validate().map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(config)
}

fn apply(
    config: &mut NodeConfig,
    port: Option<u16>,
    bind: Option<Vec<String>>,
    dir: Option<PathBuf>,
    requirepass: Option<String>,
) -> anyhow::Result<()> {
    if let Some(port) = port {
        if port == 0 {
            bail!("invalid port 0: choose a port between 1 and 65535");
        }
        config.port = port;
    }
    if let Some(bind) = bind {
        config.bind = bind;
    }
    if let Some(dir) = dir {
        config.dir = dir;
    }
    if let Some(password) = requirepass {
        config.requirepass = password;
    }
    Ok(())
}

fn apply_tuning(
    config: &mut NodeConfig,
    appendfsync: Option<String>,
    maxclients: Option<u32>,
    timeout: Option<u64>,
    shards: Option<usize>,
) -> anyhow::Result<()> {
    if let Some(text) = appendfsync {
        config.appendfsync = AppendFsync::parse(&text)
            .with_context(|| format!("invalid appendfsync {text:?}: use always, everysec or no"))?;
    }
    if let Some(maxclients) = maxclients {
        config.maxclients = maxclients;
    }
    if let Some(timeout) = timeout {
        config.timeout_secs = timeout;
    }
    if let Some(shards) = shards {
        config.shards = shards;
    }
    Ok(())
}

fn apply_client_limits(
    config: &mut NodeConfig,
    protected_mode: Option<String>,
    output_buffer_limit: Option<String>,
) -> anyhow::Result<()> {
    if let Some(text) = protected_mode {
        config.protected_mode = match text.to_ascii_lowercase().as_str() {
            "yes" => true,
            "no" => false,
            _ => bail!("invalid protected-mode {text:?}: use yes or no"),
        };
    }
    if let Some(text) = output_buffer_limit {
        config.client_output_buffer_limit = config
            .client_output_buffer_limit
            .updated(&text)
            .map_err(|reason| anyhow::anyhow!("invalid client-output-buffer-limit {text:?}: {reason}"))?;
    }
    Ok(())
}

fn apply_budgets(
    config: &mut NodeConfig,
    cache_size: Option<String>,
    memtable_size: Option<String>,
) -> anyhow::Result<()> {
    if let Some(text) = cache_size {
        config.cache_size_bytes = Some(memory_value("cache-size", &text)?);
    }
    if let Some(text) = memtable_size {
        config.memtable_size_bytes = memory_value("memtable-size", &text)?;
    }
    Ok(())
}

/// Redis's memory syntax, with Redis's complaint about anything else.
fn memory_value(name: &str, text: &str) -> anyhow::Result<u64> {
    parse_memory(text)
        .with_context(|| format!("invalid {name} {text:?}: argument must be a memory value (e.g. 512mb, 1gb)"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use nokv_shard::ClientOutputBufferLimits;

    fn cli(args: &[&str]) -> Cli {
        Cli::parse_from(std::iter::once("nokv").chain(args.iter().copied()))
    }

    #[test]
    fn defaults_match_redis() {
        let config = load(cli(&[])).expect("defaults");
        assert_eq!((config.port, config.bind.clone()), (6379, vec!["127.0.0.1".to_string()]));
        assert_eq!(config.dir, PathBuf::from("./nokv-data"));
        assert_eq!(config.appendfsync, AppendFsync::Always);
    }

    #[test]
    fn file_then_flags() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("nokv.toml");
        std::fs::write(&path, "port = 7000\nbind = \"127.0.0.2 127.0.0.3\"\nappendfsync = \"everysec\"\n")
            .expect("write");
        let config = load(cli(&[path.to_str().expect("utf-8"), "--port", "7001"])).expect("load");
        assert_eq!(config.port, 7001);
        assert_eq!(config.bind, vec!["127.0.0.2".to_string(), "127.0.0.3".to_string()]);
        assert_eq!(config.appendfsync, AppendFsync::Everysec);
    }

    #[test]
    fn client_limits_from_file_and_flags() {
        let config = load(cli(&[])).expect("defaults");
        assert!(config.protected_mode);
        assert_eq!(config.client_output_buffer_limit, ClientOutputBufferLimits::default());
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("nokv.toml");
        std::fs::write(&path, "protected-mode = \"no\"\nclient-output-buffer-limit = \"normal 4mb 2mb 2\"\n")
            .expect("write");
        let config = load(cli(&[path.to_str().expect("utf-8")])).expect("load");
        assert!(!config.protected_mode);
        assert_eq!(config.client_output_buffer_limit.normal.hard_bytes, 4 << 20);
        let flags = ["--protected-mode", "yes", "--client-output-buffer-limit", "normal 1mb 0 0"];
        let config = load(cli(&flags)).expect("flags");
        assert!(config.protected_mode);
        assert_eq!(config.client_output_buffer_limit.normal.hard_bytes, 1 << 20);
        let error = load(cli(&["--client-output-buffer-limit", "normal 1"])).expect_err("invalid");
        assert!(error.to_string().contains("Wrong number of arguments"), "{error}");
        assert!(load(cli(&["--protected-mode", "maybe"])).is_err());
    }

    #[test]
    fn gc_life_time_from_file_and_flags() {
        assert_eq!(load(cli(&[])).expect("defaults").gc_life_time_secs, 600, "DESIGN's 10 minutes");
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("nokv.toml");
        std::fs::write(&path, "gc-life-time = 30\n").expect("write");
        let file = path.to_str().expect("utf-8");
        assert_eq!(load(cli(&[file])).expect("file").gc_life_time_secs, 30);
        assert_eq!(load(cli(&[file, "--gc-life-time", "0"])).expect("flag").gc_life_time_secs, 0);
    }

    #[test]
    fn memory_budgets_from_file_and_flags() {
        let defaults = load(cli(&["--shards", "2"])).expect("defaults");
        assert_eq!((defaults.cache_size_total_bytes(), defaults.memtable_size_bytes), (256 << 20, 64 << 20));
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("nokv.toml");
        std::fs::write(&path, "cache-size = \"1gb\"\nmemtable-size = 33554432\n").expect("write");
        let file = path.to_str().expect("utf-8");
        let config = load(cli(&[file])).expect("file");
        assert_eq!((config.cache_size_bytes, config.memtable_size_bytes), (Some(1 << 30), 32 << 20));
        let config = load(cli(&[file, "--cache-size", "512MB", "--memtable-size", "16mb"])).expect("flags");
        assert_eq!((config.cache_size_bytes, config.memtable_size_bytes), (Some(512 << 20), 16 << 20));
        let error = load(cli(&["--cache-size", "lots"])).expect_err("not a size");
        assert!(error.to_string().contains("invalid cache-size \"lots\": argument must be a memory value"), "{error}");
        let error = load(cli(&["--memtable-size", "100kb"])).expect_err("too small");
        assert!(error.to_string().contains("memtable-size"), "{error}");
        let error = load(cli(&["--shards", "4", "--cache-size", "2mb"])).expect_err("too small per shard");
        assert!(error.to_string().contains("cache-size: must be at least 1mb per shard"), "{error}");
    }

    #[test]
    fn bad_values_are_clear_errors() {
        let error = load(cli(&["--appendfsync", "sometimes"])).expect_err("invalid");
        assert!(error.to_string().contains("appendfsync"));
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, "prot = 1\n").expect("write");
        let error = load(cli(&[path.to_str().expect("utf-8")])).expect_err("unknown key");
        assert!(format!("{error:#}").contains("prot"));
    }
}
