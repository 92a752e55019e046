//! Reads: point gets, first-entry seeks and iterators at a snapshot.
//!
//! A read captures the current memtables and version (reference-counted, so flushes and
//! compactions that finish meanwhile do not pull files from under it), gathers the range
//! tombstones visible at its snapshot, and consults sources newest first: active memtable,
//! frozen memtables, L0 newest to oldest, then L1..L6. Value-log pointers are resolved last.

use std::collections::VecDeque;
use std::rc::Rc;

use bytes::Bytes;

use super::level_iter::{LevelIterator, SourceIterator};
use super::{Engine, LevelTables, Snapshot};
use crate::cache::value_key;
use crate::error::{Error, Result};
use crate::io::{File, FileSystem};
use crate::iter::InternalIterator;
use crate::key::{self, Cf, MAX_SEQ, Seq, ValueKind};
use crate::memtable::MemTable;
use crate::merge::MergingIterator;
use crate::range_del::{RangeTombstone, TombstoneSet};
use crate::sst::Table;
use crate::sst::filter::{FilterHash, KeyPrefix};
use crate::sync::join_all;
use crate::version::{FileMeta, Version};
use crate::vlog::{ValueLog, ValuePointer};

/// Options of one read.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// Read at this sequence number (default: the newest).
    pub snapshot: Option<Seq>,
    /// Iterators: first user key included.
    pub lower_bound: Option<Bytes>,
    /// Iterators: first user key excluded.
    pub upper_bound: Option<Bytes>,
    /// Put blocks read into the block cache (turn off for scans that should not pollute it).
    pub fill_cache: bool,
    /// Iterators: every key the read wants starts with this prefix, and it is the key without
    /// the CF's `filter_prefix_suffix_bytes`; the bounds must lie within it. Tables whose
    /// filter rules the prefix out are skipped without reading a block (MVCC point reads).
    pub prefix: Option<Bytes>,
}

impl ReadOptions {
    /// Default options that fill the cache.
    pub fn new() -> ReadOptions {
        ReadOptions { fill_cache: true, ..Default::default() }
    }

    /// Reads at a snapshot.
    pub fn at(snapshot: &Snapshot) -> ReadOptions {
        ReadOptions { snapshot: Some(snapshot.seq()), ..ReadOptions::new() }
    }
}

/// What a read sees: the memtables and version at its start.
struct ReadView<F: FileSystem> {
    memtables: Vec<Rc<MemTable>>,
    version: Rc<Version>,
    tables: LevelTables<F>,
    tombstones: Vec<RangeTombstone>,
}

/// One level of a read view: its files and their open tables, in the same order.
type ViewLevel<'a, F> = (&'a [Rc<FileMeta>], &'a [Rc<Table<<F as FileSystem>::File>>]);

impl<F: FileSystem> ReadView<F> {
    /// Per level of `cf`, from L0: its files and their open tables.
    fn levels(&self, cf: Cf) -> impl Iterator<Item = ViewLevel<'_, F>> {
        let mut start = 0;
        self.version.levels(cf).iter().map(move |files| {
            let tables = &self.tables[start..start + files.len()];
            start += files.len();
            (files.as_slice(), tables)
        })
    }
}

impl<F: FileSystem> Engine<F> {
    fn read_view(&self, cf: Cf) -> ReadView<F> {
        let state = self.inner.state.borrow();
        let mut memtables = vec![state.active.clone()];
        memtables.extend(state.frozen.iter().rev().cloned());
        let mut tombstones: Vec<RangeTombstone> = memtables.iter().flat_map(|m| m.range_tombstones(cf)).collect();
        tombstones.extend(state.table_tombstones[cf.index()].iter().cloned());
        let version = state.version.clone();
        let tables = state.version_tables[cf.index()].clone();
        ReadView { memtables, version, tables, tombstones }
    }

