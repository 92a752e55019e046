//! MVCC reads and 1PC writes over the engine's Lock, Write and Default column families.
//!
//! - [`get`] is TiKV's point getter: the Lock CF first (a lock that may commit at or below the
//!   read blocks it), then the newest Write CF version with `commit_ts <= read_ts`, skipping
//!   Lock/Rollback records; a Put's value is inline or in the Default CF at `!start_ts`.
//! - [`scan`] walks the Lock and Write CFs of a key range together, one user key at a time,
//!   seeking past old versions rather than stepping through them.
//! - [`one_pc`] encodes the write batch of a single-region transaction: Write CF records at
//!   `!commit_ts` (and Default CF values over 255 B at `!start_ts`), no locks.
//! - [`MaxTs`] and [`one_pc_commit_ts`]: a region's largest served read ts and the rule that keeps
//!   1PC commits above every read already served.
//!
//! Reads take one engine snapshot, so the Lock, Write and Default CF lookups of a read see one
//! engine state even when an apply lands between their awaits.
//! Writers never write here: functions return batches that the caller proposes through raft.

use std::cell::Cell;
use std::cmp::Ordering;

use bytes::Bytes;
use nokv_engine::io::FileSystem;
use nokv_engine::{Cf, DbIterator, EncodedBatch, Engine, EngineOptions, ReadOptions};

use crate::error::{Result, TxnError};
use crate::keys;
use crate::record::{Lock, SHORT_VALUE_MAX_LEN, Write, WriteType};
use crate::timestamp::TimeStamp;

/// One change of a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mutation {
    /// Set `key` (user key) to the value.
    Put(Bytes, Value),
    /// Delete `key`.
    Delete(Bytes),
    /// Record a read lock on `key` (its value is unchanged; conflicts with concurrent writers).
    Lock(Bytes),
}

/// Most bytes of a [`Value`]'s head.
pub const VALUE_HEAD_MAX_LEN: usize = 16;

/// The value a Put writes: a short head (a record header of the caller's) followed by the
/// body, stored as one value. A value given in two parts is written into the batch without being
/// joined first: SET's record header and payload were joined into a fresh allocation per SET and
/// copied again into the batch (1.1% of SET 16 B -P16's samples).
#[derive(Debug, Clone, Default)]
pub struct Value {
    head: [u8; VALUE_HEAD_MAX_LEN],
    head_len: u8,
    body: Bytes,
}

impl Value {
    /// `head` followed by `body`. Panics when `head` is over [`VALUE_HEAD_MAX_LEN`] bytes.
    pub fn with_head(head: &[u8], body: Bytes) -> Value {
        let mut value = Value { head: [0; VALUE_HEAD_MAX_LEN], head_len: 0, body };
        value.head[..head.len()].copy_from_slice(head);
        value.head_len = head.len() as u8;
        value
    }

    /// The two parts, head first.
    pub fn parts(&self) -> [&[u8]; 2] {
        [&self.head[..usize::from(self.head_len)], &self.body]
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        usize::from(self.head_len) + self.body.len()
    }

    /// True when the value has no bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends the value to `out`.
    pub fn put_into(&self, out: &mut Vec<u8>) {
        self.parts().iter().for_each(|part| out.extend_from_slice(part));
    }

    /// The value in one piece (the body itself when there is no head).
    pub fn to_bytes(&self) -> Bytes {
        if self.head_len == 0 {
            return self.body.clone();
        }
        let mut out = Vec::with_capacity(self.len());
        self.put_into(&mut out);
        out.into()
    }
}

impl From<Bytes> for Value {
    fn from(body: Bytes) -> Value {
        Value::with_head(&[], body)
    }
}

/// Values are equal when their bytes are, however they are split.
impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        self.len() == other.len() && self.parts().into_iter().flatten().eq(other.parts().into_iter().flatten())
    }
}

impl Eq for Value {}

impl Mutation {
    /// The mutation's user key.
    pub fn key(&self) -> &Bytes {
        match self {
            Mutation::Put(key, _) | Mutation::Delete(key) | Mutation::Lock(key) => key,
        }
    }
}

/// The largest read timestamp a region has served. A 1PC or async-commit write must commit
/// above it, or a reader that already returned could see the write appear below its snapshot.
#[derive(Debug, Default)]
pub struct MaxTs {
    max_ts: Cell<TimeStamp>,
}

impl MaxTs {
    /// A tracker at zero (a region that served no reads; after a leader change, start it at a
    /// fresh TSO timestamp instead, since the old leader's reads are unknown).
    pub fn new(start: TimeStamp) -> MaxTs {
        MaxTs { max_ts: Cell::new(start) }
    }

