//! The per-core store: the engine, the core's raft groups and the MVCC layer, as the commands
//! see them.
//!
//! - Reads take a timestamp from the node's TSO, record it in the region's `max_ts` and read
//!   the newest committed version at or below it.
//! - Writes are 1PC: every mutation of one call must belong to one region; the call builds the
//!   Write/Default CF batch with `commit_ts = max(start_ts, region max_ts) + 1`, proposes it to
//!   the region's raft group (persisted in the core's journal in the next ready round, one
//!   fdatasync for every group of the core), waits until it is applied to the memtable, then
//!   advances the TSO past `commit_ts` so every later read sees it (external consistency).
//! - Read-modify-write commands hold per-key latches across their read and write.

use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

use bytes::Bytes;
use nokv_engine::io::dma::DmaFs;
use nokv_engine::{Engine, WriteBatch};
use nokv_raft::{RaftError, RaftStore, StateMachine};
use nokv_txn::latch::{LatchGuard, Latches};
use nokv_txn::mvcc::{self, MaxTs, Mutation, MvccReadOptions, ScanEntry, ScanOptions, ScanRange};
use nokv_txn::row_cache::RowCache;
use nokv_txn::timestamp::TimeStamp;
use nokv_txn::tso::Tso;

use crate::gc::{InFlightGuard, MvccGc};
use crate::routing::RegionMap;
use crate::value::StoredValue;

