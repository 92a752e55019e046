//! Specifications of the journal, on the in-memory file system (and once on real O_DIRECT).

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use bytes::Bytes;
use futures_lite::future::{block_on, zip};

use super::*;
use crate::io::mem::{CrashMode, Fault, FaultOp, MemFs};
use crate::io::{File, FileSystem, OpenMode};

const DIR: &str = "/db/journal";

fn small_segments() -> JournalOptions {
    JournalOptions { segment_size_bytes: 16 * 1024, ..JournalOptions::default() }
}

fn entry(region_id: u64, index: u64, term: u64) -> JournalEntry {
    let payload = Bytes::from(format!("r{region_id}-i{index}-t{term}").repeat((index % 7 + 1) as usize));
    JournalEntry { region_id, term, index, payload }
}

fn entries_batch(regions: &[u64], indexes: std::ops::Range<u64>, term: u64) -> JournalBatch {
    let mut batch = JournalBatch::new();
    for &region_id in regions {
        batch.add_entries(indexes.clone().map(|index| entry(region_id, index, term)));
    }
    batch
}

async fn open(fs: &MemFs, options: JournalOptions) -> Journal<MemFs> {
    Journal::open(fs.clone(), Path::new(DIR), options).await.expect("open journal")
}

async fn assert_entries(journal: &Journal<MemFs>, region_id: u64, low: u64, high: u64, term: u64) {
    let read = journal.read_entries(region_id, low, high).await.expect("read entries");
    let expected: Vec<JournalEntry> = (low..high).map(|index| entry(region_id, index, term)).collect();
    assert_eq!(read, expected, "region {region_id} [{low}, {high})");
}

fn segment_path(seq: u64) -> PathBuf {
    Path::new(DIR).join(format::segment_file_name(seq))
}

#[test]
fn entries_and_states_round_trip_across_rotation_and_reopen() {
    block_on(async {
        let fs = MemFs::new();
        let journal = open(&fs, small_segments()).await;
        for round in 0..20u64 {
            let mut batch = entries_batch(&[1, 2, 3], round * 10 + 1..round * 10 + 11, 1);
            batch.put_state(1, "hard_state", format!("hs-{round}"));
            journal.append(batch, round % 2 == 0).await.expect("append");
        }
        let mut big = JournalBatch::new();
        big.add_entry(JournalEntry { region_id: 4, term: 1, index: 1, payload: Bytes::from(vec![b'z'; 20_000]) });
        journal.append(big, true).await.expect("append compressible entry");
        assert!(journal.segment_ids().len() > 3, "segments {:?}", journal.segment_ids());
        drop(journal);

        let journal = open(&fs, small_segments()).await;
        assert_eq!(journal.regions(), vec![1, 2, 3, 4]);
        for region_id in 1..=3 {
            assert_eq!((journal.first_index(region_id), journal.last_index(region_id)), (Some(1), Some(200)));
            assert_entries(&journal, region_id, 1, 201, 1).await;
        }
        assert_eq!(journal.state(1, b"hard_state"), Some(Bytes::from("hs-19")));
        assert_eq!(journal.read_entries(4, 1, 2).await.expect("read")[0].payload.len(), 20_000);
        assert!(matches!(journal.read_entries(1, 0, 5).await, Err(Error::InvalidArgument(_))));
    });
}

