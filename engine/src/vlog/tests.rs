//! Specification of the value log, on the in-memory file system (and once on real O_DIRECT
//! files).

use std::path::{Path, PathBuf};

use bytes::Bytes;
use futures_lite::future::block_on;
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};

use super::*;
use crate::codec::align_up;
use crate::io::mem::{CrashMode, Fault, FaultOp, MemFs};
use crate::io::{File, FileSystem, OpenMode};

fn dir() -> &'static Path {
    Path::new("/db/vlog")
}

fn path_of(file_id: u32) -> PathBuf {
    dir().join(file_name(file_id))
}

fn small_files() -> ValueLogOptions {
    ValueLogOptions { file_size_bytes: 64 << 10, ..write_through() }
}

/// Every append written at once: the layout tests below count on it.
fn write_through() -> ValueLogOptions {
    ValueLogOptions { write_buffer_bytes: 0, ..ValueLogOptions::default() }
}

fn buffered(write_buffer_bytes: usize) -> ValueLogOptions {
    ValueLogOptions { file_size_bytes: 64 << 10, write_buffer_bytes, ..ValueLogOptions::default() }
}

#[test]
fn buffered_appends_read_back_before_and_after_they_are_written_and_synced() {
    block_on(async {
        let fs = MemFs::new();
        let vlog = open(&fs, buffered(16 << 10)).await;
        let mut appended = Vec::new();
        for n in 0..40u64 {
            let entries = vec![entry(&format!("k{n}"), random_bytes(n, 1000 + n as usize * 37))];
            let pointers = append(&vlog, &entries).await;
            for (pointer, (key, value)) in pointers.iter().zip(&entries) {
                assert_reads(&vlog, pointer, key, value).await;
            }
            appended.extend(pointers.into_iter().zip(entries));
        }
        let (first, second) = (&appended[0].0, &appended[1].0);
        assert_eq!(second.offset, first.offset + u64::from(first.len), "records are packed in the buffer");
        assert!(vlog.stats().bytes_written > 0, "a full buffer is written without a sync");
        assert!(vlog.file_ids().len() > 1, "rotation writes the buffer first");
        vlog.sync().await.expect("sync");
        drop(vlog);
        fs.crash(CrashMode::PowerLoss);
        let vlog = open(&fs, buffered(16 << 10)).await;
        for (pointer, (key, value)) in &appended {
            assert_reads(&vlog, pointer, key, value).await;
        }
        let after = append(&vlog, &[entry("after", vec![5; 3000])]).await;
        assert_reads(&vlog, &after[0], b"after", &[5; 3000]).await;
        assert_eq!(after[0].offset % 4096, 0, "appends after reopen start on a fresh block");
    });
}

#[test]
fn unsynced_buffered_appends_are_lost_by_a_crash_like_unsynced_writes() {
    block_on(async {
        let fs = MemFs::new();
        let vlog = open(&fs, buffered(1 << 20)).await;
        let synced = append(&vlog, &[entry("s", vec![1; 100])]).await;
        vlog.sync().await.expect("sync");
        let lost = append(&vlog, &[entry("u", vec![2; 100])]).await;
        assert_reads(&vlog, &lost[0], b"u", &[2; 100]).await;
        drop(vlog);
        fs.crash(CrashMode::ProcessKill);
        let vlog = open(&fs, buffered(1 << 20)).await;
        assert_reads(&vlog, &synced[0], b"s", &[1; 100]).await;
        assert!(vlog.read(&lost[0]).await.expect_err("never written").is_corruption());
    });
}

