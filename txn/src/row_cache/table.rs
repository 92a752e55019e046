//! [`RowTable`]: one of the row cache's hash tables, built for lookups that miss the CPU cache.
//!
//! A lookup in `quick_cache` made three dependent memory reads, each likely a miss on a table
//! larger than the CPU's cache: hashbrown's control bytes, the bucket holding the slab index,
//! and the slab entry with the key. Here a slot is one `u64` holding the key's 32-bit hash and
//! the entry's index, so a lookup reads the slot (open addressing, linear probing, no
//! tombstones) and then the entry, which keeps short keys and values inline ([`SmallBytes`]).
//! [`RowTable::warm`] lets a caller with many keys (a pipelined run of reads) issue the slot and
//! entry reads of all of them before it needs any result, so their misses overlap.
//!
//! Entries live in one dense vector reserved up front for the most rows the budget can hold
//! (address space, not memory: only the pages rows occupy are touched), so the table never
//! copies its entries to grow; the slots double, and a doubling re-places each slot from the
//! hash it holds without reading the entries. Eviction is CLOCK over the dense entries: a read
//! sets an entry's referenced bit, the hand clears it or evicts the entry.

use std::cell::Cell;

use super::small::SmallBytes;

/// Slots start at this many; they double when three quarters are used.
const MIN_SLOTS: usize = 16;
/// The referenced bit, kept in the top bit of an entry's weight cell.
const REFERENCED: u32 = 1 << 31;

/// One row: its key, value, weight and hash.
#[derive(Debug)]
pub(super) struct Entry<V> {
    hash: u32,
    /// The weight, with [`REFERENCED`] set after a read since the hand last passed.
    weight: Cell<u32>,
    key: SmallBytes,
    value: V,
}

impl<V> Entry<V> {
    fn weight(&self) -> u32 {
        self.weight.get() & !REFERENCED
    }
}

/// A hash table of rows weighing at most `capacity` bytes in total.
#[derive(Debug)]
pub(super) struct RowTable<V> {
    /// `hash << 32 | (index + 1)`; 0 is empty.
    slots: Vec<u64>,
    entries: Vec<Entry<V>>,
    capacity: u64,
    weight: u64,
    /// The CLOCK hand: the next entry eviction looks at.
    hand: usize,
}

/// The slot naming entry `index` of a key with `hash`.
fn slot(hash: u32, index: usize) -> u64 {
    u64::from(hash) << 32 | (index as u64 + 1)
}

/// The hash a non-empty slot holds.
fn slot_hash(slot: u64) -> u32 {
    (slot >> 32) as u32
}

/// The entry index a non-empty slot names.
fn slot_index(slot: u64) -> usize {
    slot as u32 as usize - 1
}

impl<V> RowTable<V> {
    /// A table for rows weighing at most `capacity` bytes, each at least `min_weight`.
    pub(super) fn new(capacity: u64, min_weight: u32) -> RowTable<V> {
        let most_rows = usize::try_from(capacity / u64::from(min_weight.max(1))).unwrap_or(usize::MAX);
        RowTable {
            slots: vec![0; MIN_SLOTS],
            entries: Vec::with_capacity(most_rows.clamp(1, u32::MAX as usize - 1)),
            capacity,
            weight: 0,
            hand: 0,
        }
    }

    pub(super) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(super) fn weight(&self) -> u64 {
        self.weight
    }

    /// True when a new entry of `weight` fits without evicting another.
    pub(super) fn has_room_for(&self, weight: u32) -> bool {
        self.weight + u64::from(weight) <= self.capacity
    }

    fn mask(&self) -> usize {
        self.slots.len() - 1
    }

    fn home(&self, hash: u32) -> usize {
        hash as usize & self.mask()
    }

    /// Reads the home slot of `hash` and the entry it names: the memory a lookup of a key with
    /// this hash will read first, so that it is in the CPU's cache by then.
    pub(super) fn warm(&self, hash: u32) {
        let slot = std::hint::black_box(self.slots[self.home(hash)]);
        if slot != 0 {
            std::hint::black_box(self.entries[slot_index(slot)].hash);
        }
    }

    /// The slot position and entry index of `key`.
    fn find(&self, key: &[u8], hash: u32) -> Option<(usize, usize)> {
        let mask = self.mask();
        let mut position = self.home(hash);
        loop {
            let slot = self.slots[position];
            if slot == 0 {
                return None;
            }
            if slot_hash(slot) == hash {
                let index = slot_index(slot);
                if self.entries[index].key.as_slice() == key {
                    return Some((position, index));
                }
            }
            position = (position + 1) & mask;
        }
    }

    /// The value of `key`, marking it referenced.
    pub(super) fn get(&self, key: &[u8], hash: u32) -> Option<&V> {
        let (_, index) = self.find(key, hash)?;
        let entry = &self.entries[index];
        entry.weight.set(entry.weight.get() | REFERENCED);
        Some(&entry.value)
    }

