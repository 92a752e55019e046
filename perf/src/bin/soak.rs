//! `soak`: the crash soak (see `nokv_perf::soak`).
//!
//! ```text
//! soak --duration-secs 120 [--nokv target/debug/nokv] [--seed N] [--dir DIR]
//! ```
//!
//! Exit status: 0 when every check passed, 1 on any violation or failure (the server exited by
//! itself, did not come back within --ready-timeout-secs, or dropped a client before a kill).

use std::process::ExitCode;

use clap::Parser;
use nokv_perf::soak::{self, Args};

fn main() -> anyhow::Result<ExitCode> {
    let args = Args::parse();
    nokv_perf::init_tracing();
    let passed = soak::run(&args)?;
    Ok(if passed { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
