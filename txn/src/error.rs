//! The transaction layer's error type.
//!
//! Expected transaction states (a key locked by another transaction, a write conflict, a commit
//! that lost to a rollback) are variants the caller reacts to (resolve the lock and retry, abort
//! and retry with a new start_ts); `Engine` and `Corruption` are failures.

use bytes::Bytes;

use crate::record::LockType;
use crate::timestamp::TimeStamp;

/// What a reader or writer learns about a lock that blocks it: enough to resolve it
/// (CheckTxnStatus on `primary`, then ResolveLock).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockInfo {
    /// The locked user key.
    pub key: Bytes,
    /// The lock's transaction's primary key.
    pub primary: Bytes,
    /// The lock's transaction's start_ts.
    pub start_ts: TimeStamp,
    /// Time to live from `start_ts.physical()`, in milliseconds.
    pub ttl_ms: u64,
    /// What the lock will write.
    pub lock_type: LockType,
    /// The transaction cannot commit below this.
    pub min_commit_ts: TimeStamp,
    /// Keys in the transaction (0 when unknown).
    pub txn_size: u64,
    /// The transaction uses async commit (resolve via its secondaries).
    pub use_async_commit: bool,
}

/// Everything that can go wrong in a transactional read or write.
#[derive(Debug, thiserror::Error)]
pub enum TxnError {
    /// Another transaction's lock blocks the read or write.
    #[error("key is locked by transaction {}", .0.start_ts)]
    KeyIsLocked(Box<LockInfo>),
    /// A write committed after this transaction started touched the same key.
    #[error("write conflict on key {key:?}: start_ts {start_ts}, conflicting commit {conflict_commit_ts}")]
    WriteConflict {
        /// The key.
        key: Bytes,
        /// This transaction's start_ts.
        start_ts: TimeStamp,
        /// The start_ts of the transaction that wrote first.
        conflict_start_ts: TimeStamp,
        /// Its commit_ts (greater than `start_ts`).
        conflict_commit_ts: TimeStamp,
    },
    /// Commit or prewrite found that the transaction was already rolled back.
    #[error("transaction {start_ts} on key {key:?} was rolled back")]
    RolledBack {
        /// The key.
        key: Bytes,
        /// The transaction.
        start_ts: TimeStamp,
    },
    /// Rollback found the transaction already committed on this key.
    #[error("transaction {start_ts} on key {key:?} is already committed at {commit_ts}")]
    AlreadyCommitted {
        /// The key.
        key: Bytes,
        /// The transaction.
        start_ts: TimeStamp,
        /// Its commit_ts.
        commit_ts: TimeStamp,
    },
    /// Commit found neither the transaction's lock nor its write record.
    #[error("lock of transaction {start_ts} not found on key {key:?}")]
    TxnLockNotFound {
        /// The key.
        key: Bytes,
        /// The transaction.
        start_ts: TimeStamp,
    },
    /// Commit asked for a commit_ts below the lock's min_commit_ts.
    #[error("commit_ts {commit_ts} is below min_commit_ts {min_commit_ts}")]
    CommitTsExpired {
        /// The key.
        key: Bytes,
        /// The commit_ts asked for.
        commit_ts: TimeStamp,
        /// The lock's floor.
        min_commit_ts: TimeStamp,
    },
    /// The storage engine failed.
    #[error(transparent)]
    Engine(#[from] nokv_engine::Error),
    /// A stored MVCC key or record failed to decode.
    #[error("corruption in {what}: {detail}")]
    Corruption {
        /// Which structure (lock record, write record, storage key, ...).
        what: &'static str,
        /// What exactly was wrong.
        detail: String,
    },
}

impl TxnError {
    /// Builds a corruption error.
    pub fn corruption(what: &'static str, detail: impl Into<String>) -> TxnError {
        TxnError::Corruption { what, detail: detail.into() }
    }
}

/// The transaction layer's result.
pub type Result<T, E = TxnError> = std::result::Result<T, E>;