    /// `key`'s value, to change in place without changing its weight; unlike [`RowTable::get`],
    /// this is not a use (a write does not keep a row).
    pub(super) fn get_mut(&mut self, key: &[u8], hash: u32) -> Option<&mut V> {
        let (_, index) = self.find(key, hash)?;
        Some(&mut self.entries[index].value)
    }

    /// Sets `key`'s value to `value` weighing `weight`, evicting rows until it fits. A row
    /// heavier than the whole table is not kept (and the key's old row goes).
    pub(super) fn insert(&mut self, key: &[u8], hash: u32, value: V, weight: u32) {
        self.remove(key, hash);
        self.insert_absent(key, hash, value, weight);
    }

    /// Like [`RowTable::insert`] when `key` has no row; when it has one, replaces it only if
    /// `replaces(old value)`, and otherwise removes it. A replacement that fits is made in
    /// place (the key's copy and slot kept).
    pub(super) fn upsert(&mut self, key: &[u8], hash: u32, value: V, weight: u32, replaces: impl FnOnce(&V) -> bool) {
        let Some((position, index)) = self.find(key, hash) else {
            self.insert_absent(key, hash, value, weight);
            return;
        };
        let entry = &mut self.entries[index];
        let old = entry.weight();
        if !replaces(&entry.value) {
            self.remove_at(position, index);
            return;
        }
        let replaced_weight = self.weight - u64::from(old) + u64::from(weight);
        if replaced_weight <= self.capacity {
            entry.value = value;
            entry.weight.set((entry.weight.get() & REFERENCED) | weight);
            self.weight = replaced_weight;
            return;
        }
        self.remove_at(position, index);
        self.insert_absent(key, hash, value, weight);
    }

    fn insert_absent(&mut self, key: &[u8], hash: u32, value: V, weight: u32) {
        if u64::from(weight) > self.capacity {
            return;
        }
        while self.weight + u64::from(weight) > self.capacity || self.entries.len() == self.entries.capacity() {
            self.evict_one();
        }
        if (self.entries.len() + 1) * 4 > self.slots.len() * 3 {
            self.grow();
        }
        let index = self.entries.len();
        self.entries.push(Entry { hash, weight: Cell::new(weight), key: SmallBytes::copy_from(key), value });
        self.weight += u64::from(weight);
        self.place(slot(hash, index));
    }

    /// Puts `slot` in the first empty position of its probe run.
    fn place(&mut self, slot: u64) {
        let mask = self.mask();
        let mut position = self.home(slot_hash(slot));
        while self.slots[position] != 0 {
            position = (position + 1) & mask;
        }
        self.slots[position] = slot;
    }

    pub(super) fn remove(&mut self, key: &[u8], hash: u32) {
        if let Some((position, index)) = self.find(key, hash) {
            self.remove_at(position, index);
        }
    }

    pub(super) fn clear(&mut self) {
        self.slots = vec![0; MIN_SLOTS];
        self.entries.clear();
        self.weight = 0;
        self.hand = 0;
    }

    /// Evicts the first unreferenced entry from the hand on, clearing the bits it passes.
    fn evict_one(&mut self) {
        loop {
            if self.hand >= self.entries.len() {
                self.hand = 0;
            }
            let entry = &self.entries[self.hand];
            let weight = entry.weight.get();
            if weight & REFERENCED != 0 {
                entry.weight.set(weight & !REFERENCED);
                self.hand += 1;
                continue;
            }
            let index = self.hand;
            let position = self.position_of(index);
            self.remove_at(position, index);
            return;
        }
    }

    /// The slot position naming entry `index`.
    fn position_of(&self, index: usize) -> usize {
        let mask = self.mask();
        let mut position = self.home(self.entries[index].hash);
        while self.slots[position] == 0 || slot_index(self.slots[position]) != index {
            position = (position + 1) & mask;
        }
        position
    }

    /// Removes the entry `index` named by the slot at `position`: the slot by shifting later
    /// slots of its probe run back (so no tombstones), the entry by moving the last entry into
    /// its place (and renaming that entry's slot).
    fn remove_at(&mut self, position: usize, index: usize) {
        let mask = self.mask();
        let mut hole = position;
        let mut next = (position + 1) & mask;
        loop {
            let slot = self.slots[next];
            if slot == 0 {
                break;
            }
            let home = self.home(slot_hash(slot));
            // The slot may fill the hole if the hole lies on its probe path: home..=next.
            if next.wrapping_sub(home) & mask >= next.wrapping_sub(hole) & mask {
                self.slots[hole] = slot;
                hole = next;
            }
            next = (next + 1) & mask;
        }
        self.slots[hole] = 0;
        let last = self.entries.len() - 1;
        if index != last {
            let moved = self.position_of(last);
            self.slots[moved] = slot(self.entries[last].hash, index);
        }
        let removed = self.entries.swap_remove(index);
        self.weight -= u64::from(removed.weight());
    }