#[test]
fn a_reserved_zero_tail_is_not_data_and_appends_continue_after_the_last_record() {
    block_on(async {
        let fs = MemFs::new();
        let vlog = open(&fs, write_through()).await;
        let first = append(&vlog, &[entry("a", vec![1; 10])]).await;
        drop(vlog);
        // What `allocate` does on a real file system: the size covers reserved zeros.
        let file = fs.open(&path_of(1), OpenMode::ReadWrite).await.expect("open");
        file.truncate(1 << 20).await.expect("reserve");
        drop(file);
        let vlog = open(&fs, write_through()).await;
        assert_eq!(vlog.stats().bytes_truncated, 0);
        let second = append(&vlog, &[entry("b", vec![2; 10])]).await;
        assert_eq!(second[0].offset, HEADER_BYTES + 4096);
        assert_reads(&vlog, &first[0], b"a", &[1; 10]).await;
        assert_reads(&vlog, &second[0], b"b", &[2; 10]).await;
    });
}

async fn open(fs: &MemFs, options: ValueLogOptions) -> ValueLog<MemFs> {
    ValueLog::open(fs.clone(), dir(), options).await.expect("open value log")
}

fn random_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; len];
    StdRng::seed_from_u64(seed).fill_bytes(&mut bytes);
    bytes
}

/// Appends `entries` as one batch.
async fn append(vlog: &ValueLog<MemFs>, entries: &[(Vec<u8>, Vec<u8>)]) -> Vec<ValuePointer> {
    let records: Vec<(&[u8], &[u8])> = entries.iter().map(|(k, v)| (k.as_slice(), v.as_slice())).collect();
    vlog.append(&records).await.expect("append")
}

async fn assert_reads(vlog: &ValueLog<MemFs>, pointer: &ValuePointer, key: &[u8], value: &[u8]) {
    let (read_key, read_value) = vlog.read(pointer).await.expect("read");
    assert_eq!(&read_key[..], key);
    assert!(read_value[..] == value[..], "value mismatch at {pointer:?}");
}

fn entry(key: &str, value: Vec<u8>) -> (Vec<u8>, Vec<u8>) {
    (key.as_bytes().to_vec(), value)
}

#[test]
fn append_then_read_returns_every_kind_of_value() {
    block_on(async {
        let fs = MemFs::new();
        let vlog = open(&fs, write_through()).await;
        let entries = vec![
            entry("small", b"v".to_vec()),
            entry("large-random", random_bytes(1, 1 << 20)),
            entry("large-compressible", vec![b'z'; 1 << 20]),
            entry("", b"empty key".to_vec()),
            entry("empty value", Vec::new()),
        ];
        let pointers = append(&vlog, &entries).await;
        assert_eq!(pointers.len(), entries.len());
        assert_eq!(pointers[0].offset % crate::io::IO_ALIGN as u64, 0, "a batch starts on a block boundary");
        for (pointer, (key, value)) in pointers.iter().zip(&entries) {
            assert_reads(&vlog, pointer, key, value).await;
        }
        assert!(pointers[2].len < 64 << 10, "compressible value stored compressed: {:?}", pointers[2]);
        assert!(pointers[1].len > 1 << 20, "random value stored as is: {:?}", pointers[1]);
    });
}

#[test]
fn every_batch_starts_on_a_fresh_block() {
    block_on(async {
        let fs = MemFs::new();
        let vlog = open(&fs, write_through()).await;
        let first = append(&vlog, &[entry("a", vec![1; 10])]).await;
        let second = append(&vlog, &[entry("b", vec![2; 10]), entry("c", vec![3; 10])]).await;
        assert_eq!(first[0].offset, HEADER_BYTES);
        assert_eq!(second[0].offset, HEADER_BYTES + 4096);
        assert_eq!(second[1].offset, second[0].offset + u64::from(second[0].len));
        assert_eq!(vlog.file_size(vlog.active_file_id()), Some(HEADER_BYTES + 2 * 4096));
        let stats = vlog.stats();
        assert_eq!((stats.records_written, stats.bytes_written, stats.files), (3, 2 * 4096, 1));
    });
}

