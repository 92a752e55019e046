//! The error type of `nokv-raft`.
//!
//! Expected states are variants a caller reacts to: `NotLeader` (redirect to the hint),
//! `Dropped` (retry: the proposal lost its slot in the log to another leader's entry),
//! `RegionNotFound` (the routing table is stale), `Closed` (the store stopped).

/// Everything that can go wrong in a raft store.
#[derive(Debug, thiserror::Error)]
pub enum RaftError {
    /// This node is not the region's leader; `leader_hint` is the node it believes leads.
    #[error("region {region_id}: not leader (leader hint: {leader_hint:?})")]
    NotLeader {
        /// The region asked for.
        region_id: u64,
        /// The leader this node knows of, if any.
        leader_hint: Option<u64>,
    },
    /// The proposal was accepted but its log position was taken by another entry (a leader
    /// change), or raft refused it (leader transfer, uncommitted-size limit). Retryable.
    #[error("region {region_id}: proposal dropped, retry")]
    Dropped {
        /// The region proposed to.
        region_id: u64,
    },
    /// The region does not live on this store.
    #[error("region {0} not found")]
    RegionNotFound(u64),
    /// The journal (or another engine part) failed.
    #[error("storage: {0}")]
    Storage(#[from] nokv_engine::Error),
    /// raft-rs refused an operation.
    #[error("raft: {0}")]
    Raft(#[from] raft::Error),
    /// A configuration value is out of range.
    #[error("invalid raft option {name}: {reason}")]
    InvalidConfig {
        /// The option's name.
        name: &'static str,
        /// Why it was rejected.
        reason: String,
    },
    /// A caller passed something the store cannot accept.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// raft asked for something this phase does not implement yet (snapshots).
    #[error("unsupported: {0}")]
    Unsupported(&'static str),
    /// The journal could not persist the log (a full disk): the proposal is not acknowledged
    /// (it may still be applied once the stuck round is retried successfully), and proposals
    /// are refused until then. `reason` is the OS's text, e.g. "No space left on device".
    #[error("disk error: {reason}")]
    DiskError {
        /// Why the journal write failed.
        reason: String,
    },
    /// The store was stopped, or a ready round failed in a way a retry cannot fix.
    #[error("raft store is closed")]
    Closed,
}

/// The result type of `nokv-raft`.
pub type Result<T, E = RaftError> = std::result::Result<T, E>;
