//! The two-level table iterator: the index picks a data block, a block iterator walks it, and
//! running off a block's end (or start) moves to the next (or previous) block.

use std::collections::VecDeque;
use std::rc::Rc;

use bytes::Bytes;

use crate::error::Result;
use crate::io::File;
use crate::iter::InternalIterator;

use super::block::{Block, BlockIter};
use super::filter::KeyPrefix;
use super::index::IndexBlock;
use super::table::{DATA_BLOCK, Table};

/// A cursor over one table's point entries, forward and backward.
pub struct TableIterator<F: File> {
    table: Rc<Table<F>>,
    fill_cache: bool,
    index: Option<Rc<IndexBlock>>,
    block_index: usize,
    /// The current block's cursor; `None` when unpositioned or after an error.
    block: Option<BlockIter>,
    /// Blocks after the current one, read ahead by a forward scan: `(block index, contents)`.
    ahead: VecDeque<(usize, Bytes)>,
    /// How many blocks the next forward read fetches at once: 1 after a seek, doubling with
    /// every forward block change up to `MAX_READAHEAD_BLOCKS` (scans; see `sequential`).
    readahead_blocks: usize,
    /// A compaction input: every read fetches about `SEQUENTIAL_READAHEAD_BYTES`.
    sequential: bool,
    /// Set for a seek bounded to keys with this prefix: a table whose filter rules the prefix
    /// out is not read at all.
    prefix: Option<KeyPrefix>,
}

/// Upper bound of one forward readahead (blocks are ~4 KiB: up to 64 KiB per read).
const MAX_READAHEAD_BLOCKS: usize = 16;
/// One read of a compaction input. Each read waits for the executor to poll its rings, which
/// under client load happens once per round of client work (several ms): with 64 KiB reads a
/// 300 MiB L0 compaction made no progress through 13 s of GETs; it finished in 1.5 s idle.
const SEQUENTIAL_READAHEAD_BYTES: u64 = 1 << 20;

impl<F: File> std::fmt::Debug for TableIterator<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TableIterator")
            .field("table", &self.table)
            .field("block_index", &self.block_index)
            .finish_non_exhaustive()
    }
}

impl<F: File> TableIterator<F> {
    pub(crate) fn new(table: Rc<Table<F>>, fill_cache: bool) -> Self {
        TableIterator {
            table,
            fill_cache,
            index: None,
            block_index: 0,
            block: None,
            ahead: VecDeque::new(),
            readahead_blocks: 1,
            sequential: false,
            prefix: None,
        }
    }

    /// An iterator that reads the whole table front to back, `SEQUENTIAL_READAHEAD_BYTES` at
    /// a time, without filling the cache: a compaction input.
    pub(crate) fn sequential(table: Rc<Table<F>>) -> Self {
        TableIterator { sequential: true, ..TableIterator::new(table, false) }
    }

    /// Seeks stay within keys starting with `prefix` (see [`crate::ReadOptions::prefix`]).
    pub(crate) fn with_prefix(mut self, prefix: Option<KeyPrefix>) -> Self {
        self.prefix = prefix;
        self
    }

    async fn index(&mut self) -> Result<Rc<IndexBlock>> {
        if let Some(index) = &self.index {
            return Ok(Rc::clone(index));
        }
        let index = self.table.index().await?;
        self.index = Some(Rc::clone(&index));
        Ok(index)
    }

    /// Loads data block `block_index` (unpositioned) as the current block.
    async fn load_block(&mut self, block_index: usize) -> Result<&mut BlockIter> {
        self.block = None;
        self.ahead.clear();
        self.readahead_blocks = 1;
        let handle = self.index().await?.handle(block_index);
        let block = self.table.read_data_block(handle, self.fill_cache).await?;
        self.block_index = block_index;
        Ok(self.block.insert(block.iter(DATA_BLOCK)))
    }

    fn block_is_valid(&self) -> bool {
        self.block.as_ref().is_some_and(BlockIter::is_valid)
    }

    /// While the current block is exhausted, moves to the first entry of the next block.
    async fn skip_forward(&mut self) -> Result<()> {
        let block_count = self.index().await?.len();
        while self.block.is_some() && !self.block_is_valid() {
            if self.block_index + 1 >= block_count {
                self.block = None;
                return Ok(());
            }
            self.load_next_block().await?.seek_to_first()?;
        }
        Ok(())
    }

    /// Moves to the block after the current one, reading ahead when it is not cached.
    async fn load_next_block(&mut self) -> Result<&mut BlockIter> {
        let block_index = self.block_index + 1;
        self.block = None;
        while self.ahead.front().is_some_and(|(index, _)| *index < block_index) {
            self.ahead.pop_front();
        }
        let contents = match self.ahead.pop_front() {
            Some((index, contents)) if index == block_index => contents,
            _ => self.read_ahead(block_index).await?,
        };
        self.readahead_blocks = (self.readahead_blocks * 2).min(MAX_READAHEAD_BLOCKS);
        let block = Block::parse(contents, DATA_BLOCK)?;
        self.block_index = block_index;
        Ok(self.block.insert(block.iter(DATA_BLOCK)))
    }