    /// The value of `key` in `cf`, or `None` if it has none at the read's snapshot.
    pub async fn get(&self, cf: Cf, key: &[u8], options: &ReadOptions) -> Result<Option<Bytes>> {
        let snapshot = options.snapshot.unwrap_or(MAX_SEQ);
        match self.lookup(cf, key, snapshot, options.fill_cache).await? {
            Some((ValueKind::Pointer, pointer)) => {
                Ok(Some(self.resolve_pointer(key, &pointer, options.fill_cache).await?))
            }
            Some((_, value)) => Ok(Some(value)),
            None => Ok(None),
        }
    }

    /// The newest visible live entry of `key`: `(Put | Pointer, raw value)`, or `None` when the
    /// key is absent, deleted or covered by a range tombstone.
    pub(super) async fn lookup(
        &self,
        cf: Cf,
        key: &[u8],
        snapshot: Seq,
        fill_cache: bool,
    ) -> Result<Option<(ValueKind, Bytes)>> {
        let view = self.read_view(cf);
        let found = find_newest(&view, cf, key, snapshot, fill_cache).await?;
        let Some((seq, kind, value)) = found else { return Ok(None) };
        let tombstones = TombstoneSet::new(view.tombstones, snapshot);
        if kind == ValueKind::Delete || tombstones.covers(key, seq) {
            return Ok(None);
        }
        Ok(Some((kind, value)))
    }

    /// The value a value-log pointer addresses, through the block cache (records are cached as
    /// stored and verified on every hit); checks the record belongs to `key`.
    pub(super) async fn resolve_pointer(&self, key: &[u8], encoded: &[u8], fill_cache: bool) -> Result<Bytes> {
        let pointer = ValuePointer::decode(encoded)?;
        let cache_key = value_key(pointer.file_id, pointer.offset);
        let bytes = match self.inner.caches.get_block(cache_key, fill_cache) {
            Some(bytes) => bytes,
            None => {
                let bytes = self.inner.vlog.read_record(&pointer).await?;
                if fill_cache {
                    self.inner.caches.insert_block(cache_key, bytes.clone());
                }
                bytes
            }
        };
        let (stored_key, value) = ValueLog::<F>::decode_read(&pointer, &bytes)?;
        if stored_key.as_ref() != key {
            return Err(Error::corruption("value log", format!("pointer {pointer:?} holds another key")));
        }
        Ok(value)
    }

    /// The first live entry at or after user key `target` within the options' upper bound, as
    /// an iterator sought to `target` would show it: `(user key, value)`.
    ///
    /// Made for point reads of one versioned key (MVCC's newest version at or below a
    /// timestamp): it asks each source for its first visible entry at or after `target`, without
    /// building a merging iterator, and takes the smallest. When that entry is a tombstone or
    /// covered by a range tombstone, the answer lies further on, and an iterator finds it.
    pub async fn seek_first(&self, cf: Cf, target: &[u8], options: &ReadOptions) -> Result<Option<(Bytes, Bytes)>> {
        let snapshot = self.snapshot();
        let seq = options.snapshot.unwrap_or(snapshot.seq());
        let view = self.read_view(cf);
        let upper = options.upper_bound.as_deref();
        let prefix = options.prefix.clone().map(KeyPrefix::new);
        let mut best: Option<Candidate> = None;
        for memtable in &view.memtables {
            if let Some((user_key, found_seq, kind, value)) =
                memtable.first_visible_from(cf, target, seq, upper, prefix.as_ref())
            {
                offer(&mut best, Candidate { user_key, seq: found_seq, kind, value });
            }
        }
        let seek = key::seek_key(target, seq);
        let starts_below_upper = |file: &&Rc<FileMeta>| upper.is_none_or(|upper| key::user_key(&file.smallest) < upper);
        let meets = |file: &&Rc<FileMeta>| key::user_key(&file.largest) >= target && starts_below_upper(file);
        let first_at_target = |files: &[Rc<FileMeta>]| files.partition_point(|f| key::user_key(&f.largest) < target);
        if let Some(prefix) = &prefix {
            // Read the filter memory of the tables asked below back to back, so that their
            // cache misses overlap (every L0 table, each deeper level's first; the loop may ask
            // more).
            for (level, (files, tables)) in view.levels(cf).enumerate() {
                let (first, count) = if level == 0 { (0, files.len()) } else { (first_at_target(files), 1) };
                for (_, table) in files.iter().zip(tables).skip(first).take(count).filter(|(file, _)| meets(file)) {
                    table.warm_filter(prefix.hash());
                }
            }
        }
        for (level, (files, tables)) in view.levels(cf).enumerate() {
            if level == 0 {
                // L0 files overlap: ask each whose range meets the read's.
                for (file, table) in files.iter().zip(tables) {
                    if meets(&file) {
                        let found = first_in_table(table, &seek, seq, upper, prefix.as_ref(), options.fill_cache);
                        if let Some(candidate) = found.await? {
                            offer(&mut best, candidate);
                        }
                    }
                }
                continue;
            }
            // Deeper levels are sorted and disjoint: the first file with an entry in the range
            // holds the level's smallest.
            let first = first_at_target(files);
            for (file, table) in files[first..].iter().take_while(starts_below_upper).zip(&tables[first..]) {
                debug_assert_eq!(table.file_id(), file.id);
                let found = first_in_table(table, &seek, seq, upper, prefix.as_ref(), options.fill_cache);
                if let Some(candidate) = found.await? {
                    offer(&mut best, candidate);
                    break;
                }
            }
        }
        let Some(best) = best else { return Ok(None) };
        let covered =
            !view.tombstones.is_empty() && TombstoneSet::new(view.tombstones, seq).covers(&best.user_key, best.seq);
        if best.kind == ValueKind::Delete || covered {
            let mut iter = self.iter(cf, &ReadOptions { snapshot: Some(seq), ..options.clone() });
            iter.seek(target).await?;
            return Ok(iter.current.take());
        }
        let value = self.candidate_value(&best, options.fill_cache).await?;
        Ok(Some((best.user_key, value)))
    }

