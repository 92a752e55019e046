//! Block and index/filter caches with byte budgets and a TinyLFU admission filter.
//!
//! One [`Caches`] per core, shared by every table of that core through `Rc<Caches>`; no locks.
//!
//! - The **block cache** maps `(file_id, block_offset)` to a data block's decompressed,
//!   checksum-verified contents. It is a `quick_cache::unsync::Cache` weighted by bytes.
//! - The **index cache** holds the parsed index blocks and bloom filters of open tables. It has
//!   no budget: each table's metadata is loaded when the table is opened and stays until the
//!   table is deleted (as table readers hold it in RocksDB's default setup). Its size follows
//!   the data: about 1.5% of it with 1 KiB values, 3-4% with 100 B values (an index entry per
//!   4 KiB block, 10 filter bits per key). A budget turned out to be a cliff: once the
//!   metadata outgrew it, every point read missed, and a miss reads a whole index (hundreds of
//!   KiB) to find one 4 KiB block (2M x 1 KiB keys on 2 shards with 16 MiB per shard: 340 MB/s
//!   of index reads, 13.8k ops/s; with all metadata held: 45 MB/s, 22.2k ops/s, see
//!   `perf/results`).
//! - A TinyLFU **admission filter** ([`admission`]) guards the block cache: while the cache has
//!   room every block is admitted; once it is full a block is admitted only if it was accessed
//!   at least twice in the current window, so a one-pass scan cannot flush the hot set.
//!   (quick-cache alone is CLOCK-Pro-like; the filter adds frequency-based admission.)
//!
//! Reads for scans and compaction pass `fill_cache = false`: they may hit the cache but neither
//! fill it nor count as accesses.
//!
//! Invariant: every weight is at least 1 (quick-cache never evicts zero-weight items).

pub mod admission;

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use bytes::Bytes;
use quick_cache::Weighter;
use quick_cache::unsync::Cache;

use crate::error::{Error, Result};
use crate::sst::filter::{BloomFilter, mix64};
use crate::sst::index::IndexBlock;

use admission::TinyLfu;

/// Identifies a block: the table's file id and the block's offset in it.
pub type BlockKey = (u64, u64);

/// Value-log records share the block cache under keys whose file id has this bit set (table
/// file ids never come near it).
const VALUE_LOG_FILE_TAG: u64 = 1 << 63;

/// The block-cache key of the value-log record at `offset` of value-log file `file_id`.
pub fn value_key(file_id: u32, offset: u64) -> BlockKey {
    (VALUE_LOG_FILE_TAG | u64::from(file_id), offset)
}

/// Smallest accepted block cache budget.
const MIN_CACHE_BYTES: u64 = 4096;
/// Typical data block size, for sizing the block cache's tables and the sketch.
const TYPICAL_BLOCK_BYTES: u64 = 4096;
/// The admission sketch is sized for at least this many items so tiny caches still work.
const MIN_SKETCH_ITEMS: usize = 64;

/// Cache budgets of one core.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheOptions {
    /// Budget of the data block cache.
    pub block_cache_bytes: u64,
}

impl Default for CacheOptions {
    fn default() -> Self {
        CacheOptions { block_cache_bytes: 64 << 20 }
    }
}

impl CacheOptions {
    /// Checks the budgets.
    pub fn validate(&self) -> Result<()> {
        let value = self.block_cache_bytes;
        if value < MIN_CACHE_BYTES {
            let reason = format!("{value} is below {MIN_CACHE_BYTES}");
            return Err(Error::InvalidOption { name: "block_cache_bytes", reason });
        }
        Ok(())
    }
}

/// A parsed index block or filter in the index cache.
#[derive(Debug, Clone)]
pub enum MetaBlock {
    /// A table's index.
    Index(Rc<IndexBlock>),
    /// A table's bloom filter.
    Filter(Rc<BloomFilter>),
}

