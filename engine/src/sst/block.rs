//! The block format shared by data, index and range-tombstone blocks: prefix-compressed sorted
//! entries with restart points.
//!
//! ```text
//! entry:   varint shared | varint unshared | varint value_len | key[shared..] | value
//! block:   entry* | u32 LE restart offset * count | u32 LE count
//! ```
//!
//! `shared` is the length of the prefix the key has in common with the previous key; it is 0 at
//! every restart point (every `restart_interval`-th entry), so a restart entry holds its full
//! key and binary search can start there. Keys are internal keys ordered by
//! [`compare_internal`], which is not bytewise.

use std::cmp::Ordering;
use std::ops::Range;

use bytes::Bytes;

use super::format::{self, BlockHandle};
use crate::codec::{self, Lz4Gate, Reader};
use crate::error::{Error, Result};
use crate::key::compare_internal;

/// Restart interval of data and range-tombstone blocks.
pub const DATA_RESTART_INTERVAL: usize = 16;

/// Builds blocks in memory: one at a time on its own ([`BlockBuilder::finish`]), or one after
/// another in a table image it holds ([`BlockBuilder::finish_framed`]), where each block is
/// written once, at its place in the image.
#[derive(Debug)]
pub struct BlockBuilder {
    /// Finished (framed) blocks, then the open block's entries from `start` on.
    buffer: Vec<u8>,
    start: usize,
    restarts: Vec<u32>,
    since_restart: usize,
    restart_interval: usize,
    last_key: Vec<u8>,
}

impl BlockBuilder {
    /// An empty builder putting a restart point every `restart_interval` entries.
    pub fn new(restart_interval: usize) -> Self {
        Self::with_capacity(restart_interval, 0)
    }

    /// [`BlockBuilder::new`] with room for `bytes` of image before it must grow.
    pub fn with_capacity(restart_interval: usize, bytes: usize) -> Self {
        debug_assert!(restart_interval >= 1);
        BlockBuilder {
            buffer: Vec::with_capacity(bytes),
            start: 0,
            restarts: Vec::new(),
            since_restart: 0,
            restart_interval,
            last_key: Vec::new(),
        }
    }

    /// Appends an entry; keys must be added in order.
    pub fn add(&mut self, key: &[u8], value: &[u8]) {
        let shared = if self.since_restart.is_multiple_of(self.restart_interval) {
            let offset = u32::try_from(self.buffer.len() - self.start).expect("a block stays below 4 GiB");
            self.restarts.push(offset);
            self.since_restart = 0;
            0
        } else {
            self.last_key.iter().zip(key).take_while(|(a, b)| a == b).count()
        };
        codec::put_varint(&mut self.buffer, shared as u64);
        codec::put_varint(&mut self.buffer, (key.len() - shared) as u64);
        codec::put_varint(&mut self.buffer, value.len() as u64);
        self.buffer.extend_from_slice(&key[shared..]);
        self.buffer.extend_from_slice(value);
        self.last_key.clear();
        self.last_key.extend_from_slice(key);
        self.since_restart += 1;
    }

    /// True when no entry was added since the last block was finished.
    pub fn is_empty(&self) -> bool {
        self.restarts.is_empty()
    }

    /// The size the open block will have.
    pub fn estimated_size_bytes(&self) -> usize {
        self.buffer.len() - self.start + 4 * self.restarts.len() + 4
    }

    /// Returns the block contents and resets the builder.
    pub fn finish(&mut self) -> Vec<u8> {
        self.close();
        let block = self.buffer.split_off(self.start);
        self.reset();
        block
    }

    /// Finishes the open block where it lies in the image, framed as
    /// [`format::append_block`] frames a block (`scratch` holds a compressed copy meanwhile),
    /// and returns its handle in the image. Appending to a block of its own and copying it into
    /// the image cost 1% of the server's samples in flush- and compaction-heavy runs.
    pub fn finish_framed(&mut self, lz4: Option<&Lz4Gate>, scratch: &mut Vec<u8>) -> BlockHandle {
        self.close();
        let handle = format::frame_in_place(&mut self.buffer, self.start, lz4, scratch);
        self.start = self.buffer.len();
        self.reset();
        handle
    }

