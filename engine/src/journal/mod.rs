//! The segmented write-ahead journal with group commit; the only WAL of a core.
//!
//! One journal per core holds the raft log entries of every region (raft group) of that core,
//! their small per-region states (raft hard state and the like), and log compaction commands,
//! in the manner of raft-engine: regions share one log stream, and an in-memory index per
//! region knows where each of its entries lives.
//!
//! # Files
//! `journal-{seq:016}.log` in the journal directory, numbered upwards. The highest is the
//! *active* segment; the writer rotates to a new one once a batch would carry the active one
//! past `segment_size_bytes` (a batch larger than that gets a segment of its own). Before the
//! first write to a new segment the previous one is synced, so only the last segment can ever
//! have a torn tail. A new segment reserves `segment_size_bytes` (`File::allocate`) and is
//! synced with its header before any batch, so appends overwrite reserved zeros: the file never
//! grows under an O_DIRECT write (which the kernel would punt to a worker thread) and a sync
//! commits no size change. The writer also writes zeros a few hundred KiB ahead of itself
//! (alongside a batch's write), so that an append lands on blocks already written and its sync
//! commits no extent conversion either (see `writer::ZERO_AHEAD_MIN_BYTES`). Recovery reads
//! the zero tail as padding and keeps it.
//!
//! ```text
//! segment:  0            4096                8192                 12288
//!           | header     | batch 1 | zeros   | batch 2 .... | zeros | batch 3 | zeros |
//!           +------------+---------+---------+--------------+-------+---------+-------+
//! header:   magic "NOKVJRNL" (8) | u32 FORMAT_VERSION | u64 segment seq | u32 masked crc32c
//!           of the preceding 20 bytes | zeros to 4096
//! ```
//!
//! # Batches and records
//! Every write is one batch, padded with zeros to `IO_ALIGN` (O_DIRECT), so every batch starts
//! on a fresh 4 KiB boundary and no acknowledged block is ever rewritten. A batch is a
//! `BatchHeader` record followed by exactly `record_count` records:
//!
//! ```text
//! record:   u32 masked crc32c | u32 len | u8 type | u8 flags | payload (len bytes)
//!           (the crc covers len, type, flags and payload; all integers little-endian)
//!           flags bit 0: payload is lz4 block-compressed with its size prepended (only for
//!           payloads >= 4 KiB, and only when that saves at least an eighth)
//! type 1 BatchHeader  varint batch_seq | varint record_count
//! type 2 Entries      varint region | varint first_index | varint count |
//!                     count x (varint term | varint len | payload)
//! type 3 State        varint region | varint key_len | key | u8 op (1 put, 2 delete) |
//!                     [varint value_len | value]
//! type 4 Compact      varint region | varint index   (entries below index are unneeded)
//! ```
//!
//! `batch_seq` increases by one per batch over the whole journal; a batch whose number does
//! not continue the chain is stale data, not part of the log.
//!
//! # Recovery
//! Segments are scanned in order; complete batches are applied to the index in log order,
//! all or nothing. An all-zero record header where a batch would start is padding: skip to
//! the next 4 KiB boundary. In the last segment the first batch that fails a checksum, is
//! cut short or breaks the sequence chain ends the log: the file is truncated to the aligned
//! end of the last good batch and appends continue there. The same failure in any older
//! segment is `Error::Corruption`, never silently dropped.
//!
//! # Log semantics per region
//! Entries at or below a region's last index replace that suffix (raft conflict), live and on
//! recovery alike: the later write wins. Entries beyond `last_index + 1` restart the region's
//! log there (after a snapshot). The latest `State` of a key wins; `None` deletes it.
//!
//! # Group commit
//! `append` stages the caller's batch. The first caller that finds no writer active becomes
//! the writer and loops: take everything staged, encode it into one aligned buffer, write it,
//! then one sync if any member asked for one, and complete the members strictly in order.
//! The write of batch k+1 overlaps the sync of batch k. No tasks are spawned, so it works on
//! any executor. A batch's records reach the index (and become readable) only when it is
//! acknowledged.
//!
//! # Failed writes (a full disk)
//! An I/O error fails every member of its batch and of every later batch in flight; none is
//! acknowledged. The journal stays open: the next write first *rewinds*: it deletes any
//! segment created since the failed batch began, zeroes the failed batch's segment from that
//! offset to where the failed writes ended, syncs, and continues at that offset with that
//! batch number. So a torn or unsynced batch can never sit in front of a later acknowledged
//! one (recovery stops at the first bad batch), nor be read back after a newer batch. Until
//! the disk has room again every write fails the same way (the caller retries).
//! Preallocation makes a full disk show up at rotation: appends overwrite the reserved zeros
//! of the active segment and need no new blocks, so a full disk fails the reservation of the
//! next segment. The reservation then halves until the disk can give it (down to 1 MiB;
//! appends past a smaller reservation grow the file), so freeing a little space is enough to
//! write again; when not even that fits, the half-made segment is deleted and the write fails.
//! Only a cancelled writer (its write's fate unknown) still closes the journal for good.
//!
//! # Purge
//! `compact_to` drops a region's entries below an index; `purge` deletes the oldest segments
//! that no region needs any entry from, after re-appending the few latest state values that
//! still live in them. Only a prefix of segments is ever deleted, so a delete or a compact
//! record can never outlive the older record it overrides.

