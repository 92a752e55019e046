//! The write side: `append`, `sync`, and the leader loop of group commit.
//!
//! Only the leader touches `WriterState` (one leader at a time, guaranteed by
//! `CommitQueue::writer_active`), and no `RefCell` borrow is held across an await.

use std::collections::HashSet;
use std::path::Path;
use std::rc::Rc;

use bytes::Bytes;
use futures_lite::future;

use super::Journal;
use super::batch::{Item, JournalBatch};
use super::commit::{CommitQueue, Member, Slot, SlotSignal, duplicate_error};
use super::format::{self, RecordBody, RecordType, SEGMENT_HEADER_BYTES};
use super::index::RecordLocation;
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
    /// Sequence number of the next batch written.
    pub next_batch_seq: u64,
    /// Counts every batch the leader handles (written or not), to order failures.
    pub ordinal: u64,
}

/// A batch that went through the write step and waits for its sync and acknowledgement.
struct WrittenBatch<T> {
    ordinal: u64,
    file: Rc<T>,
    slots: Vec<Rc<Slot>>,
    sync: bool,
    outcome: Result<()>,
}

/// One encoded record of a batch, before its absolute location is known.
struct EncodedRecord {
    body: RecordBody,
    offset_in_batch: usize,
    framed_len: usize,
    /// The uncompressed payload of an `Entries` record, for the read cache.
    entries_payload: Option<Bytes>,
}

/// Encodes the records of one batch; the batch header goes in front once the count is known.
struct BatchEncoder {
    records_buffer: Vec<u8>,
    records: Vec<EncodedRecord>,
    allow_lz4: bool,
}

impl BatchEncoder {
    fn new(allow_lz4: bool) -> BatchEncoder {
        BatchEncoder { records_buffer: Vec::new(), records: Vec::new(), allow_lz4 }
    }

    fn push(&mut self, item: &Item) {
        let (record_type, payload, body) = encode_item(item);
        let offset_in_batch = self.records_buffer.len();
        let framed_len = format::frame_record(&mut self.records_buffer, record_type, &payload, self.allow_lz4);
        let entries_payload = (record_type == RecordType::Entries).then(|| Bytes::from(payload));
        self.records.push(EncodedRecord { body, offset_in_batch, framed_len, entries_payload });
    }

    /// The aligned write buffer and its records (offsets relative to the buffer start).
    fn finish(self, batch_seq: u64) -> (Vec<u8>, Vec<EncodedRecord>) {
        let mut buffer = Vec::with_capacity(self.records_buffer.len() + 32);
        let header = format::encode_batch_header(batch_seq, self.records.len() as u64);
        let header_len = format::frame_record(&mut buffer, RecordType::BatchHeader, &header, false);
        buffer.extend_from_slice(&self.records_buffer);
        io::pad_to_alignment(&mut buffer);
        let mut records = self.records;
        records.iter_mut().for_each(|record| record.offset_in_batch += header_len);
        (buffer, records)
    }
}

fn encode_item(item: &Item) -> (RecordType, Vec<u8>, RecordBody) {
    match item {
        Item::Entries { region_id, first_index, entries } => {
            let pairs = entries.iter().map(|(term, payload)| (*term, payload.as_ref()));
            let (payload, metas) = format::encode_entries(*region_id, *first_index, pairs);
            let body = RecordBody::Entries { region_id: *region_id, first_index: *first_index, entries: metas };
            (RecordType::Entries, payload, body)
        }
        Item::State { region_id, key, value } => {
            let payload = format::encode_state(*region_id, key, value.as_deref());
            let body = RecordBody::State { region_id: *region_id, key: key.clone(), value: value.clone() };
            (RecordType::State, payload, body)
        }
        Item::Compact { region_id, index } => {
            let body = RecordBody::Compact { region_id: *region_id, index: *index };
            (RecordType::Compact, format::encode_compact(*region_id, *index), body)
        }
    }
}