/// Why a store operation failed; turned into an `-ERR` reply by the command layer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The storage engine failed.
    #[error("storage error: {0}")]
    Engine(#[from] nokv_engine::Error),
    /// The MVCC layer refused (locked key, conflict, damaged record).
    #[error("transaction error: {0}")]
    Txn(#[from] nokv_txn::error::TxnError),
    /// Raft could not commit the write.
    #[error("replication error: {0}")]
    Raft(#[from] RaftError),
    /// A write failed while being applied.
    #[error("apply failed: {0}")]
    Apply(String),
    /// Mutations of one write span several regions.
    #[error("a write may not span regions")]
    CrossRegion,
    /// Writes are refused while the disk cannot take them (Redis's `MISCONF`); the reason is
    /// the OS's text, e.g. "No space left on device".
    #[error("MISCONF Errors writing to the AOF file: {0}")]
    DiskError(String),
}

impl StoreError {
    /// The reason of a disk error, whether the store refused the write up front or raft
    /// failed to persist it.
    pub fn disk_error(&self) -> Option<&str> {
        match self {
            StoreError::DiskError(reason) | StoreError::Raft(RaftError::DiskError { reason }) => Some(reason),
            _ => None,
        }
    }
}

/// A row cache's answer for one key (see [`Store::read_cached`]).
pub type CachedRead = Option<Option<StoredValue>>;

/// The result of applying one raft entry.
pub type ApplyOutput = Result<(), String>;

/// Applies committed raft entries (encoded write batches) to the engine, and keeps the row
/// cache up to date with them.
pub struct Applier {
    engine: Engine<DmaFs>,
    rows: Rc<RowCache>,
}

impl Applier {
    /// Applies to `engine`, telling `rows` of every batch.
    pub fn new(engine: Engine<DmaFs>, rows: Rc<RowCache>) -> Applier {
        Applier { engine, rows }
    }
}

impl StateMachine for Applier {
    type Output = ApplyOutput;

    async fn apply(&self, region_id: u64, index: u64, _term: u64, data: &Bytes) -> ApplyOutput {
        if data.is_empty() {
            return Ok(());
        }
        // Slices of the entry, not copies: the memtable keeps the values, and with them the
        // entry's buffer, until it is flushed (the row cache copies what it keeps).
        let batch = WriteBatch::decode_shared(data).map_err(|e| e.to_string())?;
        match self.engine.apply(region_id, index, &batch).await {
            Ok(_) => {
                self.rows.observe(&batch);
                Ok(())
            }
            Err(error) => {
                // A failed apply may have changed part of the memtable: forget every row.
                self.rows.clear();
                Err(error.to_string())
            }
        }
    }

    fn applied_index(&self, region_id: u64) -> u64 {
        self.engine.flushed_index(region_id)
    }
}

/// The store of one core.
pub struct Store {
    engine: Engine<DmaFs>,
    raft: Rc<RaftStore<DmaFs, Applier>>,
    tso: Arc<Tso>,
    latches: Latches,
    map: Arc<RegionMap>,
    max_ts: HashMap<u64, MaxTs, foldhash::fast::FixedState>,
    rows: Rc<RowCache>,
    gc: Rc<MvccGc<DmaFs>>,
}

impl Store {
    /// Builds the store of a core.
    pub fn new(
        engine: Engine<DmaFs>,
        raft: Rc<RaftStore<DmaFs, Applier>>,
        tso: Arc<Tso>,
        map: Arc<RegionMap>,
        rows: Rc<RowCache>,
        gc: Rc<MvccGc<DmaFs>>,
    ) -> Store {
        let max_ts = map.regions().iter().map(|r| (r.id, MaxTs::new(TimeStamp::ZERO))).collect();
        Store { engine, raft, tso, latches: Latches::new(), map, max_ts, rows, gc }
    }

    /// MVCC garbage collection (safe point, statistics).
    pub fn gc(&self) -> &MvccGc<DmaFs> {
        &self.gc
    }

    /// The row cache (statistics).
    pub fn rows(&self) -> &RowCache {
        &self.rows
    }

    /// The engine (statistics, flush).
    pub fn engine(&self) -> &Engine<DmaFs> {
        &self.engine
    }

    /// The raft store.
    pub fn raft(&self) -> &Rc<RaftStore<DmaFs, Applier>> {
        &self.raft
    }

    /// The region map.
    pub fn map(&self) -> &RegionMap {
        &self.map
    }

    /// Why writes are refused, if they are: the journal could not persist the raft log, or
    /// background flushes cannot write tables. Both clear by themselves once a retry succeeds.
    pub fn disk_error(&self) -> Option<String> {
        self.raft.disk_error().or_else(|| self.engine.disk_error())
    }

    fn check_disk(&self) -> Result<(), StoreError> {
        self.disk_error().map_or(Ok(()), |reason| Err(StoreError::DiskError(reason)))
    }

    /// Holds latches on `keys` until the guard drops.
    pub async fn lock(&self, keys: &[Bytes]) -> LatchGuard {
        self.latches.acquire(keys).await
    }

    /// Waits until the region's leader has applied everything committed (after a restart or a
    /// leader change, the entries replayed from the log), then takes a read timestamp. Without
    /// the wait, a read right after a restart could miss acknowledged writes still being
    /// replayed. In steady state this is a few comparisons, no await. The timestamp stays in
    /// flight (GC keeps what it reads) until the guard drops.
    async fn read_ts(&self, region_id: u64) -> Result<(TimeStamp, InFlightGuard), StoreError> {
        self.raft.read_index(region_id).await?;
        let ts = self.tso.get_ts()?;
        if let Some(max_ts) = self.max_ts.get(&region_id) {
            max_ts.observe(ts);
        }
        Ok((ts, self.gc.in_flight.pin(ts)))
    }

    /// The live value of `key`, or `None` if absent or expired.
    pub async fn read(&self, key: &[u8]) -> Result<Option<StoredValue>, StoreError> {
        let region = self.map.region_of_key(key).id;
        let (read_ts, _in_flight) = self.read_ts(region).await?;
        let raw = match self.rows.get(key, read_ts) {
            Some(raw) => raw,
            None => {
                let ticket = self.rows.ticket(read_ts);
                // Boxed: the engine read's future is ~1.9 KB, and inline it made every read's
                // future (and every command that can read) that large, a row-cache hit too.
                let options = MvccReadOptions::default();
                let read = Box::pin(mvcc::get_point(&self.engine, key, read_ts, &options)).await?;
                self.rows.fill(key, ticket, read.value.clone(), read.lock_seen);
                read.value
            }
        };
        Ok(live(raw))
    }

    /// What the row cache holds for `keys` (whose hash slots are `slots`), read at one timestamp
    /// per region (one TSO call and one pin per region for a whole pipelined run of reads): per
    /// key, `Some(value)` (the live value or `None`) when a row answers, `None` when the key must
    /// be read with [`Store::read`].
    pub async fn read_cached(&self, slots: &[u16], keys: &[&[u8]]) -> Result<Vec<CachedRead>, StoreError> {
        let regions: Vec<u64> = slots.iter().map(|&slot| self.map.region_of_slot(slot).id).collect();
        let mut stamps: Vec<(u64, TimeStamp, InFlightGuard)> = Vec::new();
        for &region in &regions {
            if !stamps.iter().any(|(stamped, ..)| *stamped == region) {
                let (read_ts, in_flight) = self.read_ts(region).await?;
                stamps.push((region, read_ts, in_flight));
            }
        }
        let read_ts_of = |region: &u64| stamps.iter().find(|(stamped, ..)| stamped == region).expect("stamped").1;
        let read_ts: Vec<TimeStamp> = regions.iter().map(read_ts_of).collect();
        Ok(self.rows.get_many_if_cached(keys, &read_ts).into_iter().map(|found| found.map(live)).collect())
    }

    /// Commits `mutations` (all in one region) with 1PC through raft; returns once applied.
    pub async fn write(&self, mutations: Vec<Mutation>) -> Result<(), StoreError> {
        let Some(first) = mutations.first() else { return Ok(()) };
        let region = self.map.region_of_key(first.key()).id;
        if mutations.iter().any(|m| self.map.region_of_key(m.key()).id != region) {
            return Err(StoreError::CrossRegion);
        }
        self.write_in_region(region, &mutations).await
    }

    /// [`Store::write`] of mutations known to be in `region`.
    async fn write_in_region(&self, region: u64, mutations: &[Mutation]) -> Result<(), StoreError> {
        self.check_disk()?;
        let start_ts = self.tso.get_ts()?;
        let _in_flight = self.gc.in_flight.pin(start_ts);
        let max_ts = self.max_ts.get(&region).map(MaxTs::get).unwrap_or(TimeStamp::ZERO);
        let commit_ts = mvcc::one_pc_commit_ts(start_ts, max_ts);
        let batch = mvcc::one_pc(mutations, start_ts, commit_ts);
        self.raft.propose(region, batch).await?.map_err(StoreError::Apply)?;
        self.tso.advance_to(commit_ts)?;
        Ok(())
    }

    /// Commits mutations that may span regions of this core: one 1PC write per region, all
    /// proposed together (atomic per region only; cross-region atomicity comes with 2PC).
    pub async fn write_grouped(&self, mutations: Vec<Mutation>) -> Result<(), StoreError> {
        for (_, result) in self.write_per_region(mutations).await {
            result?;
        }
        Ok(())
    }

    /// Commits independent mutations of this core (distinct keys, any regions): one 1PC write
    /// per region, proposed together; per region, the mutations' indices and its result.
    pub async fn write_per_region(&self, mutations: Vec<Mutation>) -> Vec<(Vec<usize>, Result<(), StoreError>)> {
        // In region order, each region's mutations in their own order (a stable sort), so that
        // every group is allocated once at its size (a core serves several regions: a run of
        // 16 SETs makes about four groups, whose vectors grew a push at a time).
        let mut tagged: Vec<(u64, usize, Mutation)> = mutations
            .into_iter()
            .enumerate()
            .map(|(index, mutation)| (self.map.region_of_key(mutation.key()).id, index, mutation))
            .collect();
        tagged.sort_by_key(|&(region, ..)| region);
        let runs: Vec<(u64, usize)> = tagged.chunk_by(|a, b| a.0 == b.0).map(|run| (run[0].0, run.len())).collect();
        let mut tagged = tagged.into_iter();
        let groups: Vec<(u64, Vec<usize>, Vec<Mutation>)> = runs
            .into_iter()
            .map(|(region, len)| {
                let (indices, group) = tagged.by_ref().take(len).map(|(_, index, mutation)| (index, mutation)).unzip();
                (region, indices, group)
            })
            .collect();
        let writes = groups.iter().map(|(region, _, group)| self.write_in_region(*region, group));
        let results = join_all(writes).await;
        groups.into_iter().zip(results).map(|((_, indices, _), result)| (indices, result)).collect()
    }

    /// Proposes a raw engine batch to region `region_id`'s raft group and returns once it is
    /// applied. It bypasses MVCC (no timestamps, no latches): only for whole-range changes such
    /// as FLUSHDB's range deletes, which no reader needs to see at a timestamp.
    pub async fn write_raw(&self, region_id: u64, batch: WriteBatch) -> Result<(), StoreError> {
        self.check_disk()?;
        self.raft.propose(region_id, batch.encode()).await?.map_err(StoreError::Apply)
    }

    /// Live keys of the slots `[first_slot, end_slot)` after `after` (a data key), in order.
    pub async fn scan(
        &self,
        first_slot: u16,
        end_slot: u16,
        after: Option<&[u8]>,
        limit: usize,
        keys_only: bool,
    ) -> Result<Vec<ScanEntry>, StoreError> {
        let mut range = ScanRange::slots(first_slot, end_slot);
        if let Some(after) = after {
            range = range.after(after);
        }
        let region = self.map.region_of_slot(first_slot).id;
        let (read_ts, _in_flight) = self.read_ts(region).await?;
        let options = ScanOptions { limit, keys_only, ..Default::default() };
        Ok(mvcc::scan(&self.engine, &range, read_ts, &options).await?)
    }
}

/// The value a read returns for what it found: decoded, and `None` once expired.
fn live(raw: Option<Bytes>) -> Option<StoredValue> {
    raw.and_then(|raw| StoredValue::decode(&raw)).filter(|value| !value.is_expired_now())
}

/// Decodes a stored record, hiding expired keys.
pub fn decode_live(raw: &Bytes, now_ms: u64) -> Option<StoredValue> {
    StoredValue::decode(raw).filter(|value| !value.is_expired(now_ms))
}

/// Awaits futures of one task concurrently (shared with the engine).
pub use nokv_engine::sync::join_all;