impl MetaBlock {
    fn size_bytes(&self) -> usize {
        match self {
            MetaBlock::Index(index) => index.size_bytes(),
            MetaBlock::Filter(filter) => filter.size_bytes(),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct BlockWeighter;

impl Weighter<BlockKey, Bytes> for BlockWeighter {
    fn weight(&self, _key: &BlockKey, block: &Bytes) -> u64 {
        (block.len() as u64).max(1)
    }
}

/// A snapshot of the caches' counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CacheStats {
    /// Data block lookups served from the cache.
    pub block_hits: u64,
    /// Data block lookups that went to the file.
    pub block_misses: u64,
    /// Index and filter lookups served from the cache.
    pub index_hits: u64,
    /// Index and filter lookups that went to the file.
    pub index_misses: u64,
    /// Blocks the admission filter kept out of a full cache.
    pub admissions_rejected: u64,
    /// Bytes of blocks held.
    pub block_bytes_used: u64,
    /// Bytes of indexes and filters held.
    pub index_bytes_used: u64,
}

#[derive(Debug, Default)]
struct Counters {
    block_hits: Cell<u64>,
    block_misses: Cell<u64>,
    index_hits: Cell<u64>,
    index_misses: Cell<u64>,
    admissions_rejected: Cell<u64>,
}

fn bump(counter: &Cell<u64>) {
    counter.set(counter.get() + 1);
}

/// The caches of one core.
pub struct Caches {
    blocks: RefCell<Cache<BlockKey, Bytes, BlockWeighter>>,
    /// foldhash, not SipHash: keys are our own file ids and offsets, and every point read that
    /// reaches the tables looks up each candidate table's filter here.
    metas: RefCell<HashMap<BlockKey, MetaBlock, foldhash::fast::FixedState>>,
    meta_bytes: Cell<u64>,
    admission: RefCell<TinyLfu>,
    block_capacity_bytes: u64,
    counters: Counters,
}

impl std::fmt::Debug for Caches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Caches").field("stats", &self.stats()).finish_non_exhaustive()
    }
}

impl Caches {
    /// Empty caches with the given budgets.
    pub fn new(options: &CacheOptions) -> Result<Caches> {
        options.validate()?;
        let block_items = (options.block_cache_bytes / TYPICAL_BLOCK_BYTES).max(1) as usize;
        Ok(Caches {
            blocks: RefCell::new(Cache::with_weighter(block_items, options.block_cache_bytes, BlockWeighter)),
            metas: RefCell::new(HashMap::default()),
            meta_bytes: Cell::new(0),
            admission: RefCell::new(TinyLfu::new(block_items.max(MIN_SKETCH_ITEMS))),
            block_capacity_bytes: options.block_cache_bytes,
            counters: Counters::default(),
        })
    }

    /// Looks a block up. `record_access` feeds the admission filter (false for scans).
    pub fn get_block(&self, key: BlockKey, record_access: bool) -> Option<Bytes> {
        if record_access {
            self.admission.borrow_mut().record(block_hash(key));
        }
        let found = self.blocks.borrow().get(&key).cloned();
        bump(if found.is_some() { &self.counters.block_hits } else { &self.counters.block_misses });
        found
    }

    /// Offers a block read from disk; returns whether it was admitted.
    pub fn insert_block(&self, key: BlockKey, block: Bytes) -> bool {
        let weight = BlockWeighter.weight(&key, &block);
        let mut blocks = self.blocks.borrow_mut();
        let has_room = blocks.weight() + weight <= self.block_capacity_bytes;
        if !has_room && self.admission.borrow().estimate(block_hash(key)) < 2 {
            bump(&self.counters.admissions_rejected);
            return false;
        }
        blocks.insert(key, block);
        if !has_room {
            // quick-cache saw one access, but the sketch saw at least two: give the block the
            // reference quick-cache would have recorded, so it is not first in line to go.
            blocks.get(&key);
        }
        true
    }

