//! The memtable: the newest writes of every column family, in memory, with byte accounting.
//!
//! One `MemTable` holds all four column families (each an [`EntryMap`]: an arena of entries with
//! a hash index for point reads and an ordered view for walks) and their range tombstones. The
//! engine keeps one *active* memtable and a short queue of *frozen* ones waiting to be flushed;
//! a memtable is frozen when `size_bytes` reaches `memtable_size_bytes`, and flushes as one unit
//! (one SST per non-empty CF, one manifest edit), so the per-region applied-index watermark it
//! records covers every CF at once.
//!
//! Invariants: sequence numbers only grow within a memtable; a frozen memtable never changes.

mod map;

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::ops::{Bound, ControlFlow};
use std::rc::Rc;

use bytes::Bytes;

use crate::error::Result;
use crate::iter::InternalIterator;
use crate::key::{self, Cf, InternalKey, Seq, ValueKind};
use crate::range_del::RangeTombstone;
use crate::sst::filter::KeyPrefix;
use crate::vlog::VlogPosition;
use map::{Entry, EntryMap, Home};

/// Fixed per-entry overhead counted on top of key and value bytes: the entry's slot in the
/// arena (a 56-byte `InternalKey`, a 32-byte `Bytes` and a 4-byte chain link: 96 bytes), its
/// place in a bucket's list once an ordered walk needs one (4 bytes, up to twice that while the
/// list grows) and the allocator's rounding of the value allocations. Short keys live inline, so
/// the key bytes counted on top are inside the slot: the total stays an upper bound. The hash
/// index is counted as it grows; the fixed 66 KiB directory of each column family that holds
/// entries is not (see [`EntryMap`]).
const ENTRY_OVERHEAD_BYTES: u64 = 112;

/// The most keys one [`MemTable::warm`] reads.
pub const WARM_KEYS: usize = 16;

#[derive(Debug, Default)]
struct CfTable {
    entries: EntryMap,
    range_tombstones: Vec<RangeTombstone>,
}

/// The memtable of all column families.
#[derive(Debug)]
pub struct MemTable {
    id: u64,
    cfs: [RefCell<CfTable>; 4],
    size_bytes: Cell<u64>,
    /// Bytes of the values its batches moved to the value log (the memtable has pointers).
    separated_bytes: Cell<u64>,
    /// The end of the furthest value-log record it points at.
    vlog_end: Cell<Option<VlogPosition>>,
    /// Highest sequence applied; 0 when empty.
    max_seq: Cell<Seq>,
    /// Highest applied journal index per region whose effects this memtable holds.
    applied: RefCell<BTreeMap<u64, u64>>,
}

impl MemTable {
    /// An empty memtable with an id unique within the engine; `filter_suffix_bytes` are the
    /// column families' `filter_prefix_suffix_bytes`, which make a key's versions one chain of
    /// the hash index (see [`EntryMap`]).
    pub fn new(id: u64, filter_suffix_bytes: [usize; 4]) -> MemTable {
        let cf_table =
            |suffix_bytes| RefCell::new(CfTable { entries: EntryMap::new(suffix_bytes), ..Default::default() });
        MemTable {
            id,
            cfs: filter_suffix_bytes.map(cf_table),
            size_bytes: Cell::new(0),
            separated_bytes: Cell::new(0),
            vlog_end: Cell::new(None),
            max_seq: Cell::new(0),
            applied: RefCell::new(BTreeMap::new()),
        }
    }

    /// The memtable's id.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Approximate memory used, in bytes.
    pub fn size_bytes(&self) -> u64 {
        self.size_bytes.get()
    }

    /// Bytes of values moved to the value log by the batches this memtable holds.
    pub fn separated_bytes(&self) -> u64 {
        self.separated_bytes.get()
    }

    /// Counts values of a batch that went to the value log.
    pub fn note_separated(&self, bytes: u64) {
        self.separated_bytes.set(self.separated_bytes.get() + bytes);
    }

