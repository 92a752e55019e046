//! The engine's options, gathered from each component's own options struct.

use crate::cache::CacheOptions;
use crate::compaction::picker::CompactionOptions;
use crate::error::{Error, Result};
use crate::journal::JournalOptions;
use crate::sst::TableOptions;
use crate::vlog::ValueLogOptions;

/// Options of one engine instance (one core).
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// A memtable is frozen and flushed when it reaches this size.
    pub memtable_size_bytes: u64,
    /// A memtable is also frozen when the values its batches moved to the value log reach
    /// this many bytes. The memtable holds only pointers to them, but the journal holds the
    /// values until the flush: this bounds the journal a restart replays (a crash cuts the value
    /// log back to the last flush, see `vlog`, and replay appends the values again).
    ///
    /// Default 64 MiB, like `memtable_size_bytes`. Measured on this machine (release, crash
    /// soak `--duration-secs 60 --seed 7`, 2 cores): with 256 MiB no memtable ever flushed and
    /// restarts averaged 6.7 s (14 s at the end, ~450 MiB of journal per core); with 64 MiB they
    /// averaged 4.1 s (at most 6.5 s). 32 MiB restarted in 2.1 s on average but cost 16% of
    /// `engine_bench fillrandom` throughput with 16 KiB values (135 vs 161 MB/s; twice the
    /// flushes, and writes stalled while value-log GC kept the background task busy), where
    /// 64 MiB cost nothing measurable (157 vs 161 MB/s).
    pub max_unflushed_value_bytes: u64,
    /// Writes wait when this many frozen memtables are waiting to be flushed.
    pub max_frozen_memtables: usize,
    /// Values of at least this many bytes (Default CF) go to the value log.
    pub value_threshold_bytes: usize,
    /// Default CF values of at least this many bytes that reach a flush go to the value log
    /// then, and the L0 table holds pointers (Titan's way): compactions move 16-byte pointers
    /// instead of the values, and the write path pays nothing, where `value_threshold_bytes`
    /// writes each value a second time before the write is acknowledged. `None`: values stay
    /// in the tables. The server leaves it off: with 1 KiB values it measured 0.62x the
    /// ops/CPU-s of SET 1 KiB -P16 and 0.77x of GET 1 KiB -P16 (bench-vs-redis run 20), since
    /// compaction cost follows the entry count once values are out, and the flush then writes
    /// every value to the value log as well.
    pub flush_value_threshold_bytes: Option<usize>,
    /// SSTable format options.
    pub table: TableOptions,
    /// Tables written to levels below this one (flushes to L0, compactions into L1 with the
    /// default 2) are not compressed even when `table.compression` is on: most bytes written
    /// pass through L0 and L1, which are rewritten soonest, so compressing them costs the
    /// most CPU (RocksDB's usual setup; SET 1 KiB -P16 spent 12% of its samples in lz4 on
    /// tables and in decompressing them for compaction).
    pub compress_from_level: usize,
    /// Per column family (by `Cf::index`): tables also filter on user keys without their last
    /// this-many bytes (a version suffix); see [`TableOptions::filter_prefix_suffix_bytes`].
    pub filter_prefix_suffix_bytes: [usize; 4],
    /// Cache budgets.
    pub cache: CacheOptions,
    /// Shape of the tree.
    pub compaction: CompactionOptions,
    /// Value-log options.
    pub value_log: ValueLogOptions,
    /// Journal options (used by `Db`).
    pub journal: JournalOptions,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            memtable_size_bytes: 64 << 20,
            max_unflushed_value_bytes: 64 << 20,
            max_frozen_memtables: 2,
            value_threshold_bytes: 4096,
            flush_value_threshold_bytes: None,
            table: TableOptions::default(),
            compress_from_level: 2,
            filter_prefix_suffix_bytes: [0; 4],
            cache: CacheOptions::default(),
            compaction: CompactionOptions::default(),
            value_log: ValueLogOptions::default(),
            journal: JournalOptions::default(),
        }
    }
}

impl EngineOptions {
    /// The options of the tables of column family `cf` written to `level`.
    pub fn table_options(&self, cf: crate::key::Cf, level: usize) -> TableOptions {
        TableOptions {
            filter_prefix_suffix_bytes: self.filter_prefix_suffix_bytes[cf.index()],
            compression: self.table.compression && level >= self.compress_from_level,
            ..self.table.clone()
        }
    }

    /// Checks every option.
    pub fn validate(&self) -> Result<()> {
        if self.memtable_size_bytes < 64 << 10 {
            return Err(Error::InvalidOption { name: "memtable_size_bytes", reason: "must be at least 64 KiB".into() });
        }
        if self.max_unflushed_value_bytes < 64 << 10 {
            let reason = "must be at least 64 KiB".into();
            return Err(Error::InvalidOption { name: "max_unflushed_value_bytes", reason });
        }
        if self.max_frozen_memtables == 0 {
            return Err(Error::InvalidOption { name: "max_frozen_memtables", reason: "must be at least 1".into() });
        }
        if self.value_threshold_bytes == 0 {
            return Err(Error::InvalidOption { name: "value_threshold_bytes", reason: "must be at least 1".into() });
        }
        if self.flush_value_threshold_bytes == Some(0) {
            let reason = "must be at least 1".into();
            return Err(Error::InvalidOption { name: "flush_value_threshold_bytes", reason });
        }
        self.table.validate()?;
        self.cache.validate()?;
        self.compaction.validate()?;
        self.value_log.validate()?;
        self.journal.validate()
    }
}