    /// Records a read at `read_ts`, before the read looks at storage. `TimeStamp::MAX` reads
    /// (read-latest) are not recorded: they would push every later commit_ts to the end.
    pub fn observe(&self, read_ts: TimeStamp) {
        if read_ts != TimeStamp::MAX && read_ts > self.max_ts.get() {
            self.max_ts.set(read_ts);
        }
    }

    /// The largest read ts served.
    pub fn get(&self) -> TimeStamp {
        self.max_ts.get()
    }
}

/// The 1PC / async-commit commit timestamp: above the start_ts and every read already served.
pub fn one_pc_commit_ts(start_ts: TimeStamp, max_ts: TimeStamp) -> TimeStamp {
    start_ts.max(max_ts).next()
}

/// Sets the engine options MVCC reads rely on: Write CF tables also filter on data keys (the
/// versioned key without its timestamp), so a point read skips every table that holds no
/// version of its key instead of seeking into it.
pub fn tune_engine_options(options: &mut EngineOptions) {
    options.filter_prefix_suffix_bytes[Cf::Write.index()] = keys::TS_LEN;
}

/// Options of a read.
#[derive(Debug, Clone, Default)]
pub struct MvccReadOptions {
    /// Locks of these transactions do not block the read (the reader resolved them as
    /// committed after its ts, or rolled back).
    pub bypass_locks: Vec<TimeStamp>,
    /// Fill the block cache (off for big scans).
    pub skip_fill_cache: bool,
}

impl MvccReadOptions {
    fn engine_options(&self, snapshot: &nokv_engine::Snapshot) -> ReadOptions {
        ReadOptions { fill_cache: !self.skip_fill_cache, ..ReadOptions::at(snapshot) }
    }
}

/// The value of `user_key` at `read_ts` (snapshot isolation), or `None` when it has none.
pub async fn get<F: FileSystem>(engine: &Engine<F>, user_key: &[u8], read_ts: TimeStamp) -> Result<Option<Bytes>> {
    get_with(engine, user_key, read_ts, &MvccReadOptions::default()).await
}

/// [`get`] with options.
pub async fn get_with<F: FileSystem>(
    engine: &Engine<F>,
    user_key: &[u8],
    read_ts: TimeStamp,
    options: &MvccReadOptions,
) -> Result<Option<Bytes>> {
    Ok(get_point(engine, user_key, read_ts, options).await?.value)
}

/// What a point read found, and whether it met a lock that did not block it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PointRead {
    /// The value at the read's timestamp, `None` when it has none.
    pub value: Option<Bytes>,
    /// A lock on the key was there (one that may commit above the read, or was bypassed).
    pub lock_seen: bool,
}

/// [`get_with`], also telling whether a lock was seen (a row cache must not hide a lock).
pub async fn get_point<F: FileSystem>(
    engine: &Engine<F>,
    user_key: &[u8],
    read_ts: TimeStamp,
    options: &MvccReadOptions,
) -> Result<PointRead> {
    let snapshot = engine.snapshot();
    let read = options.engine_options(&snapshot);
    let data_key = keys::data_key(user_key);
    let lock = engine.get(Cf::Lock, &data_key, &read).await?;
    if let Some(encoded) = &lock {
        check_lock(&Lock::decode(encoded)?, user_key, read_ts, options)?;
    }
    let lock_seen = lock.is_some();
    let value = match newest_visible_write(engine, &data_key, read_ts, &read).await? {
        Some(write) => load_value(engine, &read, &data_key, write).await?,
        None => None,
    };
    Ok(PointRead { value, lock_seen })
}

fn check_lock(lock: &Lock, user_key: &[u8], read_ts: TimeStamp, options: &MvccReadOptions) -> Result<()> {
    if lock.blocks_read(user_key, read_ts, &options.bypass_locks) {
        return Err(TxnError::KeyIsLocked(Box::new(lock.to_lock_info(user_key))));
    }
    Ok(())
}

/// Read options bounded to the Write CF versions of one data key.
fn version_bounds(data_key: &[u8], read: &ReadOptions) -> ReadOptions {
    let data_key = Bytes::copy_from_slice(data_key);
    ReadOptions {
        upper_bound: Some(Bytes::from(keys::after_versions(&data_key))),
        lower_bound: Some(data_key.clone()),
        prefix: Some(data_key),
        ..read.clone()
    }
}