#[test]
fn an_entry_written_in_two_parts_reads_back_as_one_payload_live_and_after_reopen() {
    block_on(async {
        let fs = MemFs::new();
        let journal = open(&fs, JournalOptions::default()).await;
        let mut batch = JournalBatch::new();
        // A small entry, one with an empty head, and one large enough to be compressed.
        let parts = [(&b"head-"[..], vec![b'a'; 40]), (&b""[..], vec![b'b'; 3]), (&b"h"[..], vec![b'c'; 20_000])];
        for (index, (head, body)) in (1..).zip(&parts) {
            let entry = JournalEntry { region_id: 5, term: 2, index, payload: Bytes::from(body.clone()) };
            batch.add_entry_with_head(entry, Bytes::copy_from_slice(head));
        }
        assert_eq!(batch.len(), 1, "consecutive entries share one record");
        journal.append(batch, true).await.expect("append");
        let expected: Vec<JournalEntry> = (1..)
            .zip(&parts)
            .map(|(index, (head, body))| JournalEntry {
                region_id: 5,
                term: 2,
                index,
                payload: [*head, body].concat().into(),
            })
            .collect();
        assert_eq!(journal.read_entries(5, 1, 4).await.expect("read live"), expected);
        drop(journal);
        let journal = open(&fs, JournalOptions::default()).await;
        assert_eq!(journal.read_entries(5, 1, 4).await.expect("read after reopen"), expected);
    });
}

#[test]
fn conflicting_entries_replace_the_suffix_live_and_after_reopen() {
    block_on(async {
        let fs = MemFs::new();
        let journal = open(&fs, small_segments()).await;
        journal.append(entries_batch(&[7], 1..11, 1), true).await.expect("append");
        journal.append(entries_batch(&[7], 6..9, 2), true).await.expect("append conflicting");
        for journal in [journal, open(&fs, small_segments()).await] {
            assert_eq!(journal.last_index(7), Some(8));
            assert_entries(&journal, 7, 1, 6, 1).await;
            assert_entries(&journal, 7, 6, 9, 2).await;
            assert_eq!(journal.term(7, 9), None);
        }
    });
}

/// Batch `n` writes entry `n` of regions 1 and 2 and sets state `last` to `n`: after any
/// crash, the three must agree, or a batch was applied partially.
fn numbered_batch(n: u64) -> JournalBatch {
    let mut batch = JournalBatch::new();
    batch.add_entry(entry(1, n, 1));
    batch.add_entry(entry(2, n, 1));
    batch.put_state(1, "last", n.to_string());
    batch
}

async fn recovered_batch_count(journal: &Journal<MemFs>) -> u64 {
    let last = journal.last_index(1).unwrap_or(0);
    assert_eq!(journal.last_index(2).unwrap_or(0), last, "regions disagree: partial batch");
    let state = journal.state(1, b"last").map(|v| String::from_utf8(v.to_vec()).expect("utf8"));
    assert_eq!(state, (last > 0).then(|| last.to_string()), "state disagrees with entries");
    if last > 0 {
        assert_entries(journal, 1, 1, last + 1, 1).await;
        assert_entries(journal, 2, 1, last + 1, 1).await;
    }
    last
}

#[test]
fn torn_tail_recovers_a_prefix_with_every_synced_batch_and_appends_continue() {
    for seed in 0..300u64 {
        block_on(async {
            let fs = MemFs::new();
            let options = JournalOptions { segment_size_bytes: 12 * 1024, ..JournalOptions::default() };
            let journal = open(&fs, options.clone()).await;
            let synced = 3 + seed % 5;
            for n in 1..=synced {
                journal.append(numbered_batch(n), true).await.expect("synced append");
            }
            let unsynced = 1 + seed % 4;
            for n in synced + 1..=synced + unsynced {
                journal.append(numbered_batch(n), false).await.expect("unsynced append");
            }
            drop(journal);
            fs.crash(CrashMode::TornWrite { seed: seed.wrapping_mul(2_654_435_761) });

            let journal = open(&fs, options.clone()).await;
            let recovered = recovered_batch_count(&journal).await;
            assert!((synced..=synced + unsynced).contains(&recovered), "seed {seed}: {recovered} batches");
            journal.append(numbered_batch(recovered + 1), true).await.expect("append after recovery");
            drop(journal);
            let journal = open(&fs, options.clone()).await;
            assert_eq!(recovered_batch_count(&journal).await, recovered + 1, "seed {seed}");
        });
    }
}

