//! The write side: `append`, `sync`, and the leader loop of group commit.
//!
//! Only the leader touches `WriterState` (one leader at a time, guaranteed by
//! `CommitQueue::writer_active`), and no `RefCell` borrow is held across an await.

use std::collections::HashSet;
use std::path::Path;
use std::rc::Rc;

use bytes::Bytes;
use futures_lite::future;

use super::batch::{Item, JournalBatch};
use super::commit::{CommitQueue, Member, Slot, SlotSignal, duplicate_error};
use super::format::{self, RecordBody, RecordType, SEGMENT_HEADER_BYTES};
use super::index::RecordLocation;
use super::{Journal, list_segments};
use crate::codec::{self, Lz4Gate};
use crate::error::{Error, Result};
use crate::io::{self, File, FileSystem, OpenMode};

/// Where the next batch goes.
#[derive(Debug)]
pub(super) struct WriterState<T> {
    /// Number of the segment being appended to.
    pub active_segment: u64,
    /// Its handle.
    pub file: Rc<T>,
    /// Aligned offset of the next batch in it.
    pub offset: u64,
    /// Everything of the active segment below this offset has been written (data, or zeros
    /// ahead of the writer, see `zero_ahead_range`): an append there overwrites blocks in
    /// place, so its sync carries no extent change.
    pub zeroed_end: u64,
    /// The active segment's reserved size (aligned down): zeroing ahead stops there.
    pub reserved_end: u64,
    /// Sequence number of the next batch written.
    pub next_batch_seq: u64,
    /// Counts every batch the leader handles (written or not), to order failures.
    pub ordinal: u64,
    /// After a failed write or sync: the leader ordinal of the first failed batch and where it
    /// began. The next write first rewinds there (see `rewind`).
    pub rewind_to: Option<(u64, Position<T>)>,
    /// The segment the last rotation sealed and the offset its data ended at.
    pub sealed_end: Option<(u64, u64)>,
}

/// Where a batch begins: the writer state a rewind restores.
#[derive(Debug)]
pub(super) struct Position<T> {
    segment: u64,
    file: Rc<T>,
    offset: u64,
    batch_seq: u64,
}

impl<T> Clone for Position<T> {
    fn clone(&self) -> Self {
        Position { segment: self.segment, file: self.file.clone(), offset: self.offset, batch_seq: self.batch_seq }
    }
}

impl<T> WriterState<T> {
    /// A writer appending to `file` (segment `active_segment`, `file_size` bytes long) at
    /// `offset`.
    pub fn new(active_segment: u64, file: Rc<T>, file_size: u64, offset: u64, next_batch_seq: u64) -> WriterState<T> {
        WriterState {
            active_segment,
            file,
            offset,
            zeroed_end: offset,
            reserved_end: align_down(file_size),
            next_batch_seq,
            ordinal: 0,
            rewind_to: None,
            sealed_end: None,
        }
    }

    /// The range to write zeros over alongside a batch ending at `end` (`len` bytes long), if
    /// any; it starts at or after `end`, so it never covers data.
    fn zero_ahead_range(&self, end: u64, len: u64) -> Option<(u64, u64)> {
        let step = len.max(ZERO_AHEAD_MIN_BYTES);
        if self.zeroed_end >= end + step {
            return None;
        }
        let start = self.zeroed_end.max(end);
        let stop = (start + 2 * step).min(self.reserved_end);
        (stop > start).then_some((start, stop))
    }

    fn position(&self) -> Position<T> {
        Position {
            segment: self.active_segment,
            file: self.file.clone(),
            offset: self.offset,
            batch_seq: self.next_batch_seq,
        }
    }
}

/// A batch that went through the write step and waits for its sync and acknowledgement.
struct WrittenBatch<T> {
    ordinal: u64,
    /// Where the batch began (before any rotation it caused).
    position: Position<T>,
    file: Rc<T>,
    slots: Vec<Rc<Slot>>,
    sync: bool,
    /// The written records, applied to the index only once the batch is acknowledged.
    written: Option<Written>,
    outcome: Result<()>,
}