    /// An iterator over `cf` at the options' snapshot and bounds. It starts unpositioned.
    pub fn iter(&self, cf: Cf, options: &ReadOptions) -> DbIterator<F> {
        let snapshot = self.snapshot();
        let seq = options.snapshot.unwrap_or(snapshot.seq());
        let view = self.read_view(cf);
        let prefix = options.prefix.clone().map(KeyPrefix::new);
        // A prefix read skips the memtables and L0 tables whose filter rules its prefix out
        // (tables whose filter is not in memory are asked at their seek). A skipped active
        // memtable may receive the prefix later, but only at sequence numbers above the
        // iterator's snapshot.
        let mut children: Vec<SourceIterator<F>> = view
            .memtables
            .iter()
            .filter(|m| prefix.as_ref().is_none_or(|prefix| m.may_contain_prefix(cf, prefix)))
            .map(|m| SourceIterator::Memory(m.iter(cf)))
            .collect();
        let mut levels = view.levels(cf);
        let (l0_files, l0_tables) = levels.next().expect("L0 is always there");
        for (file, table) in l0_files.iter().zip(l0_tables) {
            debug_assert_eq!(table.file_id(), file.id);
            if prefix.as_ref().is_some_and(|prefix| table.rules_out_prefix_now(prefix)) {
                continue;
            }
            let iter = table.iter(options.fill_cache).with_prefix(prefix.clone());
            children.push(SourceIterator::Table(Box::new(iter)));
        }
        for (_, tables) in levels.filter(|(files, _)| !files.is_empty()) {
            let level = LevelIterator::new(tables.to_vec(), options.fill_cache, prefix.clone());
            children.push(SourceIterator::Level(Box::new(level)));
        }
        DbIterator {
            engine: self.clone(),
            merge: MergingIterator::new(children),
            tombstones: TombstoneSet::new(view.tombstones, seq),
            seq,
            lower_bound: options.lower_bound.clone(),
            upper_bound: options.upper_bound.clone(),
            current: None,
            forward: true,
            fill_cache: options.fill_cache,
            ahead: VecDeque::new(),
            readahead: 1,
            _snapshot: snapshot,
        }
    }
}

