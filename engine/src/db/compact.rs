//! Compaction: merges the inputs of a picked task into new tables one level down.
//!
//! What a compaction may drop (`oldest` is the oldest sequence any reader can still use):
//! - an older version of a user key once a newer version with `seq <= oldest` was seen: no
//!   reader can get past that newer version;
//! - an entry covered by a range tombstone of the inputs with `entry.seq < tombstone.seq <= oldest`;
//! - at the bottommost level, a point tombstone with `seq <= oldest` (nothing older remains below),
//!   and a range tombstone with `seq <= oldest`.
//!
//! A CF's compaction filter (`compaction::filter`) may drop more of what these rules keep.
//!
//! Every dropped value-log pointer adds its length to that file's discard count, which feeds
//! value-log GC. Outputs are cut near `target_file_size_bytes`, only between user keys, and each
//! output carries the surviving range tombstones clipped to its own key range, so files of a
//! level never overlap.

use std::collections::BTreeMap;
use std::rc::Rc;

use bytes::Bytes;

use super::Engine;
use super::flush::file_meta;
use super::level_iter::{LevelIterator, SourceIterator};
use crate::compaction::filter::{CompactionFilter, FilterContext, FilterDecision};
use crate::compaction::picker::{self, CompactionTask};
use crate::error::{Error, Result};
use crate::io::{File, FileSystem};
use crate::iter::InternalIterator;
use crate::key::{self, Cf, ParsedKey, Seq, ValueKind};
use crate::merge::MergingIterator;
use crate::range_del::RangeTombstone;
use crate::sst::{Table, TableWriter};
use crate::sync::Pacer;
use crate::version::{FileMeta, LEVEL_COUNT, VersionEdit};
use crate::vlog::ValuePointer;

/// Builds the output tables of one compaction, one at a time, each written to its file while
/// it is built (see [`TableWriter`]).
struct OutputWriter<Fl: File> {
    /// The table being built, and its file id.
    table: Option<(u64, TableWriter<Fl>)>,
    /// First user key of the table being built (`None`: unbounded below).
    lower: Option<Bytes>,
    /// Whether a table was cut already.
    cut_any: bool,
    /// The user key of the last entry added (its buffer reused from entry to entry).
    last_user_key: Option<Vec<u8>>,
}

/// An output table ready to be finished, with the user-key range it covers (`None`:
/// unbounded) and its file id.
struct FinishedTable<Fl: File> {
    lower: Option<Bytes>,
    upper: Option<Bytes>,
    id: u64,
    table: TableWriter<Fl>,
}

impl<F: FileSystem> Engine<F> {
    /// Runs one compaction if the tree needs one. Returns false when there was nothing to do.
    pub(super) async fn compact_once(&self) -> Result<bool> {
        let task = {
            let mut state = self.inner.state.borrow_mut();
            if state.compacting {
                return Ok(false);
            }
            let Some(task) = picker::pick(&state.version, &self.inner.options.compaction, &state.cursors) else {
                return Ok(false);
            };
            let cursor = task.inputs.last().map(|f| f.largest.clone()).unwrap_or_default();
            state.cursors[task.cf.index()][task.level] = cursor;
            state.compacting = true;
            task
        };
        self.run_task(task).await?;
        Ok(true)
    }

    /// Compacts every file of every column family down to the last level (a manual full
    /// compaction: drops every dead version and tombstone no snapshot needs).
    pub async fn compact_range_all(&self) -> Result<()> {
        for cf in Cf::ALL {
            for level in 0..LEVEL_COUNT - 1 {
                let task = {
                    let mut state = self.inner.state.borrow_mut();
                    let files = state.version.levels(cf)[level].clone();
                    if files.is_empty() || state.compacting {
                        continue;
                    }
                    state.compacting = true;
                    picker::task_for(&state.version, cf, level, files)
                };
                self.run_task(task).await?;
            }
        }
        Ok(())
    }

    /// Runs a task whose caller set `compacting`; clears it at the end.
    async fn run_task(&self, task: CompactionTask) -> Result<()> {
        // A file moved as it is keeps its level's form: into a compressed level it is rewritten.
        let moves = task.is_trivial_move() && !self.changes_compression(&task);
        let result = if moves { self.trivial_move(&task).await } else { self.merge_files(&task).await };
        self.inner.state.borrow_mut().compacting = false;
        self.inner.events.notify_all();
        result?;
        self.inner.stats.borrow_mut().compactions += 1;
        Ok(())
    }