/// The records of a batch written at `offset` of `segment`, and the written bytes.
struct Written {
    segment: u64,
    offset: u64,
    records: Vec<EncodedRecord>,
    buffer: Bytes,
}

/// One encoded record of a batch, before its absolute location is known.
struct EncodedRecord {
    body: RecordBody,
    offset_in_batch: usize,
    framed_len: usize,
}

/// Encode buffers larger than this together (after a rare very large batch) are not kept.
const KEPT_ENCODE_BUFFER_BYTES: usize = 8 << 20;

/// The buffers a batch is encoded in, kept by the journal from one batch to the next: fresh ones
/// for every batch of SET 1 KiB -P16 (about 800 KiB each) faulted their pages in every time.
#[derive(Debug, Default)]
pub(super) struct EncodeBuffers {
    records: Vec<u8>,
    /// A payload's compressed copy.
    lz4: Vec<u8>,
}

/// Encodes the records of one batch; the batch header goes in front once the count is known.
struct BatchEncoder<'a> {
    buffers: EncodeBuffers,
    records: Vec<EncodedRecord>,
    /// The journal's gate when records may be compressed.
    lz4: Option<&'a Lz4Gate>,
}

impl<'a> BatchEncoder<'a> {
    /// An encoder in `buffers` (cleared) with room for `items` (more records may follow, e.g.
    /// compactions) and for compressing the largest of them.
    fn new<'i>(
        mut buffers: EncodeBuffers,
        lz4: Option<&'a Lz4Gate>,
        items: impl Iterator<Item = &'i Item>,
    ) -> BatchEncoder<'a> {
        let (count, bound_bytes, largest) = items.fold((0, 0, 0), |(count, bytes, largest), item| {
            let payload = item.payload_bound_bytes();
            (count + 1, bytes + format::RECORD_HEADER_BYTES + payload, largest.max(payload))
        });
        buffers.records.clear();
        buffers.records.reserve(bound_bytes);
        if lz4.is_some() {
            buffers.lz4.reserve(codec::lz4_headroom(largest) + largest);
        }
        BatchEncoder { buffers, records: Vec::with_capacity(count), lz4 }
    }

    fn push(&mut self, item: &Item) {
        let offset_in_batch = self.buffers.records.len();
        let (framed_len, body) = match item {
            Item::Entries { region_id, first_index, entries } => {
                // Entries go straight into the record: the payload is their one copy.
                let parts = entries.iter().map(|entry| (entry.term, entry.head.as_ref(), entry.body.as_ref()));
                let encode = |out: &mut Vec<u8>| format::encode_entries_into(out, *region_id, *first_index, parts);
                let (framed_len, metas) = format::frame_record_with(
                    &mut self.buffers.records,
                    RecordType::Entries,
                    self.lz4,
                    &mut self.buffers.lz4,
                    encode,
                );
                (framed_len, RecordBody::Entries { region_id: *region_id, first_index: *first_index, entries: metas })
            }
            Item::State { region_id, key, value } => {
                let payload = format::encode_state(*region_id, key, value.as_deref());
                let framed_len = format::frame_record(&mut self.buffers.records, RecordType::State, &payload, self.lz4);
                (framed_len, RecordBody::State { region_id: *region_id, key: key.clone(), value: value.clone() })
            }
            Item::Compact { region_id, index } => {
                let payload = format::encode_compact(*region_id, *index);
                let framed_len =
                    format::frame_record(&mut self.buffers.records, RecordType::Compact, &payload, self.lz4);
                (framed_len, RecordBody::Compact { region_id: *region_id, index: *index })
            }
        };
        self.records.push(EncodedRecord { body, offset_in_batch, framed_len });
    }

    /// The aligned write buffer and its records (offsets relative to the buffer start), and the
    /// buffers for the next batch.
    fn finish(self, batch_seq: u64) -> (Vec<u8>, Vec<EncodedRecord>, EncodeBuffers) {
        // Room for the header record and the padding, so that neither reallocates.
        let capacity = codec::align_up(self.buffers.records.len() as u64 + 32, io::IO_ALIGN as u64) as usize;
        let mut buffer = Vec::with_capacity(capacity);
        let header = format::encode_batch_header(batch_seq, self.records.len() as u64);
        let header_len = format::frame_record(&mut buffer, RecordType::BatchHeader, &header, None);
        buffer.extend_from_slice(&self.buffers.records);
        io::pad_to_alignment(&mut buffer);
        let mut records = self.records;
        records.iter_mut().for_each(|record| record.offset_in_batch += header_len);
        (buffer, records, self.buffers)
    }
}