mod batch;
mod cache;
mod commit;
mod format;
mod index;
mod recovery;
mod writer;

#[cfg(test)]
mod tests;

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use bytes::Bytes;

pub use batch::{JournalBatch, JournalEntry};
pub use format::FORMAT_VERSION;

use cache::RecordCache;
use commit::CommitQueue;
use format::SEGMENT_HEADER_BYTES;
use index::{JournalIndex, RecordLocation};
use writer::WriterState;

use crate::codec::Lz4Gate;
use crate::error::{Error, Result};
use crate::io::{self, File, FileSystem, OpenMode};

/// Options of a journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalOptions {
    /// A segment is rotated once the next batch would carry it past this size.
    pub segment_size_bytes: u64,
    /// Compress record payloads of 4 KiB and more with lz4 when it pays.
    pub lz4_compression: bool,
    /// Budget of the cache of framed records (the recently written tail, mostly).
    pub read_cache_capacity_bytes: usize,
}

impl Default for JournalOptions {
    fn default() -> Self {
        JournalOptions { segment_size_bytes: 64 << 20, lz4_compression: true, read_cache_capacity_bytes: 4 << 20 }
    }
}

impl JournalOptions {
    /// Checks the options.
    pub fn validate(&self) -> Result<()> {
        let min_bytes = 2 * io::IO_ALIGN as u64;
        if self.segment_size_bytes < min_bytes || self.segment_size_bytes > 1 << 40 {
            return Err(Error::InvalidOption {
                name: "journal.segment_size_bytes",
                reason: format!("{} is outside [{min_bytes}, 1 TiB]", self.segment_size_bytes),
            });
        }
        Ok(())
    }
}

/// Counters of a journal since it was opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JournalStats {
    /// Bytes written to segments, padding and segment headers included.
    pub bytes_written: u64,
    /// Batches written.
    pub batches: u64,
    /// Syncs (fdatasync) issued, rotations included.
    pub syncs: u64,
    /// Records written, batch headers excluded.
    pub records: u64,
    /// Zeros written ahead of the writer into reserved space (not in `bytes_written`).
    pub bytes_zeroed: u64,
}

