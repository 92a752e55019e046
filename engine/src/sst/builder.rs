//! Building a table: [`TableBuilder`] encodes it, [`TableWriter`] writes it to its file while
//! it is built (flush and compaction). Tests also build whole images in memory
//! (`TableBuilder::finish`, `write_table`).

use std::cmp::Ordering;
use std::path::Path;

use crate::codec::{self, Lz4Gate};
use crate::error::{Error, Result};
use crate::io::{File, FileSystem, IO_ALIGN, OpenMode};
use crate::key::{self, ValueKind, compare_internal};

use super::TableOptions;
use super::block::{BlockBuilder, DATA_RESTART_INTERVAL};
use super::filter::FilterBuilder;
use super::format::{self, BlockHandle, FOOTER_LEN, Footer};
use super::index::IndexBuilder;
use super::properties::{RangeTombstone, TableMeta};

/// Largest single write to a table file, so a DMA buffer stays small; a [`TableWriter`] writes
/// its image in chunks of this size as they fill.
const WRITE_CHUNK_BYTES: usize = 1 << 20;

/// A finished table: the file image and what the version set records about it.
#[cfg(test)]
#[derive(Debug, Clone)]
pub struct BuiltTable {
    /// The whole file, a multiple of `IO_ALIGN` long.
    pub bytes: Vec<u8>,
    /// Bounds, counts and size.
    pub meta: TableMeta,
}

/// Accumulates sorted entries and range tombstones into a table image.
#[derive(Debug)]
pub struct TableBuilder {
    options: TableOptions,
    /// Bytes of the image already taken out with [`TableBuilder::consume_chunk`].
    written: u64,
    /// Builds the data blocks in the image it holds (from offset `written` on).
    data_block: BlockBuilder,
    /// Compressed copy of a data block being framed.
    lz4_scratch: Vec<u8>,
    index: IndexBuilder,
    filter: Option<FilterBuilder>,
    range_tombstones: Vec<RangeTombstone>,
    meta: TableMeta,
    last_key: Vec<u8>,
    /// Present when the options compress: decides which blocks lz4 is tried on.
    lz4: Option<Lz4Gate>,
}

impl TableBuilder {
    /// An empty builder. `options` should have passed `validate()`.
    pub fn new(options: TableOptions) -> Self {
        Self::with_capacity(options, 0)
    }

    /// An empty builder whose image has room for `bytes` before it must grow (a
    /// [`TableWriter`] reserves its chunk and the block that crosses its end).
    pub fn with_capacity(options: TableOptions, bytes: usize) -> Self {
        let filter = (options.bloom_bits_per_key > 0).then(|| FilterBuilder::new(options.bloom_bits_per_key));
        TableBuilder {
            lz4: options.compression.then(Lz4Gate::default),
            options,
            written: 0,
            data_block: BlockBuilder::with_capacity(DATA_RESTART_INTERVAL, bytes),
            lz4_scratch: Vec::new(),
            index: IndexBuilder::default(),
            filter,
            range_tombstones: Vec::new(),
            meta: TableMeta::default(),
            last_key: Vec::new(),
        }
    }

    /// Makes room for `entries` more point entries where the builder keeps something per entry
    /// (the filter's hashes: one per key and one per distinct prefix).
    pub fn reserve(&mut self, entries: usize) {
        if let Some(filter) = &mut self.filter {
            let per_entry = if self.options.filter_prefix_suffix_bytes > 0 { 2 } else { 1 };
            filter.reserve(entries * per_entry);
        }
    }

    /// Adds a point entry; internal keys must strictly increase in [`compare_internal`] order.
    pub fn add(&mut self, internal_key: &[u8], value: &[u8]) {
        let parsed = key::parse_internal(internal_key);
        debug_assert!(parsed.is_some_and(|p| p.kind != ValueKind::RangeDelete), "point entry with a valid trailer");
        debug_assert!(
            self.meta.entry_count == 0 || compare_internal(&self.last_key, internal_key) == Ordering::Less,
            "keys added in increasing order"
        );
        let seq = parsed.map_or(0, |p| p.seq);
        self.meta.cover(internal_key, internal_key, seq);
        self.meta.entry_count += 1;
        self.meta.point_tombstone_count += u64::from(parsed.is_some_and(|p| p.kind == ValueKind::Delete));
        self.meta.raw_key_bytes += internal_key.len() as u64;
        self.meta.raw_value_bytes += value.len() as u64;
        if let Some(filter) = &mut self.filter {
            let user_key = key::user_key(internal_key);
            filter.add(user_key);
            let suffix = self.options.filter_prefix_suffix_bytes;
            if let Some(prefix) = prefix_of(user_key, suffix) {
                let last_user_key = key::user_key(&self.last_key);
                if self.meta.entry_count == 1 || prefix_of(last_user_key, suffix) != Some(prefix) {
                    filter.add(prefix);
                }
            }
        }
        self.data_block.add(internal_key, value);
        self.last_key.clear();
        self.last_key.extend_from_slice(internal_key);
        if self.data_block.estimated_size_bytes() >= self.options.block_size_bytes {
            self.flush_data_block();
        }
    }