#[test]
fn rotation_spreads_batches_over_files_that_survive_reopen() {
    block_on(async {
        let fs = MemFs::new();
        let mut written = Vec::new();
        {
            let vlog = open(&fs, small_files()).await;
            for batch in 0..40u64 {
                let entries = vec![entry(&format!("k{batch}"), random_bytes(batch, 5000 + batch as usize))];
                let pointers = append(&vlog, &entries).await;
                written.push((pointers[0], entries[0].clone()));
            }
            vlog.sync().await.expect("sync");
            assert!(vlog.file_ids().len() >= 3, "{:?}", vlog.file_ids());
            assert!(vlog.file_ids().iter().all(|&id| vlog.file_size(id).expect("size") <= 64 << 10));
            assert_eq!(vlog.active_file_id(), *vlog.file_ids().last().expect("files"));
        }
        let vlog = open(&fs, small_files()).await;
        for (pointer, (key, value)) in &written {
            assert_reads(&vlog, pointer, key, value).await;
        }
        let active_before = vlog.active_file_id();
        let more = append(&vlog, &[entry("after-reopen", vec![9; 100])]).await;
        assert!(more[0].file_id >= active_before);
        assert_reads(&vlog, &more[0], b"after-reopen", &[9; 100]).await;
    });
}

#[test]
fn a_batch_larger_than_a_file_gets_a_file_of_its_own() {
    block_on(async {
        let fs = MemFs::new();
        let vlog = open(&fs, small_files()).await;
        let first = append(&vlog, &[entry("a", vec![1; 100])]).await;
        let big = append(&vlog, &[entry("big", random_bytes(7, 200 << 10))]).await;
        assert_ne!(first[0].file_id, big[0].file_id);
        assert_eq!(big[0].offset, HEADER_BYTES);
        assert_reads(&vlog, &big[0], b"big", &random_bytes(7, 200 << 10)).await;
    });
}

/// Writes synced data, then unsynced data (possibly across a rotation), crashes with a torn
/// write, and checks the reopened log.
fn torn_tail_scenario(seed: u64) -> u64 {
    block_on(async {
        let fs = MemFs::new();
        let vlog = open(&fs, small_files()).await;
        let mut synced = Vec::new();
        for batch in 0..4u64 {
            let entries = vec![entry(&format!("s{batch}"), random_bytes(batch, 3000)), entry("s", vec![1; 50])];
            let pointers = append(&vlog, &entries).await;
            synced.extend(pointers.into_iter().zip(entries));
        }
        vlog.sync().await.expect("sync");
        let mut unsynced = Vec::new();
        for batch in 0..(seed % 7 + 1) {
            let entries = vec![
                entry("u", random_bytes(seed + batch, 2000 + (seed as usize % 3) * 4000)),
                entry("x", vec![2; 30]),
            ];
            let pointers = append(&vlog, &entries).await;
            unsynced.extend(pointers.into_iter().zip(entries));
        }
        drop(vlog);
        fs.crash(CrashMode::TornWrite { seed: seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 3 });

        let vlog = open(&fs, small_files()).await;
        for (pointer, (key, value)) in &synced {
            assert_reads(&vlog, pointer, key, value).await;
        }
        for (pointer, (key, value)) in &unsynced {
            match vlog.read(pointer).await {
                Ok((read_key, read_value)) => assert!(read_key == key[..] && read_value == value[..], "wrong data"),
                Err(error) => assert!(error.is_corruption(), "{error}"),
            }
        }
        let after = append(&vlog, &[entry("after", vec![3; 5000])]).await;
        vlog.sync().await.expect("sync");
        assert_reads(&vlog, &after[0], b"after", &[3; 5000]).await;
        let truncated = vlog.stats().bytes_truncated;
        drop(vlog);
        fs.crash(CrashMode::PowerLoss);
        let vlog = open(&fs, small_files()).await;
        assert_reads(&vlog, &after[0], b"after", &[3; 5000]).await;
        assert_eq!(vlog.stats().bytes_truncated, 0, "a clean log has nothing to truncate");
        truncated
    })
}

