//! NoKV's measuring tools: the engine benchmark (db_bench workloads), the RESP load generator
//! and the side-by-side benchmark drivers. Results are recorded under `perf/results/`.
//!
//! - [`dbbench`]: db_bench's key and value generators and its report format, so NoKV's
//!   `engine_bench` and RocksDB's `db_bench` run the same data and print the same lines.
//! - [`loadgen`]: the RESP load generator (pipelined, many connections, zipfian keys, value-size
//!   mixes, MGET/MSET fan-out, HDR histograms and a per-second timeline).
//! - [`soak`]: the crash soak (mixed load, random SIGKILLs and restarts, every acknowledged
//!   write checked against a model after each restart).

pub mod dbbench;
pub mod loadgen;
pub mod soak;

/// Logs to stderr at `RUST_LOG`'s levels (default `warn`): the tools' binaries share this.
pub fn init_tracing() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .init();
}