/// A rotation crashed before the new segment's header was durable: the file ends inside its
/// header, or (space reserved, header lost) its header block is zeros.
async fn new_segment_with_lost_header(fs: &MemFs, options: &JournalOptions, reserved: bool) {
    let journal = open(fs, options.clone()).await;
    for n in 1..=2 {
        journal.append(numbered_batch(n), true).await.expect("append");
    }
    drop(journal);
    let file = fs.open(&segment_path(2), OpenMode::CreateTruncate).await.expect("create segment 2");
    if reserved {
        file.truncate(options.segment_size_bytes).await.expect("reserve");
    } else {
        file.write_at(0, &format::encode_segment_header(2)).await.expect("header");
        file.truncate(10).await.expect("tear");
    }
}

#[test]
fn a_new_segment_torn_inside_its_header_or_blank_is_dropped() {
    block_on(async {
        for reserved in [false, true] {
            let fs = MemFs::new();
            // Header plus two one-block batches fill a segment; the third batch rotates.
            let options = JournalOptions { segment_size_bytes: 12 * 1024, ..JournalOptions::default() };
            new_segment_with_lost_header(&fs, &options, reserved).await;

            let journal = open(&fs, options.clone()).await;
            assert_eq!(journal.segment_ids(), vec![1], "reserved {reserved}");
            assert_eq!(recovered_batch_count(&journal).await, 2);
            journal.append(numbered_batch(3), true).await.expect("append after recovery");
            drop(journal);
            assert_eq!(recovered_batch_count(&open(&fs, options).await).await, 3);
        }
    });
}

#[test]
fn a_reserved_zero_tail_is_kept_and_appends_overwrite_it() {
    block_on(async {
        let fs = MemFs::new();
        let options = JournalOptions::default();
        let journal = open(&fs, options.clone()).await;
        journal.append(numbered_batch(1), true).await.expect("append");
        drop(journal);
        // What `allocate` does on a real file system: the size covers the reserved zeros.
        let file = fs.open(&segment_path(1), OpenMode::ReadWrite).await.expect("open");
        file.truncate(1 << 20).await.expect("reserve");
        drop(file);

        let journal = open(&fs, options.clone()).await;
        assert_eq!(recovered_batch_count(&journal).await, 1);
        assert_eq!(fs.contents(&segment_path(1)).expect("segment").len(), 1 << 20, "zero tail kept");
        journal.append(numbered_batch(2), true).await.expect("append into reserved space");
        assert_eq!(fs.contents(&segment_path(1)).expect("segment").len(), 1 << 20, "overwritten, not grown");
        drop(journal);
        fs.crash(CrashMode::PowerLoss);
        assert_eq!(recovered_batch_count(&open(&fs, options).await).await, 2);
    });
}

#[test]
fn flipped_byte_in_the_last_batch_is_a_torn_tail() {
    block_on(async {
        let fs = MemFs::new();
        let journal = open(&fs, JournalOptions::default()).await;
        for n in 1..=3 {
            journal.append(numbered_batch(n), true).await.expect("append");
        }
        drop(journal);
        // Each small batch fills one block after the header: batch 3 starts at 3 * 4096.
        fs.flip_byte(&segment_path(1), 3 * 4096 + 30, 0x40).expect("flip");
        let journal = open(&fs, JournalOptions::default()).await;
        assert_eq!(recovered_batch_count(&journal).await, 2);
        assert_eq!(fs.contents(&segment_path(1)).expect("contents").len(), 3 * 4096);
    });
}

#[test]
fn flipped_byte_in_an_older_segment_is_corruption() {
    block_on(async {
        let fs = MemFs::new();
        let journal = open(&fs, small_segments()).await;
        for n in 1..=12 {
            journal.append(numbered_batch(n), true).await.expect("append");
        }
        assert!(journal.segment_ids().len() >= 2);
        drop(journal);
        fs.flip_byte(&segment_path(1), 2 * 4096 + 30, 0x40).expect("flip");
        let error = Journal::open(fs.clone(), Path::new(DIR), small_segments()).await.expect_err("open must fail");
        assert!(error.is_corruption(), "{error}");
    });
}