#[test]
fn a_torn_tail_is_truncated_and_synced_values_survive() {
    let truncated_runs = (0..150).filter(|&seed| torn_tail_scenario(seed) > 0).count();
    assert!(truncated_runs > 50, "only {truncated_runs} runs cut a record");
}

#[test]
fn a_flipped_byte_is_corruption_never_wrong_data() {
    block_on(async {
        let fs = MemFs::new();
        let vlog = open(&fs, write_through()).await;
        let pointers = append(&vlog, &[entry("key", b"value".to_vec()), entry("big", vec![b'q'; 10_000])]).await;
        for pointer in &pointers {
            for index in 0..u64::from(pointer.len) {
                let offset = (pointer.offset + index) as usize;
                fs.flip_byte(&path_of(pointer.file_id), offset, 0x20).expect("flip");
                let error = vlog.read(pointer).await.expect_err("damaged record must not read");
                assert!(error.is_corruption(), "{error}");
                fs.flip_byte(&path_of(pointer.file_id), offset, 0x20).expect("flip back");
            }
        }
        assert_reads(&vlog, &pointers[0], b"key", b"value").await;
    });
}

#[test]
fn bad_pointers_are_errors() {
    block_on(async {
        let fs = MemFs::new();
        let vlog = open(&fs, write_through()).await;
        let good = append(&vlog, &[entry("key", b"value".to_vec())]).await[0];
        let missing = ValuePointer { file_id: 99, ..good };
        let error = vlog.read(&missing).await.expect_err("missing file");
        assert!(error.is_corruption() && error.to_string().contains("does not exist"), "{error}");
        let bad = [
            ValuePointer { offset: 0, ..good },
            ValuePointer { offset: 1 << 40, ..good },
            ValuePointer { offset: u64::MAX, ..good },
            ValuePointer { len: good.len - 1, ..good },
            ValuePointer { len: good.len + 1, ..good },
            ValuePointer { len: 0, ..good },
            ValuePointer { offset: good.offset + 1, ..good },
        ];
        for pointer in bad {
            assert!(vlog.read(&pointer).await.expect_err("bad pointer").is_corruption(), "{pointer:?}");
        }
    });
}

#[test]
fn discard_statistics_pick_the_most_discarded_eligible_file() {
    block_on(async {
        let fs = MemFs::new();
        let vlog = open(&fs, small_files()).await;
        for batch in 0..12u64 {
            append(&vlog, &[entry("k", random_bytes(batch, 15_000))]).await;
        }
        let ids = vlog.file_ids();
        assert!(ids.len() >= 4, "{ids:?}");
        let (first, second, third) = (ids[0], ids[1], ids[2]);
        let active = vlog.active_file_id();
        assert!(!vlog.discard_stats().is_empty(), "batch padding counts as discarded");
        vlog.set_discard_stats([]);
        assert_eq!(vlog.pick_gc_candidate(), None);

        let data_bytes = vlog.file_size(first).expect("size") - HEADER_BYTES;
        vlog.add_discard(first, data_bytes / 4);
        assert_eq!(vlog.pick_gc_candidate(), None, "a quarter discarded is below the 0.5 ratio");
        vlog.add_discard(first, data_bytes / 4 + 1);
        assert_eq!(vlog.pick_gc_candidate(), Some(first));
        vlog.add_discard(second, data_bytes);
        assert_eq!(vlog.pick_gc_candidate(), Some(second), "most discarded bytes wins");
        vlog.add_discard(active, 1 << 30);
        vlog.add_discard(12345, 1 << 30);
        assert_eq!(vlog.pick_gc_candidate(), Some(second), "the active file and unknown ids never win");
        assert!(vlog.discard_stats().iter().all(|&(id, _)| id != 12345));

        let saved = vlog.discard_stats();
        vlog.set_discard_stats([(third, 1), (777, 5)]);
        assert_eq!(vlog.discard_stats(), vec![(third, 1)]);
        vlog.set_discard_stats(saved);
        vlog.mark_obsolete(second, 10).expect("mark");
        assert_eq!(vlog.discard_ratio(second), Some(1.0));
        assert_eq!(vlog.pick_gc_candidate(), Some(first), "obsolete files are not picked again");
    });
}