/// Creates segment `seq` with its header block written and `size_bytes` reserved, synced
/// (so later syncs of appends inside the reserved space carry no size change).
/// When the disk cannot give the whole reservation, a smaller one is taken (halving down to
/// this); appends past it then grow the file, and a full disk fails them (see `rewind`).
const MIN_RESERVE_BYTES: u64 = 1 << 20;

/// Zeroing ahead keeps at least the next batch's size, and at least this, of the active
/// segment's reserved space written before the writer reaches it (see `zero_ahead_range`).
///
/// Reserved space is an unwritten extent: the first write to a block converts it, and the sync
/// after that write must also commit the extent change. On this host's ext4 (no journal) that
/// is a synchronous inode write in every fdatasync: 5.5% of the server's CPU at SET 16 B -P1
/// (`perf`), and fdatasync after a 4 KiB write took 207 us at p50 in reserved space against
/// 140 us in space already written. Zeros written ahead, a few hundred KiB at a time alongside
/// a batch's write, leave one extent change per chunk instead of one per sync.
const ZERO_AHEAD_MIN_BYTES: u64 = 256 << 10;

pub(super) async fn create_segment<F: FileSystem>(fs: &F, dir: &Path, seq: u64, size_bytes: u64) -> Result<F::File> {
    let file = fs.open(&dir.join(format::segment_file_name(seq)), OpenMode::CreateTruncate).await?;
    file.write_at(0, &format::encode_segment_header(seq)).await?;
    let mut reserve_bytes = size_bytes;
    while let Err(error) = file.allocate(reserve_bytes).await {
        if !error.is_no_space() || reserve_bytes <= MIN_RESERVE_BYTES {
            return Err(error);
        }
        reserve_bytes = (reserve_bytes / 2).max(MIN_RESERVE_BYTES);
    }
    file.sync().await?;
    Ok(file)
}

/// Marks the writer active for its lifetime; on drop (also when the leader's future is
/// cancelled) hands over to a waiting follower.
struct LeaderGuard<'a> {
    queue: &'a std::cell::RefCell<CommitQueue>,
}

impl<'a> LeaderGuard<'a> {
    fn start(queue: &'a std::cell::RefCell<CommitQueue>) -> LeaderGuard<'a> {
        queue.borrow_mut().writer_active = true;
        LeaderGuard { queue }
    }
}

impl Drop for LeaderGuard<'_> {
    fn drop(&mut self) {
        self.queue.borrow_mut().leader_stopped();
    }
}

