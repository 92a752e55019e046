//! NoKV's per-core storage engine.
//!
//! One engine instance runs on one core, single-threaded, on glommio DMA files (or the in-memory
//! file system in tests). It is an LSM tree with WiscKey value separation:
//!
//! ```text
//!  write batch ──► journal (group commit, one fdatasync per batch) ──► memtable (per CF)
//!                     │                                                   │ full: freeze
//!                     │ large values                                      ▼
//!                     └──────────► value log ◄── pointers ──  L0 SSTs ─► L1 ... L6 (leveled)
//! ```
//!
//! - [`io`]: the file trait, the glommio O_DIRECT implementation and a fault-injecting memory one.
//! - [`journal`]: the segmented write-ahead log; the only WAL, shared by every region of the core.
//! - `memtable`, [`sst`], `version`, `manifest`, `compaction`: the LSM tree.
//! - [`vlog`]: the value log and its garbage collection.
//! - [`cache`]: block and index/filter caches with byte budgets and TinyLFU admission.
//! - `db`: the engine that ties them together.
//!
//! All byte-order choices live in [`codec`]; every on-disk format documents its layout in its
//! module doc and carries a version number.

pub mod batch;
pub mod cache;
pub mod codec;
pub mod compaction;
pub mod db;
pub mod error;
pub mod io;
pub mod iter;
pub mod journal;
pub mod key;
pub mod manifest;
pub mod memtable;
pub mod merge;
pub mod options;
pub mod range_del;
pub mod sst;
pub mod standalone;
pub mod sync;
pub mod version;
pub mod vlog;

pub use batch::{EncodedBatch, WriteBatch, WriteOp};
pub use db::{DbIterator, Engine, EngineStats, ReadOptions, Snapshot};
pub use error::{Error, Result};
pub use key::{Cf, Seq, ValueKind};
pub use options::EngineOptions;
pub use standalone::{Db, Durability};