#[test]
fn concurrent_appends_share_one_write_and_one_sync_and_complete_in_order() {
    block_on(async {
        let fs = MemFs::new();
        let journal = open(&fs, JournalOptions::default()).await;
        let syncs_before = fs.sync_count();
        let completed = RefCell::new(Vec::new());
        let append = |n: u64, sync: bool| {
            let (journal, completed) = (&journal, &completed);
            async move {
                journal.append(numbered_batch(n), sync).await.expect("append");
                completed.borrow_mut().push(n);
            }
        };
        let first = zip(append(1, true), append(2, false));
        let second = zip(append(3, true), zip(append(4, false), append(5, true)));
        zip(first, second).await;
        assert_eq!(fs.sync_count() - syncs_before, 1);
        assert_eq!(journal.stats().batches, 1);
        assert_eq!(journal.stats().syncs, 1);
        assert_eq!(*completed.borrow(), vec![1, 2, 3, 4, 5]);
        assert_eq!(recovered_batch_count(&journal).await, 5);
    });
}

#[test]
fn a_failed_sync_fails_the_whole_batch_and_the_next_write_rewrites_over_it() {
    block_on(async {
        let fs = MemFs::new();
        let journal = open(&fs, JournalOptions::default()).await;
        journal.append(numbered_batch(1), true).await.expect("append");
        fs.inject(Fault { op: FaultOp::Sync, path_contains: "journal-".into(), count: 1, os_error: None });
        let (a, b) = zip(journal.append(numbered_batch(2), true), journal.append(numbered_batch(3), false)).await;
        assert!(matches!(a, Err(Error::Io { .. })), "{a:?}");
        assert!(b.is_err(), "a batch after a failed one is not acknowledged: {b:?}");
        assert_eq!(journal.last_index(1), Some(1), "failed batches never reach the index");
        journal.append(numbered_batch(2), true).await.expect("the next write rewinds and succeeds");
        journal.append(numbered_batch(3), true).await.expect("append");
        drop(journal);
        fs.crash(CrashMode::PowerLoss);
        let journal = open(&fs, JournalOptions::default()).await;
        assert_eq!(recovered_batch_count(&journal).await, 3);
    });
}

#[test]
fn a_failed_write_fails_only_its_batch() {
    block_on(async {
        let fs = MemFs::new();
        let journal = open(&fs, JournalOptions::default()).await;
        fs.inject(Fault { op: FaultOp::Write, path_contains: "journal-".into(), count: 1, os_error: None });
        assert!(matches!(journal.append(numbered_batch(1), false).await, Err(Error::Io { .. })));
        journal.append(numbered_batch(1), true).await.expect("the retry succeeds");
        drop(journal);
        fs.crash(CrashMode::PowerLoss);
        assert_eq!(recovered_batch_count(&open(&fs, JournalOptions::default()).await).await, 1);
    });
}

#[test]
fn purge_deletes_only_fully_obsolete_segments_and_keeps_states() {
    block_on(async {
        let fs = MemFs::new();
        let journal = open(&fs, small_segments()).await;
        let mut states = JournalBatch::new();
        states.put_state(9, "apply_state", "applied-3");
        states.put_state(9, "old", "x");
        states.delete_state(9, "old");
        journal.append(states, true).await.expect("append states");
        for round in 0..10u64 {
            journal.append(entries_batch(&[1, 2], round * 10 + 1..round * 10 + 11, 1), true).await.expect("append");
        }
        let segments = journal.segment_ids();
        assert!(segments.len() >= 4, "{segments:?}");
        assert_eq!(journal.purge().await.expect("purge"), Vec::<u64>::new(), "every segment is still needed");

        journal.compact_to(1, 91);
        assert_eq!(journal.regions_pinning_oldest(), vec![2]);
        assert_eq!(journal.purge().await.expect("purge"), Vec::<u64>::new(), "region 2 pins the oldest segment");
        journal.compact_to(2, 91);
        let deleted = journal.purge().await.expect("purge");
        let active = *journal.segment_ids().last().expect("active segment");
        assert!(!deleted.is_empty() && deleted.iter().all(|seq| *seq < active), "{deleted:?}");
        assert_eq!(deleted, segments[..deleted.len()].to_vec(), "only a prefix is deleted");
        assert!(journal.regions_pinning_oldest().is_empty());

        for journal in [journal, open(&fs, small_segments()).await] {
            assert_eq!(journal.state(9, b"apply_state"), Some(Bytes::from("applied-3")));
            assert_eq!(journal.state(9, b"old"), None);
            for region_id in [1, 2] {
                assert_eq!((journal.first_index(region_id), journal.last_index(region_id)), (Some(91), Some(100)));
                assert_entries(&journal, region_id, 91, 101, 1).await;
            }
        }
    });
}