impl<F: FileSystem> Journal<F> {
    /// Appends a batch. Resolves once it is written, and durable too when `sync` is set (or
    /// when another member of the same group commit asked for a sync). Batches complete in
    /// the order they were appended. Dropping the future does not withdraw a staged batch;
    /// dropping it while it leads a write in flight closes the journal (that write's fate is
    /// unknown). The caller that becomes the writer returns only once nothing is staged, so
    /// under continuous load one caller keeps writing for the others (and keeps the pipeline
    /// full).
    ///
    /// The batch may be shared (`Rc`), so that a caller that must write it again after a
    /// failure keeps it without a copy.
    pub async fn append(&self, batch: impl Into<Rc<JournalBatch>>, sync: bool) -> Result<()> {
        let batch = batch.into();
        if let Some(error) = self.queue.borrow().closed_error() {
            return Err(error);
        }
        batch.validate()?;
        if batch.is_empty() && !sync {
            return Ok(());
        }
        let slot = Rc::new(Slot::default());
        self.queue.borrow_mut().staged.push(Member { batch, sync, slot: slot.clone() });
        loop {
            if let Some(result) = slot.take_result() {
                return result;
            }
            if !self.queue.borrow().writer_active {
                self.lead().await;
                continue;
            }
            SlotSignal(&slot).await;
        }
    }

    /// Makes everything appended so far durable (for `appendfsync everysec`).
    pub async fn sync(&self) -> Result<()> {
        self.append(JournalBatch::new(), true).await
    }

    /// The leader loop: write what is staged, overlapping the sync of batch k with the
    /// write of batch k+1, until nothing is staged or in flight. No batch overlaps one that
    /// failed (it must rewind first) nor a purge's state rewrite (which reads the index that
    /// the batch before it updates when acknowledged).
    async fn lead(&self) {
        let _guard = LeaderGuard::start(&self.queue);
        // Callers ready in the same executor round stage now and share this write and sync.
        future::yield_now().await;
        let mut pending: Option<WrittenBatch<F::File>> = None;
        loop {
            let members = self.take_staged();
            if members.is_empty() {
                match pending.take() {
                    Some(written) => self.finish(written).await,
                    None => break,
                }
                continue;
            }
            let reads_index = members.iter().any(|member| member.batch.rewrite_states_below.is_some());
            pending = match pending.take() {
                Some(written) if !reads_index && self.writer.borrow().rewind_to.is_none() => {
                    let ((), next) = future::zip(self.finish(written), self.write_batch(members)).await;
                    Some(next)
                }
                Some(written) => {
                    self.finish(written).await;
                    Some(self.write_batch(members).await)
                }
                None => Some(self.write_batch(members).await),
            };
        }
    }

    fn take_staged(&self) -> Vec<Member> {
        let mut queue = self.queue.borrow_mut();
        let members = std::mem::take(&mut queue.staged);
        queue.in_flight.extend(members.iter().map(|member| member.slot.clone()));
        members
    }

    /// Encodes and writes one group; never acknowledges (that is `finish`'s job).
    async fn write_batch(&self, members: Vec<Member>) -> WrittenBatch<F::File> {
        let ordinal = {
            let mut writer = self.writer.borrow_mut();
            writer.ordinal += 1;
            writer.ordinal
        };
        let prepared = self.prepare_write().await;
        let rewound = prepared.is_ok();
        let position = self.writer.borrow().position();
        let outcome = match prepared {
            Ok(()) => self.write_members(&members).await,
            Err(error) => Err(error),
        };
        let written = match outcome {
            Ok(written) => written,
            Err(error) => {
                if rewound {
                    self.fail(ordinal, &position, &error);
                }
                let slots = members.into_iter().map(|member| member.slot).collect();
                let file = position.file.clone();
                return WrittenBatch {
                    ordinal,
                    position,
                    file,
                    slots,
                    sync: false,
                    written: None,
                    outcome: Err(error),
                };
            }
        };
        let sync = members.iter().any(|member| member.sync);
        let slots = members.into_iter().map(|member| member.slot).collect();
        let file = self.writer.borrow().file.clone();
        WrittenBatch { ordinal, position, file, slots, sync, written, outcome: Ok(()) }
    }

    /// Refuses writes after a permanent failure; after a failed write or sync, rewinds first.
    async fn prepare_write(&self) -> Result<()> {
        if let Some(error) = self.queue.borrow().closed_error() {
            return Err(error);
        }
        if self.writer.borrow().rewind_to.is_some() {
            self.rewind().await?;
        }
        Ok(())
    }

