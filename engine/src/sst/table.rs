//! An open table: footer, properties and range tombstones in memory; index, filter and data
//! blocks through the core's caches (the index and filter are loaded at open and stay there
//! until the table is dropped).

use std::rc::Rc;

use bytes::Bytes;

use crate::cache::{Caches, MetaBlock};
use crate::error::{Error, Result};
use crate::io::{self, File, IO_ALIGN};
use crate::key::{self, Seq, ValueKind};

use super::block::Block;
use super::filter::{BloomFilter, FilterHash, KeyPrefix};
use super::format::{self, BlockHandle, FOOTER_LEN, Footer};
use super::index::IndexBlock;
use super::iterator::TableIterator;
use super::properties::{RangeTombstone, TableMeta};

pub(crate) const DATA_BLOCK: &str = "sst data block";
const INDEX_BLOCK: &str = "sst index block";
const FILTER_BLOCK: &str = "sst filter";
const TOMBSTONE_BLOCK: &str = "sst range tombstones";
const PROPERTIES_BLOCK: &str = "sst properties";

/// A readable table file.
pub struct Table<F: File> {
    file: F,
    file_id: u64,
    caches: Rc<Caches>,
    footer: Footer,
    data_end: u64,
    meta: TableMeta,
    range_tombstones: Vec<RangeTombstone>,
}

impl<F: File> std::fmt::Debug for Table<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Table").field("path", &self.file.path()).field("file_id", &self.file_id).finish_non_exhaustive()
    }
}

impl<F: File> Drop for Table<F> {
    fn drop(&mut self) {
        // The index cache keeps a table's index and filter for as long as the table is open.
        self.caches.forget_meta(self.file_id, self.footer.index.offset);
        self.caches.forget_meta(self.file_id, self.footer.filter.offset);
    }
}

impl<F: File> Table<F> {
    /// Opens a table: reads and verifies the footer, properties and range tombstones, and loads
    /// the index and filter into the index cache.
    ///
    /// Loaded here, not at first use: a table a flush has just installed is read at once by
    /// every request in flight, and each of them, finding no filter cached, read it itself
    /// (after 1M SETs and a flush, 800 pipelined GETs made 1196 index and filter reads of
    /// hundreds of KiB for 3 tables). Loading at open also means a point read never waits for
    /// metadata, and `rules_out_prefix_now` always knows.
    pub async fn open(file: F, file_id: u64, caches: Rc<Caches>) -> Result<Table<F>> {
        let file_size = file.size().await?;
        if file_size < FOOTER_LEN as u64 || !file_size.is_multiple_of(IO_ALIGN as u64) {
            let detail = format!("{}: size {file_size} is not a table's", file.path().display());
            return Err(Error::corruption("sst footer", detail));
        }
        let data_end = file_size - FOOTER_LEN as u64;
        let footer = Footer::decode(&io::read_exact_at(&file, data_end, FOOTER_LEN, "sst footer").await?)?;
        footer.check_within(data_end)?;
        let properties = read_block(&file, footer.properties, PROPERTIES_BLOCK).await?;
        let meta = TableMeta::decode(&properties, file_size)?;
        let tombstones = read_block(&file, footer.range_tombstones, TOMBSTONE_BLOCK).await?;
        let range_tombstones = decode_range_tombstones(tombstones)?;
        if range_tombstones.len() as u64 != meta.range_tombstone_count {
            return Err(Error::corruption(TOMBSTONE_BLOCK, "count differs from the properties"));
        }
        let table = Table { file, file_id, caches, footer, data_end, meta, range_tombstones };
        table.index().await?;
        table.filter().await?;
        Ok(table)
    }

    /// Bounds, counts and size.
    pub fn meta(&self) -> &TableMeta {
        &self.meta
    }

    /// The id the table was opened with (its cache key prefix).
    pub fn file_id(&self) -> u64 {
        self.file_id
    }

    /// The table's range tombstones, sorted by start key.
    pub fn range_tombstones(&self) -> &[RangeTombstone] {
        &self.range_tombstones
    }

    /// False only when the table certainly holds no entry for `user_key`.
    pub async fn may_contain(&self, user_key: &[u8]) -> Result<bool> {
        Ok(match self.filter().await? {
            Some(filter) => filter.may_contain(user_key),
            None => true,
        })
    }

    /// The first entry `>= target` (an internal seek key) if it has `target`'s user key.
    pub async fn get(&self, target: &[u8], fill_cache: bool) -> Result<Option<(Vec<u8>, Bytes)>> {
        self.get_hashed(target, FilterHash::of(key::user_key(target)), fill_cache).await
    }

