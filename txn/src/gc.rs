//! MVCC garbage collection: which versions a safe point makes unreadable (TiKV's
//! `txn/actions/gc.rs`).
//!
//! No read below the safe point is allowed, so per key only the newest version at or below it
//! matters, and only if it is a Put. Walking versions newest first:
//! 1. *Rewind*: versions with `commit_ts > safe_point` are kept.
//! 2. *Remove idempotent*: Lock and Rollback records are dropped until the first Put or Delete.
//! 3. A Put is kept and every older version dropped; a Delete is dropped with every older
//!    version (a reader at or above the safe point sees "no value" either way).
//!
//! Dropping a Put whose value is not inline also drops its Default CF value at `!start_ts`.
//! Locks with `start_ts <= safe_point` must be resolved before GC runs.
//!
//! [`filter`] applies these rules inside compaction of the Write CF (TiKV's compaction filter);
//! [`gc_deletes`] / [`gc_key`] are the per-key form over the whole tree, which the filter's
//! Delete marks need (see there).

use bytes::Bytes;
use nokv_engine::io::FileSystem;
use nokv_engine::{Cf, Engine, ReadOptions, WriteBatch};

use crate::error::Result;
use crate::keys;
use crate::record::{Write, WriteType};
use crate::timestamp::TimeStamp;

pub mod filter;

/// A version GC may delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Droppable {
    /// The Write CF record's commit_ts.
    pub commit_ts: TimeStamp,
    /// The Default CF value to delete with it (a Put whose value was not inline): its start_ts.
    pub default_start_ts: Option<TimeStamp>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Rewind,
    RemoveIdempotent,
    RemoveAll,
}

/// What GC does with one version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// Readable at or above the safe point: kept.
    Keep,
    /// Unreadable: dropped.
    Drop,
    /// The newest Delete at or below the safe point: droppable, but only together with every
    /// older version of the key (alone, it would let an older version resurface).
    DropDeleteMark,
}

/// Walks the versions of one key newest first, deciding each one's [`Fate`].
#[derive(Debug, Clone, Copy)]
pub struct VersionWalker {
    phase: Phase,
}

impl Default for VersionWalker {
    fn default() -> Self {
        VersionWalker { phase: Phase::Rewind }
    }
}

impl VersionWalker {
    /// The fate of the next (older) version.
    pub fn step(&mut self, commit_ts: TimeStamp, write_type: WriteType, safe_point: TimeStamp) -> Fate {
        if self.phase == Phase::Rewind {
            if commit_ts > safe_point {
                return Fate::Keep;
            }
            self.phase = Phase::RemoveIdempotent;
        }
        match (self.phase, write_type) {
            (Phase::RemoveIdempotent, WriteType::Put) => {
                self.phase = Phase::RemoveAll;
                Fate::Keep
            }
            (Phase::RemoveIdempotent, WriteType::Delete) => {
                self.phase = Phase::RemoveAll;
                Fate::DropDeleteMark
            }
            _ => Fate::Drop,
        }
    }
}

/// The Default CF value that goes with a dropped version: a Put whose value is not inline.
pub fn default_value_start_ts(write: &Write) -> Option<TimeStamp> {
    (write.write_type == WriteType::Put && write.short_value.is_none()).then_some(write.start_ts)
}

/// The versions of one key (given newest first as `(commit_ts, record)`) that `safe_point`
/// makes droppable, newest first.
pub fn droppable_versions(versions: &[(TimeStamp, Write)], safe_point: TimeStamp) -> Vec<Droppable> {
    let mut walker = VersionWalker::default();
    let mut dropped = Vec::new();
    for (commit_ts, write) in versions {
        debug_assert!(
            dropped.last().is_none_or(|d: &Droppable| d.commit_ts > *commit_ts),
            "versions come newest first"
        );
        if walker.step(*commit_ts, write.write_type, safe_point) != Fate::Keep {
            dropped.push(Droppable { commit_ts: *commit_ts, default_start_ts: default_value_start_ts(write) });
        }
    }
    dropped
}

/// The batch that garbage-collects one key at `safe_point` (empty when nothing is droppable).
pub async fn gc_key<F: FileSystem>(engine: &Engine<F>, user_key: &[u8], safe_point: TimeStamp) -> Result<WriteBatch> {
    let mut batch = WriteBatch::new();
    for (cf, key) in gc_deletes(engine, &keys::data_key(user_key), safe_point).await? {
        batch.delete(cf, key);
    }
    Ok(batch)
}

