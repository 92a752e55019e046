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

/// mimalloc's purge delay, unless `MIMALLOC_PURGE_DELAY` says otherwise. mimalloc returns
/// freed arena memory to the OS after 10x this (10 s with its default of 1 s), and the write
/// path frees and reallocates a memtable's worth of raft entries (the values are sliced from
/// them) every few seconds: memory purged in between faulted and was zeroed again. With 10 s
/// (100 s for arenas), 1M SETs of 1 KiB at -P16 fault 271k pages instead of 341k and call
/// madvise 544 times instead of 1,784, with the same RSS at the end
/// (perf/results/mimalloc-purge-delay-2026-12-07.md). Freed memory still goes back to the OS,
/// 100 s after it was freed instead of 10 s.
const PURGE_DELAY_MS: std::ffi::c_long = 10_000;
/// `mi_option_purge_delay` in mimalloc v3's `mimalloc.h` (libmimalloc-sys does not name it; the
/// test checks the number against mimalloc's default).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn set_allocator_options() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: mi_option_set stores an option's value, which mimalloc reads when it next
        // schedules a purge; it takes no pointers and may be called at any time.
        #[allow(unsafe_code)]
        unsafe {
            libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, PURGE_DELAY_MS);
        }
    }
}

fn main() -> ExitCode {
    set_allocator_options();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_purge_delay_option_is_the_one_mimalloc_reads() {
        // SAFETY: mi_option_get reads an option's value; it takes no pointers.
        #[allow(unsafe_code)]
        let default = unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) };
        assert_eq!(default, 1000, "mimalloc v3's default purge delay: the option number is right");
        set_allocator_options();
        // SAFETY: as above.
        #[allow(unsafe_code)]
        let set = unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) };
        assert_eq!(set, PURGE_DELAY_MS);
    }
}