async fn find_newest<F: FileSystem>(
    view: &ReadView<F>,
    cf: Cf,
    key: &[u8],
    snapshot: Seq,
    fill_cache: bool,
) -> Result<Option<(Seq, ValueKind, Bytes)>> {
    for memtable in &view.memtables {
        if let Some(found) = memtable.get(cf, key, snapshot) {
            return Ok(Some(found));
        }
    }
    let target = key::seek_key(key, snapshot);
    let candidates = candidate_tables(view, cf, key, &target);
    // Every candidate's filter probe is a cache miss: read them back to back so they overlap.
    let hash = FilterHash::of(key);
    candidates.iter().for_each(|table| table.warm_filter(hash));
    for table in candidates {
        if let Some((found_key, value)) = table.get_hashed(&target, hash, fill_cache).await? {
            let parsed =
                key::parse_internal(&found_key).ok_or_else(|| Error::corruption("table", "bad internal key"))?;
            return Ok(Some((parsed.seq, parsed.kind, value)));
        }
    }
    Ok(None)
}

/// Keeps the smaller of two sources' first entries: the smaller user key, or of one user key the
/// newer version.
fn offer(best: &mut Option<Candidate>, candidate: Candidate) {
    let better = best.as_ref().is_none_or(|best| {
        (candidate.user_key.as_ref(), std::cmp::Reverse(candidate.seq))
            < (best.user_key.as_ref(), std::cmp::Reverse(best.seq))
    });
    if better {
        *best = Some(candidate);
    }
}

/// A table's first entry at or after `seek` visible at `seq` and below `upper`, unless its
/// filter rules out `prefix`.
async fn first_in_table<T: File>(
    table: &Table<T>,
    seek: &[u8],
    seq: Seq,
    upper: Option<&[u8]>,
    prefix: Option<&KeyPrefix>,
    fill_cache: bool,
) -> Result<Option<Candidate>> {
    if let Some(prefix) = prefix
        && !table.may_contain_prefix(prefix).await?
    {
        return Ok(None);
    }
    let Some((found, value)) = table.first_visible_from(seek, seq, upper, fill_cache).await? else { return Ok(None) };
    let parsed = key::parse_internal(&found).ok_or_else(bad_key)?;
    Ok(Some(Candidate { user_key: Bytes::copy_from_slice(parsed.user_key), seq: parsed.seq, kind: parsed.kind, value }))
}

/// Tables that may hold `key`, newest first: overlapping L0 files, then one file per level.
fn candidate_tables<'a, F: FileSystem>(
    view: &'a ReadView<F>,
    cf: Cf,
    key: &[u8],
    target: &[u8],
) -> Vec<&'a Rc<Table<F::File>>> {
    let mut candidates = Vec::new();
    for (level, (files, tables)) in view.levels(cf).enumerate() {
        if level == 0 {
            let overlapping = files.iter().zip(tables).filter(|(file, _)| file.overlaps_user_range(key, key));
            candidates.extend(overlapping.map(|(_, table)| table));
            continue;
        }
        let index = files.partition_point(|f| key::compare_internal(&f.largest, target).is_lt());
        if let Some(file) = files.get(index).filter(|f| f.overlaps_user_range(key, key)) {
            debug_assert_eq!(tables[index].file_id(), file.id);
            candidates.push(&tables[index]);
        }
    }
    candidates
}

/// Iterates the live user keys of one column family at a snapshot, forward or backward.
pub struct DbIterator<F: FileSystem> {
    engine: Engine<F>,
    merge: MergingIterator<SourceIterator<F>>,
    tombstones: TombstoneSet,
    seq: Seq,
    lower_bound: Option<Bytes>,
    upper_bound: Option<Bytes>,
    current: Option<(Bytes, Bytes)>,
    /// True when `merge` sits after the current key's versions (forward scan).
    forward: bool,
    fill_cache: bool,
    /// Forward scans: the live keys after `current`, values resolved, that `merge` has
    /// already passed (value-log readahead).
    ahead: VecDeque<(Bytes, Result<Bytes>)>,
    /// How many live keys the next forward step resolves at once: 1 after a seek, doubling
    /// with every step up to `MAX_READAHEAD_VALUES`, so a point seek reads one value and a
    /// scan issues its value-log reads concurrently.
    readahead: usize,
    _snapshot: Snapshot,
}

