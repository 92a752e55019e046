//! SSTables: data blocks with restart points and lz4, index block, bloom filter, range
//! tombstones, properties and a fixed-size footer. Format version [`FORMAT_VERSION`] = 1.
//!
//! ```text
//! offset 0
//! +--------------------+
//! | data block 0       |  entries sorted by internal key (compare_internal), prefix-compressed,
//! | data block 1       |  restart point every 16 entries; ~block_size_bytes before framing
//! | ...                |
//! +--------------------+
//! | index block        |  last internal key of each data block -> (offset, size) varints
//! | filter block       |  bloom filter over user keys (absent when bloom_bits_per_key = 0)
//! | range tombstones   |  start internal key (RangeDelete) -> end user key (exclusive)
//! | properties block   |  entry counts, key/seq bounds, raw sizes (see `properties`)
//! +--------------------+
//! | zero padding       |  so that the file size is a multiple of io::IO_ALIGN (O_DIRECT)
//! +--------------------+
//! | footer (80 bytes)  |  four block handles, version, crc, magic; ends at the file's end
//! +--------------------+
//! ```
//!
//! Every block is framed `payload | u8 compression | u32 masked crc32c` ([`format`]); the crc
//! covers the stored payload and the compression byte, and a block whose checksum fails is
//! reported as `Error::Corruption`, never returned. Data and index blocks use lz4 (block
//! format, size-prepended) only when it saves at least an eighth.
//!
//! Keys in data, index and tombstone blocks are internal keys ([`crate::key`]) in
//! [`compare_internal`](crate::key::compare_internal) order, which is not bytewise: every
//! search and scan compares with it. The filter is over user keys.
//!
//! Reading: [`Table::open`] verifies the footer, loads properties and range tombstones, and
//! puts the index and filter in the core's index cache; data blocks go through its block
//! cache, keyed `(file_id, block_offset)` ([`crate::cache`]).

pub mod block;
pub mod builder;
pub mod filter;
pub mod format;
pub mod index;
pub mod iterator;
pub mod properties;
pub mod table;

#[cfg(test)]
mod tests;

#[cfg(test)]
pub use builder::{BuiltTable, write_table};
pub use builder::{TableBuilder, TableWriter};
pub use iterator::TableIterator;
pub use properties::{RangeTombstone, TableMeta};
pub use table::Table;

use crate::error::{Error, Result};

/// The table format version written in every footer.
pub const FORMAT_VERSION: u32 = 1;

/// How tables are built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableOptions {
    /// Target uncompressed size of a data block; a block is closed once it reaches it.
    pub block_size_bytes: usize,
    /// Bloom filter bits per distinct user key; 0 builds no filter.
    pub bloom_bits_per_key: usize,
    /// Compress data and index blocks with lz4 when it pays.
    pub compression: bool,
    /// When > 0, the bloom filter also holds every user key without its last this-many bytes
    /// (a version suffix), so a bounded seek within one prefix can skip the table.
    pub filter_prefix_suffix_bytes: usize,
}

impl Default for TableOptions {
    fn default() -> Self {
        TableOptions {
            block_size_bytes: 4096,
            bloom_bits_per_key: 10,
            compression: true,
            filter_prefix_suffix_bytes: 0,
        }
    }
}

impl TableOptions {
    /// Checks the options.
    pub fn validate(&self) -> Result<()> {
        if !(64..=(16 << 20)).contains(&self.block_size_bytes) {
            let reason = format!("{} is outside 64..=16 MiB", self.block_size_bytes);
            return Err(Error::InvalidOption { name: "block_size_bytes", reason });
        }
        if self.bloom_bits_per_key > 32 {
            let reason = format!("{} is above 32", self.bloom_bits_per_key);
            return Err(Error::InvalidOption { name: "bloom_bits_per_key", reason });
        }
        Ok(())
    }
}
