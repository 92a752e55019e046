//! Flush: turns the oldest frozen memtable into one L0 table per non-empty column family.
//!
//! Order, so a crash at any point loses nothing and leaks nothing that open cannot clean up:
//! 1. sync the value log (the new tables will point into it);
//! 2. write and sync every table (with `flush_value_threshold_bytes`, the Default CF table's
//!    large values are appended to the value log as it is built, and it holds pointers), sync
//!    the value log again if the tables added to it, then sync the directory;
//! 3. log one version edit (tables, last sequence, per-region flushed watermarks, value-log
//!    files whose relocation this flush made durable, the value-log head) and install the new
//!    version;
//! 4. drop the memtable, and delete value-log files that no reader can still need.

use std::rc::Rc;

use bytes::Bytes;

use super::Engine;
use crate::error::Result;
use crate::io::FileSystem;
use crate::key::{self, Cf, InternalKey, ValueKind};
use crate::memtable::MemTable;
use crate::sst::TableWriter;
use crate::version::{FileMeta, VersionEdit};
use crate::vlog::VlogPosition;

/// Memtable entries added to a table between two yields of a flush.
const FLUSH_SLICE_ENTRIES: usize = 512;
/// A flush reads the first byte of this many values before it adds them to the table. The values
/// lie scattered over the proposal buffers the memtable slices, so copying each into its block
/// missed the cache on nearly every entry (`BlockBuilder::add`, 3.7% of the samples of SET 16 B
/// -P16); read back to back, the misses overlap.
const WARM_WINDOW: usize = 16;
/// Memtable entries freed between two yields after a flush (about 0.2 ms).
const FREE_SLICE_ENTRIES: usize = 4096;

impl<F: FileSystem> Engine<F> {
    /// Flushes the oldest frozen memtable. Returns false when there was none (or another flush
    /// is running).
    pub(super) async fn flush_oldest(&self) -> Result<bool> {
        let memtable = {
            let mut state = self.inner.state.borrow_mut();
            let Some(memtable) = state.frozen.front().cloned() else { return Ok(false) };
            if state.flushing {
                return Ok(false);
            }
            state.flushing = true;
            memtable
        };
        let mut written = Vec::new();
        let result = self.flush_memtable(&memtable, &mut written).await;
        if result.is_err() {
            self.remove_unlogged_tables(&written).await;
        }
        self.inner.state.borrow_mut().flushing = false;
        self.inner.events.notify_all();
        result?;
        self.inner.stats.borrow_mut().flushes += 1;
        // The last reference unless a reader still holds the memtable (that reader frees it).
        if let Ok(memtable) = Rc::try_unwrap(memtable) {
            free_in_slices(memtable, &self.inner.fs).await;
        }
        Ok(true)
    }

    /// Flushes `memtable`; `written` collects the ids of the tables it writes.
    async fn flush_memtable(&self, memtable: &Rc<MemTable>, written: &mut Vec<u64>) -> Result<()> {
        self.inner.vlog.sync().await?;
        let mut edit = VersionEdit::default();
        let mut separated_end = None;
        for cf in Cf::ALL {
            if let Some(meta) = self.write_memtable_cf(memtable, cf, written, &mut separated_end).await? {
                edit.added.push(meta);
            }
        }
        if separated_end.is_some() {
            self.inner.vlog.sync().await?;
        }
        self.inner.fs.sync_dir(&self.inner.dir.join(super::SST_DIR)).await?;
        edit.next_file_id = Some(self.inner.state.borrow().next_file_id);
        edit.last_seq = Some(memtable.max_seq());
        edit.applied = memtable.applied().into_iter().collect();
        // The value-log syncs above cover every pointer the memtable and its tables hold; the
        // version keeps the max, so a flush without pointers leaves the head where it is. (The
        // head may pass records that writes appended meanwhile for the active memtable: after a
        // crash the journal replay appends those again, and the first copies stay as garbage
        // that no discard count reports, a leak bounded by one flush's concurrent appends.)
        edit.vlog_head = memtable.vlog_end().max(separated_end);
        edit.vlog_deleted = self.relocations_made_durable(memtable.max_seq());
        let added = edit.added.clone();
        let deleted_vlogs = edit.vlog_deleted.clone();
        for meta in &added {
            let table = self.open_table(meta).await?;
            self.inner.state.borrow_mut().tables.insert(meta.id, table);
        }
        self.log_and_install(edit).await?;
        {
            let mut state = self.inner.state.borrow_mut();
            let flushed = state.frozen.pop_front().expect("the flushed memtable is still queued");
            debug_assert_eq!(flushed.id(), memtable.id());
            state.vlog_relocated.retain(|(file, _)| !deleted_vlogs.contains(file));
        }
        for file_id in deleted_vlogs {
            self.inner.vlog.remove_file(file_id).await?;
            self.inner.stats.borrow_mut().vlog_files_collected += 1;
        }
        Ok(())
    }

    /// Deletes the tables of `ids` that a failed flush or compaction wrote but never logged, so
    /// a full disk gets its space back before the retry. Only the failed step's own ids: the
    /// other background lane may be writing tables of its own at the same time.
    pub(super) async fn remove_unlogged_tables(&self, ids: &[u64]) {
        let logged = self.inner.state.borrow().version.clone();
        for &id in ids {
            if logged.all_files().any(|file| file.id == id) {
                continue;
            }
            self.inner.state.borrow_mut().tables.remove(&id);
            let _ = self.inner.fs.remove(&self.table_path(id)).await;
        }
    }

