//! The rows' storage: [`SHARDS`] hash tables that keep each row inline in its bucket, with
//! CLOCK eviction by weight.
//!
//! A lookup reads the table's control bytes and then the one bucket they point at: two memory
//! misses on a table larger than the CPU's caches. (`quick_cache`, used before, keeps an index
//! in its table and the entry in a separate slab: three dependent misses, each in a different
//! page; at GET 16 B -P16 its lookup was a third of the server's time.)
//!
//! Eviction is CLOCK over the bucket array: a hit sets the row's `referenced` bit; an insert
//! that would carry a shard past its budget sweeps a hand over the buckets, clearing set bits
//! and evicting the first row found clear. A new row starts clear, so rows written once and
//! never read go first.

use std::cell::Cell;

use hashbrown::HashTable;
use nokv_engine::sst::filter::stable_hash;

use super::Row;
use super::small::SmallBytes;

/// The rows are split by key hash into this many tables, each with its share of the budget.
/// A table grows by doubling, a copy the core cannot interrupt: one 64 MiB table of small rows
/// took 55 ms for its last doubling (`perf`, SET 16 B -P16), a client stall at every growth.
/// 64 tables make each doubling a 64th of that.
const SHARDS: usize = 64;

/// One row in its bucket (96 bytes). Its hash is not kept: a lookup compares the inline key
/// bytes, which are in the bucket it reads anyway, and only growth rehashes.
struct Entry {
    key: SmallBytes,
    row: Row,
    referenced: Cell<bool>,
}

/// Bytes a bucket takes: the entry and its control byte.
const BUCKET_BYTES: u64 = std::mem::size_of::<Entry>() as u64 + 1;

/// Bytes counted per row on top of its key and value bytes held outside the bucket: the bucket
/// at the lowest load a table has after growing (7/16; it doubles at 7/8), so that the count
/// bounds the memory. quick_cache counted 128 (measured): a budget holds about 40% fewer
/// small rows than it did, each read a miss cheaper.
pub(super) const ROW_OVERHEAD_BYTES: u64 = BUCKET_BYTES * 16 / 7;

fn weight(key: &SmallBytes, row: &Row) -> u64 {
    key.heap_len() as u64 + row.value.as_ref().map_or(0, SmallBytes::heap_len) as u64 + ROW_OVERHEAD_BYTES
}

/// One table and its share of the budget.
struct Shard {
    table: HashTable<Entry>,
    weight: u64,
    budget: u64,
    /// The CLOCK hand: the next bucket index the sweep looks at.
    hand: usize,
}

impl Shard {
    fn find(&self, hash: u64, key: &[u8]) -> Option<&Entry> {
        self.table.find(hash, |entry| entry.key.as_slice() == key)
    }

    fn remove(&mut self, hash: u64, key: &[u8]) {
        if let Ok(entry) = self.table.find_entry(hash, |entry| entry.key.as_slice() == key) {
            let (removed, _) = entry.remove();
            self.weight -= weight(&removed.key, &removed.row);
        }
    }

    fn insert(&mut self, hash: u64, key: SmallBytes, row: Row) {
        self.remove(hash, key.as_slice());
        let added = weight(&key, &row);
        if added > self.budget {
            return;
        }
        while self.weight + added > self.budget {
            self.evict_one();
        }
        self.weight += added;
        let entry = Entry { key, row, referenced: Cell::new(false) };
        self.table.insert_unique(hash, entry, |entry| stable_hash(entry.key.as_slice()));
    }

    /// Evicts the first row the hand finds unreferenced, clearing the bits it passes. Ends
    /// within two sweeps (the first clears every bit it passes); the table is not empty (its
    /// weight is more than zero).
    fn evict_one(&mut self) {
        let buckets = self.table.num_buckets();
        loop {
            let index = self.hand;
            self.hand = (self.hand + 1) % buckets;
            if let Some(entry) = self.table.get_bucket(index)
                && !entry.referenced.replace(false)
                && let Ok(entry) = self.table.get_bucket_entry(index)
            {
                let (removed, _) = entry.remove();
                self.weight -= weight(&removed.key, &removed.row);
                return;
            }
        }
    }
}

/// The rows, in [`SHARDS`] tables chosen by key hash.
pub(super) struct Rows {
    shards: Vec<Shard>,
}

impl Rows {
    /// Tables weighing at most `capacity_bytes` in all. They start small and grow with their
    /// rows, so a cache of large rows does not hold the buckets a cache of small ones needs.
    pub(super) fn new(capacity_bytes: u64) -> Rows {
        let budget = capacity_bytes.div_ceil(SHARDS as u64);
        let shard = |_| Shard { table: HashTable::new(), weight: 0, budget, hand: 0 };
        Rows { shards: (0..SHARDS).map(shard).collect() }
    }

