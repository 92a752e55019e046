//! Lock and Write records, byte for byte in TiKV's formats (`txn_types::{Lock, Write}`), so the
//! layout is one that has been studied and fuzzed for years.
//!
//! Lock record (Lock CF, key `data_key`):
//!
//! ```text
//! | u8 type 'P'|'D'|'L'|'S' | compact_bytes primary | var_u64 start_ts | var_u64 ttl_ms |
//! then optional tagged fields, written only when not default, in this order:
//! | 'v' u8 len value[len]            short value (<= 255 B)
//! | 'f' u64 BE for_update_ts         pessimistic transactions
//! | 't' u64 BE txn_size
//! | 'c' u64 BE min_commit_ts
//! | 'a' var_u64 n, n x compact_bytes async commit; the secondaries (on the primary lock only)
//! | 'r' var_u64 n, n x u64 BE        rollback_ts that collided with this lock
//! | 'l' u64 BE ts, var_u64 versions  last_change (skip LOCK/ROLLBACK records on read)
//! | 's' var_u64 txn_source
//! ```
//!
//! Write record (Write CF, key `data_key | !commit_ts`; a rollback is keyed at `!start_ts`):
//!
//! ```text
//! | u8 type 'P'|'D'|'L'|'R' | var_u64 start_ts |
//! | 'v' u8 len value[len]            short value; on a Rollback, "p" marks it protected
//! | 'R'                              has_overlapped_rollback
//! | 'F' u64 BE gc_fence
//! | 'l' u64 BE ts, var_u64 versions  last_change
//! | 'S' var_u64 txn_source
//! ```
//!
//! `var_u64` is LEB128; `compact_bytes` is a zigzag LEB128 length (TiKV's `encode_var_i64`)
//! followed by the bytes; `u64 BE` is big-endian. Format version: TiKV's, unversioned; a new
//! field would be a new tag. Decoders never panic: malformed or unknown input is `Corruption`.

use bytes::Bytes;
use nokv_engine::codec::{Reader, put_varint};

use crate::error::{LockInfo, Result, TxnError};
use crate::timestamp::TimeStamp;

/// Values at most this long are stored inside the Write (or Lock) record instead of the
/// Default CF.
pub const SHORT_VALUE_MAX_LEN: usize = 255;

/// The short value of a protected rollback (TiKV's `PROTECTED_ROLLBACK_SHORT_VALUE`).
pub const PROTECTED_ROLLBACK_SHORT_VALUE: &[u8] = b"p";

const SHORT_VALUE_PREFIX: u8 = b'v';
const FOR_UPDATE_TS_PREFIX: u8 = b'f';
const TXN_SIZE_PREFIX: u8 = b't';
const MIN_COMMIT_TS_PREFIX: u8 = b'c';
const ASYNC_COMMIT_PREFIX: u8 = b'a';
const ROLLBACK_TS_PREFIX: u8 = b'r';
const LAST_CHANGE_PREFIX: u8 = b'l';
const LOCK_TXN_SOURCE_PREFIX: u8 = b's';
const OVERLAPPED_ROLLBACK_PREFIX: u8 = b'R';
const GC_FENCE_PREFIX: u8 = b'F';
const WRITE_TXN_SOURCE_PREFIX: u8 = b'S';

/// What a prewritten key will become.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LockType {
    /// Set the key's value.
    Put,
    /// Delete the key.
    Delete,
    /// A read lock: the key's value is unchanged (SELECT FOR UPDATE, WATCH in MULTI).
    Lock,
    /// A pessimistic lock, not yet prewritten.
    Pessimistic,
}

impl LockType {
    fn to_u8(self) -> u8 {
        match self {
            LockType::Put => b'P',
            LockType::Delete => b'D',
            LockType::Lock => b'L',
            LockType::Pessimistic => b'S',
        }
    }