    /// Block `block_index` from the cache, or read from the file together with the uncached
    /// blocks after it (up to `readahead_blocks`), which are kept in `ahead`.
    async fn read_ahead(&mut self, block_index: usize) -> Result<Bytes> {
        self.ahead.clear();
        let index = self.index().await?;
        if let Some(contents) = self.table.cached_data_block(index.handle(block_index), self.fill_cache) {
            return Ok(contents);
        }
        let handles: Vec<_> = if self.sequential {
            let mut span = 0;
            (block_index..index.len())
                .map(|i| index.handle(i))
                .take_while(|handle| {
                    let first = span == 0;
                    span += handle.size_bytes;
                    first || span <= SEQUENTIAL_READAHEAD_BYTES
                })
                .collect()
        } else {
            let end = (block_index + self.readahead_blocks).min(index.len());
            (block_index..end).map(|i| index.handle(i)).collect()
        };
        let blocks = match self.table.read_data_blocks(&handles, self.fill_cache).await {
            // Damage in a block read only ahead must not fail this step: read just this one.
            Err(_) if handles.len() > 1 => self.table.read_data_blocks(&handles[..1], self.fill_cache).await?,
            result => result?,
        };
        let mut blocks = blocks.into_iter();
        let first = blocks.next().expect("at least the requested block");
        self.ahead.extend((block_index + 1..).zip(blocks));
        Ok(first)
    }

    /// While the current block is exhausted, moves to the last entry of the previous block.
    async fn skip_backward(&mut self) -> Result<()> {
        while self.block.is_some() && !self.block_is_valid() {
            if self.block_index == 0 {
                self.block = None;
                return Ok(());
            }
            self.load_block(self.block_index - 1).await?.seek_to_last()?;
        }
        Ok(())
    }

    /// Runs a positioning step; on error leaves the iterator invalid.
    fn invalid_on_error(&mut self, result: Result<()>) -> Result<()> {
        if result.is_err() {
            self.block = None;
        }
        result
    }

    async fn seek_inner(&mut self, target: &[u8]) -> Result<()> {
        if let Some(prefix) = &self.prefix
            && !self.table.may_contain_prefix(prefix).await?
        {
            self.block = None;
            self.ahead.clear();
            return Ok(());
        }
        let index = self.index().await?;
        let block_index = index.find_block(target);
        if block_index == index.len() {
            self.block = None;
            return Ok(());
        }
        self.load_block(block_index).await?.seek(target)?;
        self.skip_forward().await
    }

    async fn seek_for_prev_inner(&mut self, target: &[u8]) -> Result<()> {
        let index = self.index().await?;
        let block_index = index.find_block(target);
        if block_index == index.len() {
            return self.seek_to_last_inner().await;
        }
        self.load_block(block_index).await?.seek_for_prev(target)?;
        self.skip_backward().await
    }

    async fn seek_to_first_inner(&mut self) -> Result<()> {
        if self.index().await?.is_empty() {
            self.block = None;
            return Ok(());
        }
        self.load_block(0).await?.seek_to_first()?;
        self.skip_forward().await
    }

    async fn seek_to_last_inner(&mut self) -> Result<()> {
        let Some(last) = self.index().await?.len().checked_sub(1) else {
            self.block = None;
            return Ok(());
        };
        self.load_block(last).await?.seek_to_last()?;
        self.skip_backward().await
    }

    fn current(&self) -> &BlockIter {
        self.block.as_ref().expect("iterator is valid")
    }

    fn current_mut(&mut self) -> &mut BlockIter {
        self.block.as_mut().expect("iterator is valid")
    }
}

impl<F: File> InternalIterator for TableIterator<F> {
    fn is_valid(&self) -> bool {
        self.block_is_valid()
    }

    fn key(&self) -> &[u8] {
        self.current().key()
    }

    fn value(&self) -> &[u8] {
        self.current().value()
    }

    async fn seek_to_first(&mut self) -> Result<()> {
        let result = self.seek_to_first_inner().await;
        self.invalid_on_error(result)
    }

    async fn seek_to_last(&mut self) -> Result<()> {
        let result = self.seek_to_last_inner().await;
        self.invalid_on_error(result)
    }

    async fn seek(&mut self, target: &[u8]) -> Result<()> {
        let result = self.seek_inner(target).await;
        self.invalid_on_error(result)
    }

    async fn seek_for_prev(&mut self, target: &[u8]) -> Result<()> {
        let result = self.seek_for_prev_inner(target).await;
        self.invalid_on_error(result)
    }

    async fn next(&mut self) -> Result<()> {
        let result = self.current_mut().next_entry();
        let result = match result {
            Ok(()) => self.skip_forward().await,
            error => error,
        };
        self.invalid_on_error(result)
    }

    async fn prev(&mut self) -> Result<()> {
        let result = self.current_mut().prev_entry();
        let result = match result {
            Ok(()) => self.skip_backward().await,
            error => error,
        };
        self.invalid_on_error(result)
    }
}