    /// Doubles the slots, placing each again from the hash it holds.
    fn grow(&mut self) {
        let doubled = vec![0; self.slots.len() * 2];
        let old = std::mem::replace(&mut self.slots, doubled);
        old.into_iter().filter(|&slot| slot != 0).for_each(|slot| self.place(slot));
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use proptest::prelude::*;

    use super::*;

    /// A deliberately weak hash so that probe runs collide and wrap around.
    fn hash_of(key: &[u8]) -> u32 {
        key.iter().fold(0u32, |hash, &byte| hash.wrapping_mul(3).wrapping_add(u32::from(byte))) & 0x3f
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insert(u8, u32, u32),
        Get(u8),
        Remove(u8),
        Upsert(u8, u32, u32),
        Clear,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (any::<u8>(), any::<u32>(), 1u32..40).prop_map(|(key, value, weight)| Op::Insert(key, value, weight)),
            3 => any::<u8>().prop_map(Op::Get),
            2 => any::<u8>().prop_map(Op::Remove),
            2 => (any::<u8>(), any::<u32>(), 1u32..40).prop_map(|(key, value, weight)| Op::Upsert(key, value, weight)),
            1 => Just(Op::Clear),
        ]
    }

    fn key(byte: u8) -> Vec<u8> {
        vec![b'k'; usize::from(byte % 50)]
    }

    /// Every slot names a distinct entry whose hash it holds, found from its home without a
    /// gap; every entry has a slot; the weight is the entries' sum.
    fn check_structure(table: &RowTable<u32>) {
        let mut named = vec![false; table.entries.len()];
        for (position, &slot) in table.slots.iter().enumerate().filter(|(_, slot)| **slot != 0) {
            let index = slot_index(slot);
            assert!(!std::mem::replace(&mut named[index], true), "entry {index} named twice");
            assert_eq!(slot_hash(slot), table.entries[index].hash);
            let mut probe = table.home(table.entries[index].hash);
            while probe != position {
                assert_ne!(table.slots[probe], 0, "gap before slot {position}");
                probe = (probe + 1) & table.mask();
            }
        }
        assert!(named.iter().all(|&named| named), "an entry without a slot");
        assert_eq!(table.weight, table.entries.iter().map(|entry| u64::from(entry.weight())).sum::<u64>());
        assert!(table.weight <= table.capacity);
    }

    proptest! {
        /// Against a map: every present key holds its last value, the table never holds a key
        /// the map lacks (evictions may drop keys the map has), and it stays within budget.
        #[test]
        fn the_table_agrees_with_a_map(ops in proptest::collection::vec(op(), 1..400)) {
            let mut table = RowTable::<u32>::new(200, 1);
            let mut model: HashMap<Vec<u8>, u32> = HashMap::new();
            for op in ops {
                match op {
                    Op::Insert(byte, value, weight) => {
                        let key = key(byte);
                        table.insert(&key, hash_of(&key), value, weight);
                        model.insert(key, value);
                    }
                    Op::Get(byte) => {
                        let key = key(byte);
                        if let Some(&value) = table.get(&key, hash_of(&key)) {
                            prop_assert_eq!(Some(&value), model.get(&key));
                        }
                    }
                    Op::Remove(byte) => {
                        let key = key(byte);
                        table.remove(&key, hash_of(&key));
                        model.remove(&key);
                        prop_assert!(table.get(&key, hash_of(&key)).is_none());
                    }
                    Op::Upsert(byte, value, weight) => {
                        // Replaces only a row whose value is below the new one.
                        let key = key(byte);
                        let mut replaced_or_new = true;
                        table.upsert(&key, hash_of(&key), value, weight, |&old| {
                            replaced_or_new = old < value;
                            replaced_or_new
                        });
                        if replaced_or_new {
                            model.insert(key, value);
                        }
                    }
                    Op::Clear => {
                        table.clear();
                        model.clear();
                    }
                }
                check_structure(&table);
                for entry in &table.entries {
                    prop_assert_eq!(Some(&entry.value), model.get(entry.key.as_slice()));
                }
            }
        }
    }

    #[test]
    fn read_rows_outlive_unread_ones() {
        let mut table = RowTable::<u32>::new(100, 10);
        for byte in 0..10u8 {
            table.insert(&[byte], u32::from(byte), u32::from(byte), 10);
        }
        assert!(table.get(&[3], 3).is_some());
        table.insert(&[20], 20, 20, 10);
        assert!(table.get(&[3], 3).is_some(), "the read row had a second chance");
        assert!(table.get(&[0], 0).is_none(), "the first unread row went");
        assert_eq!(table.len(), 10);
    }

    #[test]
    fn a_row_heavier_than_the_table_is_not_kept_and_drops_the_old_one() {
        let mut table = RowTable::<u32>::new(100, 10);
        table.insert(b"k", 1, 1, 10);
        table.insert(b"k", 1, 2, 101);
        assert!(table.get(b"k", 1).is_none());
        assert_eq!((table.len(), table.weight()), (0, 0));
    }
}
