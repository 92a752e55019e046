//! The soak's command line and its validation.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, ensure};
use clap::Parser;

use super::workload::{KeySpace, MULTI_KEYS_MAX};
use crate::loadgen::config::ValueSizes;

/// The largest value the soak writes (its payload buffer is this large).
const MAX_VALUE_BYTES: usize = 1024 * 1024;

/// `soak` flags.
#[derive(Parser, Debug, Clone)]
#[command(
    name = "soak",
    about = "Crash soak: mixed load on a nokv that is SIGKILLed and restarted at random, every \
             acknowledged write checked after each restart"
)]
pub struct Args {
    /// The nokv binary (default: `nokv` next to this executable).
    #[arg(long)]
    pub nokv: Option<PathBuf>,
    /// Data directory, missing or empty (default: a temporary directory, removed unless the
    /// soak fails).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Keep the data directory even when the soak passes.
    #[arg(long)]
    pub keep_dir: bool,
    /// Run length; the last phase ends with a kill and a full check like the others.
    #[arg(long, default_value_t = 120)]
    pub duration_secs: u64,
    /// Stop after this many kill-and-restart cycles even if time is left.
    #[arg(long, default_value_t = 10_000)]
    pub max_restarts: u64,
    /// Shortest load phase between two kills.
    #[arg(long, default_value_t = 1000)]
    pub min_kill_interval_ms: u64,
    /// Longest load phase between two kills (drawn uniformly in between).
    #[arg(long, default_value_t = 8000)]
    pub max_kill_interval_ms: u64,
    /// Client connections, each owning its share of the keys.
    #[arg(long, default_value_t = 4)]
    pub connections: usize,
    /// Most requests a connection pipelines at once (each batch draws 1..=this).
    #[arg(long, default_value_t = 8)]
    pub pipeline: usize,
    /// Server shards (`nokv --shards`).
    #[arg(long, default_value_t = 2)]
    pub shards: usize,
    /// Keys written by SET/MSET/DEL/EXPIRE.
    #[arg(long, default_value_t = 2048)]
    pub keys: u64,
    /// INCR counters.
    #[arg(long, default_value_t = 128)]
    pub counters: u64,
    /// Keys written with a short TTL (SET ... PX).
    #[arg(long, default_value_t = 256)]
    pub ttl_keys: u64,
    /// Value sizes, `size:weight,...` (some at or above 4096 so the value log is used).
    #[arg(long, default_value = "10:0.5,200:0.25,1500:0.15,4096:0.06,20000:0.03,65536:0.01")]
    pub value_sizes: ValueSizes,
    /// Random seed (default: from the clock); printed so a run can be repeated.
    #[arg(long)]
    pub seed: Option<u64>,
    /// How long the server may take to answer PING after a (re)start.
    #[arg(long, default_value_t = 60)]
    pub ready_timeout_secs: u64,
    /// Stop (as a failure) once the data directory is larger than this after a check: the key
    /// space is bounded, so unbounded growth means space is not being reclaimed, and the soak
    /// must not fill the disk.
    #[arg(long, default_value_t = 24576)]
    pub max_data_mib: u64,
    /// How long a client waits for a reply before giving up on the connection.
    #[arg(long, default_value_t = 10)]
    pub reply_timeout_secs: u64,
    /// An extra `nokv` flag (repeat for several, `--server-arg=--gc-life-time --server-arg=5`).
    #[arg(long, allow_hyphen_values = true)]
    pub server_arg: Vec<String>,
}

impl Args {
    /// Checks the flags against each other.
    pub fn validate(&self) -> anyhow::Result<()> {
        ensure!(self.duration_secs >= 1, "--duration-secs must be at least 1");
        ensure!(self.max_restarts >= 1, "--max-restarts must be at least 1");
        ensure!(self.min_kill_interval_ms >= 100, "--min-kill-interval-ms must be at least 100");
        ensure!(self.min_kill_interval_ms <= self.max_kill_interval_ms, "--min-kill-interval-ms exceeds the maximum");
        ensure!(self.connections >= 1 && self.pipeline >= 1, "--connections and --pipeline must be at least 1");
        ensure!(self.shards >= 1, "--shards must be at least 1");
        let per_connection = |keys: u64| keys / self.connections as u64;
        ensure!(
            per_connection(self.keys) >= MULTI_KEYS_MAX as u64,
            "--keys must give each connection at least {MULTI_KEYS_MAX} keys"
        );
        ensure!(
            per_connection(self.counters) >= 1 && per_connection(self.ttl_keys) >= 1,
            "--counters and --ttl-keys must give each connection at least one key"
        );
        let largest = self.value_sizes.largest_bytes();
        ensure!(largest <= MAX_VALUE_BYTES, "values of {largest} B exceed {MAX_VALUE_BYTES} B");
        let smallest = self.value_sizes.weights().iter().map(|&(size, _)| size).min().unwrap_or(0);
        ensure!(smallest >= 1, "values must be at least 1 byte");
        ensure!(self.ready_timeout_secs >= 1 && self.reply_timeout_secs >= 1, "timeouts must be at least 1 s");
        Ok(())
    }

    /// The nokv binary to run.
    pub fn nokv_binary(&self) -> anyhow::Result<PathBuf> {
        match &self.nokv {
            Some(path) => Ok(path.clone()),
            None => Ok(std::env::current_exe().context("locating the soak executable")?.with_file_name("nokv")),
        }
    }

    pub fn key_space(&self) -> KeySpace {
        KeySpace { value_keys: self.keys, counter_keys: self.counters, ttl_keys: self.ttl_keys }
    }

    pub fn duration(&self) -> Duration {
        Duration::from_secs(self.duration_secs)
    }

    pub fn reply_timeout(&self) -> Duration {
        Duration::from_secs(self.reply_timeout_secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(flags: &[&str]) -> Args {
        Args::try_parse_from(std::iter::once("soak").chain(flags.iter().copied())).expect("flags parse")
    }

    #[test]
    fn defaults_are_a_two_minute_soak_that_uses_the_value_log() {
        let args = args(&[]);
        args.validate().expect("defaults are valid");
        assert_eq!(args.duration(), Duration::from_secs(120));
        assert_eq!(args.value_sizes.largest_bytes(), 65536);
        assert!(args.value_sizes.weights().iter().any(|&(size, weight)| size == 10 && weight > 0.0));
    }

    #[test]
    fn inconsistent_flags_are_rejected() {
        for flags in [
            &["--keys", "12", "--connections", "4"][..],
            &["--min-kill-interval-ms", "9000"],
            &["--counters", "2", "--connections", "4"],
            &["--value-sizes", "2000000"],
            &["--duration-secs", "0"],
        ] {
            assert!(args(flags).validate().is_err(), "{flags:?} should be rejected");
        }
    }
}
