//! The value-log head: a crash leaks none of the values its unflushed memtables appended.
//!
//! Values of at least `value_threshold_bytes` go to the value log when they are applied, and
//! the journal replays them after a crash, which appends them again. Each flush records the
//! head (the end of the values flushed tables point at) and open cuts the value log back to it
//! before the replay, so crash after crash the value log keeps the size of one copy of the
//! unflushed values, and every acknowledged value reads back.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use futures_lite::future::block_on;
use nokv_engine::io::mem::{CrashMode, Fault, FaultOp, MemFs};
use nokv_engine::manifest::Manifest;
use nokv_engine::vlog::{ValueLog, ValueLogOptions};
use nokv_engine::{Db, Durability, EngineOptions};

const DIR: &str = "/db";

fn options() -> EngineOptions {
    let mut options = EngineOptions { memtable_size_bytes: 1 << 20, ..Default::default() };
    options.value_log.file_size_bytes = 1 << 20;
    // Small enough that unflushed values reach the files (and so survive a process kill).
    options.value_log.write_buffer_bytes = 64 << 10;
    options
}

/// 8 KiB that lz4 cannot shrink: each value is one value-log record of a known size.
fn value(key: usize, generation: u8) -> Vec<u8> {
    common::incompressible(((key as u64 + 1) << 8) | u64::from(generation), 8192)
}

fn key(key: usize) -> Vec<u8> {
    format!("key{key:05}").into_bytes()
}

/// Writes `generation` of keys `0..keys`, each acknowledged after the journal's sync, and notes
/// it in `model`.
async fn put_all(db: &Db<MemFs>, keys: usize, generation: u8, model: &mut BTreeMap<usize, u8>) {
    for k in 0..keys {
        db.put(&key(k), &value(k, generation), Durability::Sync).await.expect("put");
        model.insert(k, generation);
    }
}

async fn check(db: &Db<MemFs>, model: &BTreeMap<usize, u8>) {
    for (&k, &generation) in model {
        let found = db.get(&key(k)).await.expect("get");
        assert!(found.as_deref() == Some(value(k, generation).as_slice()), "key {k} lost or wrong");
    }
}

/// A store with one flushed generation of 40 keys and a second, unflushed one; returns it, its
/// model and the value-log bytes written.
async fn flushed_then_unflushed(fs: &MemFs) -> (Db<MemFs>, BTreeMap<usize, u8>, u64) {
    let db = Db::open(fs.clone(), Path::new(DIR), options()).await.expect("open");
    let mut model = BTreeMap::new();
    put_all(&db, 40, 1, &mut model).await;
    db.flush().await.expect("flush");
    put_all(&db, 40, 2, &mut model).await;
    let written_bytes = db.engine().value_log_bytes();
    (db, model, written_bytes)
}

async fn crash_and_reopen(fs: &MemFs, mode: CrashMode, options: &EngineOptions) -> Db<MemFs> {
    fs.crash(mode);
    Db::open(fs.clone(), Path::new(DIR), options.clone()).await.expect("reopen")
}

#[test]
fn crash_after_crash_before_any_flush_the_value_log_stays_the_same_size() {
    block_on(async {
        let fs = MemFs::new();
        let db = Db::open(fs.clone(), Path::new(DIR), options()).await.expect("open");
        let mut model = BTreeMap::new();
        put_all(&db, 40, 1, &mut model).await;
        let written_bytes = db.engine().value_log_bytes();
        for round in 0..5 {
            let db = crash_and_reopen(&fs, CrashMode::ProcessKill, &options()).await;
            check(&db, &model).await;
            assert_eq!(db.engine().stats().flushes, 0, "nothing flushed: every value came from the journal");
            let bytes = db.engine().value_log_bytes();
            assert_eq!(bytes, written_bytes, "round {round}: the value log grew from {written_bytes} to {bytes}");
        }
    });
}

#[test]
fn crashes_cut_only_the_values_past_the_last_flush() {
    block_on(async {
        let fs = MemFs::new();
        let (_db, mut model, written_bytes) = flushed_then_unflushed(&fs).await;
        let modes = [CrashMode::ProcessKill, CrashMode::PowerLoss, CrashMode::TornWrite { seed: 77 }];
        for (round, mode) in modes.into_iter().cycle().take(6).enumerate() {
            let db = crash_and_reopen(&fs, mode, &options()).await;
            check(&db, &model).await;
            let bytes = db.engine().value_log_bytes();
            assert_eq!(
                bytes, written_bytes,
                "round {round} ({mode:?}): the value log grew from {written_bytes} to {bytes}"
            );
        }
        // The flushed generation is still there after all the cutting, and writes go on.
        let db = crash_and_reopen(&fs, CrashMode::ProcessKill, &options()).await;
        db.flush().await.expect("flush");
        put_all(&db, 40, 3, &mut model).await;
        let db = crash_and_reopen(&fs, CrashMode::PowerLoss, &options()).await;
        check(&db, &model).await;
    });
}