/// A Write CF iterator bounded to the versions of one data key.
fn version_iterator<F: FileSystem>(engine: &Engine<F>, data_key: &[u8], read: &ReadOptions) -> DbIterator<F> {
    engine.iter(Cf::Write, &version_bounds(data_key, read))
}

/// [`visible_write`] for a point read. The newest version at or below `read_ts` is nearly always
/// a Put or Delete, which [`Engine::seek_first`] finds without building an iterator; a Lock or
/// Rollback record there means stepping past it, with an iterator.
async fn newest_visible_write<F: FileSystem>(
    engine: &Engine<F>,
    data_key: &[u8],
    read_ts: TimeStamp,
    read: &ReadOptions,
) -> Result<Option<Write>> {
    let bounded = version_bounds(data_key, read);
    let Some((found_key, value)) = engine.seek_first(Cf::Write, &keys::with_ts(data_key, read_ts), &bounded).await?
    else {
        return Ok(None);
    };
    if keys::split_ts(&found_key)?.0 != data_key {
        return Ok(None);
    }
    let write = Write::decode_shared(&value)?;
    match write.write_type {
        WriteType::Put => Ok(Some(write)),
        WriteType::Delete => Ok(None),
        WriteType::Lock | WriteType::Rollback => {
            let mut versions = engine.iter(Cf::Write, &bounded);
            visible_write(&mut versions, data_key, read_ts, false).await
        }
    }
}

/// The newest Put or Delete of `data_key` with `commit_ts <= read_ts`, skipping Lock and
/// Rollback records. When `positioned` is set the iterator already sits on a version of the key
/// at or below `read_ts`, so no seek is needed. Leaves the iterator on the record returned.
async fn visible_write<F: FileSystem>(
    iter: &mut DbIterator<F>,
    data_key: &[u8],
    read_ts: TimeStamp,
    positioned: bool,
) -> Result<Option<Write>> {
    if !positioned {
        iter.seek(&keys::with_ts(data_key, read_ts)).await?;
    }
    while iter.is_valid() {
        let (found_key, _) = keys::split_ts(iter.key())?;
        if found_key != data_key {
            return Ok(None);
        }
        let write = Write::decode(iter.value())?;
        match write.write_type {
            WriteType::Put => return Ok(Some(write)),
            WriteType::Delete => return Ok(None),
            WriteType::Lock | WriteType::Rollback => iter.next().await?,
        }
    }
    Ok(None)
}

/// The value a Put record stands for: inline, or in the Default CF at `!start_ts`.
async fn load_value<F: FileSystem>(
    engine: &Engine<F>,
    read: &ReadOptions,
    data_key: &[u8],
    write: Write,
) -> Result<Option<Bytes>> {
    if let Some(value) = write.short_value {
        return Ok(Some(value));
    }
    let default_key = keys::with_ts(data_key, write.start_ts);
    match engine.get(Cf::Default, &default_key, read).await? {
        Some(value) => Ok(Some(value)),
        None => {
            Err(TxnError::corruption("default CF", format!("value of a Put at start_ts {} is missing", write.start_ts)))
        }
    }
}

/// The commit_ts of the newest Put or Delete of `user_key` (any ts), ignoring locks. WATCH
/// compares it with its snapshot; Lock and Rollback records are skipped because they do not
/// change the value.
pub async fn latest_commit_ts<F: FileSystem>(engine: &Engine<F>, user_key: &[u8]) -> Result<Option<TimeStamp>> {
    let snapshot = engine.snapshot();
    let data_key = keys::data_key(user_key);
    let mut versions = version_iterator(engine, &data_key, &ReadOptions::at(&snapshot));
    versions.seek_to_first().await?;
    while versions.is_valid() {
        let (_, commit_ts) = keys::split_ts(versions.key())?;
        if Write::decode(versions.value())?.changes_value() {
            return Ok(Some(commit_ts));
        }
        versions.next().await?;
    }
    Ok(None)
}

