//! `loadgen`: the RESP load generator (see `nokv_perf::loadgen`).
//!
//! ```text
//! loadgen --port 6379 --connections 50 --pipeline 16 --threads 1 --cpus 1 \
//!     --duration-secs 20 --key-dist zipfian --keyspace 1000000 --read-ratio 0.5
//! ```
//!
//! Exit status: 0 when the error ratio is within `--max-error-ratio` (default 0) and some
//! request was measured, 1 otherwise, 2 when the run overran its hard deadline.

use std::process::ExitCode;

use clap::Parser;
use nokv_perf::loadgen::{self, Args};

fn main() -> anyhow::Result<ExitCode> {
    let args = Args::parse();
    nokv_perf::init_tracing();
    let passed = loadgen::run(&args)?;
    Ok(if passed { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