    fn from_u8(byte: u8) -> Option<LockType> {
        match byte {
            b'P' => Some(LockType::Put),
            b'D' => Some(LockType::Delete),
            b'L' => Some(LockType::Lock),
            b'S' => Some(LockType::Pessimistic),
            _ => None,
        }
    }
}

/// What a write record records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WriteType {
    /// The key got a value.
    Put,
    /// The key was deleted.
    Delete,
    /// A committed read lock: no change.
    Lock,
    /// The transaction at `start_ts` was rolled back.
    Rollback,
}

impl WriteType {
    fn to_u8(self) -> u8 {
        match self {
            WriteType::Put => b'P',
            WriteType::Delete => b'D',
            WriteType::Lock => b'L',
            WriteType::Rollback => b'R',
        }
    }

    fn from_u8(byte: u8) -> Option<WriteType> {
        match byte {
            b'P' => Some(WriteType::Put),
            b'D' => Some(WriteType::Delete),
            b'L' => Some(WriteType::Lock),
            b'R' => Some(WriteType::Rollback),
            _ => None,
        }
    }

    /// The write type a committed lock becomes (`None` for a pessimistic lock, which never
    /// commits without a prewrite).
    pub fn from_lock_type(lock_type: LockType) -> Option<WriteType> {
        match lock_type {
            LockType::Put => Some(WriteType::Put),
            LockType::Delete => Some(WriteType::Delete),
            LockType::Lock => Some(WriteType::Lock),
            LockType::Pessimistic => None,
        }
    }
}

/// TiKV's `last_change`: where the last Put/Delete before this record is, so readers can skip
/// runs of Lock/Rollback records. Zero means unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LastChange {
    /// The commit_ts of the last data-changing version.
    pub ts: TimeStamp,
    /// How many versions lie between.
    pub versions: u64,
}

/// A Percolator lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lock {
    /// What the key becomes at commit.
    pub lock_type: LockType,
    /// The transaction's primary key (user key).
    pub primary: Bytes,
    /// The transaction's start_ts.
    pub start_ts: TimeStamp,
    /// Time to live from `start_ts.physical()`, in milliseconds.
    pub ttl_ms: u64,
    /// The value, when at most [`SHORT_VALUE_MAX_LEN`] bytes (else it is in the Default CF).
    pub short_value: Option<Bytes>,
    /// Pessimistic transactions: the for_update_ts (zero otherwise).
    pub for_update_ts: TimeStamp,
    /// Keys in the transaction (zero when unknown).
    pub txn_size: u64,
    /// The transaction cannot commit below this (zero when unset).
    pub min_commit_ts: TimeStamp,
    /// The transaction uses async commit.
    pub use_async_commit: bool,
    /// Async commit: every other key of the transaction (on the primary lock only).
    pub secondaries: Vec<Bytes>,
    /// Rollbacks of other transactions at these ts collided with this lock.
    pub rollback_ts: Vec<TimeStamp>,
    /// See [`LastChange`].
    pub last_change: LastChange,
    /// Where the transaction came from (CDC filtering); zero by default.
    pub txn_source: u64,
}

impl Lock {
    /// A lock with every optional field at its default.
    pub fn new(lock_type: LockType, primary: impl Into<Bytes>, start_ts: TimeStamp, ttl_ms: u64) -> Lock {
        Lock {
            lock_type,
            primary: primary.into(),
            start_ts,
            ttl_ms,
            short_value: None,
            for_update_ts: TimeStamp::ZERO,
            txn_size: 0,
            min_commit_ts: TimeStamp::ZERO,
            use_async_commit: false,
            secondaries: Vec::new(),
            rollback_ts: Vec::new(),
            last_change: LastChange::default(),
            txn_source: 0,
        }
    }

