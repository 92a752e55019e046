//! [`EntryMap`]: the entries of one column family of a memtable, in an append-only arena with
//! two indexes over it: a hash index by *filter key* for point reads, and per-bucket lists
//! sorted on demand for ordered walks.
//!
//! A write is a hash probe and an append. The filter key is the user key without the
//! column family's `filter_prefix_suffix_bytes` (its version suffix), or the whole key when it is
//! not longer than that, as for the tables' prefix filters. The hash index maps it to a *chain*:
//! every entry with that filter key (the versions of one MVCC key), linked newest-first in
//! internal-key order, so that a point read or a prefix-bounded seek reads the chain from its
//! head and usually stops there. The ordered view is kept per bucket: the first 14 bits of the
//! user key, by which keys order first (the server's data keys start with their hash slot, so a
//! 64 MiB memtable of about 450k keys has buckets of a few dozen entries). An insert leaves the
//! ordered view alone: an ordered walk first adds the entries inserted since the last one to
//! their buckets' lists, reading the arena in order, and sorts each list it reaches that has new
//! entries (a stable sort, which merges a sorted run and a short tail in linear time).
//!
//! It replaced 16,384 `BTreeMap`s by the same buckets plus a bloom filter of the filter keys.
//! A B-tree insert missed cache on every node it crossed (its root, its leaf) and shifted the
//! leaf's 88-byte slots; the filter missed once more. Here an insert misses on its index slot
//! and, when the filter key has older versions, on the chain's head. Appending each insert to
//! its bucket's list missed twice more (the bucket's list, then its end); linking it into a
//! per-bucket list instead moved the misses to the walk that sorts, one dependent load at a time. `perf/results/memtable-arena-2026-12-07.md` has
//! the numbers.
//!
//! Cost: the walk of a chain is linear in the versions of one filter key that sort before the
//! entry looked for: one for the newest version, more for a read at an old snapshot of a key
//! rewritten many times within one memtable, or for an insert that sorts behind many versions
//! (a rollback record older than the key's commits). An ordered walk that interleaves with writes
//! to one large bucket (keys that share their first 14 bits, such as an engine used without the
//! server's slot prefix) sorts the bucket's new tail each time it is reached.
//!
//! Fixed cost: a column family that received a write holds a directory of 16,384 `u32`s and a
//! 16,384-bit occupancy bitmap (66 KiB), and a hash
//! index of at least 1,024 slots (8 KiB) that doubles when three quarters full
//! ([`EntryMap::index_bytes`] reports it).
//!
//! Invariants: every entry is in exactly one chain; a chain is sorted by internal key; the
//! entries below `distributed` are each in their bucket's list, the others in none;
//! `lists[..].sorted` entries of a list are sorted; `directory[b]` is 0 while bucket `b` has no
//! distributed entry and otherwise one more than its list's index; bit `b` of `occupied` is set
//! exactly when it has one. Entries are never removed (a memtable only grows).

use std::cmp::Ordering;
use std::ops::{Bound, ControlFlow};

use bytes::Bytes;

use crate::key::{self, InternalKey, Seq};
use crate::sst::builder::prefix_of;
use crate::sst::filter::{KeyPrefix, stable_hash};

const BUCKETS: usize = 1 << 14;
const WORD_BITS: usize = 64;
/// Entries per arena chunk (96 KiB): the arena grows without moving what it holds.
const CHUNK_BITS: u32 = 10;
const CHUNK_ENTRIES: usize = 1 << CHUNK_BITS;
const INITIAL_SLOTS: usize = 1024;
/// The end of a chain.
const NONE: u32 = u32::MAX;

// The memtable's per-entry overhead assumes this size.
const _: () = assert!(std::mem::size_of::<Entry>() == 96);

/// One entry of the map.
#[derive(Debug)]
pub struct Entry {
    /// Its internal key.
    pub key: InternalKey,
    /// Its value.
    pub value: Bytes,
    /// The next entry of its chain (the next larger key with its filter key), or [`NONE`].
    next: u32,
}