    async fn write_members(&self, members: &[Member]) -> Result<Option<Written>> {
        let Some(encoder) = self.encode(members) else {
            return Ok(None);
        };
        let batch_seq = self.writer.borrow().next_batch_seq;
        let (buffer, records, buffers) = encoder.finish(batch_seq);
        if buffers.records.capacity() + buffers.lz4.capacity() <= KEPT_ENCODE_BUFFER_BYTES {
            *self.encode_buffers.borrow_mut() = buffers;
        }
        let len = buffer.len() as u64;
        let (segment, file, offset) = self.place(len).await?;
        let end = offset + len;
        // An empty range (nothing to zero yet) writes nothing.
        let (zero_start, zero_stop) = self.writer.borrow().zero_ahead_range(end, len).unwrap_or((end, end));
        let (written, zeroed) =
            future::zip(file.write_at(offset, &buffer), zero_range(&*file, zero_start, zero_stop)).await;
        written?;
        zeroed?;
        {
            let mut writer = self.writer.borrow_mut();
            writer.offset = end;
            writer.zeroed_end = writer.zeroed_end.max(zero_stop);
            writer.next_batch_seq += 1;
        }
        self.update_stats(|stats| {
            stats.bytes_written += len;
            stats.bytes_zeroed += zero_stop - zero_start;
            stats.batches += 1;
        });
        Ok(Some(Written { segment, offset, records, buffer: Bytes::from(buffer) }))
    }