    /// Notes that the memtable points at value-log records ending at or before `end`.
    pub fn note_vlog_end(&self, end: VlogPosition) {
        self.vlog_end.set(self.vlog_end.get().max(Some(end)));
    }

    /// The end of the furthest value-log record the memtable points at; `None` without pointers.
    pub fn vlog_end(&self) -> Option<VlogPosition> {
        self.vlog_end.get()
    }

    /// True when nothing was ever written.
    pub fn is_empty(&self) -> bool {
        self.max_seq.get() == 0 && self.applied.borrow().is_empty()
    }

    /// The highest sequence number in the memtable.
    pub fn max_seq(&self) -> Seq {
        self.max_seq.get()
    }

    /// Inserts one point entry (`Put`, `Pointer` or `Delete`).
    pub fn insert(&self, cf: Cf, user_key: &[u8], seq: Seq, kind: ValueKind, value: Bytes) {
        debug_assert!(kind != ValueKind::RangeDelete, "range tombstones go through delete_range");
        self.note_seq(seq);
        let internal = InternalKey::encode(user_key, seq, kind);
        let mut table = self.cfs[cf.index()].borrow_mut();
        let index_before = table.entries.index_bytes();
        let entry_bytes = internal.as_slice().len() as u64 + value.len() as u64 + ENTRY_OVERHEAD_BYTES;
        table.entries.insert(internal, value);
        let index_bytes = table.entries.index_bytes() - index_before;
        self.size_bytes.set(self.size_bytes.get() + entry_bytes + index_bytes);
    }