    /// The key's hash and its shard. The shard comes from bits the table does not use to
    /// place or tag entries (it uses the low bits and the top seven).
    fn locate(&self, key: &[u8]) -> (u64, usize) {
        let hash = stable_hash(key);
        (hash, (hash >> 32) as usize % SHARDS)
    }

    /// The row of `key`, marked as used.
    pub(super) fn get(&self, key: &[u8]) -> Option<&Row> {
        let (hash, shard) = self.locate(key);
        let entry = self.shards[shard].find(hash, key)?;
        entry.referenced.set(true);
        Some(&entry.row)
    }

    /// The row of `key`, not marked as used.
    pub(super) fn peek(&self, key: &[u8]) -> Option<&Row> {
        let (hash, shard) = self.locate(key);
        self.shards[shard].find(hash, key).map(|entry| &entry.row)
    }

    pub(super) fn insert(&mut self, key: SmallBytes, row: Row) {
        let (hash, shard) = self.locate(key.as_slice());
        self.shards[shard].insert(hash, key, row);
    }

    pub(super) fn remove(&mut self, key: &[u8]) {
        let (hash, shard) = self.locate(key);
        self.shards[shard].remove(hash, key);
    }

    pub(super) fn clear(&mut self) {
        for shard in &mut self.shards {
            shard.table.clear();
            shard.weight = 0;
            shard.hand = 0;
        }
    }

    pub(super) fn len(&self) -> usize {
        self.shards.iter().map(|shard| shard.table.len()).sum()
    }

    pub(super) fn weight(&self) -> u64 {
        self.shards.iter().map(|shard| shard.weight).sum()
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::timestamp::TimeStamp;

    fn row(value: &[u8]) -> Row {
        Row { valid_from: TimeStamp::new(1), value: Some(SmallBytes::copy_from(value)) }
    }

    fn value_of(rows: &Rows, key: &[u8]) -> Option<Vec<u8>> {
        rows.peek(key).and_then(|row| row.value.as_ref()).map(|value| value.as_slice().to_vec())
    }

    #[test]
    fn an_entry_is_what_the_overhead_counts() {
        assert_eq!(std::mem::size_of::<Entry>(), 96);
        assert_eq!(ROW_OVERHEAD_BYTES, 97 * 16 / 7);
    }

    #[test]
    fn weight_follows_inserts_replacements_and_removals() {
        let mut rows = Rows::new(1 << 30);
        rows.insert(SmallBytes::copy_from(b"k"), row(b"short"));
        assert_eq!((rows.len(), rows.weight()), (1, ROW_OVERHEAD_BYTES));
        let long = vec![7u8; 1000];
        rows.insert(
            SmallBytes::copy_from(b"k"),
            Row { valid_from: TimeStamp::new(2), value: Some(SmallBytes::from_bytes(Bytes::from(long.clone()))) },
        );
        assert_eq!((rows.len(), rows.weight()), (1, ROW_OVERHEAD_BYTES + 1000));
        assert_eq!(value_of(&rows, b"k"), Some(long));
        rows.remove(b"k");
        rows.remove(b"absent");
        assert_eq!((rows.len(), rows.weight()), (0, 0));
        assert!(rows.get(b"k").is_none());
    }

    #[test]
    fn eviction_keeps_each_table_within_its_share_and_spares_rows_in_use() {
        // Room for about 20 small rows per table.
        let share = 20 * ROW_OVERHEAD_BYTES;
        let mut rows = Rows::new(share * SHARDS as u64);
        rows.insert(SmallBytes::copy_from(b"hot"), row(b"h"));
        for i in 0..50_000u32 {
            rows.insert(SmallBytes::copy_from(format!("cold{i}").as_bytes()), row(b"c"));
            assert!(rows.get(b"hot").is_some(), "a row read between inserts stays (insert {i})");
            if i % 1000 == 0 {
                assert!(rows.shards.iter().all(|shard| shard.weight <= share), "over budget at {i}");
            }
        }
        assert!(rows.len() <= 20 * SHARDS, "{} rows", rows.len());
        assert!(rows.len() >= 10 * SHARDS, "the tables fill up to their share: {} rows", rows.len());
        assert_eq!(rows.weight(), rows.len() as u64 * ROW_OVERHEAD_BYTES);
        assert_eq!(value_of(&rows, b"cold49999"), Some(b"c".to_vec()), "the newest row is in");
        rows.clear();
        assert_eq!((rows.len(), rows.weight()), (0, 0));
    }

    #[test]
    fn a_row_larger_than_a_table_share_is_not_kept() {
        let mut rows = Rows::new(SHARDS as u64 * 1024);
        rows.insert(SmallBytes::copy_from(b"k"), row(b"v"));
        rows.insert(
            SmallBytes::copy_from(b"k"),
            Row { valid_from: TimeStamp::new(2), value: Some(SmallBytes::from_bytes(Bytes::from(vec![1u8; 4096]))) },
        );
        assert!(rows.peek(b"k").is_none(), "the old row is gone too: it is stale");
        assert_eq!(rows.weight(), 0);
    }
}