/// The entries of one bucket, sorted up to `sorted`.
#[derive(Debug, Default)]
struct BucketList {
    entries: Vec<u32>,
    sorted: usize,
}

/// Where an insert of a key starts: its index slot and its tag.
#[derive(Debug, Clone, Copy, Default)]
pub struct Home {
    position: usize,
    tag: u32,
}

/// The entries of one column family of a memtable (see the module documentation).
#[derive(Debug, Default)]
pub struct EntryMap {
    suffix_bytes: usize,
    chunks: Vec<Vec<Entry>>,
    len: usize,
    /// Open addressing by the filter key's hash: 0 when empty, otherwise the hash's high 32 bits
    /// (its tag, which also picks the first slot) above one more than the chain head's index.
    slots: Vec<u64>,
    /// Occupied slots: the distinct filter keys.
    chains: usize,
    /// Entries below this index are in their buckets' lists; the others only in the arena.
    distributed: usize,
    /// Per bucket, 0 while it has no distributed entry and otherwise one more than its list's
    /// index.
    directory: Vec<u32>,
    /// Bit `b` set when bucket `b` has distributed entries.
    occupied: Vec<u64>,
    lists: Vec<BucketList>,
}

impl EntryMap {
    /// An empty map for a column family whose keys end in `suffix_bytes` version bytes.
    pub fn new(suffix_bytes: usize) -> EntryMap {
        EntryMap { suffix_bytes, ..Default::default() }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Bytes of the hash index, which grows with the distinct filter keys.
    pub fn index_bytes(&self) -> u64 {
        (self.slots.len() * std::mem::size_of::<u64>()) as u64
    }

    /// Inserts `key`, or replaces its value when it is already there.
    pub fn insert(&mut self, key: InternalKey, value: Bytes) {
        if self.slots.is_empty() {
            self.slots = vec![0; INITIAL_SLOTS];
            self.directory = vec![0; BUCKETS];
            self.occupied = vec![0; BUCKETS / WORD_BITS];
        }
        let (tag, position, head) = {
            let filter_key = self.filter_key(key::user_key(key.as_slice()));
            let tag = tag_of(stable_hash(filter_key));
            let (position, head) = self.find(tag, filter_key);
            (tag, position, head)
        };
        let index = u32::try_from(self.len).ok().filter(|&index| index < NONE - 1).expect("fewer than 4G entries");
        match head {
            None => {
                self.slots[position] = pack(tag, index);
                self.chains += 1;
                self.push(key, value, NONE);
                if self.chains * 4 > self.slots.len() * 3 {
                    self.grow_index();
                }
            }
            Some(head) => match key.cmp(&self.entry(head).key) {
                Ordering::Less => {
                    self.slots[position] = pack(tag, index);
                    self.push(key, value, head);
                }
                Ordering::Equal => self.entry_mut(head).value = value,
                Ordering::Greater => {
                    let mut previous = head;
                    loop {
                        let next = self.entry(previous).next;
                        if next != NONE {
                            match key.cmp(&self.entry(next).key) {
                                Ordering::Greater => {
                                    previous = next;
                                    continue;
                                }
                                Ordering::Equal => {
                                    self.entry_mut(next).value = value;
                                    break;
                                }
                                Ordering::Less => {}
                            }
                        }
                        self.entry_mut(previous).next = index;
                        self.push(key, value, next);
                        break;
                    }
                }
            },
        }
    }

    /// Where an insert of `user_key` starts its index probe, for [`EntryMap::warm`]; `None`
    /// before the first insert.
    pub fn home(&self, user_key: &[u8]) -> Option<Home> {
        if self.slots.is_empty() {
            return None;
        }
        let tag = tag_of(stable_hash(self.filter_key(user_key)));
        Some(Home { position: tag as usize & (self.slots.len() - 1), tag })
    }

    /// Loads what an insert reads first: the index slot, and the chain's head when the slot
    /// holds one with the key's tag. A window of keys' homes is worked out first and then warmed
    /// in a tight loop, so that the loads' cache misses overlap (hashing between them left too
    /// few loads in flight at once). Warming the end of the bucket's list as well saved nothing.
    pub fn warm(&self, home: &Home) {
        let slot = std::hint::black_box(self.slots[home.position]);
        if slot != 0 && (slot >> 32) as u32 == home.tag {
            std::hint::black_box(self.entry(slot as u32 - 1).key.bucket());
        }
    }

    /// The newest entry of `user_key` at or below `snapshot`.
    pub fn get(&self, user_key: &[u8], snapshot: Seq) -> Option<&Entry> {
        let filter_key = self.filter_key(user_key);
        let head = self.find_chain(tag_of(stable_hash(filter_key)), filter_key)?;
        // Versions of one user key are adjacent in the chain, newest first.
        for entry in self.chain(head) {
            let parsed = key::parse_internal(entry.key.as_slice()).expect("memtable keys are well formed");
            match parsed.user_key.cmp(user_key) {
                Ordering::Less => {}
                Ordering::Greater => return None,
                Ordering::Equal if parsed.seq <= snapshot => return Some(entry),
                Ordering::Equal => {}
            }
        }
        None
    }

    /// Whether reads bounded to `prefix` can use [`EntryMap::first_visible_in_prefix`] and
    /// [`EntryMap::holds_prefix`]: the column family has a suffix and the prefix is not empty.
    pub fn indexes_prefix(&self, prefix: &KeyPrefix) -> bool {
        self.suffix_bytes > 0 && !prefix.bytes().is_empty()
    }

    /// Whether some key's filter key is `prefix` (only when [`EntryMap::indexes_prefix`]).
    pub fn holds_prefix(&self, prefix: &KeyPrefix) -> bool {
        self.find_chain(tag_of(prefix.hash().0), prefix.bytes()).is_some()
    }

    /// The first entry at or after `seek` whose filter key is `prefix` and whose sequence is at
    /// most `snapshot`, if its user key is below `upper` (only when
    /// [`EntryMap::indexes_prefix`]).
    pub fn first_visible_in_prefix(
        &self,
        prefix: &KeyPrefix,
        seek: &InternalKey,
        snapshot: Seq,
        upper: Option<&[u8]>,
    ) -> Option<&Entry> {
        let head = self.find_chain(tag_of(prefix.hash().0), prefix.bytes())?;
        for entry in self.chain(head).skip_while(|entry| entry.key < *seek) {
            let parsed = key::parse_internal(entry.key.as_slice()).expect("memtable keys are well formed");
            if upper.is_some_and(|upper| parsed.user_key >= upper) {
                return None;
            }
            if parsed.seq <= snapshot {
                return Some(entry);
            }
        }
        None
    }

    /// Calls `visit` with the entries above `lower`, in order, until it breaks; returns what it
    /// broke with. Sorts the buckets it reaches.
    pub fn walk_from<B>(
        &mut self,
        lower: Bound<&InternalKey>,
        mut visit: impl FnMut(&Entry) -> ControlFlow<B>,
    ) -> Option<B> {
        self.distribute();
        let start = self.first_bucket_from(lower);
        let mut bucket = start;
        while let Some(current) = bucket {
            self.sorted_list(current);
            if let Some(found) = self.walk_bucket(current, start, lower, &mut visit) {
                return Some(found);
            }
            bucket = self.occupied_after(current);
        }
        None
    }

    /// Sorts the buckets that hold the first `count` entries above `lower`, so that
    /// [`EntryMap::walk_sorted_from`] can walk them. Sorting only what a walk is about to read
    /// keeps the keys the sort loaded in cache for the walk.
    pub fn sort_from(&mut self, lower: Bound<&InternalKey>, count: usize) {
        self.distribute();
        let start = self.first_bucket_from(lower);
        let (mut bucket, mut covered) = (start, 0);
        while let Some(current) = bucket.filter(|_| covered < count) {
            let list = self.sorted_list(current);
            let from = if Some(current) == start { self.partition(list, lower) } else { 0 };
            covered += self.lists[list].entries.len() - from;
            bucket = self.occupied_after(current);
        }
    }

    /// [`EntryMap::walk_from`] over buckets sorted by [`EntryMap::sort_from`] since their last
    /// insert (the walk must stop within them), lending the entries for as long as the map.
    pub fn walk_sorted_from<'a, B>(
        &'a self,
        lower: Bound<&InternalKey>,
        mut visit: impl FnMut(&'a Entry) -> ControlFlow<B>,
    ) -> Option<B> {
        debug_assert_eq!(self.distributed, self.len, "a sorted walk follows sort_from");
        let start = self.first_bucket_from(lower);
        let mut bucket = start;
        while let Some(current) = bucket {
            if let Some(found) = self.walk_bucket(current, start, lower, &mut visit) {
                return Some(found);
            }
            bucket = self.occupied_after(current);
        }
        None
    }

    /// The first non-empty bucket that may hold entries above `lower`.
    fn first_bucket_from(&self, lower: Bound<&InternalKey>) -> Option<usize> {
        let start = match lower {
            Bound::Unbounded => 0,
            Bound::Included(key) | Bound::Excluded(key) => usize::from(key.bucket()),
        };
        if self.is_occupied(start) { Some(start) } else { self.occupied_after(start) }
    }

    /// Walks the sorted list of `bucket`, from above `lower` when it is the walk's first bucket.
    fn walk_bucket<'a, B>(
        &'a self,
        bucket: usize,
        first: Option<usize>,
        lower: Bound<&InternalKey>,
        visit: &mut impl FnMut(&'a Entry) -> ControlFlow<B>,
    ) -> Option<B> {
        let list = self.directory[bucket] as usize - 1;
        debug_assert_eq!(self.lists[list].sorted, self.lists[list].entries.len(), "walked lists are sorted");
        let from = if Some(bucket) == first { self.partition(list, lower) } else { 0 };
        for &index in &self.lists[list].entries[from..] {
            if let ControlFlow::Break(found) = visit(self.entry(index)) {
                return Some(found);
            }
        }
        None
    }

    /// The last entry below `upper`. Sorts the buckets it reaches.
    pub fn last_before(&mut self, upper: Bound<&InternalKey>) -> Option<&Entry> {
        self.distribute();
        let start = match upper {
            Bound::Unbounded => BUCKETS - 1,
            Bound::Included(key) | Bound::Excluded(key) => usize::from(key.bucket()),
        };
        if self.is_occupied(start) {
            let list = self.sorted_list(start);
            // Entries below an inclusive upper bound are those a lower bound excludes.
            let flipped = match upper {
                Bound::Included(key) => Bound::Excluded(key),
                Bound::Excluded(key) => Bound::Included(key),
                Bound::Unbounded => Bound::Unbounded,
            };
            let end = if matches!(upper, Bound::Unbounded) {
                self.lists[list].entries.len()
            } else {
                self.partition(list, flipped)
            };
            if let Some(&index) = self.lists[list].entries[..end].last() {
                return Some(self.entry(index));
            }
        }
        let previous = self.occupied_before(start)?;
        let list = self.sorted_list(previous);
        self.lists[list].entries.last().map(|&index| self.entry(index))
    }

    /// Takes the map apart into its entries, in no particular order.
    pub fn into_entries(self) -> impl Iterator<Item = (InternalKey, Bytes)> {
        self.chunks.into_iter().flatten().map(|entry| (entry.key, entry.value))
    }

    fn filter_key<'a>(&self, user_key: &'a [u8]) -> &'a [u8] {
        prefix_of(user_key, self.suffix_bytes).unwrap_or(user_key)
    }

    fn entry(&self, index: u32) -> &Entry {
        entry_in(&self.chunks, index)
    }

    fn entry_mut(&mut self, index: u32) -> &mut Entry {
        let (chunk, at) = chunk_and_offset(index);
        &mut self.chunks[chunk][at]
    }

    /// Appends an entry whose chain continues at `next`.
    fn push(&mut self, key: InternalKey, value: Bytes, next: u32) {
        if self.len.is_multiple_of(CHUNK_ENTRIES) {
            self.chunks.push(Vec::with_capacity(CHUNK_ENTRIES));
        }
        self.chunks.last_mut().expect("a chunk with room").push(Entry { key, value, next });
        self.len += 1;
    }

    /// Adds the entries inserted since the last call to their buckets' lists, reading the arena
    /// in order (the hardware prefetches it); the lists are sorted later, when walked.
    fn distribute(&mut self) {
        for index in self.distributed..self.len {
            let index = index as u32;
            let bucket = usize::from(self.entry(index).key.bucket());
            let list = match self.directory[bucket] {
                0 => {
                    self.lists.push(BucketList::default());
                    self.directory[bucket] = u32::try_from(self.lists.len()).expect("at most 16,384 lists");
                    self.occupied[bucket / WORD_BITS] |= 1 << (bucket % WORD_BITS);
                    self.lists.len() - 1
                }
                list => list as usize - 1,
            };
            self.lists[list].entries.push(index);
        }
        self.distributed = self.len;
    }

    /// The entries of a chain from `head`, in order.
    fn chain(&self, head: u32) -> impl Iterator<Item = &Entry> {
        let mut next = head;
        std::iter::from_fn(move || {
            let entry = (next != NONE).then(|| self.entry(next))?;
            next = entry.next;
            Some(entry)
        })
    }

    fn find_chain(&self, tag: u32, filter_key: &[u8]) -> Option<u32> {
        if self.slots.is_empty() {
            return None;
        }
        self.find(tag, filter_key).1
    }

    /// The slot of `filter_key`'s chain and its head, or the empty slot where it would go.
    fn find(&self, tag: u32, filter_key: &[u8]) -> (usize, Option<u32>) {
        let mask = self.slots.len() - 1;
        let mut position = tag as usize & mask;
        loop {
            let slot = self.slots[position];
            if slot == 0 {
                return (position, None);
            }
            if (slot >> 32) as u32 == tag {
                let head = slot as u32 - 1;
                if self.filter_key(key::user_key(self.entry(head).key.as_slice())) == filter_key {
                    return (position, Some(head));
                }
            }
            position = (position + 1) & mask;
        }
    }

    fn grow_index(&mut self) {
        let doubled = vec![0; self.slots.len() * 2];
        let old = std::mem::replace(&mut self.slots, doubled);
        let mask = self.slots.len() - 1;
        for slot in old.into_iter().filter(|&slot| slot != 0) {
            let mut position = (slot >> 32) as usize & mask;
            while self.slots[position] != 0 {
                position = (position + 1) & mask;
            }
            self.slots[position] = slot;
        }
    }

    /// The index of `bucket`'s list (the bucket must hold distributed entries), sorted.
    fn sorted_list(&mut self, bucket: usize) -> usize {
        let list = self.directory[bucket] as usize - 1;
        let BucketList { entries, sorted } = &mut self.lists[list];
        if *sorted < entries.len() {
            let chunks = &self.chunks;
            let key = |index: &u32| &entry_in(chunks, *index).key;
            if entries.len() - *sorted >= *sorted {
                sort_by_window(entries, key);
            } else {
                // A long sorted run and a short tail: the stable sort merges them in linear time.
                entries.sort_by(|a, b| key(a).cmp(key(b)));
            }
            *sorted = entries.len();
        }
        list
    }

    /// The position in sorted list `list` of its first entry above `lower`.
    fn partition(&self, list: usize, lower: Bound<&InternalKey>) -> usize {
        let entries = &self.lists[list].entries;
        match lower {
            Bound::Unbounded => 0,
            Bound::Included(key) => entries.partition_point(|&index| self.entry(index).key < *key),
            Bound::Excluded(key) => entries.partition_point(|&index| self.entry(index).key <= *key),
        }
    }

    fn is_occupied(&self, bucket: usize) -> bool {
        self.occupied.get(bucket / WORD_BITS).is_some_and(|word| word & (1 << (bucket % WORD_BITS)) != 0)
    }

    /// The first non-empty bucket after `bucket`.
    fn occupied_after(&self, bucket: usize) -> Option<usize> {
        let from = bucket + 1;
        let mut word_index = from / WORD_BITS;
        let mut word = *self.occupied.get(word_index)? & (u64::MAX << (from % WORD_BITS));
        loop {
            if word != 0 {
                return Some(word_index * WORD_BITS + word.trailing_zeros() as usize);
            }
            word_index += 1;
            word = *self.occupied.get(word_index)?;
        }
    }

    /// The last non-empty bucket before `bucket`.
    fn occupied_before(&self, bucket: usize) -> Option<usize> {
        let mut word_index = bucket / WORD_BITS;
        let below = (1u64 << (bucket % WORD_BITS)) - 1;
        let mut word = *self.occupied.get(word_index)? & below;
        loop {
            if word != 0 {
                return Some(word_index * WORD_BITS + (WORD_BITS - 1 - word.leading_zeros() as usize));
            }
            word_index = word_index.checked_sub(1)?;
            word = self.occupied[word_index];
        }
    }
}