/// The per-core write-ahead journal. See the module doc.
pub struct Journal<F: FileSystem> {
    fs: F,
    dir: PathBuf,
    options: JournalOptions,
    index: RefCell<JournalIndex>,
    segments: RefCell<BTreeMap<u64, Rc<F::File>>>,
    writer: RefCell<WriterState<F::File>>,
    queue: RefCell<CommitQueue>,
    cache: RefCell<RecordCache>,
    /// Kept from one batch's encoding to the next.
    encode_buffers: RefCell<writer::EncodeBuffers>,
    stats: Cell<JournalStats>,
    /// Decides which records lz4 is tried on.
    lz4: Lz4Gate,
}

impl<F: FileSystem> fmt::Debug for Journal<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Journal").field("dir", &self.dir).field("stats", &self.stats.get()).finish_non_exhaustive()
    }
}

/// What recovery collects while scanning segments.
struct Recovery<File> {
    index: JournalIndex,
    segments: BTreeMap<u64, Rc<File>>,
    next_batch_seq: Option<u64>,
    active: Option<(u64, u64)>,
}

impl<F: FileSystem> Journal<F> {
    /// Opens (or creates) the journal in `dir`: verifies every segment, rebuilds the index and
    /// cuts a torn tail off the last segment.
    pub async fn open(fs: F, dir: &Path, options: JournalOptions) -> Result<Journal<F>> {
        options.validate()?;
        fs.create_dir_all(dir).await?;
        let seqs = list_segments(&fs, dir).await?;
        let mut recovery =
            Recovery { index: JournalIndex::default(), segments: BTreeMap::new(), next_batch_seq: None, active: None };
        for (position, &seq) in seqs.iter().enumerate() {
            let is_last = position + 1 == seqs.len();
            recover_segment(&fs, dir, seq, is_last, options.segment_size_bytes, &mut recovery).await?;
        }
        let (active_segment, offset) = match recovery.active {
            Some(active) => active,
            None => {
                let seq = seqs.last().map_or(1, |last| last + 1);
                let file = writer::create_segment(&fs, dir, seq, options.segment_size_bytes).await?;
                fs.sync_dir(dir).await?;
                recovery.segments.insert(seq, Rc::new(file));
                (seq, SEGMENT_HEADER_BYTES)
            }
        };
        let file =
            recovery.segments.get(&active_segment).cloned().expect("the active segment was recovered or created");
        let next_batch_seq = recovery.next_batch_seq.unwrap_or(1);
        let file_size = file.size().await?;
        Ok(Journal {
            writer: RefCell::new(WriterState::new(active_segment, file, file_size, offset, next_batch_seq)),
            cache: RefCell::new(RecordCache::new(options.read_cache_capacity_bytes)),
            encode_buffers: RefCell::default(),
            fs,
            dir: dir.to_path_buf(),
            options,
            index: RefCell::new(recovery.index),
            segments: RefCell::new(recovery.segments),
            queue: RefCell::new(CommitQueue::default()),
            stats: Cell::new(JournalStats::default()),
            lz4: Lz4Gate::default(),
        })
    }

    /// Entries `[low, high)` of a region; the range must lie within the live entries.
    pub async fn read_entries(&self, region_id: u64, low: u64, high: u64) -> Result<Vec<JournalEntry>> {
        let locations = self.index.borrow().locations(region_id, low, high)?;
        let mut entries = Vec::with_capacity(locations.len());
        let mut current: Option<(RecordLocation, Bytes)> = None;
        for (index, location) in locations {
            let payload = match &current {
                Some((record, payload)) if *record == location.record => payload.clone(),
                _ => self.record_payload(location.record).await?,
            };
            let start = location.payload_offset as usize;
            let end = start + location.payload_len as usize;
            if end > payload.len() {
                return Err(Error::corruption(
                    "journal record",
                    format!("entry {index} of region {region_id} outside its record"),
                ));
            }
            entries.push(JournalEntry { region_id, term: location.term, index, payload: payload.slice(start..end) });
            current = Some((location.record, payload));
        }
        Ok(entries)
    }

