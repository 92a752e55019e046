//! `soak`: the crash soak. A mixed load (SET, GET, INCR, DEL, EXPIRE, MSET; values from 10 B to
//! 64 KiB, so both the LSM and the value log are written) runs against a `nokv` this tool
//! starts itself, which is SIGKILLed at random moments and restarted on the same directory.
//! After every restart a checker reads every key back and compares it with a model of every
//! acknowledged write: an acknowledged value (or a later in-flight one) must be there, INCR
//! counters never go backwards, deleted keys stay deleted, TTLs survive and short TTLs still
//! expire. Any difference is a violation, printed with the key, the acceptable states and what
//! was read, and makes the run fail.
//!
//! - [`config`]: the flags ([`Args`]).
//! - [`model`]: per-key states, the acceptable states after a crash, the checks.
//! - [`values`]: value bytes as a function of the write that sent them.
//! - [`workload`]: the request mix and the partition of keys over the connections.
//! - [`client`]: a blocking pipelined RESP connection (the codec is [`crate::loadgen::resp`]).
//! - [`worker`]: one connection's load between two kills, replies checked as they arrive.
//! - [`verify`]: the full check after a restart.
//! - [`server`]: the `nokv` child process (start, SIGKILL, restart, killed on drop).
//! - [`run`]: the phases and the summary.
//!
//! Not covered: multi-key atomicity (an MSET or a two-key DEL across regions is not atomic in
//! NoKV yet, so each key is checked on its own), power loss (SIGKILL leaves the page cache
//! intact), and concurrent writers on one key (each key has one writing connection, so the
//! expected state is exact).

pub mod client;
pub mod config;
pub mod model;
mod run;
pub mod server;
pub mod values;
pub mod verify;
pub mod worker;
pub mod workload;

pub use config::Args;
pub use run::run;

/// Wall-clock milliseconds since the Unix epoch: the clock the server computes TTL deadlines on.
pub fn now_ms() -> u64 {
    let since_epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    since_epoch.as_millis() as u64
}