    /// True when the task's input and output levels differ in compression (see
    /// `EngineOptions::compress_from_level`).
    fn changes_compression(&self, task: &CompactionTask) -> bool {
        let options = &self.inner.options;
        options.table_options(task.cf, task.level).compression
            != options.table_options(task.cf, task.output_level()).compression
    }

    async fn trivial_move(&self, task: &CompactionTask) -> Result<()> {
        let file = &task.inputs[0];
        let moved = FileMeta { level: task.output_level(), ..(**file).clone() };
        let edit =
            VersionEdit { deleted: vec![(task.cf, task.level, file.id)], added: vec![moved], ..Default::default() };
        self.log_and_install(edit).await?;
        Ok(())
    }

    async fn merge_files(&self, task: &CompactionTask) -> Result<()> {
        let mut written = Vec::new();
        let result = self.merge_into_outputs(task, &mut written).await;
        if result.is_err() {
            self.remove_unlogged_tables(&written).await;
        }
        result
    }

    /// Merges the inputs into new tables and installs them; `written` collects their ids.
    async fn merge_into_outputs(&self, task: &CompactionTask, written: &mut Vec<u64>) -> Result<()> {
        let oldest = self.oldest_snapshot();
        let tables: Vec<_> = {
            let state = self.inner.state.borrow();
            task.all_inputs().map(|f| state.tables.get(&f.id).expect("input tables are open").clone()).collect()
        };
        let tombstones: Vec<RangeTombstone> = tables
            .iter()
            .flat_map(|t| t.range_tombstones().iter().filter_map(|r| RangeTombstone::from_sst(&r.start, &r.end)))
            .collect();
        let kept: Vec<RangeTombstone> =
            tombstones.iter().filter(|t| !(task.bottommost && t.seq <= oldest)).cloned().collect();
        let mut merge = MergingIterator::new(merge_children::<F>(task, &tables));
        merge.seek_to_first().await?;
        let mut writer = OutputWriter::new();
        let mut discard: BTreeMap<u32, u64> = BTreeMap::new();
        // The previous entry's user key and sequence number (`None` before the first); the key
        // buffer is reused, not allocated per entry.
        let mut previous_key = Vec::new();
        let mut previous_seq: Option<u64> = None;
        let target = self.inner.options.compaction.target_file_size_bytes;
        let mut pacer = Pacer::new();
        let mut filtering = Filtering::begin(self.compaction_filter(task.cf), task, oldest);
        let mut outputs = Vec::new();
        while merge.is_valid() {
            if pacer.tick(&self.inner.fs).await {
                self.wait_for_flush().await;
            }
            let parsed =
                key::parse_internal(merge.key()).ok_or_else(|| Error::corruption("table", "bad internal key"))?;
            let same_user_key = previous_seq.is_some() && previous_key == parsed.user_key;
            let shadowed = same_user_key && previous_seq.is_some_and(|seq| seq <= oldest);
            let covered =
                tombstones.iter().any(|t| t.seq <= oldest && t.seq > parsed.seq && t.contains(parsed.user_key));
            let dead_delete = parsed.kind == ValueKind::Delete && task.bottommost && parsed.seq <= oldest;
            let dropped_by_engine = shadowed || covered || dead_delete;
            let filtered = filtering.drops(&parsed, !same_user_key, dropped_by_engine, merge.value());
            if dropped_by_engine || filtered {
                count_discard(&mut discard, parsed.kind, merge.value());
            } else {
                if let Some(full) = writer.cut_before(parsed.user_key, target) {
                    outputs.push(self.write_output(task, full, &kept).await?);
                }
                if !writer.has_table() {
                    writer.start(self.create_output(task, written).await?);
                }
                writer.add(merge.key(), merge.value(), parsed.user_key).await?;
            }
            if !same_user_key {
                previous_key.clear();
                previous_key.extend_from_slice(parsed.user_key);
            }
            previous_seq = Some(parsed.seq);
            merge.next().await?;
        }
        if !writer.has_table() && !kept.is_empty() && !writer.cut_any {
            // No entry survived: a table for the range tombstones alone.
            writer.start(self.create_output(task, written).await?);
        }
        if let Some(last) = writer.finish() {
            outputs.push(self.write_output(task, last, &kept).await?);
        }
        self.inner.fs.sync_dir(&self.inner.dir.join(super::SST_DIR)).await?;
        self.install_compaction(task, outputs, discard).await?;
        self.finish_filtering(filtering)
    }

