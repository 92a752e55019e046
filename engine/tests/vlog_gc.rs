//! Value-log GC: after most large values are overwritten, compaction's discard statistics make
//! the old value-log files GC candidates; GC relocates the live values, the next flush makes
//! that durable and the files are deleted; every live value still reads back, also after reopen.

mod common;

use std::path::Path;

use futures_lite::future::block_on;
use nokv_engine::io::mem::{CrashMode, MemFs};
use nokv_engine::{Db, Durability, EngineOptions};

fn options() -> EngineOptions {
    let mut options = EngineOptions { memtable_size_bytes: 1 << 20, ..Default::default() };
    options.value_log.file_size_bytes = 1 << 20;
    options.value_log.gc_discard_ratio = 0.5;
    options
}

/// 8 KiB that lz4 cannot shrink, so the values fill several value-log files.
fn value(key: usize, generation: u8) -> Vec<u8> {
    common::incompressible(((key as u64 + 1) << 8) | u64::from(generation), 8192)
}

#[test]
fn gc_reclaims_space_and_keeps_live_values() {
    gc_reclaims_space_and_keeps_live_values_with(options());
}

/// The same with the values moved to the value log by flushes, not by writes.
#[test]
fn gc_reclaims_space_of_values_separated_at_flush() {
    let options =
        EngineOptions { value_threshold_bytes: 1 << 20, flush_value_threshold_bytes: Some(1024), ..options() };
    gc_reclaims_space_and_keeps_live_values_with(options);
}

fn gc_reclaims_space_and_keeps_live_values_with(options: EngineOptions) {
    block_on(async {
        let fs = MemFs::new();
        let dir = Path::new("/db");
        let db = Db::open(fs.clone(), dir, options.clone()).await.expect("open");
        let keys = 600;
        for key in 0..keys {
            db.put(format!("key{key:05}").as_bytes(), &value(key, 1), Durability::Written).await.expect("put");
        }
        db.flush().await.expect("flush");
        // Overwrite 80% of the keys, then push the old versions out through compaction.
        for key in (0..keys).filter(|k| k % 5 != 0) {
            db.put(format!("key{key:05}").as_bytes(), &value(key, 2), Durability::Written).await.expect("put");
        }
        db.flush().await.expect("flush");
        let engine = db.engine();
        let summary_before = engine.value_log_bytes();
        force_full_compaction(&db).await;
        let mut collected = 0;
        while let Some(_file) = engine.gc_value_log().await.expect("gc") {
            db.flush().await.expect("flush");
            collected += 1;
        }
        db.flush().await.expect("flush");
        assert!(collected > 0, "GC found no candidate");
        assert!(
            engine.value_log_bytes() < summary_before,
            "no space reclaimed: {} -> {}",
            summary_before,
            engine.value_log_bytes()
        );
        check_all(&db, keys).await;
        fs.crash(CrashMode::PowerLoss);
        let reopened = Db::open(fs.clone(), dir, options).await.expect("reopen");
        check_all(&reopened, keys).await;
    });
}

async fn force_full_compaction(db: &Db<MemFs>) {
    let engine = db.engine();
    engine.compact_until_idle().await.expect("compact");
    engine.compact_range_all().await.expect("manual compaction");
}

async fn check_all(db: &Db<MemFs>, keys: usize) {
    for key in 0..keys {
        let generation = if key % 5 == 0 { 1 } else { 2 };
        let found = db.get(format!("key{key:05}").as_bytes()).await.expect("get");
        assert_eq!(found.as_deref(), Some(value(key, generation).as_slice()), "key {key}");
    }
}

/// A memtable holding only pointers is small, but the journal holds the values until it is
/// flushed: the memtable is frozen once its separated values reach `max_unflushed_value_bytes`.
#[test]
fn separated_values_freeze_the_memtable_long_before_it_is_full() {
    block_on(async {
        let fs = MemFs::new();
        let dir = Path::new("/db");
        let options = EngineOptions {
            memtable_size_bytes: 64 << 20,
            max_unflushed_value_bytes: 256 << 10,
            max_frozen_memtables: 1,
            ..options()
        };
        let db = Db::open(fs.clone(), dir, options.clone()).await.expect("open");
        let keys = 120; // 120 x 8 KiB: about 960 KiB of values, 3.75 times the bound
        for key in 0..keys {
            db.put(format!("key{key:05}").as_bytes(), &value(key, 1), Durability::Written).await.expect("put");
        }
        let flushes = db.engine().stats().flushes;
        assert!(flushes >= 2, "only {flushes} flushes for ~960 KiB of separated values");
        fs.crash(CrashMode::ProcessKill);
        let reopened = Db::open(fs.clone(), dir, options).await.expect("reopen");
        for key in 0..keys {
            let found = reopened.get(format!("key{key:05}").as_bytes()).await.expect("get");
            assert!(found.as_deref() == Some(value(key, 1).as_slice()), "key {key} lost or wrong after reopen");
        }
    });
}