    /// Encodes the record.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(32 + self.primary.len() + self.short_value.as_ref().map_or(0, |v| v.len()));
        out.push(self.lock_type.to_u8());
        put_compact_bytes(&mut out, &self.primary);
        put_varint(&mut out, self.start_ts.into_inner());
        put_varint(&mut out, self.ttl_ms);
        if let Some(value) = &self.short_value {
            put_short_value(&mut out, [value, &[]]);
        }
        put_tagged_ts(&mut out, FOR_UPDATE_TS_PREFIX, self.for_update_ts);
        if self.txn_size > 0 {
            out.push(TXN_SIZE_PREFIX);
            put_u64_be(&mut out, self.txn_size);
        }
        put_tagged_ts(&mut out, MIN_COMMIT_TS_PREFIX, self.min_commit_ts);
        if self.use_async_commit {
            out.push(ASYNC_COMMIT_PREFIX);
            put_varint(&mut out, self.secondaries.len() as u64);
            self.secondaries.iter().for_each(|key| put_compact_bytes(&mut out, key));
        }
        if !self.rollback_ts.is_empty() {
            out.push(ROLLBACK_TS_PREFIX);
            put_varint(&mut out, self.rollback_ts.len() as u64);
            self.rollback_ts.iter().for_each(|ts| put_u64_be(&mut out, ts.into_inner()));
        }
        put_last_change(&mut out, self.last_change);
        if self.txn_source != 0 {
            out.push(LOCK_TXN_SOURCE_PREFIX);
            put_varint(&mut out, self.txn_source);
        }
        out
    }

    /// Decodes a record; malformed input is `Corruption`.
    pub fn decode(input: &[u8]) -> Result<Lock> {
        let corrupt = || TxnError::corruption("lock record", "truncated or malformed");
        let mut reader = Reader::new(input);
        let lock_type = reader.u8().and_then(LockType::from_u8).ok_or_else(corrupt)?;
        let primary = compact_bytes(&mut reader).ok_or_else(corrupt)?;
        let start_ts = TimeStamp::new(reader.varint().ok_or_else(corrupt)?);
        let ttl_ms = reader.varint().ok_or_else(corrupt)?;
        let mut lock = Lock::new(lock_type, primary, start_ts, ttl_ms);
        while let Some(tag) = reader.u8() {
            lock.decode_field(tag, &mut reader).ok_or_else(corrupt)?;
        }
        Ok(lock)
    }

    fn decode_field(&mut self, tag: u8, reader: &mut Reader<'_>) -> Option<()> {
        match tag {
            SHORT_VALUE_PREFIX => self.short_value = Some(Bytes::copy_from_slice(short_value(reader)?)),
            FOR_UPDATE_TS_PREFIX => self.for_update_ts = TimeStamp::new(u64_be(reader)?),
            TXN_SIZE_PREFIX => self.txn_size = u64_be(reader)?,
            MIN_COMMIT_TS_PREFIX => self.min_commit_ts = TimeStamp::new(u64_be(reader)?),
            ASYNC_COMMIT_PREFIX => {
                self.use_async_commit = true;
                let count = bounded_count(reader)?;
                self.secondaries = (0..count).map(|_| compact_bytes(reader)).collect::<Option<_>>()?;
            }
            ROLLBACK_TS_PREFIX => {
                let count = bounded_count(reader)?;
                self.rollback_ts = (0..count).map(|_| u64_be(reader).map(TimeStamp::new)).collect::<Option<_>>()?;
            }
            LAST_CHANGE_PREFIX => self.last_change = last_change(reader)?,
            LOCK_TXN_SOURCE_PREFIX => self.txn_source = reader.varint()?,
            _ => return None,
        }
        Some(())
    }

    /// What a blocked reader or writer reports about this lock on `key`.
    pub fn to_lock_info(&self, key: &[u8]) -> LockInfo {
        LockInfo {
            key: Bytes::copy_from_slice(key),
            primary: self.primary.clone(),
            start_ts: self.start_ts,
            ttl_ms: self.ttl_ms,
            lock_type: self.lock_type,
            min_commit_ts: self.min_commit_ts,
            txn_size: self.txn_size,
            use_async_commit: self.use_async_commit,
        }
    }

    /// TiKV's `check_ts_conflict_si`: does this lock on `key` block a snapshot read at `read_ts`?
    /// It does not when it is newer than the read, is a read or pessimistic lock, cannot commit
    /// at or below the read (`min_commit_ts > read_ts`), or its transaction is in `bypass_locks`
    /// (the reader resolved it). Reading the newest committed value of a primary (`read_ts ==
    /// MAX`) of a non-async-commit transaction is also allowed: its commit will land above.
    pub fn blocks_read(&self, key: &[u8], read_ts: TimeStamp, bypass_locks: &[TimeStamp]) -> bool {
        if self.start_ts > read_ts || matches!(self.lock_type, LockType::Lock | LockType::Pessimistic) {
            return false;
        }
        if self.min_commit_ts > read_ts || bypass_locks.contains(&self.start_ts) {
            return false;
        }
        !(read_ts == TimeStamp::MAX && key == self.primary.as_ref() && !self.use_async_commit)
    }
}