    /// Counts the filter's drops and writes the deletes it asks for once the compaction is in.
    fn finish_filtering(&self, filtering: Filtering) -> Result<()> {
        let Some(filter) = filtering.filter else { return Ok(()) };
        self.inner.stats.borrow_mut().filtered_entries += filtering.dropped_entries;
        let deletes = filter.end();
        if !deletes.is_empty() {
            self.delete_unjournaled(&deletes)?;
        }
        Ok(())
    }

    /// Pauses a compaction while a flush runs. Both share the background queue's time, and the
    /// flush goes first: it frees a memtable that writes may be waiting for.
    async fn wait_for_flush(&self) {
        while self.inner.state.borrow().flushing {
            self.inner.events.notified().await;
        }
    }

    /// Creates the file of a new output table; `written` collects its id.
    async fn create_output(
        &self,
        task: &CompactionTask,
        written: &mut Vec<u64>,
    ) -> Result<(u64, TableWriter<F::File>)> {
        let id = self.next_file_id();
        written.push(id);
        let options = self.inner.options.table_options(task.cf, task.output_level());
        Ok((id, TableWriter::create(&self.inner.fs, &self.table_path(id), options).await?))
    }

    /// Finishes one output table, with the kept range tombstones clipped to its key range. A
    /// table is started for an entry or, when no entry survived, for the range tombstones, so
    /// it is never empty.
    async fn write_output(
        &self,
        task: &CompactionTask,
        FinishedTable { lower, upper, id, mut table }: FinishedTable<F::File>,
        tombstones: &[RangeTombstone],
    ) -> Result<FileMeta> {
        for tombstone in tombstones.iter().filter_map(|t| t.clip(lower.as_deref(), upper.as_deref())) {
            table.builder().add_range_tombstone(&tombstone.start_internal(), &tombstone.end);
        }
        let meta = table.finish().await?;
        self.inner.stats.borrow_mut().table_write_bytes += meta.file_size_bytes;
        let max_seq = task.all_inputs().map(|f| f.max_seq).max().unwrap_or(0);
        Ok(file_meta(id, task.cf, task.output_level(), &meta, max_seq))
    }

    async fn install_compaction(
        &self,
        task: &CompactionTask,
        outputs: Vec<FileMeta>,
        discard: BTreeMap<u32, u64>,
    ) -> Result<()> {
        for meta in &outputs {
            let table = self.open_table(meta).await?;
            self.inner.state.borrow_mut().tables.insert(meta.id, table);
        }
        let mut edit = VersionEdit {
            added: outputs,
            deleted: task.all_inputs().map(|f| (task.cf, f.level, f.id)).collect(),
            next_file_id: Some(self.inner.state.borrow().next_file_id),
            ..Default::default()
        };
        for (file, bytes) in discard {
            self.inner.vlog.add_discard(file, bytes);
        }
        edit.vlog_discard = self.inner.vlog.discard_stats();
        self.log_and_install(edit).await?;
        let read_bytes: u64 = task.all_inputs().map(|f| f.size_bytes).sum();
        self.inner.stats.borrow_mut().compaction_read_bytes += read_bytes;
        for file in task.all_inputs() {
            self.inner.state.borrow_mut().tables.remove(&file.id);
            self.inner.fs.remove(&self.table_path(file.id)).await?;
        }
        Ok(())
    }
}

/// The children of a compaction's merge: each L0 input table (they overlap), and one
/// concatenation per deeper input level. `tables` are the task's inputs, then its next-level
/// inputs, each in its level's order (the version keeps L1 and deeper sorted and disjoint).
fn merge_children<F: FileSystem>(task: &CompactionTask, tables: &[Rc<Table<F::File>>]) -> Vec<SourceIterator<F>> {
    let (upper, lower) = tables.split_at(task.inputs.len());
    let level =
        |tables: &[Rc<Table<F::File>>]| SourceIterator::Level(Box::new(LevelIterator::sequential(tables.to_vec())));
    let mut children = Vec::with_capacity(upper.len() + 1);
    if task.level == 0 {
        children.extend(upper.iter().map(|table| SourceIterator::Table(Box::new(table.sequential_iter()))));
    } else if !upper.is_empty() {
        children.push(level(upper));
    }
    if !lower.is_empty() {
        children.push(level(lower));
    }
    children
}