    /// Lets `append` append to the image (another kind of block) while no block is open.
    pub fn append_to_image<R>(&mut self, append: impl FnOnce(&mut Vec<u8>) -> R) -> R {
        assert!(self.is_empty(), "no block is open");
        let result = append(&mut self.buffer);
        self.start = self.buffer.len();
        result
    }

    /// The finished part of the image (the open block starts after it).
    pub fn finished(&self) -> &[u8] {
        &self.buffer[..self.start]
    }

    /// Drops the first `len` bytes of the image, which must be finished (written elsewhere).
    pub fn drain_finished(&mut self, len: usize) {
        assert!(len <= self.start, "only finished blocks leave the image");
        self.buffer.drain(..len);
        self.start -= len;
    }

    /// Takes the image, leaving the builder empty.
    pub fn into_image(self) -> Vec<u8> {
        debug_assert!(self.is_empty(), "no block is open");
        self.buffer
    }

    /// Appends the restart array: the open block is then `buffer[start..]`.
    fn close(&mut self) {
        for restart in &self.restarts {
            codec::put_u32(&mut self.buffer, *restart);
        }
        codec::put_u32(&mut self.buffer, self.restarts.len() as u32);
    }

    fn reset(&mut self) {
        self.restarts.clear();
        self.since_restart = 0;
        self.last_key.clear();
    }
}

/// A verified, decompressed block whose restart array was bounds-checked.
#[derive(Debug, Clone)]
pub struct Block {
    data: Bytes,
    restarts_offset: usize,
    restart_count: usize,
}

impl Block {
    /// Checks the restart array of `data`; entries are checked as they are decoded.
    pub fn parse(data: Bytes, what: &'static str) -> Result<Block> {
        let bad = |detail: String| Error::corruption(what, detail);
        let count_offset = data.len().checked_sub(4).ok_or_else(|| bad(format!("block of {} bytes", data.len())))?;
        let restart_count = codec::u32_at(&data, count_offset).expect("length checked") as usize;
        let restarts_offset = restart_count
            .checked_mul(4)
            .and_then(|array_len| count_offset.checked_sub(array_len))
            .ok_or_else(|| bad(format!("{restart_count} restarts do not fit in {} bytes", data.len())))?;
        if restart_count == 0 && restarts_offset != 0 {
            return Err(bad("entries without restart points".to_string()));
        }
        Ok(Block { data, restarts_offset, restart_count })
    }

    /// An unpositioned cursor over the block.
    pub fn iter(&self, what: &'static str) -> BlockIter {
        BlockIter {
            block: self.clone(),
            what,
            key: Vec::new(),
            value: 0..0,
            current: self.restarts_offset,
            next: self.restarts_offset,
            restart_index: 0,
        }
    }

    /// Decoded memory held by the block.
    pub fn size_bytes(&self) -> usize {
        self.data.len()
    }

    fn restart_point(&self, index: usize) -> usize {
        codec::u32_at(&self.data, self.restarts_offset + 4 * index).expect("restart array bounds checked at parse")
            as usize
    }
}

/// A decoded entry header and where its parts are.
struct EntryLayout {
    shared: usize,
    key_suffix: Range<usize>,
    value: Range<usize>,
}

/// A cursor over one block, forward and backward. Invalid when `current == restarts_offset`.
#[derive(Debug, Clone)]
pub struct BlockIter {
    block: Block,
    what: &'static str,
    key: Vec<u8>,
    value: Range<usize>,
    current: usize,
    next: usize,
    restart_index: usize,
}

impl BlockIter {
    /// True while positioned on an entry.
    pub fn is_valid(&self) -> bool {
        self.current < self.block.restarts_offset
    }

    /// The current key. Only while valid.
    pub fn key(&self) -> &[u8] {
        debug_assert!(self.is_valid());
        &self.key
    }

