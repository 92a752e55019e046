//! The index block: one entry per data block, `last internal key of the block -> handle`.
//!
//! Stored in the [block format](super::block) with a restart point at every entry; the value
//! is the handle as two varints (offset, size). Loaded, it is parsed once into flat arrays so
//! a lookup is a binary search without decoding, and cached in the index cache.
//!
//! The search runs first over a dense array of *heads*: per block, the 8 bytes of its last
//! user key that follow the prefix every key of the table shares, as a big-endian integer.
//! A table of 64 MiB has 16k blocks; a binary search over their keys touched two cold cache
//! lines per step (the key's end, then its bytes), and at a row-cache miss of GET 1 KiB on a
//! data set larger than the caches it was 8.5% of the server's time. Over the heads, the last
//! steps fall within one cache line, and only blocks whose heads tie with the target's are
//! compared in full.

use std::cmp::Ordering;

use bytes::Bytes;

use crate::codec::Reader;
use crate::error::{Error, Result};
use crate::key::{compare_internal, user_key};

use super::block::{Block, BlockBuilder};
use super::format::BlockHandle;

const WHAT: &str = "sst index block";

/// Builds an index block.
#[derive(Debug)]
pub struct IndexBuilder {
    block: BlockBuilder,
    entry_count: usize,
}

impl Default for IndexBuilder {
    fn default() -> Self {
        IndexBuilder { block: BlockBuilder::new(1), entry_count: 0 }
    }
}

impl IndexBuilder {
    /// Records a data block whose last key is `last_key`.
    pub fn add(&mut self, last_key: &[u8], handle: BlockHandle) {
        let mut value = Vec::with_capacity(20);
        handle.encode_varint(&mut value);
        self.block.add(last_key, &value);
        self.entry_count += 1;
    }

    /// Number of data blocks recorded.
    pub fn entry_count(&self) -> usize {
        self.entry_count
    }

    /// The size the finished block will have.
    pub fn estimated_size_bytes(&self) -> usize {
        self.block.estimated_size_bytes()
    }

    /// The block contents.
    pub fn finish(&mut self) -> Vec<u8> {
        self.block.finish()
    }
}

/// A parsed index block.
#[derive(Debug, Default)]
pub struct IndexBlock {
    keys: Vec<u8>,
    /// Where each key ends in `keys` (an index block is far smaller than 4 GiB).
    key_ends: Vec<u32>,
    handles: Vec<BlockHandle>,
    /// The length of the prefix all last user keys share.
    shared_len: usize,
    /// Per block, [`head`] of its last user key after the shared prefix.
    heads: Vec<u64>,
}

/// The first position of sorted `heads` whose head is `>= target`. Each step also loads the
/// two places the next step may look at, so that a step's cache miss overlaps the next one's
/// (a plain search of a cold array waits for one miss per step).
fn lower_bound(heads: &[u64], target: u64) -> usize {
    let (mut low, mut high) = (0, heads.len());
    while low < high {
        let middle = low + (high - low) / 2;
        let below = heads.get(low + (middle - low) / 2);
        let above = heads.get(middle + 1 + (high - middle - 1) / 2);
        std::hint::black_box((below.copied(), above.copied()));
        if heads[middle] < target {
            low = middle + 1;
        } else {
            high = middle;
        }
    }
    low
}

/// How many heads at the start of `heads` equal `target` (usually one or two: galloping
/// reads a few neighbours instead of searching the whole rest).
fn tie_run(heads: &[u64], target: u64) -> usize {
    let mut bound = 1;
    while bound < heads.len() && heads[bound] == target {
        bound *= 2;
    }
    let end = (bound + 1).min(heads.len());
    heads[..end].partition_point(|&head| head == target)
}

/// The first 8 bytes of `bytes` as a big-endian integer, zero-padded. Two keys whose heads
/// differ order as their heads do (a zero pad sorts like the end of a shorter key); keys with
/// equal heads must be compared in full.
fn head(bytes: &[u8]) -> u64 {
    let mut padded = [0u8; 8];
    let len = bytes.len().min(8);
    padded[..len].copy_from_slice(&bytes[..len]);
    u64::from_be_bytes(padded)
}

impl IndexBlock {
    /// Parses index block contents; every handle must lie within `0..data_end`.
    pub fn parse(contents: Bytes, data_end: u64) -> Result<IndexBlock> {
        let block = Block::parse(contents, WHAT)?;
        let mut iter = block.iter(WHAT);
        let mut index = IndexBlock::default();
        iter.seek_to_first()?;
        while iter.is_valid() {
            let mut reader = Reader::new(iter.value());
            let handle =
                BlockHandle::decode_varint(&mut reader).ok_or_else(|| Error::corruption(WHAT, "bad block handle"))?;
            handle.check_within(data_end, WHAT)?;
            if let Some(previous) = index.key_ends.len().checked_sub(1).map(|last| index.last_key(last))
                && compare_internal(previous, iter.key()) != Ordering::Less
            {
                return Err(Error::corruption(WHAT, "index keys out of order"));
            }
            index.keys.extend_from_slice(iter.key());
            let end = u32::try_from(index.keys.len()).map_err(|_| Error::corruption(WHAT, "index keys over 4 GiB"))?;
            index.key_ends.push(end);
            index.handles.push(handle);
            iter.next_entry()?;
        }
        index.set_heads();
        Ok(index)
    }

    /// Works out the shared prefix and the heads. The keys are sorted, so the prefix the
    /// first and last user keys share is shared by all.
    fn set_heads(&mut self) {
        let Some(last) = self.len().checked_sub(1) else { return };
        let (first, last) = (user_key(self.last_key(0)), user_key(self.last_key(last)));
        self.shared_len = first.iter().zip(last).take_while(|(a, b)| a == b).count();
        self.heads = (0..self.len()).map(|block| head(&user_key(self.last_key(block))[self.shared_len..])).collect();
    }

