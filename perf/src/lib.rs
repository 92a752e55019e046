//! NoKV's measuring tools: the engine benchmark (db_bench workloads), the RESP load generator
//! and the side-by-side benchmark drivers. Results are recorded under `perf/results/`.
//!
//! - [`dbbench`]: db_bench's key and value generators and its report format, so NoKV's
//!   `engine_bench` and RocksDB's `db_bench` run the same data and print the same lines.
//! - [`loadgen`]: the RESP load generator (pipelined, many connections, zipfian keys, value-size
//!   mixes, MGET/MSET fan-out, HDR histograms and a per-second timeline).

pub mod dbbench;
pub mod loadgen;