    /// The current value. Only while valid.
    pub fn value(&self) -> &[u8] {
        debug_assert!(self.is_valid());
        &self.block.data[self.value.clone()]
    }

    /// The current value as a shared slice of the block (no copy). Only while valid.
    pub fn value_bytes(&self) -> Bytes {
        self.block.data.slice(self.value.clone())
    }

    /// Positions on the first entry.
    pub fn seek_to_first(&mut self) -> Result<()> {
        self.seek_to_restart(0);
        self.parse_next()
    }

    /// Positions on the last entry.
    pub fn seek_to_last(&mut self) -> Result<()> {
        self.seek_to_restart(self.block.restart_count.saturating_sub(1));
        self.parse_next()?;
        while self.is_valid() && self.next < self.block.restarts_offset {
            self.parse_next()?;
        }
        Ok(())
    }

    /// Positions on the first entry `>= target`, or invalid.
    pub fn seek(&mut self, target: &[u8]) -> Result<()> {
        let restart = self.last_restart_before(target)?;
        self.seek_to_restart(restart);
        loop {
            self.parse_next()?;
            if !self.is_valid() || compare_internal(&self.key, target) != Ordering::Less {
                return Ok(());
            }
        }
    }

    /// Positions on the last entry `<= target`, or invalid.
    pub fn seek_for_prev(&mut self, target: &[u8]) -> Result<()> {
        self.seek(target)?;
        if !self.is_valid() {
            return self.seek_to_last();
        }
        if compare_internal(&self.key, target) == Ordering::Greater {
            return self.prev_entry();
        }
        Ok(())
    }

    /// Moves to the next entry. Only while valid.
    pub fn next_entry(&mut self) -> Result<()> {
        debug_assert!(self.is_valid());
        self.parse_next()
    }

    /// Moves to the previous entry: back to the restart point before it, then forward.
    pub fn prev_entry(&mut self) -> Result<()> {
        debug_assert!(self.is_valid());
        let original = self.current;
        while self.block.restart_point(self.restart_index) >= original {
            if self.restart_index == 0 {
                self.invalidate();
                return Ok(());
            }
            self.restart_index -= 1;
        }
        self.seek_to_restart(self.restart_index);
        loop {
            self.parse_next()?;
            if !self.is_valid() || self.next > original {
                return Err(self.corrupt("entries do not line up with restart points"));
            }
            if self.next == original {
                return Ok(());
            }
        }
    }

    /// The restart point to scan forward from when seeking `target`: the last one whose key is
    /// `< target` (or the first).
    fn last_restart_before(&self, target: &[u8]) -> Result<usize> {
        let (mut left, mut right) = (0, self.block.restart_count.saturating_sub(1));
        while left < right {
            let middle = (left + right).div_ceil(2);
            if compare_internal(self.restart_key(middle)?, target) == Ordering::Less {
                left = middle;
            } else {
                right = middle - 1;
            }
        }
        Ok(left)
    }

    fn restart_key(&self, index: usize) -> Result<&[u8]> {
        let offset = self.block.restart_point(index);
        let layout = self.decode_entry(offset)?;
        if layout.shared != 0 {
            return Err(self.corrupt(format!("restart entry at {offset} shares a prefix")));
        }
        Ok(&self.block.data[layout.key_suffix])
    }

    fn seek_to_restart(&mut self, index: usize) {
        self.key.clear();
        self.restart_index = index;
        let offset = if self.block.restart_count == 0 { 0 } else { self.block.restart_point(index) };
        self.current = self.block.restarts_offset;
        self.next = offset;
    }

    fn invalidate(&mut self) {
        self.current = self.block.restarts_offset;
        self.next = self.block.restarts_offset;
        self.key.clear();
    }