#[test]
fn many_crashes_with_writes_and_rotations_lose_nothing_and_leak_nothing() {
    block_on(async {
        let fs = MemFs::new();
        let mut db = Db::open(fs.clone(), Path::new(DIR), options()).await.expect("open");
        let mut model = BTreeMap::new();
        let keys = 60; // ~480 KiB a generation: rotations every other generation
        let mut generation = 0u8;
        let modes = [CrashMode::ProcessKill, CrashMode::PowerLoss, CrashMode::TornWrite { seed: 5 }];
        for (round, mode) in modes.into_iter().cycle().take(9).enumerate() {
            generation += 1;
            put_all(&db, keys, generation, &mut model).await;
            if round % 3 == 0 {
                db.flush().await.expect("flush");
            }
            db = crash_and_reopen(&fs, mode, &options()).await;
            check(&db, &model).await;
        }
        // Flushed generations stay until compaction drops them; each is written once (plus
        // padding: each 64 KiB buffer write ends on a 4 KiB boundary). Without the cut, every
        // crash would add the unflushed generations once more.
        let generation_bytes = keys as u64 * 8300 * 17 / 16;
        let bound = u64::from(generation) * generation_bytes;
        let bytes = db.engine().value_log_bytes();
        assert!(bytes <= bound, "value log of {bytes} bytes for {generation} generations of {generation_bytes}");
    });
}

#[test]
fn a_crash_between_the_value_log_sync_and_the_manifest_write_leaks_nothing() {
    block_on(async {
        let fs = MemFs::new();
        let (db, model, written_bytes) = flushed_then_unflushed(&fs).await;
        // The flush syncs the value log and writes its tables, then fails to log its edit.
        let fault = Fault { op: FaultOp::Write, path_contains: "MANIFEST".into(), count: 1, os_error: None };
        fs.inject(fault);
        assert!(db.flush().await.is_err(), "the manifest write was meant to fail");
        fs.clear_faults();
        for mode in [CrashMode::PowerLoss, CrashMode::ProcessKill] {
            let db = crash_and_reopen(&fs, mode, &options()).await;
            check(&db, &model).await;
            assert_eq!(db.engine().value_log_bytes(), written_bytes, "after {mode:?}");
        }
    });
}

#[test]
fn a_crash_after_gc_relocation_but_before_its_flush_keeps_the_source_and_cuts_the_copies() {
    block_on(async {
        let fs = MemFs::new();
        let dir = Path::new(DIR);
        let mut options = options();
        options.value_log.gc_discard_ratio = 0.5;
        let db = Db::open(fs.clone(), dir, options.clone()).await.expect("open");
        let mut model = BTreeMap::new();
        put_all(&db, 300, 1, &mut model).await;
        db.flush().await.expect("flush");
        for k in (0..300).filter(|k| k % 5 != 0) {
            db.put(&key(k), &value(k, 2), Durability::Sync).await.expect("put");
            model.insert(k, 2);
        }
        db.flush().await.expect("flush");
        db.engine().compact_until_idle().await.expect("compact");
        db.engine().compact_range_all().await.expect("manual compaction");
        // Measured after a reopen, which counts sealed files to their padded end.
        let db = crash_and_reopen(&fs, CrashMode::PowerLoss, &options).await;
        let engine = db.engine();
        let bytes_before_gc = engine.value_log_bytes();
        let relocated = engine.gc_value_log().await.expect("gc").expect("a GC candidate");
        assert!(engine.value_log_bytes() > bytes_before_gc, "GC relocated nothing");
        let db = crash_and_reopen(&fs, CrashMode::ProcessKill, &options).await;
        check(&db, &model).await;
        let file = dir.join("vlog").join(nokv_engine::vlog::file_name(relocated));
        assert!(fs.paths().contains(&file), "the GC source must survive until its relocation is flushed");
        assert_eq!(db.engine().value_log_bytes(), bytes_before_gc, "the relocated copies leaked");
        // GC runs again and this time its flush makes the relocation durable.
        while db.engine().gc_value_log().await.expect("gc").is_some() {
            db.flush().await.expect("flush");
        }
        db.flush().await.expect("flush");
        assert!(db.engine().value_log_bytes() < bytes_before_gc, "GC reclaimed nothing");
        let db = crash_and_reopen(&fs, CrashMode::PowerLoss, &options).await;
        check(&db, &model).await;
    });
}

#[test]
fn a_store_without_a_recorded_head_keeps_its_value_log_and_adopts_its_end() {
    block_on(async {
        let fs = MemFs::new();
        let dir = Path::new(DIR);
        // As a version without heads left it: a manifest without one, values in the log.
        let (manifest, version) = Manifest::open(fs.clone(), dir).await.expect("manifest");
        assert_eq!(version.vlog_head, None);
        drop(manifest);
        let vlog = ValueLog::open(fs.clone(), &dir.join("vlog"), ValueLogOptions::default()).await.expect("vlog");
        let pointers = vlog.append(&[(b"old", &[7u8; 10_000][..])]).await.expect("append");
        vlog.sync().await.expect("sync");
        let end = pointers[0].end();
        drop(vlog);
        let db = Db::open(fs.clone(), dir, options()).await.expect("open");
        assert_eq!(db.engine().value_log_head(), Some(end), "open adopts the end of the log as its head");
        assert_eq!(db.engine().value_log_bytes(), end.offset, "nothing is cut");
        let mut model = BTreeMap::new();
        put_all(&db, 10, 1, &mut model).await;
        let db = crash_and_reopen(&fs, CrashMode::ProcessKill, &options()).await;
        check(&db, &model).await;
        assert_eq!(db.engine().value_log_head(), Some(end));
        let cut_to_head_and_replayed = end.offset.div_ceil(4096) * 4096 + 10 * 8300 * 17 / 16;
        let bytes = db.engine().value_log_bytes();
        assert!(bytes <= cut_to_head_and_replayed, "{bytes} bytes, head {end:?}");
        assert_eq!(db.engine().value_log_stats().files_cut, 0);
    });
}
