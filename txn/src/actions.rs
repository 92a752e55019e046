//! Percolator actions, one function per action per key (TiKV's `txn/actions`): each reads MVCC
//! state from the engine and appends its changes to a `WriteBatch`; none writes. The caller holds
//! the keys' latches from the first read until the batch is applied.
//!
//! Done: [`prewrite`], [`commit`], [`rollback`] (optimistic transactions, async-commit lock
//! fields). Next, in this order: `check_txn_status` (on the primary: TTL expiry by
//! `lock.start_ts.physical() + ttl_ms < current_ts.physical()`, push `min_commit_ts`, report
//! committed / rolled back / lock-not-exist, protected rollback), `resolve_lock` (commit or roll
//! back every lock of a transaction in a region: a Lock CF scan plus [`commit`] / [`rollback`]),
//! `check_secondary_locks` (async-commit resolution), `txn_heart_beat`, then pessimistic locks.
//! Not handled yet: a rollback whose `!start_ts` key collides with another transaction's commit
//! record at the same ts (TiKV's `has_overlapped_rollback`), and collapsing old rollbacks.

use bytes::Bytes;
use nokv_engine::io::FileSystem;
use nokv_engine::{Cf, Engine, ReadOptions, WriteBatch};

use crate::error::{Result, TxnError};
use crate::keys;
use crate::mvcc::{self, Mutation};
use crate::record::{Lock, LockType, SHORT_VALUE_MAX_LEN, Write, WriteType};
use crate::timestamp::TimeStamp;

/// What every prewrite of one transaction shares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxnProps {
    /// The transaction's start_ts.
    pub start_ts: TimeStamp,
    /// The primary key (user key): its lock decides the transaction.
    pub primary: Bytes,
    /// Lock time to live, from `start_ts.physical()`.
    pub ttl_ms: u64,
    /// Keys in the transaction.
    pub txn_size: u64,
    /// Floor of the commit_ts (async commit: `max(max_ts, start_ts) + 1` computed under latch).
    pub min_commit_ts: TimeStamp,
    /// Async commit: the secondaries, stored on the primary's lock. `None` for classic 2PC.
    pub async_commit_secondaries: Option<Vec<Bytes>>,
}

/// Prewrites one mutation: checks for another transaction's lock (`KeyIsLocked`), a newer
/// commit (`WriteConflict`) or our own rollback (`RolledBack`), then writes the lock (and the
/// Default CF value when it is long). Repeating a prewrite is harmless.
pub async fn prewrite<F: FileSystem>(
    engine: &Engine<F>,
    batch: &mut WriteBatch,
    props: &TxnProps,
    mutation: &Mutation,
) -> Result<()> {
    let user_key = mutation.key();
    let data_key = keys::data_key(user_key);
    if let Some(lock) = read_lock(engine, &data_key).await?
        && lock.start_ts == props.start_ts
    {
        return Ok(());
    }
    mvcc::check_write(engine, user_key, props.start_ts).await?;
    let (lock_type, value) = match mutation {
        Mutation::Put(_, value) => (LockType::Put, Some(value.to_bytes())),
        Mutation::Delete(_) => (LockType::Delete, None),
        Mutation::Lock(_) => (LockType::Lock, None),
    };
    let mut lock = Lock::new(lock_type, props.primary.clone(), props.start_ts, props.ttl_ms);
    lock.txn_size = props.txn_size;
    lock.min_commit_ts = props.min_commit_ts;
    match value {
        Some(value) if value.len() <= SHORT_VALUE_MAX_LEN => lock.short_value = Some(value.clone()),
        Some(value) => {
            batch.put(Cf::Default, keys::with_ts(&data_key, props.start_ts), value.clone());
        }
        None => {}
    }
    if let Some(secondaries) = &props.async_commit_secondaries {
        lock.use_async_commit = true;
        if *user_key == props.primary {
            lock.secondaries = secondaries.clone();
        }
    }
    batch.put(Cf::Lock, data_key, lock.encode());
    Ok(())
}