    fn parse_next(&mut self) -> Result<()> {
        if self.next >= self.block.restarts_offset {
            self.invalidate();
            return Ok(());
        }
        let layout = self.decode_entry(self.next)?;
        if layout.shared > self.key.len() {
            let detail =
                format!("entry at {} shares {} bytes of a {}-byte key", self.next, layout.shared, self.key.len());
            return Err(self.corrupt(detail));
        }
        self.key.truncate(layout.shared);
        self.key.extend_from_slice(&self.block.data[layout.key_suffix]);
        self.current = self.next;
        self.next = layout.value.end;
        self.value = layout.value;
        while self.restart_index + 1 < self.block.restart_count
            && self.block.restart_point(self.restart_index + 1) <= self.current
        {
            self.restart_index += 1;
        }
        Ok(())
    }

    fn decode_entry(&self, offset: usize) -> Result<EntryLayout> {
        let end = self.block.restarts_offset;
        let input = self
            .block
            .data
            .get(offset..end)
            .ok_or_else(|| self.corrupt(format!("entry offset {offset} past {end}")))?;
        let mut reader = Reader::new(input);
        let header = (|| Some((reader.varint()?, reader.varint()?, reader.varint()?)))();
        let (shared, unshared, value_len) =
            header.ok_or_else(|| self.corrupt(format!("bad entry header at {offset}")))?;
        let key_start = end - reader.remaining().len();
        let key_end = key_start.checked_add(usize::try_from(unshared).unwrap_or(usize::MAX));
        let value_end = key_end.and_then(|k| k.checked_add(usize::try_from(value_len).unwrap_or(usize::MAX)));
        match (key_end, value_end) {
            (Some(key_end), Some(value_end)) if value_end <= end => Ok(EntryLayout {
                shared: usize::try_from(shared).unwrap_or(usize::MAX),
                key_suffix: key_start..key_end,
                value: key_end..value_end,
            }),
            _ => Err(self.corrupt(format!("entry at {offset} overruns the block"))),
        }
    }

    fn corrupt(&self, detail: impl Into<String>) -> Error {
        Error::corruption(self.what, detail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::{ValueKind, encode_internal, seek_key};

    fn sorted_entries() -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut entries = Vec::new();
        for user in [&b"a"[..], b"ab", b"abc", b"abd", b"b", b"ba"] {
            for seq in [9, 5, 1] {
                entries.push((encode_internal(user, seq, ValueKind::Put), format!("{user:?}@{seq}").into_bytes()));
            }
        }
        entries.sort_by(|a, b| compare_internal(&a.0, &b.0));
        entries
    }

    fn build(entries: &[(Vec<u8>, Vec<u8>)], interval: usize) -> Block {
        let mut builder = BlockBuilder::new(interval);
        for (key, value) in entries {
            builder.add(key, value);
        }
        Block::parse(Bytes::from(builder.finish()), "test").expect("valid block")
    }

    fn collect(block: &Block) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut iter = block.iter("test");
        iter.seek_to_first().expect("seek");
        let mut out = Vec::new();
        while iter.is_valid() {
            out.push((iter.key().to_vec(), iter.value().to_vec()));
            iter.next_entry().expect("next");
        }
        out
    }

    #[test]
    fn blocks_framed_in_the_image_are_the_blocks_append_block_frames() {
        let entries = sorted_entries();
        let gate = Lz4Gate::default();
        for lz4 in [None, Some(&gate)] {
            let mut builder = BlockBuilder::new(2);
            builder.append_to_image(|image| image.extend_from_slice(b"before"));
            let (mut scratch, mut handles, mut expected) = (Vec::new(), Vec::new(), b"before".to_vec());
            for part in entries.chunks(5) {
                let mut alone = BlockBuilder::new(2);
                for (key, value) in part {
                    builder.add(key, value);
                    alone.add(key, value);
                }
                assert_eq!(builder.finished(), &expected[..], "an open block is not finished");
                handles.push(builder.finish_framed(lz4, &mut scratch));
                format::append_block(&mut expected, &alone.finish(), lz4);
                assert_eq!(builder.finished(), &expected[..]);
            }
            builder.drain_finished(6);
            let image = Bytes::from(builder.into_image());
            assert_eq!(image, expected[6..]);
            let blocks: Vec<Block> = handles
                .iter()
                .map(|handle| {
                    let raw = image.slice(handle.offset as usize - 6..(handle.offset + handle.size_bytes) as usize - 6);
                    Block::parse(format::open_block(raw, "test").expect("framed"), "test").expect("valid block")
                })
                .collect();
            assert_eq!(blocks.iter().flat_map(collect).collect::<Vec<_>>(), entries);
        }
    }