/// Checks that a 1PC (or prewrite) of `user_key` at `start_ts` may proceed: no other
/// transaction's lock blocks it (`KeyIsLocked`) and nothing committed after `start_ts`
/// (`WriteConflict`). Run under the key's latch; read-modify-write commands need it, blind
/// writes may skip the conflict part.
pub async fn check_write<F: FileSystem>(engine: &Engine<F>, user_key: &[u8], start_ts: TimeStamp) -> Result<()> {
    let snapshot = engine.snapshot();
    let read = ReadOptions::at(&snapshot);
    let data_key = keys::data_key(user_key);
    if let Some(encoded) = engine.get(Cf::Lock, &data_key, &read).await? {
        let lock = Lock::decode(&encoded)?;
        if lock.start_ts != start_ts {
            return Err(TxnError::KeyIsLocked(Box::new(lock.to_lock_info(user_key))));
        }
    }
    let mut versions = version_iterator(engine, &data_key, &read);
    versions.seek_to_first().await?;
    while versions.is_valid() {
        let (_, commit_ts) = keys::split_ts(versions.key())?;
        if commit_ts < start_ts {
            break;
        }
        let write = Write::decode(versions.value())?;
        let key = Bytes::copy_from_slice(user_key);
        if commit_ts == start_ts && write.write_type == WriteType::Rollback {
            return Err(TxnError::RolledBack { key, start_ts });
        }
        if commit_ts > start_ts && write.write_type != WriteType::Rollback {
            return Err(TxnError::WriteConflict {
                key,
                start_ts,
                conflict_start_ts: write.start_ts,
                conflict_commit_ts: commit_ts,
            });
        }
        versions.next().await?;
    }
    Ok(())
}

/// The encoded write batch of a single-region transaction committed in one phase: one Write CF
/// record per mutation at `!commit_ts`, values over [`SHORT_VALUE_MAX_LEN`] in the Default CF
/// at `!start_ts`. The caller has checked locks and conflicts under latches.
///
/// Keys, records and values are written straight into the encoding ([`EncodedBatch`]): building
/// a [`nokv_engine::WriteBatch`] took an allocation for each data key, versioned key and record, and copied
/// each again to encode it (about 3% of SET 16 B -P16's samples were those allocations).
pub fn one_pc(mutations: &[Mutation], start_ts: TimeStamp, commit_ts: TimeStamp) -> Vec<u8> {
    assert!(commit_ts > start_ts, "a 1PC commit_ts is above its start_ts");
    let (puts, bytes) = mutations.iter().fold((0, 0), |(puts, bytes), mutation| {
        let key_len = keys::versioned_key_len(mutation.key().len());
        let value_len = match mutation {
            Mutation::Put(_, value) => value.len(),
            Mutation::Delete(_) | Mutation::Lock(_) => 0,
        };
        if value_len > SHORT_VALUE_MAX_LEN {
            (puts + 2, bytes + 2 * key_len + value_len + WRITE_RECORD_BYTES)
        } else {
            (puts + 1, bytes + key_len + value_len + WRITE_RECORD_BYTES)
        }
    });
    let mut batch = EncodedBatch::new(puts, bytes);
    let mut record = Vec::with_capacity(WRITE_RECORD_BYTES + SHORT_VALUE_MAX_LEN);
    for mutation in mutations {
        let user_key = mutation.key();
        let slot = keys::slot_of(user_key);
        let key_len = keys::versioned_key_len(user_key.len());
        let (write_type, short_value) = match mutation {
            Mutation::Put(_, value) if value.len() <= SHORT_VALUE_MAX_LEN => (WriteType::Put, Some(value.parts())),
            Mutation::Put(_, value) => {
                let write_key = |out: &mut Vec<u8>| keys::put_versioned_key(out, slot, user_key, start_ts);
                batch.put_with(Cf::Default, key_len, write_key, value.len(), |out| value.put_into(out));
                (WriteType::Put, None)
            }
            Mutation::Delete(_) => (WriteType::Delete, None),
            Mutation::Lock(_) => (WriteType::Lock, None),
        };
        record.clear();
        Write::encode_new_into(&mut record, write_type, start_ts, short_value);
        let write_key = |out: &mut Vec<u8>| keys::put_versioned_key(out, slot, user_key, commit_ts);
        batch.put_with(Cf::Write, key_len, write_key, record.len(), |out| out.extend_from_slice(&record));
    }
    batch.finish()
}

/// Room for a Write record without its short value (type, start_ts varint, a few tags).
const WRITE_RECORD_BYTES: usize = 16;

/// A key range of a scan, in data keys: `[start, end)`. Build it from slots with
/// [`ScanRange::slots`] or resume a scan after a key with [`ScanRange::after`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanRange {
    /// First data key included.
    pub start: Bytes,
    /// First data key excluded.
    pub end: Bytes,
}

impl ScanRange {
    /// Every key of the slots `[first_slot, end_slot)`.
    pub fn slots(first_slot: u16, end_slot: u16) -> ScanRange {
        let (start, end) = keys::slot_range(first_slot, end_slot);
        ScanRange { start: start.into(), end: end.into() }
    }