/// Commits one key of the transaction at `start_ts`: turns its lock into a write record at
/// `!commit_ts`. Idempotent when already committed; `RolledBack` or `TxnLockNotFound` when the
/// transaction lost; `CommitTsExpired` below the lock's `min_commit_ts`.
pub async fn commit<F: FileSystem>(
    engine: &Engine<F>,
    batch: &mut WriteBatch,
    user_key: &[u8],
    start_ts: TimeStamp,
    commit_ts: TimeStamp,
) -> Result<()> {
    let data_key = keys::data_key(user_key);
    let key = || Bytes::copy_from_slice(user_key);
    match read_lock(engine, &data_key).await? {
        Some(lock) if lock.start_ts == start_ts => {
            if commit_ts < lock.min_commit_ts {
                return Err(TxnError::CommitTsExpired { key: key(), commit_ts, min_commit_ts: lock.min_commit_ts });
            }
            let Some(write_type) = WriteType::from_lock_type(lock.lock_type) else {
                return Err(TxnError::TxnLockNotFound { key: key(), start_ts });
            };
            let write = Write::new(write_type, start_ts, lock.short_value);
            batch.put(Cf::Write, keys::with_ts(&data_key, commit_ts), write.encode());
            batch.delete(Cf::Lock, data_key);
            Ok(())
        }
        _ => match find_own_record(engine, &data_key, start_ts).await? {
            Some((_, write)) if write.write_type == WriteType::Rollback => {
                Err(TxnError::RolledBack { key: key(), start_ts })
            }
            Some(_) => Ok(()),
            None => Err(TxnError::TxnLockNotFound { key: key(), start_ts }),
        },
    }
}

/// Rolls back one key of the transaction at `start_ts`: removes its lock (and long value) and
/// writes a Rollback record at `!start_ts` so a late prewrite fails. Idempotent; a transaction
/// already committed on this key is `AlreadyCommitted`.
pub async fn rollback<F: FileSystem>(
    engine: &Engine<F>,
    batch: &mut WriteBatch,
    user_key: &[u8],
    start_ts: TimeStamp,
    protected: bool,
) -> Result<()> {
    let data_key = keys::data_key(user_key);
    if let Some(lock) = read_lock(engine, &data_key).await?
        && lock.start_ts == start_ts
    {
        if lock.lock_type == LockType::Put && lock.short_value.is_none() {
            batch.delete(Cf::Default, keys::with_ts(&data_key, start_ts));
        }
        batch.delete(Cf::Lock, data_key.clone());
    } else {
        match find_own_record(engine, &data_key, start_ts).await? {
            Some((_, write)) if write.write_type == WriteType::Rollback => return Ok(()),
            Some((commit_ts, _)) => {
                return Err(TxnError::AlreadyCommitted { key: Bytes::copy_from_slice(user_key), start_ts, commit_ts });
            }
            None => {}
        }
    }
    batch.put(Cf::Write, keys::with_ts(&data_key, start_ts), Write::new_rollback(start_ts, protected).encode());
    Ok(())
}

async fn read_lock<F: FileSystem>(engine: &Engine<F>, data_key: &[u8]) -> Result<Option<Lock>> {
    match engine.get(Cf::Lock, data_key, &ReadOptions::new()).await? {
        Some(encoded) => Lock::decode(&encoded).map(Some),
        None => Ok(None),
    }
}

