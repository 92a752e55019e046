//! The `nokv` server binary: command line and configuration file, then `shard::run`.

mod config;

use std::process::ExitCode;

use clap::Parser;

/// mimalloc instead of glibc malloc: per-thread free lists without locks suit one thread per
/// core, and its segments return memory to the OS instead of fragmenting arenas. Built with
/// `no_thp`: mimalloc otherwise marks its arenas MADV_HUGEPAGE, and every page it re-commits
/// after a purge then costs a fault that zeroes 2 MiB (11% of the CPU on SET 16 B -P16; see
/// perf/results/mimalloc-thp-2026-12-05.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
    let config = match config::load(config::Cli::parse()) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("nokv: {error:#}");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(port = config.port, bind = ?config.bind, dir = %config.dir.display(), "starting nokv");
    match nokv_shard::run(config) {
        Ok(()) => {
            tracing::info!("nokv stopped");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("nokv: {error}");
            ExitCode::FAILURE
        }
    }
}