    /// The part of `self` after `data_key` (forward resumption).
    pub fn after(&self, data_key: &[u8]) -> ScanRange {
        ScanRange { start: keys::after_versions(data_key).into(), end: self.end.clone() }
    }

    /// The part of `self` before `data_key` (reverse resumption).
    pub fn before(&self, data_key: &[u8]) -> ScanRange {
        ScanRange { start: self.start.clone(), end: Bytes::copy_from_slice(data_key) }
    }
}

/// One live key a scan found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanEntry {
    /// The storage data key (`slot | memcomparable(user key)`): resume a scan after it.
    pub data_key: Bytes,
    /// The user key.
    pub user_key: Bytes,
    /// The value (empty when the scan was keys-only).
    pub value: Bytes,
}

/// Options of a scan.
#[derive(Debug, Clone, Default)]
pub struct ScanOptions {
    /// Stop after this many live keys.
    pub limit: usize,
    /// Newest key first.
    pub reverse: bool,
    /// Do not load values (KEYS, DBSIZE, SCAN without TYPE): saves Default CF reads.
    pub keys_only: bool,
    /// Read options (lock bypass, cache).
    pub read: MvccReadOptions,
}

/// The live keys of `range` at `read_ts`, in key order (or reverse), at most `options.limit`.
/// A lock that blocks the snapshot (see [`Lock::blocks_read`]) anywhere the scan passes is
/// `KeyIsLocked`. Each key is returned once: the scan seeks past a key's older versions.
pub async fn scan<F: FileSystem>(
    engine: &Engine<F>,
    range: &ScanRange,
    read_ts: TimeStamp,
    options: &ScanOptions,
) -> Result<Vec<ScanEntry>> {
    let snapshot = engine.snapshot();
    let read = options.read.engine_options(&snapshot);
    let bounded =
        ReadOptions { lower_bound: Some(range.start.clone()), upper_bound: Some(range.end.clone()), ..read.clone() };
    let mut scanner = Scanner {
        engine,
        read,
        locks: engine.iter(Cf::Lock, &bounded),
        writes: engine.iter(Cf::Write, &bounded),
        versions: None,
        read_ts,
        options,
    };
    scanner.run().await
}

struct Scanner<'a, F: FileSystem> {
    engine: &'a Engine<F>,
    read: ReadOptions,
    locks: DbIterator<F>,
    /// Walks the Write CF key by key, in scan direction.
    writes: DbIterator<F>,
    /// Reverse scans: a forward iterator to find each key's visible version.
    versions: Option<DbIterator<F>>,
    read_ts: TimeStamp,
    options: &'a ScanOptions,
}