/// The write record (commit or rollback) of the transaction at `start_ts` on a key, with its
/// commit_ts. Only versions with `commit_ts >= start_ts` can be its own, so the walk is bounded.
async fn find_own_record<F: FileSystem>(
    engine: &Engine<F>,
    data_key: &[u8],
    start_ts: TimeStamp,
) -> Result<Option<(TimeStamp, Write)>> {
    let bounded = ReadOptions {
        lower_bound: Some(Bytes::copy_from_slice(data_key)),
        upper_bound: Some(Bytes::from(keys::with_ts(data_key, start_ts.prev()))),
        ..ReadOptions::new()
    };
    let mut versions = engine.iter(Cf::Write, &bounded);
    versions.seek_to_first().await?;
    while versions.is_valid() {
        let (_, commit_ts) = keys::split_ts(versions.key())?;
        let write = Write::decode(versions.value())?;
        if write.start_ts == start_ts {
            return Ok(Some((commit_ts, write)));
        }
        versions.next().await?;
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use futures_lite::future::block_on;
    use nokv_engine::EngineOptions;
    use nokv_engine::io::mem::MemFs;

    use super::*;
    use crate::mvcc::get;

    fn ts(raw: u64) -> TimeStamp {
        TimeStamp::new(raw)
    }

    struct Harness {
        engine: Engine<MemFs>,
        index: u64,
    }

    impl Harness {
        fn new() -> Harness {
            let engine =
                block_on(Engine::open(MemFs::new(), Path::new("/db"), EngineOptions::default())).expect("open");
            Harness { engine, index: 0 }
        }

        fn apply(&mut self, batch: &WriteBatch) {
            self.index += 1;
            block_on(self.engine.apply(1, self.index, batch)).expect("apply");
        }

        fn prewrite(&mut self, props: &TxnProps, mutation: Mutation) -> Result<()> {
            let mut batch = WriteBatch::new();
            block_on(prewrite(&self.engine, &mut batch, props, &mutation))?;
            self.apply(&batch);
            Ok(())
        }

        fn commit(&mut self, key: &[u8], start: u64, commit_ts: u64) -> Result<()> {
            let mut batch = WriteBatch::new();
            block_on(commit(&self.engine, &mut batch, key, ts(start), ts(commit_ts)))?;
            self.apply(&batch);
            Ok(())
        }

        fn rollback(&mut self, key: &[u8], start: u64) -> Result<()> {
            let mut batch = WriteBatch::new();
            block_on(rollback(&self.engine, &mut batch, key, ts(start), true))?;
            self.apply(&batch);
            Ok(())
        }

        fn get(&self, key: &[u8], read_ts: u64) -> Result<Option<Bytes>> {
            block_on(get(&self.engine, key, ts(read_ts)))
        }
    }

    fn props(start: u64) -> TxnProps {
        TxnProps {
            start_ts: ts(start),
            primary: Bytes::from_static(b"p"),
            ttl_ms: 3000,
            txn_size: 2,
            min_commit_ts: ts(start + 1),
            async_commit_secondaries: None,
        }
    }

    fn put(key: &'static [u8], value: Vec<u8>) -> Mutation {
        Mutation::Put(Bytes::from_static(key), Bytes::from(value).into())
    }

    #[test]
    fn prewrite_then_commit_makes_the_value_visible_at_commit_ts() {
        let mut h = Harness::new();
        h.prewrite(&props(10), put(b"p", b"v".to_vec())).expect("prewrite primary");
        h.prewrite(&props(10), put(b"s", vec![9; 400])).expect("prewrite secondary");
        h.prewrite(&props(10), put(b"s", vec![9; 400])).expect("prewrite is idempotent");
        assert!(matches!(h.get(b"s", 20), Err(TxnError::KeyIsLocked(_))));
        h.commit(b"p", 10, 15).expect("commit primary");
        h.commit(b"s", 10, 15).expect("commit secondary");
        h.commit(b"s", 10, 15).expect("commit is idempotent");
        assert_eq!(h.get(b"p", 14).expect("get"), None);
        assert_eq!(h.get(b"p", 15).expect("get").as_deref(), Some(&b"v"[..]));
        assert_eq!(h.get(b"s", 20).expect("get").as_deref(), Some(&[9u8; 400][..]));
    }

    #[test]
    fn conflicting_prewrites_fail() {
        let mut h = Harness::new();
        h.prewrite(&props(10), put(b"p", b"a".to_vec())).expect("first");
        assert!(matches!(h.prewrite(&props(12), put(b"p", b"b".to_vec())), Err(TxnError::KeyIsLocked(_))));
        h.commit(b"p", 10, 20).expect("commit");
        let conflict = h.prewrite(&props(12), put(b"p", b"b".to_vec()));
        assert!(
            matches!(conflict, Err(TxnError::WriteConflict { conflict_commit_ts, .. }) if conflict_commit_ts == ts(20))
        );
        assert!(matches!(h.commit(b"p", 10, 5), Ok(())), "an already committed key stays committed");
        assert!(matches!(h.rollback(b"p", 10), Err(TxnError::AlreadyCommitted { .. })));
    }

    #[test]
    fn rollback_removes_the_lock_and_blocks_late_prewrites_and_commits() {
        let mut h = Harness::new();
        h.prewrite(&props(10), put(b"p", vec![1; 300])).expect("prewrite");
        h.rollback(b"p", 10).expect("rollback");
        h.rollback(b"p", 10).expect("rollback is idempotent");
        assert_eq!(h.get(b"p", 30).expect("no value"), None);
        assert!(matches!(h.commit(b"p", 10, 11), Err(TxnError::RolledBack { .. })));
        assert!(matches!(h.prewrite(&props(10), put(b"p", vec![1])), Err(TxnError::RolledBack { .. })));
        assert!(matches!(h.commit(b"q", 10, 11), Err(TxnError::TxnLockNotFound { .. })));
    }

    #[test]
    fn commit_below_min_commit_ts_is_refused() {
        let mut h = Harness::new();
        let mut async_props = props(10);
        async_props.min_commit_ts = ts(30);
        async_props.async_commit_secondaries = Some(vec![Bytes::from_static(b"s")]);
        h.prewrite(&async_props, put(b"p", b"v".to_vec())).expect("prewrite");
        assert!(matches!(h.commit(b"p", 10, 20), Err(TxnError::CommitTsExpired { .. })));
        assert_eq!(h.get(b"p", 25).expect("a pushed lock does not block older reads"), None);
        h.commit(b"p", 10, 30).expect("commit");
    }
}