    /// The decoded payload of a record, from the cache or the segment.
    async fn record_payload(&self, location: RecordLocation) -> Result<Bytes> {
        let cached = self.cache.borrow().get(&location);
        let framed = match cached {
            Some(framed) => framed,
            None => {
                let file = self.segments.borrow().get(&location.segment).cloned().ok_or_else(|| {
                    Error::corruption("journal index", format!("segment {} of a live entry is gone", location.segment))
                })?;
                let framed =
                    io::read_exact_at(&*file, location.offset, location.framed_len as usize, "journal record").await?;
                self.cache.borrow_mut().insert(location, framed.clone());
                framed
            }
        };
        let format::Frame::Record { flags, stored, .. } = format::read_frame(&framed, 0)? else {
            return Err(Error::corruption(
                "journal record",
                format!("zeros where the index expects a record: {location:?}"),
            ));
        };
        format::frame_payload(flags, stored, |stored| framed.slice_ref(stored))
    }

    /// Index of the first live entry of a region.
    pub fn first_index(&self, region_id: u64) -> Option<u64> {
        self.index.borrow().first_index(region_id)
    }

    /// Index of the last live entry of a region.
    pub fn last_index(&self, region_id: u64) -> Option<u64> {
        self.index.borrow().last_index(region_id)
    }

    /// Term of a live entry.
    pub fn term(&self, region_id: u64, index: u64) -> Option<u64> {
        self.index.borrow().term(region_id, index)
    }

    /// Every region with live entries or states, ascending.
    pub fn regions(&self) -> Vec<u64> {
        self.index.borrow().regions()
    }

    /// The latest value of a region's state key.
    pub fn state(&self, region_id: u64, key: &[u8]) -> Option<Bytes> {
        self.index.borrow().state(region_id, key)
    }

    /// Counters since open.
    pub fn stats(&self) -> JournalStats {
        self.stats.get()
    }

    /// Segment numbers on disk, ascending (the last is the active one).
    pub fn segment_ids(&self) -> Vec<u64> {
        self.segments.borrow().keys().copied().collect()
    }

    /// Memory the in-memory index of live entries takes: 40 bytes per entry not yet compacted
    /// (for the raft log, an entry not yet flushed by the engine).
    pub fn index_bytes(&self) -> u64 {
        self.index.borrow().entry_capacity_bytes()
    }

    /// Marks entries of `region_id` below `index` as no longer needed. Takes effect in memory
    /// at once; the command is written with the next batch.
    pub fn compact_to(&self, region_id: u64, index: u64) {
        self.index.borrow_mut().compact_to(region_id, index);
        self.queue.borrow_mut().pending_compacts.push((region_id, index));
    }

    /// Regions whose first needed entry lives in the oldest non-active segment: compacting (or
    /// flushing) them is what lets `purge` free that segment.
    pub fn regions_pinning_oldest(&self) -> Vec<u64> {
        let active = self.writer.borrow().active_segment;
        let index = self.index.borrow();
        match index.oldest_entry_segment() {
            Some(oldest) if oldest < active => index.regions_with_entries_in(oldest),
            _ => Vec::new(),
        }
    }

    /// Deletes the oldest segments that hold no needed entry, after re-appending the latest
    /// state values they still hold (durably). Never deletes the active segment. Returns the
    /// deleted segment numbers.
    pub async fn purge(&self) -> Result<Vec<u64>> {
        let active = self.writer.borrow().active_segment;
        let entry_limit = self.index.borrow().oldest_entry_segment().map_or(active, |oldest| oldest.min(active));
        let oldest_on_disk = self.segments.borrow().keys().next().copied();
        if oldest_on_disk.is_none_or(|oldest| oldest >= entry_limit) {
            return Ok(Vec::new());
        }
        let mut batch = JournalBatch::new();
        batch.rewrite_states_below = Some(entry_limit);
        self.append(batch, true).await?;
        let active = self.writer.borrow().active_segment;
        let limit = self.index.borrow().oldest_needed_segment().map_or(active, |oldest| oldest.min(active));
        let doomed: Vec<u64> = self.segments.borrow().range(..limit).map(|(seq, _)| *seq).collect();
        for seq in &doomed {
            self.segments.borrow_mut().remove(seq);
            self.fs.remove(&self.dir.join(format::segment_file_name(*seq))).await?;
        }
        if !doomed.is_empty() {
            self.fs.sync_dir(&self.dir).await?;
            self.cache.borrow_mut().forget_segments_below(limit);
        }
        Ok(doomed)
    }