/// The point deletes that garbage-collect the key `data_key` at `safe_point`, read from the
/// whole tree (every version of the key is seen, whatever file holds it).
pub async fn gc_deletes<F: FileSystem>(
    engine: &Engine<F>,
    data_key: &[u8],
    safe_point: TimeStamp,
) -> Result<Vec<(Cf, Bytes)>> {
    let snapshot = engine.snapshot();
    let bounded = ReadOptions {
        lower_bound: Some(Bytes::copy_from_slice(data_key)),
        upper_bound: Some(Bytes::from(keys::after_versions(data_key))),
        ..ReadOptions::at(&snapshot)
    };
    let mut iter = engine.iter(Cf::Write, &bounded);
    iter.seek_to_first().await?;
    let mut versions = Vec::new();
    while iter.is_valid() {
        let (_, commit_ts) = keys::split_ts(iter.key())?;
        versions.push((commit_ts, Write::decode(iter.value())?));
        iter.next().await?;
    }
    let mut deletes = Vec::new();
    for dropped in droppable_versions(&versions, safe_point) {
        deletes.push((Cf::Write, Bytes::from(keys::with_ts(data_key, dropped.commit_ts))));
        if let Some(start_ts) = dropped.default_start_ts {
            deletes.push((Cf::Default, Bytes::from(keys::with_ts(data_key, start_ts))));
        }
    }
    Ok(deletes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(raw: u64) -> TimeStamp {
        TimeStamp::new(raw)
    }

    fn put(start: u64, inline: bool) -> Write {
        Write::new(WriteType::Put, ts(start), inline.then(|| Bytes::from_static(b"v")))
    }

    fn record(write_type: WriteType, start: u64) -> Write {
        Write::new(write_type, ts(start), None)
    }

    fn dropped_commit_ts(versions: &[(TimeStamp, Write)], safe_point: u64) -> Vec<u64> {
        droppable_versions(versions, ts(safe_point)).iter().map(|d| d.commit_ts.into_inner()).collect()
    }

    #[test]
    fn keeps_versions_above_the_safe_point_and_the_newest_put_below() {
        let versions =
            [(ts(50), put(49, true)), (ts(40), put(39, true)), (ts(30), put(29, true)), (ts(20), put(19, true))];
        assert_eq!(dropped_commit_ts(&versions, 45), [30, 20]);
        assert_eq!(dropped_commit_ts(&versions, 10), Vec::<u64>::new());
    }

    #[test]
    fn lock_and_rollback_records_before_the_put_are_dropped() {
        let versions = [
            (ts(40), record(WriteType::Rollback, 40)),
            (ts(35), record(WriteType::Lock, 34)),
            (ts(30), put(29, true)),
            (ts(20), record(WriteType::Rollback, 20)),
        ];
        assert_eq!(dropped_commit_ts(&versions, 100), [40, 35, 20]);
    }

    #[test]
    fn a_delete_below_the_safe_point_goes_with_everything_older() {
        let versions = [(ts(60), put(59, true)), (ts(40), record(WriteType::Delete, 39)), (ts(30), put(29, false))];
        let dropped = droppable_versions(&versions, ts(50));
        assert_eq!(
            dropped,
            [
                Droppable { commit_ts: ts(40), default_start_ts: None },
                Droppable { commit_ts: ts(30), default_start_ts: Some(ts(29)) },
            ]
        );
    }

    #[test]
    fn gc_key_builds_the_deletes() {
        use crate::mvcc::{Mutation, get, one_pc};
        use futures_lite::future::block_on;
        use nokv_engine::EngineOptions;
        use nokv_engine::io::mem::MemFs;

        let engine =
            block_on(Engine::open(MemFs::new(), std::path::Path::new("/db"), EngineOptions::default())).expect("open");
        let big = Bytes::from(vec![1u8; 600]);
        for (index, start) in [(1u64, 10u64), (2, 20), (3, 30)] {
            let mutation = Mutation::Put(Bytes::from_static(b"k"), big.clone().into());
            let batch = WriteBatch::decode(&one_pc(&[mutation], ts(start), ts(start + 1))).expect("decode");
            block_on(engine.apply(1, index, &batch)).expect("apply");
        }
        let batch = block_on(gc_key(&engine, b"k", ts(25))).expect("gc");
        assert_eq!(batch.len(), 2, "the Put at 11 and its default value");
        block_on(engine.apply(1, 4, &batch)).expect("apply");
        assert_eq!(block_on(get(&engine, b"k", ts(25))).expect("get"), Some(big.clone()));
        assert_eq!(block_on(get(&engine, b"k", ts(31))).expect("get"), Some(big));
        assert_eq!(block_on(get(&engine, b"k", ts(15))).expect("below the safe point"), None);
    }
}