    /// Value-log files whose live values were relocated at or below `flushed_seq`: after this
    /// flush nothing durable points into them.
    fn relocations_made_durable(&self, flushed_seq: u64) -> Vec<u32> {
        let oldest_reader = self.inner.snapshots.oldest();
        let state = self.inner.state.borrow();
        state
            .vlog_relocated
            .iter()
            .filter(|(_, seq)| *seq <= flushed_seq && oldest_reader.is_none_or(|oldest| oldest > *seq))
            .map(|(file, _)| *file)
            .collect()
    }

    /// Writes one column family's L0 table; `separated_end` rises to the end of the values the
    /// table moved to the value log.
    async fn write_memtable_cf(
        &self,
        memtable: &MemTable,
        cf: Cf,
        written: &mut Vec<u64>,
        separated_end: &mut Option<VlogPosition>,
    ) -> Result<Option<FileMeta>> {
        let tombstones = memtable.range_tombstones(cf);
        if memtable.entry_count(cf) == 0 && tombstones.is_empty() {
            return Ok(None);
        }
        let id = self.next_file_id();
        written.push(id);
        let options = self.inner.options.table_options(cf, 0);
        let mut table = TableWriter::create(&self.inner.fs, &self.table_path(id), options).await?;
        table.builder().reserve(memtable.entry_count(cf));
        let threshold = self.inner.options.flush_value_threshold_bytes.filter(|_| cf == Cf::Default);
        let mut after = None;
        loop {
            let last = match threshold {
                None => memtable.visit_after(cf, after.as_ref(), FLUSH_SLICE_ENTRIES, WARM_WINDOW, |window| {
                    warm_values(window.iter().map(|(_, value)| *value));
                    for (key, value) in window {
                        table.builder().add(key.as_slice(), value);
                    }
                }),
                Some(threshold) => {
                    let slice = memtable.entries_after(cf, after.as_ref(), FLUSH_SLICE_ENTRIES);
                    let mut pointers = self.separate_at_flush(&slice, threshold, separated_end).await?.into_iter();
                    for window in slice.chunks(WARM_WINDOW) {
                        warm_values(window.iter().map(|(_, value)| value));
                        for (key, value) in window {
                            match pointers.next().flatten() {
                                Some((pointer_key, pointer)) => table.builder().add(&pointer_key, &pointer),
                                None => table.builder().add(key.as_slice(), value),
                            }
                        }
                    }
                    slice.last().map(|(key, _)| key.clone())
                }
            };
            match last {
                Some(key) => after = Some(key),
                None => break,
            }
            table.write_ready().await?;
            // Building a 64 MiB table is long CPU work: let client work run in between.
            self.inner.fs.pause().await;
        }
        for tombstone in &tombstones {
            table.builder().add_range_tombstone(&tombstone.start_internal(), &tombstone.end);
        }
        let meta = table.finish().await?;
        self.inner.stats.borrow_mut().table_write_bytes += meta.file_size_bytes;
        Ok(Some(file_meta(id, cf, 0, &meta, memtable.max_seq())))
    }

    /// Appends the slice's values of at least `threshold` bytes to the value log; per entry, the
    /// pointer entry (internal key and encoded pointer) that replaces it in the table, if any.
    async fn separate_at_flush(
        &self,
        slice: &[(InternalKey, Bytes)],
        threshold: usize,
        separated_end: &mut Option<VlogPosition>,
    ) -> Result<Vec<Option<(Vec<u8>, Bytes)>>> {
        let large = |entry| large_put(entry, threshold);
        let pairs: Vec<(&[u8], &[u8])> =
            slice.iter().filter_map(|entry| large(entry).map(|parsed| (parsed.user_key, &entry.1[..]))).collect();
        if pairs.is_empty() {
            return Ok(Vec::new());
        }
        let mut pointers = self.inner.vlog.append(&pairs).await?.into_iter();
        let mut replaced = Vec::with_capacity(slice.len());
        for entry in slice {
            replaced.push(large(entry).map(|parsed| {
                let pointer = pointers.next().expect("one pointer per appended value");
                *separated_end = (*separated_end).max(Some(pointer.end()));
                let pointer_key = key::encode_internal(parsed.user_key, parsed.seq, ValueKind::Pointer);
                (pointer_key, Bytes::copy_from_slice(&pointer.encode()))
            }));
        }
        Ok(replaced)
    }
}

/// Reads the first byte of each value: issued back to back, the loads' cache misses overlap
/// (see [`WARM_WINDOW`]).
fn warm_values<'a>(values: impl Iterator<Item = &'a Bytes>) {
    values.for_each(|value| _ = std::hint::black_box(value.first().copied()));
}

/// The parsed key of a Put entry whose value has at least `threshold` bytes.
fn large_put((key, value): &(InternalKey, Bytes), threshold: usize) -> Option<key::ParsedKey<'_>> {
    let parsed = key::parse_internal(key.as_slice()).expect("memtable keys are well formed");
    (parsed.kind == ValueKind::Put && value.len() >= threshold).then_some(parsed)
}

/// Frees a flushed memtable's entries a slice at a time, with yields between.
async fn free_in_slices<F: FileSystem>(memtable: MemTable, fs: &F) {
    let mut entries = memtable.into_entries();
    while entries.by_ref().take(FREE_SLICE_ENTRIES).count() == FREE_SLICE_ENTRIES {
        fs.pause().await;
    }
}

/// The version's record of a table just built.
pub(super) fn file_meta(id: u64, cf: Cf, level: usize, meta: &crate::sst::TableMeta, max_seq: u64) -> FileMeta {
    debug_assert!(key::parse_internal(&meta.smallest).is_some());
    FileMeta {
        id,
        cf,
        level,
        size_bytes: meta.file_size_bytes,
        entry_count: meta.entry_count,
        max_seq,
        smallest: meta.smallest.clone(),
        largest: meta.largest.clone(),
    }
}