    /// Loads what inserts of `keys` (at most [`WARM_KEYS`] are read) will read first: their
    /// homes are worked out first, then their index memory is read back to back, so that the
    /// cache misses overlap (see [`EntryMap::warm`]).
    pub fn warm<'a>(&self, keys: impl Iterator<Item = (Cf, &'a [u8])>) {
        let tables = self.cfs.each_ref().map(RefCell::borrow);
        let mut homes = [(0, Home::default()); WARM_KEYS];
        let mut count = 0;
        for (cf, key) in keys.take(WARM_KEYS) {
            if let Some(home) = tables[cf.index()].entries.home(key) {
                homes[count] = (cf.index(), home);
                count += 1;
            }
        }
        for (cf, home) in &homes[..count] {
            tables[*cf].entries.warm(home);
        }
    }

    /// Records a range tombstone deleting `[start, end)` at `seq`.
    pub fn delete_range(&self, cf: Cf, start: &[u8], end: &[u8], seq: Seq) {
        self.note_seq(seq);
        self.size_bytes.set(self.size_bytes.get() + (start.len() + end.len()) as u64 + ENTRY_OVERHEAD_BYTES);
        let tombstone = RangeTombstone::new(start, end, seq);
        self.cfs[cf.index()].borrow_mut().range_tombstones.push(tombstone);
    }

    /// Notes that this memtable holds the effects of `region_id`'s journal entries up to `index`.
    pub fn note_applied(&self, region_id: u64, index: u64) {
        let mut applied = self.applied.borrow_mut();
        let slot = applied.entry(region_id).or_insert(0);
        debug_assert!(*slot <= index, "applied index must not go backwards");
        *slot = (*slot).max(index);
    }

    /// The applied-index watermarks this memtable carries.
    pub fn applied(&self) -> BTreeMap<u64, u64> {
        self.applied.borrow().clone()
    }

    fn note_seq(&self, seq: Seq) {
        debug_assert!(seq >= self.max_seq.get(), "sequence numbers only grow");
        self.max_seq.set(seq);
    }

    /// The newest entry of `user_key` at or below `snapshot`: `(seq, kind, value)`.
    pub fn get(&self, cf: Cf, user_key: &[u8], snapshot: Seq) -> Option<(Seq, ValueKind, Bytes)> {
        let table = self.cfs[cf.index()].borrow();
        let found = table.entries.get(user_key, snapshot)?;
        let parsed = key::parse_internal(found.key.as_slice()).expect("memtable keys are well formed");
        Some((parsed.seq, parsed.kind, found.value.clone()))
    }

    /// The first entry at or after user key `target` that is visible at `snapshot`, if its user
    /// key is below `upper`: `(user key, seq, kind, value)`. With a `prefix` (see
    /// `ReadOptions::prefix`) only keys whose filter key is the prefix count, and they are one
    /// chain of the hash index.
    pub fn first_visible_from(
        &self,
        cf: Cf,
        target: &[u8],
        snapshot: Seq,
        upper: Option<&[u8]>,
        prefix: Option<&KeyPrefix>,
    ) -> Option<(Bytes, Seq, ValueKind, Bytes)> {
        let seek = InternalKey::seek(target, snapshot);
        let visible = |entry: &Entry| {
            let parsed = key::parse_internal(entry.key.as_slice()).expect("memtable keys are well formed");
            (Bytes::copy_from_slice(parsed.user_key), parsed.seq, parsed.kind, entry.value.clone())
        };
        if let Some(prefix) = prefix {
            let table = self.cfs[cf.index()].borrow();
            if table.entries.indexes_prefix(prefix) {
                return table.entries.first_visible_in_prefix(prefix, &seek, snapshot, upper).map(visible);
            }
        }
        let mut table = self.cfs[cf.index()].borrow_mut();
        table.entries.walk_from(Bound::Included(&seek), |entry| {
            let parsed = key::parse_internal(entry.key.as_slice()).expect("memtable keys are well formed");
            if upper.is_some_and(|upper| parsed.user_key >= upper) {
                return ControlFlow::Break(None);
            }
            if parsed.seq <= snapshot { ControlFlow::Break(Some(visible(entry))) } else { ControlFlow::Continue(()) }
        })?
    }

    /// False only when the column family holds no key that is `prefix` followed by its
    /// `filter_prefix_suffix_bytes` (or is `prefix` itself when not longer than them): a read
    /// bounded to such keys may skip this memtable. Without a suffix, or for an empty prefix, it
    /// cannot tell and says true, as SST filters do.
    pub fn may_contain_prefix(&self, cf: Cf, prefix: &KeyPrefix) -> bool {
        let table = self.cfs[cf.index()].borrow();
        !table.entries.indexes_prefix(prefix) || table.entries.holds_prefix(prefix)
    }

    /// The range tombstones of a column family.
    pub fn range_tombstones(&self, cf: Cf) -> Vec<RangeTombstone> {
        self.cfs[cf.index()].borrow().range_tombstones.clone()
    }

    /// Number of point entries in a column family.
    pub fn entry_count(&self, cf: Cf) -> usize {
        self.cfs[cf.index()].borrow().entries.len()
    }

    /// Up to `limit` point entries of a column family after internal key `after` (from the
    /// first when `None`), in order: lets a flush build its table in slices with yields between.
    pub fn entries_after(&self, cf: Cf, after: Option<&InternalKey>, limit: usize) -> Vec<(InternalKey, Bytes)> {
        let mut table = self.cfs[cf.index()].borrow_mut();
        let bound = after.map_or(Bound::Unbounded, Bound::Excluded);
        let mut out = Vec::with_capacity(limit.min(table.entries.len()));
        table.entries.walk_from(bound, |entry| {
            if out.len() == limit {
                return ControlFlow::Break(());
            }
            out.push((entry.key.clone(), entry.value.clone()));
            ControlFlow::Continue(())
        });
        out
    }

    /// Calls `visit` with the first `limit` point entries of a column family after internal key
    /// `after` (from the first when `None`), in order, in windows of up to `window` entries, and
    /// returns the last one's key (`None` when there were none): lets a flush build its table in
    /// slices with yields between, from the entries where they lie.
    pub fn visit_after(
        &self,
        cf: Cf,
        after: Option<&InternalKey>,
        limit: usize,
        window: usize,
        mut visit: impl FnMut(&[(&InternalKey, &Bytes)]),
    ) -> Option<InternalKey> {
        let lower = after.map_or(Bound::Unbounded, Bound::Excluded);
        self.cfs[cf.index()].borrow_mut().entries.sort_from(lower, limit);
        let table = self.cfs[cf.index()].borrow();
        let mut pending = Vec::with_capacity(window);
        let mut last = None;
        let mut seen = 0;
        table.entries.walk_sorted_from(lower, |entry| {
            pending.push((&entry.key, &entry.value));
            if pending.len() == window {
                visit(&pending);
                pending.clear();
            }
            last = Some(&entry.key);
            seen += 1;
            if seen == limit { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
        });
        if !pending.is_empty() {
            visit(&pending);
        }
        last.cloned()
    }

    /// Takes the memtable apart: its entries, in no particular order, so that the caller can
    /// free them in slices (dropping a full 64 MiB memtable at once held the core for 40-50 ms).
    pub fn into_entries(self) -> impl Iterator<Item = (InternalKey, Bytes)> {
        self.cfs.into_iter().flat_map(|table| table.into_inner().entries.into_entries())
    }

    /// An iterator over a column family's point entries.
    pub fn iter(self: &Rc<Self>, cf: Cf) -> MemTableIterator {
        MemTableIterator { table: self.clone(), cf, current: None }
    }
}