#[test]
fn scan_file_returns_exactly_the_appended_records() {
    block_on(async {
        let fs = MemFs::new();
        let vlog = open(&fs, write_through()).await;
        let mut expected = Vec::new();
        for batch in 0..5u64 {
            let entries: Vec<_> = (0..batch + 1)
                .map(|i| {
                    entry(&format!("k{batch}-{i}"), if i % 2 == 0 { random_bytes(i, 700) } else { vec![b'c'; 9000] })
                })
                .collect();
            let pointers = append(&vlog, &entries).await;
            for (pointer, (key, value)) in pointers.into_iter().zip(entries) {
                expected.push(VlogRecord { key: Bytes::from(key), value: Bytes::from(value), pointer });
            }
        }
        let scanned = vlog.scan_file(vlog.active_file_id()).await.expect("scan");
        assert_eq!(scanned, expected);
        assert!(vlog.scan_file(42).await.is_err());

        let last = expected.last().expect("records").pointer;
        fs.flip_byte(&path_of(last.file_id), last.offset as usize + 5, 1).expect("flip");
        assert!(vlog.scan_file(last.file_id).await.expect_err("damaged").is_corruption());
    });
}

/// Three files with one record each; the last is active.
async fn three_files(fs: &MemFs) -> (ValueLog<MemFs>, Vec<ValuePointer>) {
    let vlog = open(fs, small_files()).await;
    let mut pointers = Vec::new();
    for batch in 0..3u64 {
        pointers.push(append(&vlog, &[entry("k", random_bytes(batch, 40_000))]).await[0]);
    }
    vlog.sync().await.expect("sync");
    assert_eq!(vlog.file_ids(), vec![1, 2, 3]);
    (vlog, pointers)
}

#[test]
fn obsolete_files_are_deleted_only_after_flush_and_older_snapshots() {
    block_on(async {
        let fs = MemFs::new();
        let (vlog, pointers) = three_files(&fs).await;
        assert!(vlog.mark_obsolete(3, 1).is_err(), "the active file cannot be obsolete");
        assert!(vlog.mark_obsolete(9, 1).is_err(), "no such file");
        vlog.mark_obsolete(1, 100).expect("mark");
        vlog.mark_obsolete(2, 200).expect("mark");
        assert_eq!(vlog.obsolete_files(), vec![(1, 100), (2, 200)]);

        assert_eq!(vlog.delete_obsolete(99, u64::MAX).await.expect("gc"), Vec::<u32>::new(), "not flushed");
        assert_eq!(vlog.delete_obsolete(150, 100).await.expect("gc"), Vec::<u32>::new(), "snapshot at 100");
        assert!(fs.exists(&dir().join("vlog-obsolete")).await.expect("exists"), "held file recorded");
        assert_eq!(vlog.delete_obsolete(150, 101).await.expect("gc"), vec![1]);
        assert!(!fs.exists(&path_of(1)).await.expect("exists"));
        assert!(!fs.exists(&dir().join("vlog-obsolete")).await.expect("exists"), "nothing held any more");
        let error = vlog.read(&pointers[0]).await.expect_err("deleted file");
        assert!(error.is_corruption(), "{error}");
        assert_reads(&vlog, &pointers[1], b"k", &random_bytes(1, 40_000)).await;

        assert_eq!(vlog.delete_obsolete(250, u64::MAX).await.expect("gc"), vec![2]);
        assert_eq!(vlog.file_ids(), vec![3]);
        assert_eq!(vlog.stats().files_deleted, 2);
        assert!(vlog.stats().bytes_reclaimed > 80_000);
        assert!(vlog.obsolete_files().is_empty());
    });
}