    #[test]
    #[should_panic(expected = "only finished blocks leave the image")]
    fn an_open_block_stays_in_the_image() {
        let mut builder = BlockBuilder::new(2);
        builder.add(b"key", b"value");
        builder.drain_finished(1);
    }

    #[test]
    fn a_builder_reused_after_finish_starts_each_block_afresh() {
        let entries = sorted_entries();
        let (first, second) = entries.split_at(7);
        let mut builder = BlockBuilder::new(2);
        let mut blocks = Vec::new();
        for part in [first, second] {
            for (key, value) in part {
                builder.add(key, value);
            }
            blocks.push(Block::parse(Bytes::from(builder.finish()), "test"));
        }
        assert!(builder.is_empty());
        let blocks: Vec<Block> = blocks.into_iter().map(|block| block.expect("valid block")).collect();
        assert_eq!(collect(&blocks[0]), first);
        assert_eq!(collect(&blocks[1]), second);
    }

    #[test]
    fn walks_forward_and_backward_over_every_restart_interval() {
        let entries = sorted_entries();
        for interval in [1, 2, 3, 16] {
            let mut iter = build(&entries, interval).iter("test");
            iter.seek_to_first().expect("seek");
            for (key, value) in &entries {
                assert_eq!((iter.key(), iter.value()), (key.as_slice(), value.as_slice()));
                iter.next_entry().expect("next");
            }
            assert!(!iter.is_valid());
            iter.seek_to_last().expect("seek");
            for (key, _) in entries.iter().rev() {
                assert_eq!(iter.key(), key.as_slice());
                iter.prev_entry().expect("prev");
            }
            assert!(!iter.is_valid());
        }
    }

    #[test]
    fn seeks_use_internal_order() {
        let entries = sorted_entries();
        let mut iter = build(&entries, 2).iter("test");
        iter.seek(&seek_key(b"ab", 6)).expect("seek");
        assert_eq!(iter.key(), encode_internal(b"ab", 5, ValueKind::Put).as_slice());
        iter.seek_for_prev(&seek_key(b"ab", 6)).expect("seek");
        assert_eq!(iter.key(), encode_internal(b"ab", 9, ValueKind::Put).as_slice());
        iter.seek(&seek_key(b"c", 9)).expect("seek");
        assert!(!iter.is_valid());
        iter.seek_for_prev(&seek_key(b"0", 9)).expect("seek");
        assert!(!iter.is_valid());
    }

    #[test]
    fn empty_block_is_never_valid() {
        let block = build(&[], 16);
        let mut iter = block.iter("test");
        iter.seek_to_first().expect("seek");
        assert!(!iter.is_valid());
        iter.seek_to_last().expect("seek");
        assert!(!iter.is_valid());
        iter.seek(b"anything").expect("seek");
        assert!(!iter.is_valid());
    }

    #[test]
    fn garbage_never_panics() {
        let entries = sorted_entries();
        let mut builder = BlockBuilder::new(3);
        for (key, value) in &entries {
            builder.add(key, value);
        }
        let good = builder.finish();
        for index in 0..good.len() {
            for mask in [0x01, 0x80, 0xff] {
                let mut damaged = good.clone();
                damaged[index] ^= mask;
                let Ok(block) = Block::parse(Bytes::from(damaged), "test") else { continue };
                let mut iter = block.iter("test");
                let _ = iter.seek(&seek_key(b"abd", 3));
                let mut steps = 0;
                if iter.seek_to_last().is_ok() {
                    while iter.is_valid() && steps < 100 && iter.prev_entry().is_ok() {
                        steps += 1;
                    }
                }
            }
        }
    }
}