    /// Encodes the members' items, then the pending compactions, then the state rewrites a
    /// purge asked for; `None` when that is nothing at all.
    fn encode(&self, members: &[Member]) -> Option<BatchEncoder<'_>> {
        let items = || members.iter().flat_map(|member| &member.batch.items);
        let buffers = std::mem::take(&mut *self.encode_buffers.borrow_mut());
        let mut encoder = BatchEncoder::new(buffers, self.options.lz4_compression.then_some(&self.lz4), items());
        items().for_each(|item| encoder.push(item));
        let compacts = std::mem::take(&mut self.queue.borrow_mut().pending_compacts);
        for (region_id, index) in compacts {
            encoder.push(&Item::Compact { region_id, index });
        }
        if let Some(below) = members.iter().filter_map(|member| member.batch.rewrite_states_below).max() {
            // A state this batch writes anyway is already moving to the active segment; an
            // older copy appended after it would undo the newer value.
            let written: HashSet<(u64, Bytes)> = items()
                .filter_map(|item| match item {
                    Item::State { region_id, key, .. } => Some((*region_id, key.clone())),
                    _ => None,
                })
                .collect();
            for (region_id, key, value) in self.index.borrow().states_below(below, &written) {
                encoder.push(&Item::State { region_id, key, value: Some(value) });
            }
        }
        (!encoder.records.is_empty()).then_some(encoder)
    }

    /// The segment, file and offset for a batch of `len` bytes, rotating when it does not fit.
    async fn place(&self, len: u64) -> Result<(u64, Rc<F::File>, u64)> {
        let (segment, file, offset) = {
            let writer = self.writer.borrow();
            (writer.active_segment, writer.file.clone(), writer.offset)
        };
        if offset == SEGMENT_HEADER_BYTES || offset + len <= self.options.segment_size_bytes {
            return Ok((segment, file, offset));
        }
        // Seal the old segment before anything reaches the new one: recovery treats only
        // the last segment's tail as torn, anything else as corruption.
        file.sync().await?;
        self.update_stats(|stats| stats.syncs += 1);
        let next = segment + 1;
        let file = match self.create_next_segment(next).await {
            Ok(file) => Rc::new(file),
            Err(error) => {
                // Most often no space for the reservation: leave no half-made segment behind.
                let _ = self.fs.remove(&self.dir.join(format::segment_file_name(next))).await;
                return Err(error);
            }
        };
        self.update_stats(|stats| stats.bytes_written += SEGMENT_HEADER_BYTES);
        let file_size = file.size().await?;
        self.segments.borrow_mut().insert(next, file.clone());
        let mut writer = self.writer.borrow_mut();
        writer.sealed_end = Some((segment, offset));
        writer.active_segment = next;
        writer.file = file.clone();
        writer.offset = SEGMENT_HEADER_BYTES;
        writer.zeroed_end = SEGMENT_HEADER_BYTES;
        writer.reserved_end = align_down(file_size);
        Ok((next, file, SEGMENT_HEADER_BYTES))
    }

    async fn create_next_segment(&self, seq: u64) -> Result<F::File> {
        let file = create_segment(&self.fs, &self.dir, seq, self.options.segment_size_bytes).await?;
        self.update_stats(|stats| stats.syncs += 1);
        self.fs.sync_dir(&self.dir).await?;
        Ok(file)
    }

    /// Undoes what failed batches may have left: deletes segments made after the first failed
    /// batch began, zeroes its segment from there to where the failed writes ended (so neither a
    /// torn batch nor a later failed batch can ever be read back after a new batch), syncs, and
    /// puts the writer back at that position with that batch number. Nothing acknowledged
    /// lies past it: a batch is acknowledged only if no batch before it failed.
    async fn rewind(&self) -> Result<()> {
        let (target, written_end) = {
            let writer = self.writer.borrow();
            let (_, target) = writer.rewind_to.as_ref().expect("rewind is called only when one is pending");
            let written_end = match writer.sealed_end {
                _ if writer.active_segment == target.segment => Some(writer.offset),
                Some((segment, end)) if segment == target.segment => Some(end),
                _ => None,
            };
            (target.clone(), written_end)
        };
        let newer: Vec<u64> =
            list_segments(&self.fs, &self.dir).await?.into_iter().filter(|&seq| seq > target.segment).collect();
        for seq in &newer {
            self.segments.borrow_mut().remove(seq);
            self.fs.remove(&self.dir.join(format::segment_file_name(*seq))).await?;
        }
        if !newer.is_empty() {
            self.fs.sync_dir(&self.dir).await?;
        }
        let file_size = target.file.size().await?;
        let end = written_end.unwrap_or(file_size);
        zero_range(&*target.file, target.offset, end).await?;
        target.file.sync().await?;
        let mut writer = self.writer.borrow_mut();
        writer.active_segment = target.segment;
        writer.file = target.file.clone();
        writer.offset = target.offset;
        writer.zeroed_end = end;
        writer.reserved_end = align_down(file_size);
        writer.next_batch_seq = target.batch_seq;
        writer.rewind_to = None;
        drop(writer);
        self.queue.borrow_mut().failed_ordinal = None;
        tracing::info!(
            segment = target.segment,
            offset = target.offset,
            "journal: rewound past failed writes; writing again"
        );
        Ok(())
    }

    /// Applies an acknowledged batch's records to the index and the read cache.
    fn apply_written(&self, written: Written) {
        let record_count = written.records.len() as u64;
        let mut index = self.index.borrow_mut();
        let mut cache = self.cache.borrow_mut();
        for record in written.records {
            let framed_len = u32::try_from(record.framed_len).expect("record size validated by the batch");
            let location = RecordLocation {
                segment: written.segment,
                offset: written.offset + record.offset_in_batch as u64,
                framed_len,
            };
            if matches!(record.body, RecordBody::Entries { .. }) {
                let end = record.offset_in_batch + record.framed_len;
                cache.insert(location, written.buffer.slice(record.offset_in_batch..end));
            }
            index.apply(&record.body, location);
        }
        self.update_stats(|stats| stats.records += record_count);
    }

    /// Syncs a written batch if any member asked for it, then completes its members in order.
    async fn finish(&self, written: WrittenBatch<F::File>) {
        let mut outcome = written.outcome;
        if outcome.is_ok() && written.sync {
            outcome = written.file.sync().await;
            match &outcome {
                Ok(()) => self.update_stats(|stats| stats.syncs += 1),
                Err(error) => self.fail(written.ordinal, &written.position, error),
            }
        }
        // A batch after a failed one is not acknowledged: the rewind will overwrite it.
        let failed_before = self.queue.borrow().failed_ordinal.is_some_and(|failed| failed < written.ordinal);
        if outcome.is_ok() && failed_before {
            outcome = Err(Error::Closed("an earlier journal write failed; this batch is rewritten over".into()));
        }
        if outcome.is_ok()
            && let Some(records) = written.written
        {
            self.apply_written(records);
        }
        for slot in &written.slots {
            slot.complete(outcome.as_ref().map(|_| ()).map_err(duplicate_error));
        }
        self.queue.borrow_mut().in_flight.retain(|slot| !slot.is_complete());
    }

    /// Records that batch `ordinal`, which began at `position`, failed: neither it nor any
    /// later batch in flight is acknowledged, and the next write rewinds to the first failure.
    fn fail(&self, ordinal: u64, position: &Position<F::File>, error: &Error) {
        tracing::error!(%error, "journal write failed; the batch is not acknowledged and the next write rewinds");
        let mut queue = self.queue.borrow_mut();
        queue.failed_ordinal = Some(queue.failed_ordinal.map_or(ordinal, |failed| failed.min(ordinal)));
        drop(queue);
        let mut writer = self.writer.borrow_mut();
        if writer.rewind_to.as_ref().is_none_or(|(failed, _)| ordinal < *failed) {
            writer.rewind_to = Some((ordinal, position.clone()));
        }
    }
}

