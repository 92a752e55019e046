//! A full disk (injected ENOSPC): a journal batch whose write or sync fails is not
//! acknowledged, the journal keeps working once the fault is gone, and after a power loss
//! every acknowledged batch is there and no failed one is. A value log that cannot take a
//! large value does not fail the write: the value stays inline.

use std::path::Path;

use bytes::Bytes;
use futures_lite::future::block_on;
use nokv_engine::io::mem::{CrashMode, Fault, FaultOp, MemFs};
use nokv_engine::journal::{Journal, JournalBatch, JournalEntry, JournalOptions};
use nokv_engine::{Db, Durability, EngineOptions};

const DIR: &str = "/journal";

fn no_space(op: FaultOp, path_contains: &str) -> Fault {
    Fault { op, path_contains: path_contains.into(), count: 1, os_error: Some(libc::ENOSPC) }
}

fn payload(index: u64) -> Bytes {
    Bytes::from(format!("entry {index} ").repeat(200))
}

fn entry_batch(index: u64) -> JournalBatch {
    let mut batch = JournalBatch::new();
    batch.add_entry(JournalEntry { region_id: 1, term: 1, index, payload: payload(index) });
    batch
}

/// Small segments, so the test also crosses rotations.
fn options() -> JournalOptions {
    JournalOptions { segment_size_bytes: 32 * 1024, ..JournalOptions::default() }
}

async fn open(fs: &MemFs) -> Journal<MemFs> {
    Journal::open(fs.clone(), Path::new(DIR), options()).await.expect("open journal")
}

/// Appends entries 1..=20, failing the write or the sync of every fifth; each failed entry is
/// appended again afterwards (as raft does), and every append that succeeded survives.
fn failed_batches_are_never_acknowledged_and_writes_resume(op: FaultOp) {
    block_on(async {
        let fs = MemFs::new();
        let journal = open(&fs).await;
        for index in 1..=20 {
            if index % 5 == 0 {
                fs.inject(no_space(op, "journal-"));
                let error = journal.append(entry_batch(index), true).await.expect_err("the fault fails the batch");
                assert!(error.is_no_space(), "{error}");
                assert_eq!(error.reason(), "No space left on device");
                assert_eq!(journal.last_index(1), Some(index - 1), "a failed batch is not in the log");
            }
            journal.append(entry_batch(index), true).await.expect("append once the disk has room");
        }
        drop(journal);
        fs.crash(CrashMode::PowerLoss);
        let journal = open(&fs).await;
        assert_eq!(journal.last_index(1), Some(20));
        let entries = journal.read_entries(1, 1, 21).await.expect("read back");
        for (entry, index) in entries.iter().zip(1..) {
            assert_eq!(entry.payload, payload(index), "entry {index}");
        }
    });
}

#[test]
fn a_journal_write_failing_for_lack_of_space_is_not_acknowledged_and_later_writes_survive() {
    failed_batches_are_never_acknowledged_and_writes_resume(FaultOp::Write);
}

#[test]
fn a_journal_sync_failing_for_lack_of_space_is_not_acknowledged_and_later_writes_survive() {
    failed_batches_are_never_acknowledged_and_writes_resume(FaultOp::Sync);
}

#[test]
fn a_value_log_without_space_keeps_large_values_inline() {
    block_on(async {
        let fs = MemFs::new();
        let mut options = EngineOptions::default();
        options.value_log.write_buffer_bytes = 0;
        let dir = Path::new("/db");
        let db = Db::open(fs.clone(), dir, options.clone()).await.expect("open");
        let large = vec![7u8; 64 << 10];
        fs.inject(no_space(FaultOp::Write, "vlog-"));
        db.put(b"large", &large, Durability::Sync).await.expect("the write does not depend on the value log");
        assert_eq!(db.get(b"large").await.expect("get").as_deref(), Some(large.as_slice()));
        db.flush().await.expect("flush");
        drop(db);
        fs.crash(CrashMode::PowerLoss);
        let db = Db::open(fs.clone(), dir, options).await.expect("reopen");
        assert_eq!(db.get(b"large").await.expect("get").as_deref(), Some(large.as_slice()));
    });
}