/// Upper bound of concurrent value-log reads of one forward scan step.
const MAX_READAHEAD_VALUES: usize = 128;

impl<F: FileSystem> std::fmt::Debug for DbIterator<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbIterator").field("seq", &self.seq).field("current", &self.current).finish_non_exhaustive()
    }
}

/// The newest visible version of one user key, as a scan meets it.
struct Candidate {
    user_key: Bytes,
    seq: Seq,
    kind: ValueKind,
    value: Bytes,
}

impl<F: FileSystem> DbIterator<F> {
    /// True while positioned on a key.
    pub fn is_valid(&self) -> bool {
        self.current.is_some()
    }

    /// The current user key.
    pub fn key(&self) -> &[u8] {
        &self.current.as_ref().expect("iterator is valid").0
    }

    /// The current value.
    pub fn value(&self) -> &Bytes {
        &self.current.as_ref().expect("iterator is valid").1
    }

    /// Positions on the first key `>= key` (and within the bounds).
    pub async fn seek(&mut self, user_key: &[u8]) -> Result<()> {
        let start = match &self.lower_bound {
            Some(lower) if lower.as_ref() > user_key => lower.clone(),
            _ => Bytes::copy_from_slice(user_key),
        };
        self.merge.seek(&key::seek_key(&start, MAX_SEQ)).await?;
        self.reset_readahead();
        self.find_next().await
    }

    /// Forgets looked-ahead keys: `merge` is repositioned.
    fn reset_readahead(&mut self) {
        self.ahead.clear();
        self.readahead = 1;
    }

    /// Positions on the first key.
    pub async fn seek_to_first(&mut self) -> Result<()> {
        let lower = self.lower_bound.clone().unwrap_or_default();
        self.seek(&lower).await
    }

    /// Positions on the last key `<= key` (and within the bounds).
    pub async fn seek_for_prev(&mut self, user_key: &[u8]) -> Result<()> {
        self.merge.seek_for_prev(&key::last_key_of(user_key)).await?;
        self.reset_readahead();
        self.find_prev().await
    }

    /// Positions on the last key.
    pub async fn seek_to_last(&mut self) -> Result<()> {
        match self.upper_bound.clone() {
            Some(upper) => self.merge.seek_for_prev(&key::seek_key(&upper, MAX_SEQ)).await?,
            None => self.merge.seek_to_last().await?,
        }
        self.reset_readahead();
        self.find_prev().await
    }

    /// Moves to the next key.
    pub async fn next(&mut self) -> Result<()> {
        let current = self.current.take().expect("iterator is valid").0;
        if !self.forward {
            self.merge.seek(&key::last_key_of(&current)).await?;
            while self.merge.is_valid() && key::user_key(self.merge.key()) == current.as_ref() {
                self.merge.next().await?;
            }
            self.reset_readahead();
        }
        self.readahead = (self.readahead * 2).min(MAX_READAHEAD_VALUES);
        self.find_next().await
    }

    /// Moves to the previous key.
    pub async fn prev(&mut self) -> Result<()> {
        let current = self.current.take().expect("iterator is valid").0;
        if self.forward {
            self.merge.seek_for_prev(&key::seek_key(&current, MAX_SEQ)).await?;
            self.reset_readahead();
        }
        self.find_prev().await
    }

    /// Finds the next live key: the next looked-ahead one, or from the merge position, where
    /// it also resolves up to `readahead` live keys' values concurrently.
    async fn find_next(&mut self) -> Result<()> {
        self.forward = true;
        self.current = None;
        if self.ahead.is_empty() {
            self.read_ahead().await?;
        }
        if let Some((user_key, value)) = self.ahead.pop_front() {
            self.current = Some((user_key, value?));
        }
        Ok(())
    }

