//! The index block: one entry per data block, `last internal key of the block -> handle`.
//!
//! Stored in the [block format](super::block) with a restart point at every entry; the value
//! is the handle as two varints (offset, size). Loaded, it is parsed once into flat arrays so
//! a lookup is a binary search without decoding, and cached in the index cache.

use std::cmp::Ordering;

use bytes::Bytes;

use crate::codec::Reader;
use crate::error::{Error, Result};
use crate::key::compare_internal;

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
    key_ends: Vec<usize>,
    handles: Vec<BlockHandle>,
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
            index.key_ends.push(index.keys.len());
            index.handles.push(handle);
            iter.next_entry()?;
        }
        Ok(index)
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
        let start = index.checked_sub(1).map_or(0, |previous| self.key_ends[previous]);
        &self.keys[start..self.key_ends[index]]
    }

    /// The handle of data block `index`.
    pub fn handle(&self, index: usize) -> BlockHandle {
        self.handles[index]
    }

    /// The first block whose last key is `>= target`: the only block that can hold the first
    /// entry `>= target`. `len()` when every key is smaller.
    pub fn find_block(&self, target: &[u8]) -> usize {
        let (mut low, mut high) = (0, self.len());
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
            + self.key_ends.len() * std::mem::size_of::<usize>()
            + self.handles.len() * std::mem::size_of::<BlockHandle>()
            + std::mem::size_of::<Self>()
    }
}

#[cfg(test)]
mod tests {
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

    #[test]
    fn rejects_handles_outside_the_data_region() {
        let mut builder = IndexBuilder::default();
        builder.add(&encode_internal(b"k", 1, ValueKind::Put), BlockHandle { offset: 0, size_bytes: 500 });
        assert!(IndexBlock::parse(Bytes::from(builder.finish()), 400).expect_err("outside").is_corruption());
    }
}