    /// Number of data blocks.
    pub fn len(&self) -> usize {
        self.handles.len()
    }

    /// True for a table without data blocks (only range tombstones).
    pub fn is_empty(&self) -> bool {
        self.handles.is_empty()
    }

    /// The last key of data block `index`.
    pub fn last_key(&self, index: usize) -> &[u8] {
        let start = index.checked_sub(1).map_or(0, |previous| self.key_ends[previous] as usize);
        &self.keys[start..self.key_ends[index] as usize]
    }

    /// The handle of data block `index`.
    pub fn handle(&self, index: usize) -> BlockHandle {
        self.handles[index]
    }

    /// The first block whose last key is `>= target`: the only block that can hold the first
    /// entry `>= target`. `len()` when every key is smaller.
    pub fn find_block(&self, target: &[u8]) -> usize {
        if self.is_empty() {
            return 0;
        }
        let target_user = user_key(target);
        let shared = &user_key(self.last_key(0))[..self.shared_len];
        let target_shared = &target_user[..self.shared_len.min(target_user.len())];
        match target_shared.cmp(shared) {
            Ordering::Less => return 0,
            Ordering::Greater => return self.len(),
            Ordering::Equal => {}
        }
        // Blocks before `low` end below the target's user key, blocks from `high` on above it.
        let target_head = head(&target_user[self.shared_len..]);
        let low = lower_bound(&self.heads, target_head);
        let high = low + tie_run(&self.heads[low..], target_head);
        self.search_keys(low..high, target)
    }

    /// The first block of `blocks` whose last key is `>= target`, by a binary search over the
    /// full keys (`blocks.end` when every key there is smaller).
    pub fn search_keys(&self, blocks: std::ops::Range<usize>, target: &[u8]) -> usize {
        let (mut low, mut high) = (blocks.start, blocks.end);
        while low < high {
            let middle = low + (high - low) / 2;
            if compare_internal(self.last_key(middle), target) == Ordering::Less {
                low = middle + 1;
            } else {
                high = middle;
            }
        }
        low
    }

    /// Memory held, for the index cache's weight.
    pub fn size_bytes(&self) -> usize {
        self.keys.len()
            + self.key_ends.len() * std::mem::size_of::<u32>()
            + self.handles.len() * std::mem::size_of::<BlockHandle>()
            + self.heads.len() * std::mem::size_of::<u64>()
            + std::mem::size_of::<Self>()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::key::{ValueKind, encode_internal, seek_key};

    #[test]
    fn finds_the_block_that_can_hold_a_key() {
        let mut builder = IndexBuilder::default();
        for (i, user) in [&b"b"[..], b"d", b"f"].iter().enumerate() {
            let handle = BlockHandle { offset: i as u64 * 100, size_bytes: 100 };
            builder.add(&encode_internal(user, 7, ValueKind::Put), handle);
        }
        let index = IndexBlock::parse(Bytes::from(builder.finish()), 300).expect("valid index");
        assert_eq!(index.len(), 3);
        assert_eq!(index.find_block(&seek_key(b"a", 1)), 0);
        assert_eq!(index.find_block(&seek_key(b"b", 9)), 0);
        assert_eq!(index.find_block(&seek_key(b"b", 3)), 1);
        assert_eq!(index.find_block(&seek_key(b"e", 3)), 2);
        assert_eq!(index.find_block(&seek_key(b"g", 3)), 3);
        assert_eq!(index.handle(2), BlockHandle { offset: 200, size_bytes: 100 });
    }

    /// Short keys over a small alphabet behind an optional shared prefix: many share heads,
    /// some are prefixes of others, some stop inside the shared prefix.
    fn user_key_strategy() -> impl Strategy<Value = Vec<u8>> {
        (proptest::bool::ANY, proptest::collection::vec(proptest::sample::select(vec![0u8, 1, b'a', b'b', 255]), 0..12))
            .prop_map(|(prefixed, tail)| if prefixed { [&b"slot:key:"[..], &tail].concat() } else { tail })
    }

    proptest! {
        #[test]
        fn the_head_search_agrees_with_a_scan(
            last_keys in proptest::collection::btree_set((user_key_strategy(), 0u64..4), 1..60),
            targets in proptest::collection::vec((user_key_strategy(), 0u64..5), 1..40),
        ) {
            // Internal key order: user key ascending, sequence number descending.
            let mut keys: Vec<Vec<u8>> =
                last_keys.iter().map(|(user, seq)| encode_internal(user, *seq, ValueKind::Put)).collect();
            keys.sort_by(|a, b| compare_internal(a, b));
            keys.dedup();
            let mut builder = IndexBuilder::default();
            for (i, key) in keys.iter().enumerate() {
                builder.add(key, BlockHandle { offset: i as u64 * 100, size_bytes: 10 });
            }
            let index = IndexBlock::parse(Bytes::from(builder.finish()), keys.len() as u64 * 100).map_err(|e| TestCaseError::fail(format!("{e} {keys:?}")))?;
            for (user, seq) in &targets {
                let target = seek_key(user, *seq);
                let scanned = keys.iter().position(|key| compare_internal(key, &target) != Ordering::Less);
                prop_assert_eq!(index.find_block(&target), scanned.unwrap_or(keys.len()));
            }
        }
    }

    #[test]
    fn rejects_handles_outside_the_data_region() {
        let mut builder = IndexBuilder::default();
        builder.add(&encode_internal(b"k", 1, ValueKind::Put), BlockHandle { offset: 0, size_bytes: 500 });
        assert!(IndexBlock::parse(Bytes::from(builder.finish()), 400).expect_err("outside").is_corruption());
    }
}