/// The compaction filter's part of one compaction (see `compaction::filter` for the contract).
struct Filtering {
    filter: Option<Rc<dyn CompactionFilter>>,
    oldest: Seq,
    dropped_entries: u64,
}

impl Filtering {
    fn begin(filter: Option<Rc<dyn CompactionFilter>>, task: &CompactionTask, oldest: Seq) -> Filtering {
        if let Some(filter) = &filter {
            filter.begin(&FilterContext { cf: task.cf, bottommost: task.bottommost });
        }
        Filtering { filter, oldest, dropped_entries: 0 }
    }

    /// Whether the filter drops an entry the engine's own rules keep. Only the newest entry of
    /// a user key (`first`) visible to every reader is offered: it shadows every older entry of
    /// its key, which the engine then drops itself, so no older entry can resurface from this
    /// compaction.
    fn drops(&mut self, parsed: &ParsedKey<'_>, first: bool, dropped_by_engine: bool, value: &[u8]) -> bool {
        let Some(filter) = &self.filter else { return false };
        if !first || dropped_by_engine || parsed.seq > self.oldest {
            return false;
        }
        let entry_value = match parsed.kind {
            ValueKind::Put => Some(value),
            ValueKind::Pointer => None,
            ValueKind::Delete | ValueKind::RangeDelete => return false,
        };
        let drops = filter.filter(parsed.user_key, entry_value) == FilterDecision::Drop;
        self.dropped_entries += u64::from(drops);
        drops
    }
}

fn count_discard(discard: &mut BTreeMap<u32, u64>, kind: ValueKind, value: &[u8]) {
    if kind != ValueKind::Pointer {
        return;
    }
    if let Ok(pointer) = ValuePointer::decode(value) {
        *discard.entry(pointer.file_id).or_insert(0) += u64::from(pointer.len);
    }
}

impl<Fl: File> OutputWriter<Fl> {
    fn new() -> Self {
        OutputWriter { table: None, lower: None, cut_any: false, last_user_key: None }
    }

    /// Once the current table is big enough, a new user key starts a new one: the full one is
    /// returned to be finished.
    fn cut_before(&mut self, user_key: &[u8], target: u64) -> Option<FinishedTable<Fl>> {
        let new_user_key = self.last_user_key.as_deref().is_none_or(|last| last != user_key);
        let full = self.table.as_mut().is_some_and(|(_, t)| t.builder().estimated_size_bytes() >= target);
        if !(full && new_user_key) {
            return None;
        }
        let (id, table) = self.table.take().expect("checked above");
        let upper = Bytes::copy_from_slice(user_key);
        let lower = self.lower.replace(upper.clone());
        self.cut_any = true;
        Some(FinishedTable { lower, upper: Some(upper), id, table })
    }

    fn has_table(&self) -> bool {
        self.table.is_some()
    }

    /// Starts the next table (see `Engine::create_output`).
    fn start(&mut self, table: (u64, TableWriter<Fl>)) {
        debug_assert!(self.table.is_none());
        self.table = Some(table);
    }

    /// Adds an entry to the current table and writes the chunks it filled.
    async fn add(&mut self, key: &[u8], value: &[u8], user_key: &[u8]) -> Result<()> {
        let (_, table) = self.table.as_mut().expect("a table is started before an add");
        table.builder().add(key, value);
        table.write_ready().await?;
        match &mut self.last_user_key {
            Some(last) if last.as_slice() == user_key => {}
            Some(last) => {
                last.clear();
                last.extend_from_slice(user_key);
            }
            None => self.last_user_key = Some(user_key.to_vec()),
        }
        Ok(())
    }

    /// The last table, unbounded above.
    fn finish(mut self) -> Option<FinishedTable<Fl>> {
        let (id, table) = self.table.take()?;
        Some(FinishedTable { lower: self.lower.take(), upper: None, id, table })
    }
}
