//! Garbage-collection primitives of the value log: discard statistics, candidate picking,
//! scanning a file, and two-phase deletion of obsolete files (rule in the module doc above).

use std::collections::{BTreeMap, BTreeSet};

use super::format::HEADER_BYTES;
use super::obsolete;
use super::scan::scan_records;
use super::value_log::{ValueLog, VlogRecord};
use crate::error::{Error, Result};
use crate::io::{FileSystem, join};
use crate::key::Seq;

/// A file whose live values the engine rewrote.
#[derive(Debug, Clone, Copy)]
struct ObsoleteFile {
    /// Highest sequence number of the rewrites.
    after_seq: Seq,
    /// The rewrites are in a flushed SST (seen `after_seq <= flushed_seq`).
    flushed: bool,
}

/// Discard statistics and obsolete files.
#[derive(Debug, Default)]
pub(super) struct GcState {
    discard: BTreeMap<u32, u64>,
    obsolete: BTreeMap<u32, ObsoleteFile>,
    /// The ids `vlog-obsolete` holds now.
    persisted: BTreeSet<u32>,
}

impl GcState {
    pub(super) fn add_discard(&mut self, file_id: u32, bytes: u64) {
        let discard = self.discard.entry(file_id).or_default();
        *discard = discard.saturating_add(bytes);
    }

    /// Notes which rewrites are flushed now and returns the files that may be deleted.
    fn settle(&mut self, flushed_seq: Seq, oldest_snapshot_seq: Seq) -> Vec<u32> {
        for file in self.obsolete.values_mut() {
            file.flushed |= file.after_seq <= flushed_seq;
        }
        let deletable = |file: &ObsoleteFile| file.flushed && file.after_seq < oldest_snapshot_seq;
        self.obsolete.iter().filter(|(_, file)| deletable(file)).map(|(&id, _)| id).collect()
    }

    fn flushed_ids(&self) -> BTreeSet<u32> {
        self.obsolete.iter().filter(|(_, file)| file.flushed).map(|(&id, _)| id).collect()
    }

    fn forget(&mut self, file_id: u32) {
        self.discard.remove(&file_id);
        self.obsolete.remove(&file_id);
    }
}

impl<F: FileSystem> ValueLog<F> {
    /// Adds `bytes` of dropped records to file `file_id`'s discard count (compaction calls it
    /// for every value pointer it drops). Files that no longer exist are ignored.
    pub fn add_discard(&self, file_id: u32, bytes: u64) {
        if self.files.borrow().contains_key(&file_id) {
            self.gc.borrow_mut().add_discard(file_id, bytes);
        }
    }

    /// Discarded bytes per file, by file id, for the engine to persist.
    pub fn discard_stats(&self) -> Vec<(u32, u64)> {
        self.gc.borrow().discard.iter().map(|(&id, &bytes)| (id, bytes)).collect()
    }

    /// Replaces the discard statistics with persisted ones; ids without a file are dropped.
    pub fn set_discard_stats(&self, stats: impl IntoIterator<Item = (u32, u64)>) {
        let files = self.files.borrow();
        let discard = stats.into_iter().filter(|(id, _)| files.contains_key(id)).collect();
        self.gc.borrow_mut().discard = discard;
    }

    /// The discarded share of file `file_id`'s data (header excluded), at most 1.
    pub fn discard_ratio(&self, file_id: u32) -> Option<f64> {
        let data_bytes = self.file_size(file_id)?.saturating_sub(HEADER_BYTES);
        let discard = self.gc.borrow().discard.get(&file_id).copied().unwrap_or(0);
        if data_bytes == 0 {
            return Some(0.0);
        }
        Some((discard as f64 / data_bytes as f64).min(1.0))
    }

    /// The file garbage collection should rewrite next: among files that are neither active
    /// nor already obsolete and whose discard ratio reaches `gc_discard_ratio`, the one with
    /// the most discarded bytes (the lowest id on a tie).
    pub fn pick_gc_candidate(&self) -> Option<u32> {
        let gc = self.gc.borrow();
        let eligible = |&(&id, &bytes): &(&u32, &u64)| {
            id != self.active_file_id()
                && bytes > 0
                && !gc.obsolete.contains_key(&id)
                && self.discard_ratio(id).is_some_and(|ratio| ratio >= self.options.gc_discard_ratio)
        };
        let candidates = gc.discard.iter().filter(eligible);
        candidates.max_by_key(|&(&id, &bytes)| (bytes, std::cmp::Reverse(id))).map(|(&id, _)| id)
    }