/// A Percolator write (commit or rollback) record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Write {
    /// What the version records.
    pub write_type: WriteType,
    /// The start_ts of the transaction that wrote it.
    pub start_ts: TimeStamp,
    /// The value of a Put when at most [`SHORT_VALUE_MAX_LEN`] bytes; `"p"` on a protected
    /// rollback.
    pub short_value: Option<Bytes>,
    /// A rollback with the same ts as this commit was folded into it.
    pub has_overlapped_rollback: bool,
    /// TiKV's gc_fence (guards against stale reads after GC across region merges).
    pub gc_fence: Option<TimeStamp>,
    /// See [`LastChange`].
    pub last_change: LastChange,
    /// Where the transaction came from; zero by default.
    pub txn_source: u64,
}

impl Write {
    /// A record with every optional field at its default.
    pub fn new(write_type: WriteType, start_ts: TimeStamp, short_value: Option<Bytes>) -> Write {
        Write {
            write_type,
            start_ts,
            short_value,
            has_overlapped_rollback: false,
            gc_fence: None,
            last_change: LastChange::default(),
            txn_source: 0,
        }
    }

    /// A rollback record; a protected one is never collapsed (it keeps a late prewrite out).
    pub fn new_rollback(start_ts: TimeStamp, protected: bool) -> Write {
        let marker = protected.then(|| Bytes::from_static(PROTECTED_ROLLBACK_SHORT_VALUE));
        Write::new(WriteType::Rollback, start_ts, marker)
    }

    /// True for a protected rollback.
    pub fn is_protected_rollback(&self) -> bool {
        self.write_type == WriteType::Rollback && self.short_value.as_deref() == Some(PROTECTED_ROLLBACK_SHORT_VALUE)
    }

    /// True when the record changes the key's value (Put or Delete).
    pub fn changes_value(&self) -> bool {
        matches!(self.write_type, WriteType::Put | WriteType::Delete)
    }