    /// Adds a range tombstone deleting `[user_key(start_internal_key), end_user_key)`; any order.
    pub fn add_range_tombstone(&mut self, start_internal_key: &[u8], end_user_key: &[u8]) {
        let parsed = key::parse_internal(start_internal_key);
        debug_assert!(parsed.is_some_and(|p| p.kind == ValueKind::RangeDelete), "start key of kind RangeDelete");
        debug_assert!(key::user_key(start_internal_key) < end_user_key, "non-empty range");
        let tombstone = RangeTombstone { start: start_internal_key.to_vec(), end: end_user_key.to_vec() };
        self.meta.cover(start_internal_key, &tombstone.upper_bound(), parsed.map_or(0, |p| p.seq));
        self.meta.range_tombstone_count += 1;
        self.range_tombstones.push(tombstone);
    }

    /// Roughly the size of the file if finished now.
    pub fn estimated_size_bytes(&self) -> u64 {
        let filter_bytes = self.meta.entry_count * self.options.bloom_bits_per_key as u64 / 8;
        self.written
            + (self.data_block.finished().len()
                + self.data_block.estimated_size_bytes()
                + self.index.estimated_size_bytes()) as u64
            + filter_bytes
    }

    /// True when nothing was added.
    pub fn is_empty(&self) -> bool {
        self.meta.entry_count == 0 && self.meta.range_tombstone_count == 0
    }

    /// Writes the meta blocks and footer and returns the aligned image.
    #[cfg(test)]
    pub fn finish(self) -> Result<BuiltTable> {
        debug_assert_eq!(self.written, 0, "a builder whose chunks were written finishes with finish_tail");
        let (_, bytes, meta) = self.finish_tail()?;
        Ok(BuiltTable { bytes, meta })
    }

    /// Writes the meta blocks and footer; returns the rest of the image (aligned) and its offset.
    fn finish_tail(mut self) -> Result<(u64, Vec<u8>, TableMeta)> {
        if self.is_empty() {
            return Err(Error::InvalidArgument("cannot build a table without entries".to_string()));
        }
        if !self.data_block.is_empty() {
            self.flush_data_block();
        }
        self.meta.data_block_count = self.index.entry_count() as u64;
        if self.filter.is_some() {
            self.meta.filter_prefix_suffix_bytes = self.options.filter_prefix_suffix_bytes as u64;
        }
        let index = self.index.finish();
        let footer = Footer {
            index: self.append(&index, true),
            filter: self.append_filter(),
            range_tombstones: self.append_range_tombstones(),
            properties: self.append(&self.meta.encode(), false),
        };
        // Zero padding goes before the footer so the footer ends exactly at the aligned end.
        let mut out = self.data_block.into_image();
        let end = self.written + (out.len() + FOOTER_LEN) as u64;
        let footer_offset = (codec::align_up(end, IO_ALIGN as u64) - self.written) as usize - FOOTER_LEN;
        out.resize(footer_offset, 0);
        out.extend_from_slice(&footer.encode());
        self.meta.file_size_bytes = self.written + out.len() as u64;
        debug_assert_eq!(out.len() % IO_ALIGN, 0);
        Ok((self.written, out, self.meta))
    }

    /// The next full chunk of finished blocks and its offset, once one is ready.
    fn full_chunk(&self) -> Option<(u64, &[u8])> {
        let finished = self.data_block.finished();
        (finished.len() >= WRITE_CHUNK_BYTES).then(|| (self.written, &finished[..WRITE_CHUNK_BYTES]))
    }

    /// Drops the chunk [`TableBuilder::full_chunk`] gave (it is in the file now).
    fn consume_chunk(&mut self) {
        self.data_block.drain_finished(WRITE_CHUNK_BYTES);
        self.written += WRITE_CHUNK_BYTES as u64;
    }