/// Iterates one column family of a memtable. Each step is a tree lookup from the current key,
/// so the iterator stays correct while the active memtable receives new (higher-seq) entries.
#[derive(Debug)]
pub struct MemTableIterator {
    table: Rc<MemTable>,
    cf: Cf,
    current: Option<(InternalKey, Bytes)>,
}

impl MemTableIterator {
    /// Moves to the first entry above `bound` (`forward`) or the last below it.
    fn position(&mut self, bound: Bound<&InternalKey>, forward: bool) {
        let mut table = self.table.cfs[self.cf.index()].borrow_mut();
        let entries = &mut table.entries;
        let pair = |entry: &Entry| (entry.key.clone(), entry.value.clone());
        self.current = if forward {
            entries.walk_from(bound, |entry| ControlFlow::Break(pair(entry)))
        } else {
            entries.last_before(bound).map(pair)
        };
    }

    fn owned(target: &[u8]) -> InternalKey {
        InternalKey::from_slice(target)
    }
}

impl InternalIterator for MemTableIterator {
    fn is_valid(&self) -> bool {
        self.current.is_some()
    }
    fn key(&self) -> &[u8] {
        self.current.as_ref().expect("iterator is valid").0.as_slice()
    }
    fn value(&self) -> &[u8] {
        &self.current.as_ref().expect("iterator is valid").1
    }
    async fn seek_to_first(&mut self) -> Result<()> {
        self.position(Bound::Unbounded, true);
        Ok(())
    }
    async fn seek_to_last(&mut self) -> Result<()> {
        self.position(Bound::Unbounded, false);
        Ok(())
    }
    async fn seek(&mut self, target: &[u8]) -> Result<()> {
        let target = Self::owned(target);
        self.position(Bound::Included(&target), true);
        Ok(())
    }
    async fn seek_for_prev(&mut self, target: &[u8]) -> Result<()> {
        let target = Self::owned(target);
        self.position(Bound::Included(&target), false);
        Ok(())
    }
    async fn next(&mut self) -> Result<()> {
        let current = self.current.take().expect("iterator is valid").0;
        self.position(Bound::Excluded(&current), true);
        Ok(())
    }
    async fn prev(&mut self) -> Result<()> {
        let current = self.current.take().expect("iterator is valid").0;
        self.position(Bound::Excluded(&current), false);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use futures_lite::future::block_on;

    use super::*;

    #[test]
    fn get_sees_newest_version_at_snapshot() {
        let table = MemTable::new(1, [0; 4]);
        table.warm([(Cf::Default, &b"k"[..])].into_iter());
        table.insert(Cf::Default, b"k", 1, ValueKind::Put, Bytes::from_static(b"v1"));
        table.warm([(Cf::Default, &b"k"[..]), (Cf::Write, b"k"), (Cf::Default, b"kk")].into_iter());
        table.insert(Cf::Default, b"k", 2, ValueKind::Put, Bytes::from_static(b"v2"));
        table.insert(Cf::Default, b"k", 3, ValueKind::Delete, Bytes::new());
        assert_eq!(table.get(Cf::Default, b"k", 2).map(|e| e.2), Some(Bytes::from_static(b"v2")));
        assert_eq!(table.get(Cf::Default, b"k", 3).map(|e| e.1), Some(ValueKind::Delete));
        assert_eq!(table.get(Cf::Default, b"k", 0), None);
        assert_eq!(table.get(Cf::Write, b"k", 9), None);
        assert_eq!(table.get(Cf::Default, b"kk", 9), None);
    }

    #[test]
    fn iterator_walks_both_ways() {
        block_on(async {
            let table = Rc::new(MemTable::new(1, [0; 4]));
            for (seq, key) in [b"a", b"b", b"c"].iter().enumerate() {
                table.insert(Cf::Default, *key, seq as u64 + 1, ValueKind::Put, Bytes::new());
            }
            let mut iter = table.iter(Cf::Default);
            iter.seek(&key::seek_key(b"b", 10)).await.expect("seek");
            assert_eq!(key::user_key(iter.key()), b"b");
            iter.next().await.expect("next");
            assert_eq!(key::user_key(iter.key()), b"c");
            iter.prev().await.expect("prev");
            iter.prev().await.expect("prev");
            assert_eq!(key::user_key(iter.key()), b"a");
            iter.prev().await.expect("prev");
            assert!(!iter.is_valid());
            iter.seek_for_prev(&key::last_key_of(b"bb")).await.expect("seek_for_prev");
            assert_eq!(key::user_key(iter.key()), b"b");
        });
    }

    /// Write CF keys end in an 8-byte version, as MVCC's do.
    fn write_cf_suffix() -> [usize; 4] {
        let mut suffix_bytes = [0; 4];
        suffix_bytes[Cf::Write.index()] = 8;
        suffix_bytes
    }

    fn versioned(prefix: u8, version: u64) -> Vec<u8> {
        [&[b'k', prefix][..], &version.to_be_bytes()].concat()
    }

    proptest::proptest! {
        /// The filters never hide an entry: every read agrees with a scan of what was inserted.
        #[test]
        fn filtered_reads_agree_with_the_inserted_entries(
            inserts in proptest::collection::vec((0..4usize, 0..8u8, 0..4u64), 0..60),
            reads in proptest::collection::vec((0..4usize, 0..10u8, 0..5u64, 0..80u64), 1..40),
        ) {
            let table = MemTable::new(1, write_cf_suffix());
            for (seq, (cf, prefix, version)) in inserts.iter().enumerate() {
                let value = Bytes::from(vec![seq as u8]);
                table.insert(Cf::ALL[*cf], &versioned(*prefix, *version), seq as u64 + 1, ValueKind::Put, value);
            }
            for (cf, prefix, version, snapshot) in reads {
                let key = versioned(prefix, version);
                let expected = inserts
                    .iter()
                    .enumerate()
                    .filter(|(seq, (c, p, v))| *c == cf && versioned(*p, *v) == key && (*seq as u64) < snapshot)
                    .map(|(seq, _)| seq as u64 + 1)
                    .max();
                proptest::prop_assert_eq!(table.get(Cf::ALL[cf], &key, snapshot).map(|e| e.0), expected);
                let holds_prefix = inserts.iter().any(|(c, p, _)| *c == cf && *p == prefix);
                if holds_prefix {
                    proptest::prop_assert!(table.may_contain_prefix(Cf::ALL[cf], &KeyPrefix::copy_from_slice(&[b'k', prefix])));
                }
            }
        }
    }

    #[test]
    fn prefix_filter_rules_out_absent_write_cf_keys_only() {
        let table = MemTable::new(1, write_cf_suffix());
        table.insert(Cf::Write, &versioned(1, 5), 1, ValueKind::Put, Bytes::new());
        table.insert(Cf::Default, &versioned(2, 5), 2, ValueKind::Put, Bytes::new());
        assert!(table.may_contain_prefix(Cf::Write, &KeyPrefix::copy_from_slice(b"k\x01")));
        assert!(
            !table.may_contain_prefix(Cf::Write, &KeyPrefix::copy_from_slice(b"k\x02")),
            "only the Default CF holds it"
        );
        assert!(
            table.may_contain_prefix(Cf::Default, &KeyPrefix::copy_from_slice(b"k\x03")),
            "no suffix: cannot rule out"
        );
        assert_eq!(table.get(Cf::Write, &versioned(1, 9), 9), None, "another version of a known prefix");
        assert_eq!(table.get(Cf::Write, &versioned(2, 5), 9), None);
    }

    #[test]
    fn index_memory_is_counted_once_per_column_family() {
        let table = MemTable::new(1, write_cf_suffix());
        table.insert(Cf::Write, &versioned(1, 5), 1, ValueKind::Put, Bytes::new());
        let first = table.size_bytes();
        table.insert(Cf::Write, &versioned(2, 6), 2, ValueKind::Put, Bytes::new());
        let second = table.size_bytes() - first;
        let initial_index_bytes = table.cfs[Cf::Write.index()].borrow().entries.index_bytes();
        assert!(initial_index_bytes > 0);
        assert_eq!(first - second, initial_index_bytes, "the first key of a column family counts its index");
        let before = table.size_bytes();
        table.insert(Cf::Lock, &versioned(3, 7), 3, ValueKind::Put, Bytes::new());
        assert_eq!(table.size_bytes() - before, first, "as does another column family's first key");
    }

    #[test]
    fn visits_agree_with_copied_slices() {
        let table = MemTable::new(1, write_cf_suffix());
        for i in 0..100u8 {
            table.insert(
                Cf::Write,
                &versioned(i.wrapping_mul(37), u64::from(i % 3)),
                u64::from(i) + 1,
                ValueKind::Put,
                Bytes::from(vec![i]),
            );
        }
        let (mut after, mut visited, mut windows) = (None, Vec::new(), 0);
        loop {
            let copied = table.entries_after(Cf::Write, after.as_ref(), 30);
            let last = table.visit_after(Cf::Write, after.as_ref(), 30, 8, |window| {
                assert!(!window.is_empty() && window.len() <= 8);
                windows += 1;
                visited.extend(window.iter().map(|(key, value)| ((*key).clone(), (*value).clone())));
            });
            assert_eq!(last, copied.last().map(|(key, _)| key.clone()));
            let Some(last) = last else { break };
            after = Some(last);
        }
        assert_eq!(visited, table.entries_after(Cf::Write, None, usize::MAX));
        assert_eq!(visited.len(), 100);
        assert_eq!(windows, 4 * 3 + 2, "three slices of 30 in windows of 8, then one of 10");
    }

    #[test]
    fn size_and_watermarks_accumulate() {
        let table = MemTable::new(1, [0; 4]);
        assert!(table.is_empty());
        table.insert(Cf::Lock, b"k", 1, ValueKind::Put, Bytes::from_static(b"v"));
        table.note_applied(7, 3);
        table.note_applied(7, 5);
        assert!(table.size_bytes() > 0);
        assert_eq!(table.applied().get(&7), Some(&5));
    }
}