/// Sorts the entry indexes of a bucket mostly not sorted yet (a frozen memtable's, at its flush)
/// by the 16 bytes of user key after the prefix they all share, and by whole keys where
/// those tie. The entries lie all over the arena: each key is loaded once, one after the other
/// (so the cache misses overlap), instead of at each of the comparisons of a sort.
fn sort_by_window<'a>(entries: &mut Vec<u32>, key: impl Fn(&u32) -> &'a InternalKey) {
    let Some(first) = entries.first() else { return };
    let first = key::user_key(key(first).as_slice());
    let mut shared = first.len();
    for index in &entries[1..] {
        let other = key::user_key(key(index).as_slice());
        shared = first[..shared].iter().zip(other).take_while(|(a, b)| a == b).count();
    }
    // Keys that share `shared` bytes order by the bytes after them, zero-padded: a padding zero
    // ties with a real zero, so equal windows compare whole keys.
    let window = |index: &u32| {
        let user_key = key::user_key(key(index).as_slice());
        let rest = &user_key[shared.min(user_key.len())..];
        let mut bytes = [0u8; 16];
        let len = rest.len().min(16);
        bytes[..len].copy_from_slice(&rest[..len]);
        u128::from_be_bytes(bytes)
    };
    let mut keyed: Vec<(u128, u32)> = entries.iter().map(|index| (window(index), *index)).collect();
    keyed.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| key(&a.1).cmp(key(&b.1))));
    entries.clear();
    entries.extend(keyed.into_iter().map(|(_, index)| index));
}