    /// [`Table::get`] with the filter hash of `target`'s user key, computed once by a read that
    /// asks many tables.
    pub(crate) async fn get_hashed(
        &self,
        target: &[u8],
        hash: FilterHash,
        fill_cache: bool,
    ) -> Result<Option<(Vec<u8>, Bytes)>> {
        let user_key = key::user_key(target);
        if self.filter().await?.is_some_and(|filter| !filter.may_contain_hash(hash)) {
            return Ok(None);
        }
        let index = self.index().await?;
        let block_index = index.find_block(target);
        if block_index == index.len() {
            return Ok(None);
        }
        let mut iter = self.read_data_block(index.handle(block_index), fill_cache).await?.iter(DATA_BLOCK);
        iter.seek(target)?;
        if iter.is_valid() && key::user_key(iter.key()) == user_key {
            return Ok(Some((iter.key().to_vec(), iter.value_bytes())));
        }
        Ok(None)
    }

    /// The first entry at or after `target` (an internal seek key) whose sequence number is at
    /// or below `snapshot`, if its user key is below `upper`: `(internal key, value)`. Steps
    /// into the following blocks when the target's block holds none.
    pub(crate) async fn first_visible_from(
        &self,
        target: &[u8],
        snapshot: Seq,
        upper: Option<&[u8]>,
        fill_cache: bool,
    ) -> Result<Option<(Vec<u8>, Bytes)>> {
        let index = self.index().await?;
        for block_index in index.find_block(target)..index.len() {
            let mut iter = self.read_data_block(index.handle(block_index), fill_cache).await?.iter(DATA_BLOCK);
            iter.seek(target)?;
            while iter.is_valid() {
                let parsed = key::parse_internal(iter.key()).ok_or_else(|| Error::corruption(DATA_BLOCK, "bad key"))?;
                if upper.is_some_and(|upper| parsed.user_key >= upper) {
                    return Ok(None);
                }
                if parsed.seq <= snapshot {
                    return Ok(Some((iter.key().to_vec(), iter.value_bytes())));
                }
                iter.next_entry()?;
            }
        }
        Ok(None)
    }

    /// False when the filter proves no user key starts with `prefix` (the table was built
    /// with `filter_prefix_suffix_bytes` and `prefix` is a key without that suffix).
    pub(crate) async fn may_contain_prefix(&self, prefix: &KeyPrefix) -> Result<bool> {
        if self.meta.filter_prefix_suffix_bytes == 0 {
            return Ok(true);
        }
        Ok(self.filter().await?.is_none_or(|filter| filter.may_contain_hash(prefix.hash())))
    }

    /// True when the filter is in memory and proves what [`Table::may_contain_prefix`] proves;
    /// false when it cannot tell without a read.
    pub(crate) fn rules_out_prefix_now(&self, prefix: &KeyPrefix) -> bool {
        self.meta.filter_prefix_suffix_bytes != 0
            && self.cached_filter().is_some_and(|filter| !filter.may_contain_hash(prefix.hash()))
    }

    /// A cursor over the table's point entries. `fill_cache = false` for scans and compaction.
    pub fn iter(self: &Rc<Self>, fill_cache: bool) -> TableIterator<F> {
        TableIterator::new(Rc::clone(self), fill_cache)
    }

    /// An iterator for reading the whole table once, in large reads that bypass the cache
    /// (compaction inputs).
    pub fn sequential_iter(self: &Rc<Self>) -> TableIterator<F> {
        TableIterator::sequential(Rc::clone(self))
    }

    /// The parsed index, from the index cache or the file.
    pub(crate) async fn index(&self) -> Result<Rc<IndexBlock>> {
        let offset = self.footer.index.offset;
        if let Some(index) = self.caches.get_index(self.file_id, offset) {
            return Ok(index);
        }
        let contents = read_block(&self.file, self.footer.index, INDEX_BLOCK).await?;
        let index = Rc::new(IndexBlock::parse(contents, self.data_end)?);
        if index.len() as u64 != self.meta.data_block_count {
            return Err(Error::corruption(INDEX_BLOCK, "block count differs from the properties"));
        }
        self.caches.insert_meta(self.file_id, offset, MetaBlock::Index(Rc::clone(&index)));
        Ok(index)
    }

    /// Reads the part of the table's filter a probe of `hash` will read first, if the filter
    /// is in memory (see [`BloomFilter::warm`]); uncounted in the cache statistics.
    pub(crate) fn warm_filter(&self, hash: FilterHash) {
        let handle = self.footer.filter;
        if handle.size_bytes != 0
            && let Some(filter) = self.caches.peek_filter(self.file_id, handle.offset)
        {
            filter.warm(hash);
        }
    }

    /// The filter if the table has one and it is in memory.
    fn cached_filter(&self) -> Option<Rc<BloomFilter>> {
        let handle = self.footer.filter;
        (handle.size_bytes != 0).then(|| self.caches.get_filter(self.file_id, handle.offset)).flatten()
    }