/// Creates segment `seq` with its header block written and `size_bytes` reserved, synced
/// (so later syncs of appends inside the reserved space carry no size change).
pub(super) async fn create_segment<F: FileSystem>(fs: &F, dir: &Path, seq: u64, size_bytes: u64) -> Result<F::File> {
    let file = fs.open(&dir.join(format::segment_file_name(seq)), OpenMode::CreateTruncate).await?;
    file.write_at(0, &format::encode_segment_header(seq)).await?;
    file.allocate(size_bytes).await?;
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
    pub async fn append(&self, batch: JournalBatch, sync: bool) -> Result<()> {
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
    /// write of batch k+1, until nothing is staged or in flight.
    async fn lead(&self) {
        let _guard = LeaderGuard::start(&self.queue);
        // Callers ready in the same executor round stage now and share this write and sync.
        future::yield_now().await;
        let mut pending: Option<WrittenBatch<F::File>> = None;
        loop {
            let members = self.take_staged();
            pending = match (pending, members.is_empty()) {
                (None, true) => break,
                (Some(written), true) => {
                    self.finish(written).await;
                    None
                }
                (None, false) => Some(self.write_batch(members).await),
                (Some(written), false) => {
                    let ((), next) = future::zip(self.finish(written), self.write_batch(members)).await;
                    Some(next)
                }
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
        let closed = self.queue.borrow().closed_error();
        let outcome = match closed {
            Some(error) => Err(error),
            None => self.write_members(&members).await,
        };
        if let Err(error) = &outcome {
            self.fail(ordinal, error);
        }
        let sync = members.iter().any(|member| member.sync);
        let slots = members.into_iter().map(|member| member.slot).collect();
        WrittenBatch { ordinal, file: self.writer.borrow().file.clone(), slots, sync, outcome }
    }

    async fn write_members(&self, members: &[Member]) -> Result<()> {
        let Some(encoder) = self.encode(members) else {
            return Ok(());
        };
        let batch_seq = self.writer.borrow().next_batch_seq;
        let (buffer, records) = encoder.finish(batch_seq);
        let (segment, file, offset) = self.place(buffer.len() as u64).await?;
        file.write_at(offset, &buffer).await?;
        self.commit_written(segment, offset, buffer.len() as u64, records);
        Ok(())
    }

    /// Encodes the members' items, then the pending compactions, then the state rewrites a
    /// purge asked for; `None` when that is nothing at all.
    fn encode(&self, members: &[Member]) -> Option<BatchEncoder> {
        let mut encoder = BatchEncoder::new(self.options.lz4_compression);
        let items = || members.iter().flat_map(|member| &member.batch.items);
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
        let file = Rc::new(create_segment(&self.fs, &self.dir, next, self.options.segment_size_bytes).await?);
        self.update_stats(|stats| stats.syncs += 1);
        self.fs.sync_dir(&self.dir).await?;
        self.update_stats(|stats| stats.bytes_written += SEGMENT_HEADER_BYTES);
        self.segments.borrow_mut().insert(next, file.clone());
        let mut writer = self.writer.borrow_mut();
        writer.active_segment = next;
        writer.file = file.clone();
        writer.offset = SEGMENT_HEADER_BYTES;
        Ok((next, file, SEGMENT_HEADER_BYTES))
    }

    /// Records a completed write: advances the writer and applies the records to the index.
    fn commit_written(&self, segment: u64, offset: u64, len: u64, records: Vec<EncodedRecord>) {
        {
            let mut writer = self.writer.borrow_mut();
            writer.offset = offset + len;
            writer.next_batch_seq += 1;
        }
        let record_count = records.len() as u64;
        let mut index = self.index.borrow_mut();
        let mut cache = self.cache.borrow_mut();
        for record in records {
            let framed_len = u32::try_from(record.framed_len).expect("record size validated by the batch");
            let location = RecordLocation { segment, offset: offset + record.offset_in_batch as u64, framed_len };
            index.apply(&record.body, location);
            if let Some(payload) = record.entries_payload {
                cache.insert(location, payload);
            }
        }
        self.update_stats(|stats| {
            stats.bytes_written += len;
            stats.batches += 1;
            stats.records += record_count;
        });
    }

    /// Syncs a written batch if any member asked for it, then completes its members in order.
    async fn finish(&self, written: WrittenBatch<F::File>) {
        let mut outcome = written.outcome;
        if outcome.is_ok() && written.sync {
            outcome = written.file.sync().await;
            match &outcome {
                Ok(()) => self.update_stats(|stats| stats.syncs += 1),
                Err(error) => self.fail(written.ordinal, error),
            }
        }
        // A batch after a failed one is not acknowledged: its predecessor's fate is unknown.
        let failed_before = self.queue.borrow().failed_ordinal.is_some_and(|failed| failed < written.ordinal);
        if outcome.is_ok() && failed_before {
            outcome = Err(self.queue.borrow().closed_error().expect("a failed ordinal comes with a failure"));
        }
        for slot in &written.slots {
            slot.complete(outcome.as_ref().map(|_| ()).map_err(duplicate_error));
        }
        self.queue.borrow_mut().in_flight.retain(|slot| !slot.is_complete());
    }

    /// Makes the journal refuse further writes after an error in batch `ordinal`.
    fn fail(&self, ordinal: u64, error: &Error) {
        tracing::error!(%error, "journal write failed; refusing writes until reopened");
        let mut queue = self.queue.borrow_mut();
        queue.failure.get_or_insert_with(|| error.to_string());
        queue.failed_ordinal = Some(queue.failed_ordinal.map_or(ordinal, |failed| failed.min(ordinal)));
    }
}
