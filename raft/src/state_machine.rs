//! The state machine a raft store applies committed entries to. `shard` implements it over
//! the engine and `txn`; this crate never sees what an entry means.

use std::future::Future;

use bytes::Bytes;

/// Applies a region's committed entries, in log order.
///
/// Contract:
/// - `apply` is called once per committed normal entry, in index order per region, never
///   concurrently with another `apply` of the same store (the ready round awaits each call).
///   `data` is empty for the no-op entry a new leader appends; apply must accept it (it only
///   advances the applied index).
/// - After a restart, entries after `applied_index(region)` are delivered again; the state
///   machine must not have made anything after that index durable.
/// - `apply` must not fail for reasons of its own: a write error in the state machine is for
///   the state machine to report through `Output` (or to stop the store).
pub trait StateMachine {
    /// What applying an entry returns to the proposer (through `RaftStore::propose`); every
    /// proposer of a merged entry gets a clone (see `RaftConfig::merge_proposals_up_to_bytes`).
    type Output: Clone;

    /// Applies the committed entry `(term, index)` of `region_id`. `data` is the entry's own
    /// buffer, so the state machine may keep slices of it instead of copies.
    fn apply(&self, region_id: u64, index: u64, term: u64, data: &Bytes) -> impl Future<Output = Self::Output>;

    /// The region's durable applied index: everything at or below it survives a restart
    /// without the log (for the engine: the flushed watermark). 0 for a new region.
    fn applied_index(&self, region_id: u64) -> u64;
}