impl<F: FileSystem> Scanner<'_, F> {
    async fn run(&mut self) -> Result<Vec<ScanEntry>> {
        let mut out = Vec::new();
        if self.options.reverse {
            self.locks.seek_to_last().await?;
            self.writes.seek_to_last().await?;
            self.versions = Some(self.engine.iter(Cf::Write, &self.read));
        } else {
            self.locks.seek_to_first().await?;
            self.writes.seek_to_first().await?;
        }
        while out.len() < self.options.limit {
            let Some(data_key) = self.next_key()? else { break };
            if let Some(entry) = self.visit(data_key).await? {
                out.push(entry);
            }
        }
        Ok(out)
    }

    /// The next data key in scan direction among the two cursors.
    fn next_key(&self) -> Result<Option<Bytes>> {
        let lock_key = self.locks.is_valid().then(|| self.locks.key());
        let write_key = if self.writes.is_valid() { Some(keys::split_ts(self.writes.key())?.0) } else { None };
        let chosen = match (lock_key, write_key) {
            (Some(lock), Some(write)) => match (lock.cmp(write), self.options.reverse) {
                (Ordering::Less, false) | (Ordering::Greater, true) => lock,
                _ => write,
            },
            (Some(lock), None) => lock,
            (None, Some(write)) => write,
            (None, None) => return Ok(None),
        };
        Ok(Some(Bytes::copy_from_slice(chosen)))
    }

    /// Checks the key's lock, finds its visible version, and moves both cursors past the key.
    async fn visit(&mut self, data_key: Bytes) -> Result<Option<ScanEntry>> {
        if self.locks.is_valid() && self.locks.key() == data_key.as_ref() {
            let lock = Lock::decode(self.locks.value())?;
            let (_, user_key) = keys::decode_data_key(&data_key)?;
            check_lock(&lock, &user_key, self.read_ts, &self.options.read)?;
            self.step_locks().await?;
        }
        let on_write = self.writes.is_valid() && keys::split_ts(self.writes.key())?.0 == data_key.as_ref();
        if !on_write {
            return Ok(None);
        }
        let write = self.find_visible(&data_key).await?;
        self.skip_versions(&data_key).await?;
        match write {
            Some(write) => self.entry(data_key, write).await.map(Some),
            None => Ok(None),
        }
    }

    async fn step_locks(&mut self) -> Result<()> {
        if self.options.reverse {
            self.locks.prev().await?
        } else {
            self.locks.next().await?
        }
        Ok(())
    }

    async fn find_visible(&mut self, data_key: &[u8]) -> Result<Option<Write>> {
        match &mut self.versions {
            Some(versions) => visible_write(versions, data_key, self.read_ts, false).await,
            None => {
                // Forward: `writes` sits on the key's newest version; seek only if it is too new.
                let (_, newest_ts) = keys::split_ts(self.writes.key())?;
                visible_write(&mut self.writes, data_key, self.read_ts, newest_ts <= self.read_ts).await
            }
        }
    }

    /// Moves `writes` to the next data key in scan direction: a few steps, then a seek.
    async fn skip_versions(&mut self, data_key: &[u8]) -> Result<()> {
        const STEPS_BEFORE_SEEK: usize = 4;
        for _ in 0..STEPS_BEFORE_SEEK {
            if !self.writes.is_valid() || keys::split_ts(self.writes.key())?.0 != data_key {
                return Ok(());
            }
            if self.options.reverse { self.writes.prev().await? } else { self.writes.next().await? }
        }
        if self.writes.is_valid() && keys::split_ts(self.writes.key())?.0 == data_key {
            if self.options.reverse {
                self.writes.seek_for_prev(data_key).await?;
            } else {
                self.writes.seek(&keys::after_versions(data_key)).await?;
            }
        }
        Ok(())
    }

    async fn entry(&self, data_key: Bytes, write: Write) -> Result<ScanEntry> {
        let (_, user_key) = keys::decode_data_key(&data_key)?;
        let value = if self.options.keys_only {
            Bytes::new()
        } else {
            load_value(self.engine, &self.read, &data_key, write).await?.unwrap_or_default()
        };
        Ok(ScanEntry { data_key, user_key: user_key.into(), value })
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use futures_lite::future::block_on;
    use nokv_engine::io::mem::MemFs;
    use nokv_engine::{EngineOptions, WriteBatch};

    use super::*;
    use crate::record::LockType;

    fn engine() -> Engine<MemFs> {
        let mut options = EngineOptions::default();
        tune_engine_options(&mut options);
        block_on(Engine::open(MemFs::new(), Path::new("/db"), options)).expect("open")
    }

    fn ts(raw: u64) -> TimeStamp {
        TimeStamp::new(raw)
    }

    fn put(key: &str, value: &[u8]) -> Mutation {
        Mutation::Put(Bytes::copy_from_slice(key.as_bytes()), Bytes::copy_from_slice(value).into())
    }

    fn commit(engine: &Engine<MemFs>, index: u64, mutations: &[Mutation], start: u64, commit: u64) {
        let batch = WriteBatch::decode(&one_pc(mutations, ts(start), ts(commit))).expect("decode");
        block_on(engine.apply(1, index, &batch)).expect("apply");
    }

    /// Versions spread over several tables and levels read back exactly, and a key no table
    /// holds is answered from the filters alone (no data block read).
    #[test]
    fn point_reads_over_tables_use_the_data_key_filter() {
        let engine = engine();
        let mut index = 0;
        for round in 0..3u64 {
            for key in 0..50u64 {
                index += 1;
                let value = format!("{key}-{round}");
                commit(&engine, index, &[put(&format!("key{key}"), value.as_bytes())], 10 * index, 10 * index + 1);
            }
            block_on(engine.flush()).expect("flush");
        }
        block_on(engine.compact_range_all()).expect("compact");
        for round in 0..2u64 {
            let index = round * 50 + 7 + 1; // key7 of this round
            let read = get_now(&engine, b"key7", ts(10 * index + 1));
            assert_eq!(read.as_deref(), Some(format!("7-{round}").as_bytes()));
        }
        assert_eq!(get_now(&engine, b"key49", ts(u64::MAX >> 1)).as_deref(), Some(&b"49-2"[..]));
        let misses_before = engine.cache_stats().block_misses + engine.cache_stats().block_hits;
        for absent in 0..100 {
            assert_eq!(get_now(&engine, format!("absent{absent}").as_bytes(), ts(u64::MAX >> 1)), None);
        }
        let blocks_touched = engine.cache_stats().block_misses + engine.cache_stats().block_hits - misses_before;
        assert!(blocks_touched < 10, "{blocks_touched} data blocks read for 100 absent keys");
    }

    fn get_now(engine: &Engine<MemFs>, key: &[u8], read_ts: TimeStamp) -> Option<Bytes> {
        block_on(get(engine, key, read_ts)).expect("get")
    }

    #[test]
    fn get_sees_the_version_at_its_timestamp() {
        let engine = engine();
        commit(&engine, 1, &[put("k", b"v1")], 10, 11);
        commit(&engine, 2, &[put("k", b"v2")], 20, 21);
        commit(&engine, 3, &[Mutation::Delete("k".into())], 30, 31);
        assert_eq!(block_on(get(&engine, b"k", ts(10))).expect("get"), None);
        assert_eq!(block_on(get(&engine, b"k", ts(11))).expect("get").as_deref(), Some(&b"v1"[..]));
        assert_eq!(block_on(get(&engine, b"k", ts(25))).expect("get").as_deref(), Some(&b"v2"[..]));
        assert_eq!(block_on(get(&engine, b"k", ts(31))).expect("get"), None);
        assert_eq!(block_on(latest_commit_ts(&engine, b"k")).expect("latest"), Some(ts(31)));
    }

    #[test]
    fn one_pc_encodes_a_write_per_mutation_and_long_values_at_start_ts() {
        let long: Vec<u8> = (0..=SHORT_VALUE_MAX_LEN as u8).collect();
        let short: Vec<u8> = (0..SHORT_VALUE_MAX_LEN as u8).rev().collect();
        // Each value in two parts: a head and the rest of it.
        let split = |value: &[u8]| Value::with_head(&value[..9], Bytes::copy_from_slice(&value[9..]));
        let mutations = [
            Mutation::Put(Bytes::from_static(b"short"), split(&short)),
            Mutation::Put(Bytes::from_static(b"long key of more than eight bytes"), split(&long)),
            Mutation::Delete(Bytes::from_static(b"gone")),
            Mutation::Lock(Bytes::from_static(b"")),
        ];
        assert_eq!(split(&short), Value::from(Bytes::copy_from_slice(&short)), "equal when their bytes are");
        assert_eq!(split(&long).to_bytes(), long);
        let (start, commit) = (ts(7), ts(9));
        let record =
            |write_type, value: Option<&[u8]>| Write::new(write_type, start, value.map(Bytes::copy_from_slice));
        let mut expected = nokv_engine::WriteBatch::new();
        expected.put(Cf::Write, keys::versioned_key(b"short", commit), record(WriteType::Put, Some(&short)).encode());
        let long_key = b"long key of more than eight bytes";
        expected.put(Cf::Default, keys::versioned_key(long_key, start), long.clone());
        expected.put(Cf::Write, keys::versioned_key(long_key, commit), record(WriteType::Put, None).encode());
        expected.put(Cf::Write, keys::versioned_key(b"gone", commit), record(WriteType::Delete, None).encode());
        expected.put(Cf::Write, keys::versioned_key(b"", commit), record(WriteType::Lock, None).encode());
        assert_eq!(one_pc(&mutations, start, commit), expected.encode());
    }

    #[test]
    fn large_values_live_in_the_default_cf() {
        let engine = engine();
        let big = vec![7u8; 1000];
        let batch = WriteBatch::decode(&one_pc(&[put("k", &big)], ts(5), ts(6))).expect("decode");
        assert_eq!(
            batch.ops().iter().filter(|op| matches!(op, nokv_engine::WriteOp::Put { cf: Cf::Default, .. })).count(),
            1
        );
        block_on(engine.apply(1, 1, &batch)).expect("apply");
        assert_eq!(block_on(get(&engine, b"k", ts(6))).expect("get").as_deref(), Some(&big[..]));
    }

    #[test]
    fn lock_and_rollback_records_are_skipped() {
        let engine = engine();
        commit(&engine, 1, &[put("k", b"v")], 1, 2);
        commit(&engine, 2, &[Mutation::Lock("k".into())], 3, 4);
        let mut batch = WriteBatch::new();
        batch.put(Cf::Write, keys::versioned_key(b"k", ts(5)), Write::new_rollback(ts(5), true).encode());
        block_on(engine.apply(1, 3, &batch)).expect("apply");
        assert_eq!(block_on(get(&engine, b"k", ts(9))).expect("get").as_deref(), Some(&b"v"[..]));
        assert_eq!(block_on(latest_commit_ts(&engine, b"k")).expect("latest"), Some(ts(2)));
    }

    #[test]
    fn a_lock_below_the_read_blocks_it() {
        let engine = engine();
        commit(&engine, 1, &[put("k", b"v")], 1, 2);
        let lock = Lock::new(LockType::Put, Bytes::from_static(b"k"), ts(10), 3000);
        let mut batch = WriteBatch::new();
        batch.put(Cf::Lock, keys::data_key(b"k"), lock.encode());
        block_on(engine.apply(1, 2, &batch)).expect("apply");
        assert_eq!(block_on(get(&engine, b"k", ts(9))).expect("older read").as_deref(), Some(&b"v"[..]));
        let blocked = block_on(get(&engine, b"k", ts(10)));
        assert!(
            matches!(blocked, Err(TxnError::KeyIsLocked(info)) if info.start_ts == ts(10) && info.key.as_ref() == b"k")
        );
        let scanned = block_on(scan(
            &engine,
            &ScanRange::slots(0, keys::SLOT_COUNT),
            ts(10),
            &ScanOptions { limit: 10, ..Default::default() },
        ));
        assert!(matches!(scanned, Err(TxnError::KeyIsLocked(_))));
        let bypass = MvccReadOptions { bypass_locks: vec![ts(10)], ..Default::default() };
        assert!(block_on(get_with(&engine, b"k", ts(10), &bypass)).expect("bypassed").is_some());
        assert!(matches!(block_on(check_write(&engine, b"k", ts(20))), Err(TxnError::KeyIsLocked(_))));
    }

    #[test]
    fn check_write_reports_newer_commits() {
        let engine = engine();
        commit(&engine, 1, &[put("k", b"v")], 10, 12);
        assert!(block_on(check_write(&engine, b"k", ts(12))).is_ok());
        let conflict = block_on(check_write(&engine, b"k", ts(11)));
        assert!(
            matches!(conflict, Err(TxnError::WriteConflict { conflict_commit_ts, .. }) if conflict_commit_ts == ts(12))
        );
    }

    #[test]
    fn scan_returns_each_live_key_once_in_both_directions() {
        let engine = engine();
        let keys_in_order = ["{t}a", "{t}b", "{t}c", "{t}d"];
        for (round, start) in [(1u64, 10u64), (2, 20), (3, 30)] {
            let mutations: Vec<Mutation> =
                keys_in_order.iter().map(|k| put(k, format!("{k}{round}").as_bytes())).collect();
            commit(&engine, round, &mutations, start, start + 1);
        }
        commit(&engine, 4, &[Mutation::Delete("{t}b".into())], 40, 41);
        let slot = keys::slot_of(b"{t}");
        let range = ScanRange::slots(slot, slot + 1);
        let forward = ScanOptions { limit: 10, ..Default::default() };
        let found = block_on(scan(&engine, &range, ts(50), &forward)).expect("scan");
        let names: Vec<_> = found.iter().map(|e| (e.user_key.clone(), e.value.clone())).collect();
        assert_eq!(
            names,
            [("{t}a", "{t}a3"), ("{t}c", "{t}c3"), ("{t}d", "{t}d3")].map(|(k, v)| (Bytes::from(k), Bytes::from(v)))
        );
        let at_25 =
            block_on(scan(&engine, &range, ts(25), &ScanOptions { limit: 2, reverse: true, ..Default::default() }))
                .expect("scan");
        let names: Vec<_> = at_25.iter().map(|e| (e.user_key.clone(), e.value.clone())).collect();
        assert_eq!(names, [("{t}d", "{t}d2"), ("{t}c", "{t}c2")].map(|(k, v)| (Bytes::from(k), Bytes::from(v))));
        let resumed = block_on(scan(&engine, &range.after(&found[0].data_key), ts(50), &forward)).expect("scan");
        assert_eq!(resumed.len(), 2);
    }

    #[test]
    fn commit_ts_rule_stays_above_reads() {
        let max_ts = MaxTs::default();
        max_ts.observe(ts(50));
        max_ts.observe(ts(40));
        max_ts.observe(TimeStamp::MAX);
        assert_eq!(max_ts.get(), ts(50));
        assert_eq!(one_pc_commit_ts(ts(10), max_ts.get()), ts(51));
        assert_eq!(one_pc_commit_ts(ts(60), max_ts.get()), ts(61));
    }
}