    /// Every record of file `file_id`, verified, in file order. Damage anywhere in the file is
    /// `Error::Corruption` (the file was synced; it has no torn tail to forgive).
    pub async fn scan_file(&self, file_id: u32) -> Result<Vec<VlogRecord>> {
        if file_id == self.active_file_id() {
            self.write_buffered().await?;
        }
        let (Some(file), Some(end)) = (self.handle(file_id), self.file_size(file_id)) else {
            return Err(Error::InvalidArgument(format!("value-log file {file_id} does not exist")));
        };
        let mut records = Vec::new();
        let chunk_bytes = self.options.scan_read_bytes;
        let scan_end = scan_records(&*file, file_id, end, chunk_bytes, |record, pointer| {
            records.push(VlogRecord { value: record.value()?, key: record.key, pointer });
            Ok(())
        })
        .await?;
        match scan_end.damage {
            Some(damage) => Err(Error::corruption("value-log record", damage)),
            None => Ok(records),
        }
    }

    /// Marks file `file_id` obsolete: the engine re-appended every value the LSM still points
    /// at, with sequence numbers up to `after_seq`. Marking again keeps the larger `after_seq`.
    pub fn mark_obsolete(&self, file_id: u32, after_seq: Seq) -> Result<()> {
        if file_id == self.active_file_id() {
            return Err(Error::InvalidArgument(format!("value-log file {file_id} is active; it cannot be obsolete")));
        }
        if !self.files.borrow().contains_key(&file_id) {
            return Err(Error::InvalidArgument(format!("value-log file {file_id} does not exist")));
        }
        let mut gc = self.gc.borrow_mut();
        let file = gc.obsolete.entry(file_id).or_insert(ObsoleteFile { after_seq, flushed: false });
        file.after_seq = file.after_seq.max(after_seq);
        Ok(())
    }

    /// Files marked obsolete and not yet deleted, with their `after_seq`.
    pub fn obsolete_files(&self) -> Vec<(u32, Seq)> {
        self.gc.borrow().obsolete.iter().map(|(&id, file)| (id, file.after_seq)).collect()
    }

    /// Deletes every obsolete file with `after_seq <= flushed_seq` and
    /// `after_seq < oldest_snapshot_seq`, and returns their ids. `flushed_seq` must be durable
    /// (its SSTs are in the synced manifest). Files held only by snapshots are recorded in
    /// `vlog-obsolete` so a restart deletes them.
    pub async fn delete_obsolete(&self, flushed_seq: Seq, oldest_snapshot_seq: Seq) -> Result<Vec<u32>> {
        let _guard = self.writer.lock().await;
        let deletable = self.gc.borrow_mut().settle(flushed_seq, oldest_snapshot_seq);
        // Listing the deletable files too means a crash halfway through still deletes them.
        let flushed = self.gc.borrow().flushed_ids();
        self.persist_obsolete(flushed).await?;
        for &file_id in &deletable {
            self.delete_file(file_id).await?;
        }
        if !deletable.is_empty() {
            self.fs.sync_dir(&self.dir).await?;
            tracing::info!(files = ?deletable, "value-log GC deleted obsolete files");
        }
        let still_waiting = self.gc.borrow().flushed_ids();
        self.persist_obsolete(still_waiting).await?;
        Ok(deletable)
    }

    /// Deletes file `file_id` now, for an engine that keeps its own record of obsolete files
    /// (in its manifest) instead of using [`ValueLog::mark_obsolete`]. Idempotent: a file that
    /// is already gone is not an error, so recovery can repeat a deletion a crash interrupted.
    /// Reads of pointers into the file fail afterwards. The active file cannot be removed.
    pub async fn remove_file(&self, file_id: u32) -> Result<()> {
        let _guard = self.writer.lock().await;
        if file_id == self.active_file_id() {
            return Err(Error::InvalidArgument(format!("value-log file {file_id} is active; it cannot be removed")));
        }
        if !self.delete_file(file_id).await? {
            return Ok(());
        }
        self.fs.sync_dir(&self.dir).await?;
        let still_waiting = self.gc.borrow().flushed_ids();
        self.persist_obsolete(still_waiting).await
    }

    /// Unlinks file `file_id` if it exists and forgets it; false when there was nothing to do.
    async fn delete_file(&self, file_id: u32) -> Result<bool> {
        let path = join(&self.dir, &super::file_name(file_id));
        let exists = self.fs.exists(&path).await?;
        if exists {
            self.fs.remove(&path).await?;
        }
        let entry = self.files.borrow_mut().remove(&file_id);
        self.gc.borrow_mut().forget(file_id);
        if !exists {
            return Ok(false);
        }
        let mut stats = self.stats.borrow_mut();
        stats.files_deleted += 1;
        stats.bytes_reclaimed += entry.map_or(0, |entry| entry.size_bytes);
        Ok(true)
    }

    /// Rewrites `vlog-obsolete` when its content would change.
    async fn persist_obsolete(&self, file_ids: BTreeSet<u32>) -> Result<()> {
        if self.gc.borrow().persisted == file_ids {
            return Ok(());
        }
        obsolete::write(&self.fs, &self.dir, &file_ids).await?;
        self.gc.borrow_mut().persisted = file_ids;
        Ok(())
    }
}