/// Where entry `index` lies in the arena: its chunk and its place in it.
fn chunk_and_offset(index: u32) -> (usize, usize) {
    ((index >> CHUNK_BITS) as usize, index as usize & (CHUNK_ENTRIES - 1))
}

/// Entry `index` of an arena (the free form of [`EntryMap::entry`], for borrows that split the
/// map's fields).
fn entry_in(chunks: &[Vec<Entry>], index: u32) -> &Entry {
    let (chunk, at) = chunk_and_offset(index);
    &chunks[chunk][at]
}

/// A hash's tag: its high 32 bits.
fn tag_of(hash: u64) -> u32 {
    (hash >> 32) as u32
}

fn pack(tag: u32, head: u32) -> u64 {
    (u64::from(tag) << 32) | u64::from(head + 1)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::key::ValueKind;

    fn key(user_key: &[u8], seq: u64) -> InternalKey {
        InternalKey::encode(user_key, seq, ValueKind::Put)
    }

    fn pair(entry: &Entry) -> (InternalKey, Bytes) {
        (entry.key.clone(), entry.value.clone())
    }

    fn collect_from(map: &mut EntryMap, lower: Bound<&InternalKey>) -> Vec<(InternalKey, Bytes)> {
        let mut out = Vec::new();
        map.walk_from(lower, |entry| {
            out.push(pair(entry));
            ControlFlow::<()>::Continue(())
        });
        out
    }

    #[test]
    fn empty_map_finds_nothing() {
        let mut map = EntryMap::new(8);
        assert_eq!(map.len(), 0);
        assert!(collect_from(&mut map, Bound::Unbounded).is_empty());
        assert!(map.last_before(Bound::Unbounded).is_none());
        assert!(map.get(b"a", 9).is_none());
        assert!(!map.holds_prefix(&KeyPrefix::copy_from_slice(b"a")));
        assert_eq!(map.into_entries().count(), 0);
    }

    #[test]
    fn walks_across_distant_buckets_both_ways() {
        let mut map = EntryMap::new(0);
        for user_key in [&b"\xff\xff\xff"[..], b"", b"\x00\x01", b"\x80", b"\x80\x00a"] {
            map.insert(key(user_key, 1), Bytes::new());
        }
        let forward: Vec<Vec<u8>> =
            collect_from(&mut map, Bound::Unbounded).into_iter().map(|(k, _)| k.as_slice().to_vec()).collect();
        let mut expected = forward.clone();
        expected.sort_by(|a, b| crate::key::compare_internal(a, b));
        assert_eq!(forward, expected);
        assert_eq!(map.last_before(Bound::Unbounded).map(|e| e.key.clone()), Some(key(b"\xff\xff\xff", 1)));
        assert_eq!(map.last_before(Bound::Excluded(&key(b"\x00\x01", 1))).map(|e| e.key.clone()), Some(key(b"", 1)));
        assert!(map.last_before(Bound::Excluded(&key(b"", 1))).is_none());
    }

    #[test]
    fn the_index_grows_and_keeps_every_chain() {
        let mut map = EntryMap::new(8);
        let versioned = |i: u32, version: u64| [format!("key:{i}").as_bytes(), &version.to_be_bytes()].concat();
        for i in 0..5_000 {
            map.insert(key(&versioned(i, 1), u64::from(i) + 1), Bytes::new());
        }
        assert!(map.index_bytes() > (INITIAL_SLOTS * 8) as u64, "it doubled");
        for i in 0..5_000 {
            assert!(map.holds_prefix(&KeyPrefix::copy_from_slice(format!("key:{i}").as_bytes())));
            assert!(map.get(&versioned(i, 1), u64::MAX).is_some());
        }
        assert!(!map.holds_prefix(&KeyPrefix::copy_from_slice(b"key:5000")));
    }

    #[test]
    fn equal_keys_replace_their_value() {
        let mut map = EntryMap::new(0);
        map.insert(key(b"k", 2), Bytes::from_static(b"a"));
        map.insert(key(b"k", 1), Bytes::from_static(b"b"));
        map.insert(key(b"k", 1), Bytes::from_static(b"c"));
        map.insert(key(b"k", 2), Bytes::from_static(b"d"));
        assert_eq!(map.len(), 2);
        assert_eq!(map.get(b"k", 1).map(|e| e.value.clone()), Some(Bytes::from_static(b"c")));
        assert_eq!(map.get(b"k", 5).map(|e| e.value.clone()), Some(Bytes::from_static(b"d")));
    }

    #[test]
    fn sorts_keys_that_tie_beyond_their_window() {
        let mut map = EntryMap::new(0);
        let mut expected = Vec::new();
        for i in [7u32, 3, 9, 0, 5] {
            for tail in [&b""[..], b"\0", b"zz"] {
                // 20 shared bytes, then 16 equal bytes, then what differs.
                let user_key = [&[b's'; 20][..], &[b'w'; 16], i.to_string().as_bytes(), tail].concat();
                map.insert(key(&user_key, u64::from(i) + 1), Bytes::new());
                expected.push(key(&user_key, u64::from(i) + 1));
            }
        }
        map.insert(key(b"s", 1), Bytes::new());
        expected.push(key(b"s", 1));
        expected.sort();
        let walked: Vec<InternalKey> = collect_from(&mut map, Bound::Unbounded).into_iter().map(|(k, _)| k).collect();
        assert_eq!(walked, expected);
    }

    proptest::proptest! {
        /// Every query agrees with one `BTreeMap` holding the same entries, with inserts and
        /// ordered walks interleaved.
        #[test]
        fn agrees_with_one_btree(
            inserts in proptest::collection::vec((proptest::collection::vec(proptest::prelude::any::<u8>(), 0..4), 0..3u8, 1..5u64), 0..80),
            probes in proptest::collection::vec((proptest::collection::vec(proptest::prelude::any::<u8>(), 0..4), 0..3u8, 0..6u64), 1..30),
            suffix in 0..2usize,
        ) {
            // Few distinct bytes, so that buckets and chains are shared, neighbouring and far
            // apart; with a suffix, the last byte is a version.
            let squash = |bytes: &[u8], version: u8| {
                let mut out: Vec<u8> = bytes.iter().map(|b| [0u8, 1, 0x7f, 0x80, 0xff][usize::from(*b % 5)]).collect();
                out.push(version);
                out
            };
            let mut map = EntryMap::new(suffix);
            let mut model = BTreeMap::new();
            for (step, (user_key, version, seq)) in inserts.iter().enumerate() {
                let value = Bytes::from(vec![step as u8]);
                map.insert(key(&squash(user_key, *version), *seq), value.clone());
                model.insert(key(&squash(user_key, *version), *seq), value);
                if step % 7 == 0 {
                    let all = collect_from(&mut map, Bound::Unbounded);
                    proptest::prop_assert_eq!(all, model.clone().into_iter().collect::<Vec<_>>());
                }
            }
            proptest::prop_assert_eq!(map.len(), model.len());
            for (user_key, version, seq) in probes {
                let user_key = squash(&user_key, version);
                let probe = key(&user_key, seq);
                for bound in [Bound::Included(&probe), Bound::Excluded(&probe), Bound::Unbounded] {
                    let got = collect_from(&mut map, bound);
                    let want: Vec<_> = model.range((bound, Bound::Unbounded)).map(|(k, v)| (k.clone(), v.clone())).collect();
                    proptest::prop_assert_eq!(got, want);
                    let last = map.last_before(bound).map(pair);
                    let want = model.range((Bound::Unbounded, bound)).next_back().map(|(k, v)| (k.clone(), v.clone()));
                    proptest::prop_assert_eq!(last, want);
                }
                let newest = model
                    .iter()
                    .filter(|(k, _)| key::user_key(k.as_slice()) == user_key.as_slice() && key::parse_internal(k.as_slice()).is_some_and(|p| p.seq <= seq))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .next();
                proptest::prop_assert_eq!(map.get(&user_key, seq).map(pair), newest);
                let filter_key = prefix_of(&user_key, suffix).unwrap_or(&user_key).to_vec();
                let prefix = KeyPrefix::copy_from_slice(&filter_key);
                if map.indexes_prefix(&prefix) {
                    let in_prefix = |k: &InternalKey| {
                        let user = key::user_key(k.as_slice());
                        prefix_of(user, suffix).unwrap_or(user) == filter_key.as_slice()
                    };
                    proptest::prop_assert_eq!(map.holds_prefix(&prefix), model.keys().any(in_prefix));
                    let seek = InternalKey::seek(&user_key, seq);
                    let first = model
                        .range(&seek..)
                        .filter(|(k, _)| in_prefix(k) && key::parse_internal(k.as_slice()).is_some_and(|p| p.seq <= seq))
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .next();
                    proptest::prop_assert_eq!(map.first_visible_in_prefix(&prefix, &seek, seq, None).map(pair), first);
                }
            }
            let mut entries: Vec<_> = map.into_entries().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            proptest::prop_assert_eq!(entries, model.into_iter().collect::<Vec<_>>());
        }
    }
}