#[test]
fn purge_keeps_a_state_written_concurrently_over_an_old_one() {
    block_on(async {
        let fs = MemFs::new();
        let journal = open(&fs, small_segments()).await;
        let mut old = JournalBatch::new();
        old.put_state(5, "hs", "old");
        journal.append(old, true).await.expect("append");
        for round in 0..6u64 {
            journal.append(entries_batch(&[1], round * 10 + 1..round * 10 + 11, 1), false).await.expect("append");
        }
        journal.compact_to(1, 61);
        let mut new = JournalBatch::new();
        new.put_state(5, "hs", "new");
        let (purged, appended) = zip(journal.purge(), journal.append(new, true)).await;
        assert!(!purged.expect("purge").is_empty());
        appended.expect("append");
        for journal in [journal, open(&fs, small_segments()).await] {
            assert_eq!(journal.state(5, b"hs"), Some(Bytes::from("new")));
        }
    });
}

#[test]
fn options_are_validated() {
    assert!(JournalOptions::default().validate().is_ok());
    let tiny = JournalOptions { segment_size_bytes: 4096, ..JournalOptions::default() };
    assert!(matches!(tiny.validate(), Err(Error::InvalidOption { .. })));
}

#[test]
fn dma_journal_writes_reopens_and_reads_with_o_direct() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("journal");
    glommio::LocalExecutorBuilder::default()
        .spawn(move || async move {
            let fs = crate::io::dma::DmaFs::new(&path).await.expect("dma fs");
            let options = small_segments();
            let journal = Journal::open(fs.clone(), &path, options.clone()).await.expect("open");
            for round in 0..8u64 {
                let mut batch = entries_batch(&[1, 2], round * 5 + 1..round * 5 + 6, 3);
                batch.put_state(1, "hs", format!("{round}"));
                journal.append(batch, true).await.expect("append");
            }
            assert!(journal.segment_ids().len() >= 2);
            drop(journal);
            let journal = Journal::open(fs, &path, options).await.expect("reopen");
            let read = journal.read_entries(2, 1, 41).await.expect("read");
            let expected: Vec<JournalEntry> = (1..41).map(|index| entry(2, index, 3)).collect();
            assert_eq!(read, expected);
            assert_eq!(journal.state(1, b"hs"), Some(Bytes::from("7")));
        })
        .expect("spawn executor")
        .join()
        .expect("executor ran");
}

/// A `MemFs` whose writes and syncs take a few executor rounds, logging when they start and
/// end, so tests can see which I/O overlaps. It also logs every write's range, and with
/// `reserve` its `allocate` extends the file with zeros as `fallocate` does.
#[derive(Clone)]
struct SlowFs {
    inner: MemFs,
    events: Rc<RefCell<Vec<String>>>,
    writes: Rc<RefCell<Vec<LoggedWrite>>>,
    reserve: bool,
}

/// One `write_at` of a `SlowFs` file.
#[derive(Debug, Clone)]
struct LoggedWrite {
    path: PathBuf,
    offset: u64,
    len: u64,
    zeros: bool,
}

impl SlowFs {
    fn new(events: Rc<RefCell<Vec<String>>>) -> SlowFs {
        SlowFs { inner: MemFs::new(), events, writes: Rc::default(), reserve: false }
    }
}