#[test]
fn a_flushed_obsolete_file_held_by_a_snapshot_is_deleted_at_restart() {
    block_on(async {
        let fs = MemFs::new();
        let (vlog, _) = three_files(&fs).await;
        vlog.mark_obsolete(1, 100).expect("mark");
        vlog.delete_obsolete(100, 50).await.expect("gc");
        assert!(fs.exists(&path_of(1)).await.expect("exists"));
        drop(vlog);
        fs.crash(CrashMode::PowerLoss);
        let vlog = open(&fs, small_files()).await;
        assert_eq!(vlog.file_ids(), vec![2, 3]);
        assert_eq!(vlog.stats().files_deleted, 1);
        assert!(!fs.exists(&dir().join("vlog-obsolete")).await.expect("exists"));
    });
}

#[test]
fn an_obsolete_file_whose_rewrite_was_not_flushed_survives_restart() {
    block_on(async {
        let fs = MemFs::new();
        let (vlog, pointers) = three_files(&fs).await;
        vlog.mark_obsolete(1, 100).expect("mark");
        vlog.delete_obsolete(99, u64::MAX).await.expect("gc");
        drop(vlog);
        fs.crash(CrashMode::PowerLoss);
        let vlog = open(&fs, small_files()).await;
        assert_eq!(vlog.file_ids(), vec![1, 2, 3]);
        assert!(vlog.obsolete_files().is_empty());
        assert_reads(&vlog, &pointers[0], b"k", &random_bytes(0, 40_000)).await;
    });
}

#[test]
fn remove_file_deletes_once_and_is_idempotent() {
    block_on(async {
        let fs = MemFs::new();
        let (vlog, pointers) = three_files(&fs).await;
        vlog.add_discard(1, 10);
        assert!(vlog.remove_file(3).await.is_err(), "the active file cannot be removed");
        vlog.remove_file(1).await.expect("remove");
        vlog.remove_file(1).await.expect("removing again is fine");
        vlog.remove_file(77).await.expect("a file that never existed is fine");
        assert_eq!(vlog.file_ids(), vec![2, 3]);
        assert!(!fs.exists(&path_of(1)).await.expect("exists"));
        assert!(vlog.discard_stats().iter().all(|&(id, _)| id != 1));
        assert!(vlog.read(&pointers[0]).await.expect_err("removed").is_corruption());
        assert_eq!(vlog.stats().files_deleted, 1);
        drop(vlog);
        let vlog = open(&fs, small_files()).await;
        assert_eq!(vlog.file_ids(), vec![2, 3]);
    });
}

#[test]
fn a_failed_write_refuses_appends_until_reopened() {
    block_on(async {
        let fs = MemFs::new();
        let vlog = open(&fs, write_through()).await;
        let good = append(&vlog, &[entry("a", vec![1; 10])]).await;
        fs.inject(Fault { op: FaultOp::Write, path_contains: "vlog-".into(), count: 1, os_error: None });
        assert!(vlog.append(&[(b"b", b"2")]).await.is_err());
        let error = vlog.append(&[(b"c", b"3")]).await.expect_err("refused");
        assert!(matches!(error, Error::Closed(_)), "{error}");
        assert!(matches!(vlog.sync().await, Err(Error::Closed(_))));
        assert_reads(&vlog, &good[0], b"a", &[1; 10]).await;
        drop(vlog);
        let vlog = open(&fs, write_through()).await;
        append(&vlog, &[entry("d", vec![4; 10])]).await;
    });
}

#[test]
fn sync_is_skipped_when_nothing_was_appended() {
    block_on(async {
        let fs = MemFs::new();
        let vlog = open(&fs, write_through()).await;
        let before = fs.sync_count();
        vlog.sync().await.expect("sync");
        assert_eq!(fs.sync_count(), before);
        append(&vlog, &[entry("a", vec![1; 10])]).await;
        vlog.sync().await.expect("sync");
        vlog.sync().await.expect("sync");
        assert_eq!(fs.sync_count(), before + 1);
    });
}