    /// Collects up to `readahead` live keys from `merge` and resolves their values together.
    async fn read_ahead(&mut self) -> Result<()> {
        let mut candidates = Vec::new();
        while candidates.len() < self.readahead {
            let Some(candidate) = self.next_live().await? else { break };
            let inline = candidate.kind != ValueKind::Pointer;
            candidates.push(candidate);
            if inline && candidates.len() == 1 {
                break; // nothing to read: no reason to look further ahead
            }
        }
        if let [only] = candidates.as_slice()
            && only.kind != ValueKind::Pointer
        {
            let only = candidates.pop().expect("one candidate");
            self.ahead.push_back((only.user_key, Ok(only.value)));
            return Ok(());
        }
        let engine = self.engine.clone();
        let fill_cache = self.fill_cache;
        let values = join_all(candidates.iter().map(|c| engine.candidate_value(c, fill_cache))).await;
        self.ahead.extend(candidates.into_iter().map(|c| c.user_key).zip(values));
        Ok(())
    }

    /// From the merge position, the next live key's newest visible version; leaves `merge`
    /// after its versions.
    async fn next_live(&mut self) -> Result<Option<Candidate>> {
        while self.merge.is_valid() {
            let parsed = key::parse_internal(self.merge.key()).ok_or_else(bad_key)?;
            if self.upper_bound.as_ref().is_some_and(|upper| parsed.user_key >= upper.as_ref()) {
                return Ok(None);
            }
            if parsed.seq > self.seq {
                self.merge.next().await?;
                continue;
            }
            let candidate = Candidate {
                user_key: Bytes::copy_from_slice(parsed.user_key),
                seq: parsed.seq,
                kind: parsed.kind,
                value: Bytes::copy_from_slice(self.merge.value()),
            };
            while self.merge.is_valid() && key::user_key(self.merge.key()) == candidate.user_key.as_ref() {
                self.merge.next().await?;
            }
            if self.is_live(&candidate) {
                return Ok(Some(candidate));
            }
        }
        Ok(None)
    }

    /// From the merge position, finds the previous live key; leaves `merge` before its versions.
    async fn find_prev(&mut self) -> Result<()> {
        self.forward = false;
        self.current = None;
        while self.merge.is_valid() {
            let user_key = Bytes::copy_from_slice(key::user_key(self.merge.key()));
            if self.lower_bound.as_ref().is_some_and(|lower| user_key < *lower) {
                return Ok(());
            }
            let mut newest: Option<Candidate> = None;
            while self.merge.is_valid() && key::user_key(self.merge.key()) == user_key.as_ref() {
                let parsed = key::parse_internal(self.merge.key()).ok_or_else(bad_key)?;
                if parsed.seq <= self.seq {
                    let value = Bytes::copy_from_slice(self.merge.value());
                    newest = Some(Candidate { user_key: user_key.clone(), seq: parsed.seq, kind: parsed.kind, value });
                }
                self.merge.prev().await?;
            }
            let within_upper = self.upper_bound.as_ref().is_none_or(|upper| user_key < *upper);
            if let Some(candidate) = newest.filter(|_| within_upper)
                && self.accept(candidate).await?
            {
                return Ok(());
            }
        }
        Ok(())
    }

    fn is_live(&self, candidate: &Candidate) -> bool {
        candidate.kind != ValueKind::Delete && !self.tombstones.covers(&candidate.user_key, candidate.seq)
    }

    /// Makes `candidate` current if it is live; resolves value-log pointers.
    async fn accept(&mut self, candidate: Candidate) -> Result<bool> {
        if !self.is_live(&candidate) {
            return Ok(false);
        }
        let value = self.engine.candidate_value(&candidate, self.fill_cache).await?;
        self.current = Some((candidate.user_key, value));
        Ok(true)
    }
}

impl<F: FileSystem> Engine<F> {
    /// A live candidate's value, value-log pointers resolved.
    async fn candidate_value(&self, candidate: &Candidate, fill_cache: bool) -> Result<Bytes> {
        match candidate.kind {
            ValueKind::Pointer => self.resolve_pointer(&candidate.user_key, &candidate.value, fill_cache).await,
            _ => Ok(candidate.value.clone()),
        }
    }
}

fn bad_key() -> Error {
    Error::corruption("iterator", "malformed internal key")
}
