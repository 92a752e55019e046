//! `loadgen`: a pipelined RESP load generator for the workloads redis-benchmark cannot express:
//! mixed read/write ratios, zipfian keys, value-size mixes, MGET/MSET fan-out, INCR, key spaces
//! larger than memory. It reports HDR latency histograms per operation (p50/p99/p99.9/max), a
//! per-second timeline, and every error by kind; it is also the driver of the cluster tests (it
//! reconnects and keeps counting when the server goes away). The crash soak ([`crate::soak`])
//! reuses its RESP codec, key names and value-size mixes.
//!
//! - [`config`]: the flags ([`Args`]) and their small languages (`zipfian:0.9`,
//!   `16:0.7,1024:0.3`).
//! - [`keys`]: uniform and YCSB zipfian key choice, scattered over the key space; key names.
//! - [`workload`]: the request mix, encoded straight into the output buffer, and the reply each
//!   request expects.
//! - [`resp`]: the client side of RESP (requests out, reply summaries in).
//! - [`stats`]: per-thread recorders, histograms, error counts.
//! - [`report`]: the timeline and summary, as text or JSON lines.
//! - [`run`]: the glommio executors and connection loops.

pub mod config;
pub mod keys;
pub mod report;
pub mod resp;
mod runner;
pub mod stats;
pub mod workload;

pub use config::Args;
pub use runner::run;