    async fn filter(&self) -> Result<Option<Rc<BloomFilter>>> {
        let handle = self.footer.filter;
        if handle.size_bytes == 0 {
            return Ok(None);
        }
        if let Some(filter) = self.cached_filter() {
            return Ok(Some(filter));
        }
        let filter = Rc::new(BloomFilter::parse(read_block(&self.file, handle, FILTER_BLOCK).await?)?);
        self.caches.insert_meta(self.file_id, handle.offset, MetaBlock::Filter(Rc::clone(&filter)));
        Ok(Some(filter))
    }

    /// A data block, from the block cache or the file (then offered to the cache when
    /// `fill_cache`).
    pub(crate) async fn read_data_block(&self, handle: BlockHandle, fill_cache: bool) -> Result<Block> {
        if let Some(contents) = self.cached_data_block(handle, fill_cache) {
            return Block::parse(contents, DATA_BLOCK);
        }
        let contents = read_block(&self.file, handle, DATA_BLOCK).await?;
        let block = Block::parse(contents.clone(), DATA_BLOCK)?;
        if fill_cache {
            self.caches.insert_block((self.file_id, handle.offset), contents);
        }
        Ok(block)
    }

    /// The contents of a data block if the block cache holds it.
    pub(crate) fn cached_data_block(&self, handle: BlockHandle, fill_cache: bool) -> Option<Bytes> {
        self.caches.get_block((self.file_id, handle.offset), fill_cache)
    }

    /// Reads consecutive data blocks with one read (scan readahead); returns their verified
    /// contents in order, each offered to the cache when `fill_cache`.
    pub(crate) async fn read_data_blocks(&self, handles: &[BlockHandle], fill_cache: bool) -> Result<Vec<Bytes>> {
        let (Some(first), Some(last)) = (handles.first(), handles.last()) else { return Ok(Vec::new()) };
        let end = last.offset.checked_add(last.size_bytes).filter(|&end| end >= first.offset);
        let Some(span) = end.and_then(|end| usize::try_from(end - first.offset).ok()) else {
            return Err(Error::corruption(DATA_BLOCK, "block handles out of order"));
        };
        let raw = io::read_exact_at(&self.file, first.offset, span, DATA_BLOCK).await?;
        let mut blocks = Vec::with_capacity(handles.len());
        for handle in handles {
            let start = usize::try_from(handle.offset - first.offset).ok();
            let range =
                start.and_then(|start| Some(start..start.checked_add(usize::try_from(handle.size_bytes).ok()?)?));
            let Some(range) = range.filter(|range| range.end <= raw.len() && handle.offset >= first.offset) else {
                return Err(Error::corruption(DATA_BLOCK, "block handles out of order"));
            };
            let contents = open_block_at(&self.file, raw.slice(range), *handle, DATA_BLOCK)?;
            if fill_cache {
                self.caches.insert_block((self.file_id, handle.offset), contents.clone());
            }
            blocks.push(contents);
        }
        Ok(blocks)
    }
}

/// Reads and verifies the framed block at `handle`, returning its payload.
async fn read_block<F: File>(file: &F, handle: BlockHandle, what: &'static str) -> Result<Bytes> {
    let size = usize::try_from(handle.size_bytes).map_err(|_| Error::corruption(what, "block size overflows"))?;
    let raw = io::read_exact_at(file, handle.offset, size, what).await?;
    open_block_at(file, raw, handle, what)
}

/// Verifies (and decompresses) the framed block read for `handle`, naming the file on error.
fn open_block_at<F: File>(file: &F, raw: Bytes, handle: BlockHandle, what: &'static str) -> Result<Bytes> {
    format::open_block(raw, what).map_err(|error| match error {
        Error::Corruption { what, detail } => {
            Error::corruption(what, format!("{} at offset {}: {detail}", file.path().display(), handle.offset))
        }
        other => other,
    })
}

fn decode_range_tombstones(contents: Bytes) -> Result<Vec<RangeTombstone>> {
    let block = Block::parse(contents, TOMBSTONE_BLOCK)?;
    let mut iter = block.iter(TOMBSTONE_BLOCK);
    let mut tombstones = Vec::new();
    iter.seek_to_first()?;
    while iter.is_valid() {
        if key::parse_internal(iter.key()).is_none_or(|parsed| parsed.kind != ValueKind::RangeDelete) {
            return Err(Error::corruption(TOMBSTONE_BLOCK, "start key is not a range-delete internal key"));
        }
        tombstones.push(RangeTombstone { start: iter.key().to_vec(), end: iter.value().to_vec() });
        iter.next_entry()?;
    }
    Ok(tombstones)
}