    /// Appends a framed block, compressed when `compress` and the options allow; its handle
    /// has the block's offset in the whole image.
    fn append(&mut self, payload: &[u8], compress: bool) -> BlockHandle {
        let lz4 = self.lz4.as_ref().filter(|_| compress);
        let handle = self.data_block.append_to_image(|image| format::append_block(image, payload, lz4));
        self.in_image(handle)
    }

    /// A handle `append_block` gave for `out`, with its offset in the whole image.
    fn in_image(&self, handle: BlockHandle) -> BlockHandle {
        BlockHandle { offset: self.written + handle.offset, ..handle }
    }

    fn flush_data_block(&mut self) {
        let handle = self.data_block.finish_framed(self.lz4.as_ref(), &mut self.lz4_scratch);
        self.index.add(&self.last_key, self.in_image(handle));
    }

    fn append_filter(&mut self) -> BlockHandle {
        match self.filter.as_ref().map(FilterBuilder::finish) {
            Some(filter) => self.append(&filter, false),
            None => BlockHandle::default(),
        }
    }

    fn append_range_tombstones(&mut self) -> BlockHandle {
        self.range_tombstones.sort_by(|a, b| compare_internal(&a.start, &b.start));
        let mut block = BlockBuilder::new(DATA_RESTART_INTERVAL);
        for tombstone in &self.range_tombstones {
            block.add(&tombstone.start, &tombstone.end);
        }
        self.append(&block.finish(), true)
    }
}

/// A table written to its file while it is built: each full chunk of the image goes out
/// between two slices of the caller's work ([`TableWriter::write_ready`]), so a table holds
/// about one chunk in memory, not its whole image. Building a 64 MiB flush image in memory
/// touched 64 MiB of fresh pages per flush (`perf` of SET 1 KiB -P16: 3-4% of the server in
/// page faults under `append_block`), and held it all until the table was written.
#[derive(Debug)]
pub struct TableWriter<Fl: File> {
    file: Fl,
    builder: TableBuilder,
}

impl<Fl: File> TableWriter<Fl> {
    /// Creates (truncates) `path` for a table built with `options`.
    pub async fn create<F: FileSystem<File = Fl>>(fs: &F, path: &Path, options: TableOptions) -> Result<Self> {
        let file = fs.open(path, OpenMode::CreateTruncate).await?;
        // A chunk, plus the block that crosses its end.
        let builder = TableBuilder::with_capacity(options, 2 * WRITE_CHUNK_BYTES);
        Ok(TableWriter { file, builder })
    }

    /// The builder, to add entries and range tombstones to.
    pub fn builder(&mut self) -> &mut TableBuilder {
        &mut self.builder
    }

    /// Writes the full chunks of the image built so far.
    pub async fn write_ready(&mut self) -> Result<()> {
        while let Some((offset, chunk)) = self.builder.full_chunk() {
            self.file.write_at(offset, chunk).await?;
            self.builder.consume_chunk();
        }
        Ok(())
    }

    /// Finishes the table, writes the rest of it and syncs the file (the caller syncs the
    /// directory). Fails for a table without entries or range tombstones.
    pub async fn finish(mut self) -> Result<TableMeta> {
        self.write_ready().await?;
        let (offset, tail, meta) = self.builder.finish_tail()?;
        write_chunked(&self.file, offset, &tail).await?;
        self.file.sync().await?;
        Ok(meta)
    }
}

/// Writes `bytes` at `offset` in writes of at most [`WRITE_CHUNK_BYTES`].
async fn write_chunked<Fl: File>(file: &Fl, offset: u64, bytes: &[u8]) -> Result<()> {
    for (index, chunk) in bytes.chunks(WRITE_CHUNK_BYTES).enumerate() {
        file.write_at(offset + (index * WRITE_CHUNK_BYTES) as u64, chunk).await?;
    }
    Ok(())
}

/// Creates `path`, writes the table image and syncs it. The caller syncs the directory.
#[cfg(test)]
pub async fn write_table<F: FileSystem>(fs: &F, path: &Path, built: &BuiltTable) -> Result<()> {
    debug_assert_eq!(built.bytes.len() % IO_ALIGN, 0);
    let file = fs.open(path, OpenMode::CreateTruncate).await?;
    write_chunked(&file, 0, &built.bytes).await?;
    file.sync().await
}

/// `user_key` without its last `suffix_bytes` bytes, when it is longer than that and a suffix is set.
pub(crate) fn prefix_of(user_key: &[u8], suffix_bytes: usize) -> Option<&[u8]> {
    (suffix_bytes > 0 && user_key.len() > suffix_bytes).then(|| &user_key[..user_key.len() - suffix_bytes])
}