#[test]
fn a_blank_newest_file_is_recreated_but_a_damaged_older_header_fails_open() {
    block_on(async {
        let fs = MemFs::new();
        let (vlog, pointers) = three_files(&fs).await;
        drop(vlog);
        drop(fs.open(&path_of(4), OpenMode::CreateTruncate).await.expect("create blank file"));
        let vlog = open(&fs, small_files()).await;
        assert_eq!(vlog.active_file_id(), 4);
        let fresh = append(&vlog, &[entry("new", vec![5; 10])]).await;
        assert_eq!(fresh[0], ValuePointer { file_id: 4, offset: HEADER_BYTES, len: fresh[0].len });
        assert_reads(&vlog, &pointers[2], b"k", &random_bytes(2, 40_000)).await;
        drop(vlog);

        fs.flip_byte(&path_of(2), 3, 0xff).expect("flip");
        let error = ValueLog::open(fs.clone(), dir(), small_files()).await.expect_err("damaged header");
        assert!(error.is_corruption(), "{error}");
    });
}

#[test]
fn options_are_validated() {
    assert!(write_through().validate().is_ok());
    let bad = [
        ValueLogOptions { file_size_bytes: 4096, ..write_through() },
        ValueLogOptions { gc_discard_ratio: 0.0, ..write_through() },
        ValueLogOptions { gc_discard_ratio: 1.5, ..write_through() },
        ValueLogOptions { gc_discard_ratio: f64::NAN, ..write_through() },
        ValueLogOptions { scan_read_bytes: 10, ..write_through() },
    ];
    for options in bad {
        assert!(options.validate().is_err(), "{options:?}");
    }
}

proptest::proptest! {
    #[test]
    fn reading_a_garbage_pointer_never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 16)) {
        block_on(async {
            let fs = MemFs::new();
            let vlog = open(&fs, write_through()).await;
            append(&vlog, &[entry("a", vec![1; 5000])]).await;
            let pointer = ValuePointer::decode(&bytes).expect("16 bytes always decode");
            let _ = vlog.read(&pointer).await;
            let _ = vlog.read(&ValuePointer { file_id: 1, ..pointer }).await;
            let small = ValuePointer { file_id: 1, offset: pointer.offset % 16_384, len: pointer.len % 8192 };
            let _ = vlog.read(&small).await;
        });
    }
}

#[test]
fn works_on_real_o_direct_files() {
    let tempdir = tempfile::tempdir().expect("tempdir");
    let path = tempdir.path().join("vlog");
    let handle = glommio::LocalExecutorBuilder::default()
        .spawn(move || async move {
            let fs = crate::io::dma::DmaFs::new(&path).await.expect("dma fs");
            let options = ValueLogOptions { file_size_bytes: 256 << 10, ..write_through() };
            let big = random_bytes(3, 1 << 20);
            let mut pointers = Vec::new();
            {
                let vlog = ValueLog::open(fs.clone(), &path, options.clone()).await.expect("open");
                pointers.extend(vlog.append(&[(b"small", b"value"), (b"big", &big)]).await.expect("append"));
                for batch in 0..10u64 {
                    let value = random_bytes(batch, 50_000);
                    pointers.extend(vlog.append(&[(b"k", &value)]).await.expect("append"));
                }
                vlog.sync().await.expect("sync");
                assert!(vlog.file_ids().len() > 1);
                let (key, value) = vlog.read(&pointers[1]).await.expect("read");
                assert_eq!((&key[..], &value[..]), (&b"big"[..], &big[..]));
            }
            let vlog = ValueLog::open(fs, &path, options).await.expect("reopen");
            let (key, value) = vlog.read(&pointers[0]).await.expect("read");
            assert_eq!((&key[..], &value[..]), (&b"small"[..], &b"value"[..]));
            for (batch, pointer) in pointers[2..].iter().enumerate() {
                let (_, value) = vlog.read(pointer).await.expect("read");
                assert!(value[..] == random_bytes(batch as u64, 50_000)[..]);
            }
            let records = vlog.scan_file(pointers[0].file_id).await.expect("scan");
            assert_eq!(records[0].pointer, pointers[0]);
            let more = vlog.append(&[(b"after", b"reopen")]).await.expect("append after reopen");
            assert_eq!(&vlog.read(&more[0]).await.expect("read").1[..], b"reopen");
        })
        .expect("spawn executor");
    handle.join().expect("executor thread");
}