    /// Looks up a table's parsed index; `offset` is the index block's offset.
    pub fn get_index(&self, file_id: u64, offset: u64) -> Option<Rc<IndexBlock>> {
        match self.get_meta((file_id, offset)) {
            Some(MetaBlock::Index(index)) => Some(index),
            _ => None,
        }
    }

    /// Looks up a table's parsed bloom filter; `offset` is the filter block's offset.
    pub fn get_filter(&self, file_id: u64, offset: u64) -> Option<Rc<BloomFilter>> {
        match self.get_meta((file_id, offset)) {
            Some(MetaBlock::Filter(filter)) => Some(filter),
            _ => None,
        }
    }

    /// [`Caches::get_filter`] without counting a hit or a miss.
    pub fn peek_filter(&self, file_id: u64, offset: u64) -> Option<Rc<BloomFilter>> {
        match self.metas.borrow().get(&(file_id, offset)) {
            Some(MetaBlock::Filter(filter)) => Some(Rc::clone(filter)),
            _ => None,
        }
    }

    /// Keeps a parsed index or filter until its table is forgotten.
    pub fn insert_meta(&self, file_id: u64, offset: u64, meta: MetaBlock) {
        let bytes = meta.size_bytes() as u64;
        if let Some(old) = self.metas.borrow_mut().insert((file_id, offset), meta) {
            self.meta_bytes.set(self.meta_bytes.get() - old.size_bytes() as u64);
        }
        self.meta_bytes.set(self.meta_bytes.get() + bytes);
    }

    /// Drops a table's index or filter (the table is going away).
    pub fn forget_meta(&self, file_id: u64, offset: u64) {
        if let Some(old) = self.metas.borrow_mut().remove(&(file_id, offset)) {
            self.meta_bytes.set(self.meta_bytes.get() - old.size_bytes() as u64);
        }
    }

    /// Drops everything cached for a deleted table. Linear in the number of cached items.
    pub fn forget_file(&self, file_id: u64) {
        self.blocks.borrow_mut().retain(|key, _| key.0 != file_id);
        let mut freed = 0;
        self.metas.borrow_mut().retain(|key, meta| {
            let keep = key.0 != file_id;
            if !keep {
                freed += meta.size_bytes() as u64;
            }
            keep
        });
        self.meta_bytes.set(self.meta_bytes.get() - freed);
    }

    /// The current counters and usage.
    pub fn stats(&self) -> CacheStats {
        CacheStats {
            block_hits: self.counters.block_hits.get(),
            block_misses: self.counters.block_misses.get(),
            index_hits: self.counters.index_hits.get(),
            index_misses: self.counters.index_misses.get(),
            admissions_rejected: self.counters.admissions_rejected.get(),
            block_bytes_used: self.blocks.borrow().weight(),
            index_bytes_used: self.meta_bytes.get(),
        }
    }

    fn get_meta(&self, key: BlockKey) -> Option<MetaBlock> {
        let found = self.metas.borrow().get(&key).cloned();
        bump(if found.is_some() { &self.counters.index_hits } else { &self.counters.index_misses });
        found
    }
}