    /// Encodes the record.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(16 + self.short_value.as_ref().map_or(0, |v| v.len()));
        let short_value = self.short_value.as_deref().map(|value| [value, &[][..]]);
        put_write_head(&mut out, self.write_type, self.start_ts, short_value);
        if self.has_overlapped_rollback {
            out.push(OVERLAPPED_ROLLBACK_PREFIX);
        }
        if let Some(fence) = self.gc_fence {
            out.push(GC_FENCE_PREFIX);
            put_u64_be(&mut out, fence.into_inner());
        }
        put_last_change(&mut out, self.last_change);
        if self.txn_source != 0 {
            out.push(WRITE_TXN_SOURCE_PREFIX);
            put_varint(&mut out, self.txn_source);
        }
        out
    }

    /// Appends the encoding of `Write::new(write_type, start_ts, short_value)` without building
    /// the record (which would take its own handle on the value); the short value in two parts.
    pub fn encode_new_into(
        out: &mut Vec<u8>,
        write_type: WriteType,
        start_ts: TimeStamp,
        short_value: Option<[&[u8]; 2]>,
    ) {
        // Every optional field of a new record is at its default, which encodes as nothing.
        put_write_head(out, write_type, start_ts, short_value);
    }

    /// Decodes a record into a copy of its short value; malformed input is `Corruption`.
    pub fn decode(input: &[u8]) -> Result<Write> {
        Write::decode_with(input, Bytes::copy_from_slice)
    }

    /// [`Write::decode`] whose short value is a slice of `input`: no allocation, and it keeps
    /// `input`'s buffer alive (for records read to be answered or copied at once).
    pub fn decode_shared(input: &Bytes) -> Result<Write> {
        Write::decode_with(input, |part| input.slice_ref(part))
    }

    fn decode_with(input: &[u8], to_bytes: impl Fn(&[u8]) -> Bytes) -> Result<Write> {
        let corrupt = || TxnError::corruption("write record", "truncated or malformed");
        let mut reader = Reader::new(input);
        let write_type = reader.u8().and_then(WriteType::from_u8).ok_or_else(corrupt)?;
        let start_ts = TimeStamp::new(reader.varint().ok_or_else(corrupt)?);
        let mut write = Write::new(write_type, start_ts, None);
        while let Some(tag) = reader.u8() {
            write.decode_field(tag, &mut reader, &to_bytes).ok_or_else(corrupt)?;
        }
        Ok(write)
    }

    fn decode_field(&mut self, tag: u8, reader: &mut Reader<'_>, to_bytes: impl Fn(&[u8]) -> Bytes) -> Option<()> {
        match tag {
            SHORT_VALUE_PREFIX => self.short_value = Some(to_bytes(short_value(reader)?)),
            OVERLAPPED_ROLLBACK_PREFIX => self.has_overlapped_rollback = true,
            GC_FENCE_PREFIX => self.gc_fence = Some(TimeStamp::new(u64_be(reader)?)),
            LAST_CHANGE_PREFIX => self.last_change = last_change(reader)?,
            WRITE_TXN_SOURCE_PREFIX => self.txn_source = reader.varint()?,
            _ => return None,
        }
        Some(())
    }
}

fn put_u64_be(out: &mut Vec<u8>, value: u64) {
    out.extend_from_slice(&value.to_be_bytes());
}

fn u64_be(reader: &mut Reader<'_>) -> Option<u64> {
    reader.bytes(8).map(|b| u64::from_be_bytes(b.try_into().expect("8 bytes")))
}

/// TiKV's `encode_compact_bytes`: zigzag varint length, then the bytes.
fn put_compact_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    put_varint(out, (bytes.len() as u64) << 1);
    out.extend_from_slice(bytes);
}

fn compact_bytes(reader: &mut Reader<'_>) -> Option<Bytes> {
    let zigzag = reader.varint()?;
    if zigzag & 1 == 1 {
        return None; // a negative length
    }
    let len = usize::try_from(zigzag >> 1).ok()?;
    reader.bytes(len).map(Bytes::copy_from_slice)
}

/// The fields every Write record starts with.
fn put_write_head(out: &mut Vec<u8>, write_type: WriteType, start_ts: TimeStamp, short_value: Option<[&[u8]; 2]>) {
    out.push(write_type.to_u8());
    put_varint(out, start_ts.into_inner());
    if let Some(parts) = short_value {
        put_short_value(out, parts);
    }
}

/// A short value given in parts, written as one.
fn put_short_value(out: &mut Vec<u8>, parts: [&[u8]; 2]) {
    let len = parts[0].len() + parts[1].len();
    assert!(len <= SHORT_VALUE_MAX_LEN, "short values fit in a u8 length");
    out.push(SHORT_VALUE_PREFIX);
    out.push(len as u8);
    parts.iter().for_each(|part| out.extend_from_slice(part));
}

