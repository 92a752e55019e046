//! Fault tests on the in-memory io: a torn journal tail, a flipped byte in an SST block and in a
//! value-log record. Each is detected (an error, or a truncated tail of unacknowledged writes);
//! none is ever returned as wrong data.

mod common;

use std::path::{Path, PathBuf};

use futures_lite::future::block_on;
use nokv_engine::io::mem::{CrashMode, MemFs};
use nokv_engine::{Db, Durability, EngineOptions, Error};

fn options() -> EngineOptions {
    let mut options = EngineOptions { memtable_size_bytes: 1 << 20, ..Default::default() };
    options.table.compression = false;
    options
}

/// Incompressible bytes derived from the key (so value-log records keep their size).
fn value(key: usize, len: usize) -> Vec<u8> {
    common::incompressible(key as u64, len)
}

fn files_under(fs: &MemFs, dir: &str) -> Vec<PathBuf> {
    fs.paths().into_iter().filter(|p| p.starts_with(dir)).collect()
}

#[test]
fn torn_journal_tail_keeps_every_synced_write_and_no_garbage() {
    for seed in 0..64u64 {
        block_on(async {
            let fs = MemFs::new();
            let dir = Path::new("/db");
            let db = Db::open(fs.clone(), dir, options()).await.expect("open");
            for key in 0..50 {
                db.put(format!("s{key}").as_bytes(), &value(key, 300), Durability::Sync).await.expect("put");
            }
            for key in 0..50 {
                db.put(format!("u{key}").as_bytes(), &value(key, 5000), Durability::Written).await.expect("put");
            }
            fs.crash(CrashMode::TornWrite { seed: seed * 7919 });
            let db = Db::open(fs.clone(), dir, options()).await.expect("reopen after torn write");
            for key in 0..50 {
                let synced = db.get(format!("s{key}").as_bytes()).await.expect("get");
                assert_eq!(synced.as_deref(), Some(value(key, 300).as_slice()), "seed {seed}: synced key {key}");
                let unsynced = db.get(format!("u{key}").as_bytes()).await.expect("get");
                assert!(
                    unsynced.is_none() || unsynced.as_deref() == Some(value(key, 5000).as_slice()),
                    "seed {seed}: garbage"
                );
            }
        });
    }
}

#[test]
fn flipped_byte_in_an_sst_block_is_an_error_never_wrong_data() {
    block_on(async {
        let fs = MemFs::new();
        let dir = Path::new("/db");
        let db = Db::open(fs.clone(), dir, options()).await.expect("open");
        for key in 0..500 {
            db.put(format!("key{key:04}").as_bytes(), &value(key, 100), Durability::Written).await.expect("put");
        }
        db.flush().await.expect("flush");
        let tables = files_under(&fs, "/db/sst");
        assert_eq!(tables.len(), 1);
        fs.flip_byte(&tables[0], 1000, 0x40).expect("flip");
        let db = Db::open(fs.clone(), dir, options()).await.expect("reopen");
        let mut errors = 0;
        for key in 0..500 {
            match db.get(format!("key{key:04}").as_bytes()).await {
                Ok(found) => assert_eq!(found.as_deref(), Some(value(key, 100).as_slice()), "wrong data for key {key}"),
                Err(error) => {
                    assert!(error.is_corruption(), "unexpected error {error}");
                    errors += 1;
                }
            }
        }
        assert!(errors > 0, "the damaged block was never detected");
    });
}

#[test]
fn flipped_byte_in_a_value_log_record_is_an_error_never_wrong_data() {
    block_on(async {
        let fs = MemFs::new();
        let dir = Path::new("/db");
        let db = Db::open(fs.clone(), dir, options()).await.expect("open");
        for key in 0..20 {
            db.put(format!("big{key:02}").as_bytes(), &value(key, 10_000), Durability::Written).await.expect("put");
        }
        db.flush().await.expect("flush");
        let logs = files_under(&fs, "/db/vlog");
        let log = logs.iter().find(|p| p.to_string_lossy().ends_with(".log")).expect("a value-log file");
        fs.flip_byte(log, 4096 + 5000, 0x01).expect("flip");
        let mut errors = 0;
        for key in 0..20 {
            match db.get(format!("big{key:02}").as_bytes()).await {
                Ok(found) => assert_eq!(found.as_deref(), Some(value(key, 10_000).as_slice()), "wrong data for {key}"),
                Err(Error::Corruption { .. }) => errors += 1,
                Err(other) => panic!("unexpected error {other}"),
            }
        }
        assert_eq!(errors, 1, "exactly the damaged record must fail");
    });
}