fn block_hash(key: BlockKey) -> u64 {
    mix64(mix64(key.0) ^ key.1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BLOCK_BYTES: usize = 4096;

    fn caches_of(blocks: u64) -> Caches {
        let options = CacheOptions { block_cache_bytes: blocks * BLOCK_BYTES as u64 };
        Caches::new(&options).expect("valid options")
    }

    /// Reads a block the way a table does: look up, and on a miss offer it.
    fn read(caches: &Caches, key: BlockKey, fill_cache: bool) -> bool {
        if caches.get_block(key, fill_cache).is_some() {
            return true;
        }
        if fill_cache {
            caches.insert_block(key, Bytes::from(vec![key.1 as u8; BLOCK_BYTES]));
        }
        false
    }

    #[test]
    fn options_are_validated() {
        assert!(CacheOptions::default().validate().is_ok());
        let tiny = CacheOptions { block_cache_bytes: 10 };
        assert!(matches!(tiny.validate(), Err(Error::InvalidOption { name: "block_cache_bytes", .. })));
    }

    #[test]
    fn counts_hits_misses_and_bytes() {
        let caches = caches_of(16);
        assert!(!read(&caches, (1, 0), true));
        assert!(read(&caches, (1, 0), true));
        assert!(!read(&caches, (2, 0), false));
        let stats = caches.stats();
        assert_eq!((stats.block_hits, stats.block_misses), (1, 2));
        assert_eq!(stats.block_bytes_used, BLOCK_BYTES as u64);
    }

    #[test]
    fn fill_cache_false_does_not_fill() {
        let caches = caches_of(16);
        for offset in 0..8 {
            read(&caches, (1, offset), false);
        }
        assert_eq!(caches.stats().block_bytes_used, 0);
    }

    fn scan(caches: &Caches, file_id: u64, block_count: u64) {
        for offset in 0..block_count {
            read(caches, (file_id, offset), true);
        }
    }

    fn hot_hits(caches: &Caches, hot: &[BlockKey]) -> usize {
        hot.iter().filter(|key| read(caches, **key, true)).count()
    }

    #[test]
    fn a_one_pass_scan_does_not_flush_the_hot_set() {
        let caches = caches_of(64);
        let hot: Vec<BlockKey> = (0..32).map(|offset| (1, offset)).collect();
        for _ in 0..4 {
            hot_hits(&caches, &hot);
        }
        scan(&caches, 2, 2000);
        assert_eq!(hot_hits(&caches, &hot), hot.len(), "hot set evicted by a scan");
        assert!(caches.stats().admissions_rejected > 1900, "{:?}", caches.stats());
    }

    #[test]
    fn a_hot_set_admitted_into_a_full_cache_survives_a_scan() {
        let caches = caches_of(64);
        scan(&caches, 3, 64);
        let hot: Vec<BlockKey> = (0..32).map(|offset| (1, offset)).collect();
        assert_eq!(hot_hits(&caches, &hot), 0, "first sighting: rejected");
        assert_eq!(hot_hits(&caches, &hot), 0, "second sighting: admitted");
        scan(&caches, 2, 2000);
        assert_eq!(hot_hits(&caches, &hot), hot.len(), "hot set evicted by a scan");
    }

    #[test]
    fn blocks_seen_twice_are_admitted_into_a_full_cache() {
        let caches = caches_of(8);
        for offset in 0..8 {
            read(&caches, (1, offset), true);
        }
        assert!(!read(&caches, (2, 0), true), "first sighting on a full cache: rejected");
        assert_eq!(caches.stats().admissions_rejected, 1);
        assert!(!read(&caches, (2, 0), true), "second sighting: a miss that admits it");
        assert!(read(&caches, (2, 0), true));
    }

    #[test]
    fn a_peek_at_a_filter_finds_it_without_counting() {
        let caches = caches_of(16);
        let mut builder = crate::sst::filter::FilterBuilder::new(10);
        builder.add(b"k");
        let filter = Rc::new(BloomFilter::parse(Bytes::from(builder.finish())).expect("valid filter"));
        caches.insert_meta(3, 100, MetaBlock::Filter(Rc::clone(&filter)));
        assert!(caches.peek_filter(3, 100).is_some_and(|found| Rc::ptr_eq(&found, &filter)));
        assert!(caches.peek_filter(3, 200).is_none());
        assert_eq!((caches.stats().index_hits, caches.stats().index_misses), (0, 0));
        assert!(caches.get_filter(3, 100).is_some());
        assert_eq!(caches.stats().index_hits, 1);
    }

    #[test]
    fn forget_file_drops_its_blocks() {
        let caches = caches_of(16);
        read(&caches, (1, 0), true);
        read(&caches, (2, 0), true);
        caches.forget_file(1);
        assert!(!read(&caches, (1, 0), false));
        assert!(read(&caches, (2, 0), false));
    }
}
