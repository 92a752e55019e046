//! Multi-Raft for NoKV on raft-rs 0.7: one `RawNode` per region, many regions per core, one
//! ready round per core with one journal write (and one fdatasync) for all of its regions, log
//! storage on the core's engine journal. Apply goes through the [`StateMachine`] trait that
//! `shard` implements; this crate never imports `txn` and names no runtime: the caller drives
//! it.
//!
//! # Driving a store (what `shard` does on each core)
//! ```text
//! let store = Rc::new(RaftStore::open(journal, state_machine, config, &region_ids).await?);
//! spawn(raft queue):  loop { store.drive_once().await? }        // wait for work, one round
//! spawn(timer):       every config.tick_interval_ms { store.tick() }
//! writes:             store.propose(region, bytes).await        // -> StateMachine::Output
//! reads:              store.read_index(region).await; then read the state machine
//! after a flush:      store.compact_log(region, flushed_index).await
//! ```
//! `drive_once` waits on a [`nokv_engine::sync::Notify`] that `propose`, `step` and `tick`
//! fire; tests call `process_ready_round` directly.
//!
//! # Modules
//! - [`config`]: `RaftConfig` and its validation.
//! - `store`: `RaftStore`, its entry points and region bookkeeping.
//! - `ready`: the ready round, with the exact call order in its doc.
//! - `region`: one group's `RawNode`, inbox and proposal waiters (matched by (term, index)).
//! - [`storage`]: raft-rs's `Storage` over an entry cache and the journal; the journal layout.
//! - [`logger`]: raft-rs's slog records forwarded to tracing.
//!
//! # This phase
//! Every group has one voter (this node, `node_id`). The write path (propose -> round ->
//! journal -> apply -> reply) is the replicated one: followers, the transport (`outbox`
//! via `take_messages`, inbound via `step`) and snapshots plug into the same round.

pub mod config;
pub mod error;
pub mod logger;
mod ready;
mod region;
pub mod state_machine;
pub mod storage;
mod store;
mod waiter;

pub use config::RaftConfig;
pub use error::{RaftError, Result};
pub use state_machine::StateMachine;
pub use store::{RaftStore, RaftStoreStats, RegionStatus};