#[test]
fn open_at_head_deletes_later_files_and_cuts_the_head_file_mid_block() {
    block_on(async {
        let fs = MemFs::new();
        let options = buffered(16 << 10);
        let vlog = open(&fs, options.clone()).await;
        let kept = vec![entry("kept", random_bytes(1, 3000))];
        let kept_pointer = append(&vlog, &kept).await[0];
        // Packed into the same block as the kept record, then on into later files.
        for n in 0..60u64 {
            append(&vlog, &[entry(&format!("lost{n}"), random_bytes(n + 10, 3000))]).await;
        }
        vlog.sync().await.expect("sync");
        assert!(vlog.file_ids().len() > 2, "the lost records reach later files");
        drop(vlog);
        fs.crash(CrashMode::ProcessKill);
        let head = kept_pointer.end();
        assert_ne!(head.offset % IO_ALIGN as u64, 0, "the head is mid-block");
        let vlog = ValueLog::open_at_head(fs.clone(), dir(), options.clone(), Some(head)).await.expect("open");
        assert_eq!(vlog.file_ids(), vec![1]);
        assert_eq!(vlog.active_file_id(), 1, "the head's file is appended to again");
        assert_eq!(vlog.file_size(1), Some(head.offset));
        assert!(vlog.stats().files_cut >= 2);
        assert_reads(&vlog, &kept_pointer, b"kept", &kept[0].1).await;
        // The rest of the head's block is zeros again, so the file scans cleanly.
        let scanned = vlog.scan_file(1).await.expect("scan");
        assert_eq!(scanned.iter().map(|r| r.pointer).collect::<Vec<_>>(), vec![kept_pointer]);
        let next = vec![entry("next", random_bytes(99, 3000))];
        let next_pointer = append(&vlog, &next).await[0];
        assert_eq!(next_pointer.offset, align_up(head.offset, IO_ALIGN as u64));
        vlog.sync().await.expect("sync");
        drop(vlog);
        fs.crash(CrashMode::PowerLoss);
        let vlog = ValueLog::open_at_head(fs.clone(), dir(), options, Some(next_pointer.end())).await.expect("open");
        assert_reads(&vlog, &kept_pointer, b"kept", &kept[0].1).await;
        assert_reads(&vlog, &next_pointer, b"next", &next[0].1).await;
    });
}

#[test]
fn open_at_a_head_past_the_files_is_corruption() {
    block_on(async {
        let fs = MemFs::new();
        let vlog = open(&fs, write_through()).await;
        let pointer = append(&vlog, &[entry("k", random_bytes(1, 5000))]).await[0];
        vlog.sync().await.expect("sync");
        drop(vlog);
        for head in [VlogPosition { file_id: 2, offset: 4096 }, VlogPosition { file_id: 1, offset: 1 << 20 }] {
            let opened = ValueLog::open_at_head(fs.clone(), dir(), write_through(), Some(head)).await;
            assert!(opened.is_err_and(|e| e.is_corruption()), "head {head:?}");
        }
        let vlog = ValueLog::open_at_head(fs.clone(), dir(), write_through(), Some(pointer.end())).await.expect("open");
        assert_eq!(vlog.file_size(1), Some(pointer.end().offset));
    });
}