fn short_value<'a>(reader: &mut Reader<'a>) -> Option<&'a [u8]> {
    let len = reader.u8()?;
    reader.bytes(usize::from(len))
}

fn put_tagged_ts(out: &mut Vec<u8>, tag: u8, ts: TimeStamp) {
    if !ts.is_zero() {
        out.push(tag);
        put_u64_be(out, ts.into_inner());
    }
}

fn put_last_change(out: &mut Vec<u8>, last_change: LastChange) {
    if !last_change.ts.is_zero() {
        out.push(LAST_CHANGE_PREFIX);
        put_u64_be(out, last_change.ts.into_inner());
        put_varint(out, last_change.versions);
    }
}

fn last_change(reader: &mut Reader<'_>) -> Option<LastChange> {
    let ts = TimeStamp::new(u64_be(reader)?);
    Some(LastChange { ts, versions: reader.varint()? })
}

/// A count read from input, rejected when it could not possibly fit in the remaining bytes
/// (so garbage cannot make the decoder allocate without bound).
fn bounded_count(reader: &mut Reader<'_>) -> Option<usize> {
    let count = usize::try_from(reader.varint()?).ok()?;
    (count <= reader.remaining().len()).then_some(count)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn write_matches_tikv_bytes() {
        let put = Write::new(WriteType::Put, TimeStamp::new(300), Some(Bytes::from_static(b"hi")));
        assert_eq!(put.encode(), [b'P', 0xAC, 0x02, b'v', 2, b'h', b'i']);
        assert_eq!(Write::new_rollback(TimeStamp::new(1), true).encode(), [b'R', 1, b'v', 1, b'p']);
        assert!(Write::decode(&[b'R', 1, b'v', 1, b'p']).expect("decode").is_protected_rollback());
    }

    #[test]
    fn lock_matches_tikv_bytes() {
        let mut lock = Lock::new(LockType::Put, Bytes::from_static(b"pk"), TimeStamp::new(5), 3000);
        lock.min_commit_ts = TimeStamp::new(6);
        let expected = [&[b'P', 4, b'p', b'k', 5, 0xB8, 0x17, b'c'][..], &6u64.to_be_bytes()].concat();
        assert_eq!(lock.encode(), expected);
    }

    #[test]
    fn decoders_reject_garbage() {
        assert!(Write::decode(&[]).is_err());
        assert!(Write::decode(&[b'X', 1]).is_err());
        assert!(Write::decode(&[b'P', 1, b'?']).is_err(), "unknown tag");
        assert!(Write::decode(&[b'P', 1, b'v', 9, 1]).is_err(), "short value overruns");
        assert!(Lock::decode(&[b'P', 3, b'x', 1, 1]).is_err(), "negative primary length");
        assert!(Lock::decode(&[b'P', 0, 1, 1, b'a', 0xFF, 0xFF, 0x7F]).is_err(), "huge count");
    }

    #[test]
    fn lock_conflict_rules() {
        let lock = Lock::new(LockType::Put, Bytes::from_static(b"pk"), TimeStamp::new(10), 100);
        assert!(lock.blocks_read(b"k", TimeStamp::new(10), &[]));
        assert!(!lock.blocks_read(b"k", TimeStamp::new(9), &[]), "newer lock");
        assert!(!lock.blocks_read(b"k", TimeStamp::new(20), &[TimeStamp::new(10)]), "bypassed");
        assert!(!lock.blocks_read(b"pk", TimeStamp::MAX, &[]), "latest read of a primary");
        let mut pushed = lock.clone();
        pushed.min_commit_ts = TimeStamp::new(21);
        assert!(!pushed.blocks_read(b"k", TimeStamp::new(20), &[]));
        let pessimistic = Lock::new(LockType::Pessimistic, Bytes::from_static(b"pk"), TimeStamp::new(1), 1);
        assert!(!pessimistic.blocks_read(b"k", TimeStamp::new(20), &[]));
    }

    fn bytes(max: usize) -> impl Strategy<Value = Bytes> {
        proptest::collection::vec(any::<u8>(), 0..max).prop_map(Bytes::from)
    }

    fn ts() -> impl Strategy<Value = TimeStamp> {
        any::<u64>().prop_map(TimeStamp::new)
    }

    prop_compose! {
        fn arb_lock()(lock_type in prop_oneof![Just(LockType::Put), Just(LockType::Delete), Just(LockType::Lock), Just(LockType::Pessimistic)],
                      primary in bytes(40), start_ts in ts(), ttl_ms in any::<u64>(),
                      short_value in proptest::option::of(bytes(256)), for_update_ts in ts(), txn_size in any::<u64>(),
                      min_commit_ts in ts(), use_async_commit in any::<bool>(), secondaries in proptest::collection::vec(bytes(20), 0..4),
                      rollback_ts in proptest::collection::vec(ts(), 0..3), last_change_ts in ts(), versions in any::<u64>(),
                      txn_source in any::<u64>()) -> Lock {
            let mut lock = Lock::new(lock_type, primary, start_ts, ttl_ms);
            lock.short_value = short_value;
            lock.for_update_ts = for_update_ts;
            lock.txn_size = txn_size;
            lock.min_commit_ts = min_commit_ts;
            lock.use_async_commit = use_async_commit;
            lock.secondaries = if use_async_commit { secondaries } else { Vec::new() };
            lock.rollback_ts = rollback_ts;
            lock.last_change = LastChange { ts: last_change_ts, versions: if last_change_ts.is_zero() { 0 } else { versions } };
            lock.txn_source = txn_source;
            lock
        }
    }

    prop_compose! {
        fn arb_write()(write_type in prop_oneof![Just(WriteType::Put), Just(WriteType::Delete), Just(WriteType::Lock), Just(WriteType::Rollback)],
                       start_ts in ts(), short_value in proptest::option::of(bytes(256)), overlapped in any::<bool>(),
                       gc_fence in proptest::option::of(ts()), last_change_ts in ts(), versions in any::<u64>(),
                       txn_source in any::<u64>()) -> Write {
            let mut write = Write::new(write_type, start_ts, short_value);
            write.has_overlapped_rollback = overlapped;
            write.gc_fence = gc_fence;
            write.last_change = LastChange { ts: last_change_ts, versions: if last_change_ts.is_zero() { 0 } else { versions } };
            write.txn_source = txn_source;
            write
        }
    }

    proptest! {
        #[test]
        fn lock_round_trips(lock in arb_lock()) {
            prop_assert_eq!(Lock::decode(&lock.encode()).expect("decode"), lock);
        }

        #[test]
        fn write_round_trips(write in arb_write()) {
            let encoded = Bytes::from(write.encode());
            let shared = Write::decode_shared(&encoded).expect("decode");
            if let Some(value) = shared.short_value.as_ref().filter(|value| !value.is_empty()) {
                prop_assert!(encoded.as_ptr_range().contains(&value.as_ptr()), "a slice of the input");
            }
            prop_assert_eq!(&shared, &write);
            prop_assert_eq!(Write::decode(&encoded).expect("decode"), write);
        }

        #[test]
        fn decoding_garbage_never_panics(input in proptest::collection::vec(any::<u8>(), 0..80)) {
            let _ = Lock::decode(&input);
            let _ = Write::decode(&input);
        }

        #[test]
        fn truncated_records_never_panic(lock in arb_lock(), cut in any::<prop::sample::Index>()) {
            let encoded = lock.encode();
            let _ = Lock::decode(&encoded[..cut.index(encoded.len() + 1)]);
        }
    }
}