/// Writes zeros over `[start, end)` of `file` (both aligned), in bounded chunks.
async fn zero_range<T: File>(file: &T, start: u64, end: u64) -> Result<()> {
    static ZEROS: [u8; 1 << 20] = [0; 1 << 20];
    let mut offset = start;
    while offset < end {
        let len = (end - offset).min(ZEROS.len() as u64);
        file.write_at(offset, &ZEROS[..len as usize]).await?;
        offset += len;
    }
    Ok(())
}

/// `offset` rounded down to [`io::IO_ALIGN`].
fn align_down(offset: u64) -> u64 {
    offset - offset % io::IO_ALIGN as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::batch::StagedEntry;

    #[test]
    fn a_batch_is_encoded_without_growing_a_buffer() {
        let entries = (0..300u64)
            .map(|i| StagedEntry {
                term: 1,
                head: Bytes::from_static(b"h"),
                body: Bytes::from(vec![i as u8; 60 + i as usize % 7]),
            })
            .collect();
        let items = [
            Item::Entries { region_id: 3, first_index: 10, entries },
            Item::State { region_id: 3, key: Bytes::from_static(b"hs"), value: Some(Bytes::from(vec![1u8; 40])) },
        ];
        let gate = Lz4Gate::default();
        let mut spare = EncodeBuffers::default();
        for lz4 in [None, Some(&gate), None] {
            let mut encoder = BatchEncoder::new(std::mem::take(&mut spare), lz4, items.iter());
            let reserved_bytes = encoder.buffers.records.capacity();
            items.iter().for_each(|item| encoder.push(item));
            assert_eq!(encoder.buffers.records.capacity(), reserved_bytes, "the records fit the reservation");
            let (buffer, records, buffers) = encoder.finish(7);
            assert_eq!(records.len(), 2);
            assert_eq!(buffer.len() % io::IO_ALIGN, 0);
            assert_eq!(buffer.capacity(), buffer.len(), "header and padding fit the first allocation");
            spare = buffers;
        }
        assert!(spare.records.capacity() > 0, "the buffers go back for the next batch");
    }
}