struct SlowFile {
    inner: crate::io::mem::MemFile,
    events: Rc<RefCell<Vec<String>>>,
    writes: Rc<RefCell<Vec<LoggedWrite>>>,
    reserve: bool,
}

async fn rounds(count: usize) {
    for _ in 0..count {
        futures_lite::future::yield_now().await;
    }
}

impl FileSystem for SlowFs {
    type File = SlowFile;

    async fn open(&self, path: &Path, mode: OpenMode) -> Result<SlowFile> {
        let inner = self.inner.open(path, mode).await?;
        Ok(SlowFile { inner, events: self.events.clone(), writes: self.writes.clone(), reserve: self.reserve })
    }
    async fn remove(&self, path: &Path) -> Result<()> {
        self.inner.remove(path).await
    }
    async fn rename(&self, from: &Path, to: &Path) -> Result<()> {
        self.inner.rename(from, to).await
    }
    async fn list(&self, dir: &Path) -> Result<Vec<String>> {
        self.inner.list(dir).await
    }
    async fn create_dir_all(&self, dir: &Path) -> Result<()> {
        self.inner.create_dir_all(dir).await
    }
    async fn sync_dir(&self, dir: &Path) -> Result<()> {
        self.inner.sync_dir(dir).await
    }
    async fn exists(&self, path: &Path) -> Result<bool> {
        self.inner.exists(path).await
    }
}

impl File for SlowFile {
    fn path(&self) -> &Path {
        self.inner.path()
    }
    async fn read_at(&self, offset: u64, len: usize) -> Result<Bytes> {
        self.inner.read_at(offset, len).await
    }
    async fn write_at(&self, offset: u64, data: &[u8]) -> Result<()> {
        let zeros = data.iter().all(|&b| b == 0);
        let path = self.path().to_path_buf();
        self.writes.borrow_mut().push(LoggedWrite { path, offset, len: data.len() as u64, zeros });
        self.events.borrow_mut().push(format!("write {offset} start"));
        rounds(3).await;
        let result = self.inner.write_at(offset, data).await;
        self.events.borrow_mut().push(format!("write {offset} end"));
        result
    }
    async fn sync(&self) -> Result<()> {
        self.events.borrow_mut().push("sync start".into());
        rounds(6).await;
        let result = self.inner.sync().await;
        self.events.borrow_mut().push("sync end".into());
        result
    }
    async fn size(&self) -> Result<u64> {
        self.inner.size().await
    }
    async fn truncate(&self, size: u64) -> Result<()> {
        self.inner.truncate(size).await
    }
    async fn allocate(&self, len: u64) -> Result<()> {
        if self.reserve && self.inner.size().await? < len {
            self.inner.truncate(len).await?;
        }
        self.inner.allocate(len).await
    }
}

#[test]
fn the_next_batch_is_written_while_the_previous_one_syncs_and_acks_stay_in_order() {
    block_on(async {
        let events = Rc::new(RefCell::new(Vec::new()));
        let fs = SlowFs::new(events.clone());
        let journal = Journal::open(fs, Path::new(DIR), JournalOptions::default()).await.expect("open");
        events.borrow_mut().clear();
        let completed = RefCell::new(Vec::new());
        let append = |n: u64, delay: usize| {
            let (journal, completed, events) = (&journal, &completed, &events);
            async move {
                rounds(delay).await;
                journal.append(numbered_batch(n), true).await.expect("append");
                completed.borrow_mut().push(n);
                events.borrow_mut().push(format!("ack {n}"));
            }
        };
        // Batch 2 is staged while batch 1 is being written, so it forms the next group.
        zip(append(1, 0), append(2, 2)).await;
        let events = events.borrow().clone();
        let position =
            |event: &str| events.iter().position(|e| e == event).unwrap_or_else(|| panic!("{event} in {events:?}"));
        assert!(position("write 8192 start") < position("sync end"), "no overlap: {events:?}");
        assert!(position("ack 1") < position("ack 2"), "{events:?}");
        assert_eq!(*completed.borrow(), vec![1, 2]);
        assert_eq!(journal.stats().syncs, 2);
    });
}

