//! NoKV's transactions: timestamps and the timestamp oracle, the MVCC storage format (Lock,
//! Write and Default column families), Percolator actions, latches and MVCC garbage collection.
//!
//! - [`timestamp`]: `TimeStamp`, `physical_ms << 18 | logical`.
//! - [`tso`]: the node's shared timestamp oracle (hybrid clock, persisted upper bound).
//! - [`keys`]: slots (Redis Cluster CRC16), memcomparable data keys, `!ts` version suffixes.
//! - [`record`]: Lock and Write records in TiKV's byte formats.
//! - [`mvcc`]: snapshot reads (point get, scan) and 1PC write batches over the engine.
//! - [`actions`]: Percolator prewrite, commit and rollback per key (2PC building blocks).
//! - [`latch`]: per-core FIFO key latches that serialise commands touching the same keys.
//! - [`gc`]: which old versions a GC safe point makes droppable, and the Write CF compaction
//!   filter that drops them.
//!
//! Everything except the oracle is single-threaded (one instance per core) and runtime-agnostic.
//! Functions that write return a `WriteBatch`; the caller proposes it through raft and applies
//! it to the engine.

pub mod actions;
pub mod error;
pub mod gc;
pub mod keys;
pub mod latch;
pub mod mvcc;
pub mod record;
pub mod row_cache;
pub mod timestamp;
pub mod tso;

pub use error::{LockInfo, Result, TxnError};
pub use mvcc::{MaxTs, Mutation, ScanEntry, ScanOptions, ScanRange};
pub use record::{Lock, LockType, Write, WriteType};
pub use timestamp::TimeStamp;
pub use tso::{Tso, TsoOptions};
