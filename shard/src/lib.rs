//! NoKV's thread-per-core runtime: one glommio executor per core owning its engine, regions and
//! journal; key routing (slot, region, owner core); the cross-core message mesh; and the
//! implementation of `net::Handler` that executes Redis commands.
//!
//! ```text
//! client ─► any core (SO_REUSEPORT) ─► net::server parses, resolves, batches
//!              │ handler: route by key: slot ─► region ─► owner core
//!              ├─ local: run inline             └─ remote: one mesh message per core per round
//!              ▼
//!        owner core: latches ─► read (MVCC) ─► 1PC write batch ─► raft propose
//!              ─► journal (one fdatasync per ready round) ─► apply to memtable ─► reply
//! ```
//!
//! Entry point: [`run`] with a [`NodeConfig`].

pub mod call;
pub mod cmd;
pub mod config;
pub mod core;
pub mod dispatch;
pub mod error;
pub mod gc;
pub mod handler;
pub mod mesh;
pub mod routing;
pub mod runtime;
pub mod stats;
pub mod store;
pub mod value;

pub use config::{
    AppendFsync, CacheBudget, ClientOutputBufferLimits, MemoryBudgets, NodeConfig, RuntimeConfig, parse_memory,
};
pub use error::{Error, Result};
pub use runtime::run;