    fn update_stats(&self, update: impl FnOnce(&mut JournalStats)) {
        let mut stats = self.stats.get();
        update(&mut stats);
        self.stats.set(stats);
    }
}

/// Segment numbers in `dir`, ascending.
async fn list_segments<F: FileSystem>(fs: &F, dir: &Path) -> Result<Vec<u64>> {
    let mut seqs: Vec<u64> =
        fs.list(dir).await?.iter().filter_map(|name| format::parse_segment_file_name(name)).collect();
    seqs.sort_unstable();
    Ok(seqs)
}

/// Verifies one segment and applies its batches; repairs the torn tail of the last one.
async fn recover_segment<F: FileSystem>(
    fs: &F,
    dir: &Path,
    seq: u64,
    is_last: bool,
    segment_size_bytes: u64,
    recovery: &mut Recovery<F::File>,
) -> Result<()> {
    let path = dir.join(format::segment_file_name(seq));
    let file = fs.open(&path, OpenMode::ReadWrite).await?;
    let bytes = read_whole(&file).await?;
    if let Err(error) = format::check_segment_header(&bytes, seq) {
        // The header is written (and synced) before any batch, so a last segment that ends
        // inside its header, or whose header block is still zeros (space reserved, header
        // lost), never held a synced batch: it is the torn remains of a rotation.
        let header_len = bytes.len().min(SEGMENT_HEADER_BYTES as usize);
        let header_torn = bytes.len() < SEGMENT_HEADER_BYTES as usize || is_zero(&bytes[..header_len]);
        if !is_last || !header_torn {
            return Err(error);
        }
        tracing::warn!(segment = seq, "journal: dropping a last segment with a torn header");
        drop(file);
        fs.remove(&path).await?;
        return fs.sync_dir(dir).await;
    }
    let scan = recovery::scan_segment(seq, &bytes, recovery.next_batch_seq, &mut recovery.index);
    if let Some(error) = scan.failure {
        if !is_last {
            return Err(error);
        }
        tracing::warn!(segment = seq, good_end = scan.good_end, %error, "journal: truncating a torn tail");
    }
    // Zeros past the good end are reserved space (appends overwrite it); anything else there
    // is a torn batch, cut off and reserved again.
    let tail = usize::try_from(scan.good_end).ok().and_then(|good_end| bytes.get(good_end..));
    if is_last && !tail.is_some_and(is_zero) {
        file.truncate(scan.good_end).await?;
        file.allocate(segment_size_bytes).await?;
        file.sync().await?;
    }
    recovery.next_batch_seq = scan.last_batch_seq.map(|last| last + 1).or(recovery.next_batch_seq);
    recovery.segments.insert(seq, Rc::new(file));
    recovery.active = Some((seq, scan.good_end));
    Ok(())
}

fn is_zero(bytes: &[u8]) -> bool {
    bytes.iter().all(|&b| b == 0)
}

/// Reads a whole segment, in chunks so an O_DIRECT read never needs one huge buffer.
async fn read_whole<T: File>(file: &T) -> Result<Vec<u8>> {
    const CHUNK_BYTES: usize = 1 << 20;
    let size = file.size().await?;
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    while (bytes.len() as u64) < size {
        let chunk = file.read_at(bytes.len() as u64, CHUNK_BYTES).await?;
        if chunk.is_empty() {
            break;
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}