#[test]
fn appends_land_on_blocks_zeroed_ahead_and_zeros_never_cover_data() {
    block_on(async {
        let fs = SlowFs { reserve: true, ..SlowFs::new(Rc::default()) };
        // Uncompressed, so that the padding below takes its full size.
        let options = JournalOptions { segment_size_bytes: 2 << 20, lz4_compression: false, ..Default::default() };
        let journal = Journal::open(fs.clone(), Path::new(DIR), options.clone()).await.expect("open");
        for n in 1..=120u64 {
            let mut batch = numbered_batch(n);
            // Batches of 4 KiB to 60 KiB, so that some rotations and chunk ends fall mid-batch.
            batch.put_state(3, "pad", vec![n as u8; (n as usize * 7919) % 60_000]);
            journal.append(batch, true).await.expect("append");
        }
        assert!(journal.segment_ids().len() >= 2, "the test should rotate");
        assert!(journal.stats().bytes_zeroed > 0, "{:?}", journal.stats());

        // Per file, the ranges written so far: (start, end, zeros).
        let mut written: HashMap<PathBuf, Vec<(u64, u64, bool)>> = HashMap::new();
        for write in fs.writes.borrow().iter() {
            let (start, end) = (write.offset, write.offset + write.len);
            assert!(end <= options.segment_size_bytes, "a write past the reservation: {write:?}");
            let earlier = written.entry(write.path.clone()).or_default();
            if write.zeros {
                let data = earlier.iter().find(|&&(s, e, zeros)| !zeros && s < end && start < e);
                assert!(data.is_none(), "zeros over data written at {data:?}: {write:?}");
            } else if start > SEGMENT_HEADER_BYTES {
                // Every batch but a segment's first lands on blocks written before.
                let mut covered = start;
                let mut ranges = earlier.clone();
                ranges.sort_unstable();
                for (s, e, _) in ranges {
                    if s <= covered {
                        covered = covered.max(e);
                    }
                }
                assert!(covered >= end, "a batch on unwritten blocks: {write:?}");
            }
            earlier.push((start, end, write.zeros));
        }
        for seq in journal.segment_ids() {
            let len = fs.inner.contents(&segment_path(seq)).expect("segment").len() as u64;
            assert_eq!(len, options.segment_size_bytes, "segment {seq} kept its reserved size");
        }
        drop(journal);
        fs.inner.crash(CrashMode::PowerLoss);
        assert_eq!(recovered_batch_count(&open(&fs.inner, options).await).await, 120);
    });
}

#[test]
fn a_dropped_leader_hands_over_to_a_waiting_follower() {
    block_on(async {
        let fs = MemFs::new();
        let journal = open(&fs, JournalOptions::default()).await;
        let mut leader = Box::pin(journal.append(numbered_batch(1), true));
        assert!(futures_lite::future::poll_once(&mut leader).await.is_none(), "the leader yields before writing");
        let mut follower = Box::pin(journal.append(numbered_batch(2), true));
        assert!(futures_lite::future::poll_once(&mut follower).await.is_none(), "the follower waits");
        drop(leader);
        follower.await.expect("the follower takes over and writes both staged batches");
        assert_eq!(recovered_batch_count(&journal).await, 2);
    });
}

#[test]
fn a_leader_dropped_mid_write_fails_its_batch_and_closes_the_journal() {
    block_on(async {
        let events = Rc::new(RefCell::new(Vec::new()));
        let fs = SlowFs::new(events.clone());
        let journal = Journal::open(fs, Path::new(DIR), JournalOptions::default()).await.expect("open");
        events.borrow_mut().clear();
        let mut leader = Box::pin(journal.append(numbered_batch(1), true));
        while !events.borrow().iter().any(|event| event.starts_with("write")) {
            assert!(futures_lite::future::poll_once(&mut leader).await.is_none());
        }
        drop(leader);
        let later = journal.append(numbered_batch(2), true).await;
        assert!(matches!(later, Err(Error::Closed(_))), "{later:?}");
    });
}
