//! The row cache: the newest committed value of recently used keys, so that a point read is one
//! hash lookup instead of a Lock CF lookup, a Write CF seek and maybe a Default CF lookup.
//!
//! A row says "from `valid_from` on, until the next apply that touches the key, the key's
//! visible value is `value`" (`None`: the key has no value). A read at `read_ts` may use a row
//! only when `valid_from <= read_ts`.
//!
//! Rows come from two places:
//! - [`RowCache::observe`], called for every batch the state machine applies, in apply order.
//!   A Write CF Put/Delete record sets the key's row (the value from the record's short value
//!   or from the Default CF put of the same batch; 1PC and commit batches carry both); anything
//!   else that could change what a reader sees (a Lock CF change, an engine delete of a Write CF
//!   record, a Put record whose value is not in the batch) drops the key's row; a range delete
//!   drops every row. Lock and Rollback records change no value and leave the row alone.
//! - [`RowCache::fill`], after a read that missed, if the key also missed recently (see
//!   `admission`: keys read once are not worth an insert). A read's result is the newest state only if
//!   no apply ran while it read (the apply `epoch` is unchanged), no applied commit is newer than
//!   its timestamp (a write can be applied before its proposer advances the TSO, and a read in
//!   that window reads below it), and it saw no lock (a row hides locks from readers).
//!
//! Invariant: a row is never older than what the engine holds for its key, so serving it at any
//! `read_ts >= valid_from` returns what the engine read would return. The cache is per core and
//! single-threaded; it starts empty at every open (replayed applies refill it).

use std::cell::{Cell, RefCell};

use bytes::Bytes;
use nokv_engine::sst::filter::stable_hash;
use nokv_engine::{Cf, WriteBatch, WriteOp};
use quick_cache::Weighter;
use quick_cache::unsync::Cache;

use self::admission::Doorkeeper;
use self::small::SmallBytes;
use crate::keys::{self, SLOT_LEN};
use crate::record::{Write, WriteType};
use crate::timestamp::TimeStamp;

/// Bytes counted per row on top of its key and value: quick-cache's slab entry (key and row
/// headers, links: 88 bytes), its hash table slot at the table's load factor (about 17) and the
/// allocator's rounding of the key and value allocations. Measured with heaptrack after loading
/// 1M keys x 100 B: 96 undercounted the rows' real memory by a third.
const ROW_OVERHEAD_BYTES: u64 = 128;
/// Smallest key plus value the table is sized for: with larger rows the budget is reached before
/// the table must grow (growing doubles its slab, which the weights do not count).
const SMALL_ROW_DATA_BYTES: u64 = 32;
/// Values larger than this are not cached (they live in the value log and the block cache).
pub const MAX_CACHED_VALUE_BYTES: usize = 64 * 1024;
/// The rows are split by key hash into this many caches, each with its share of the budget.
/// A cache's slab grows by doubling, a copy the core cannot interrupt: one 64 MiB cache of
/// small rows took 55 ms for its last doubling (`perf`, SET 16 B -P16), a client stall at
/// every growth. 64 caches make each doubling a 64th of that.
const SHARDS: usize = 64;

/// One key's newest state.
#[derive(Debug, Clone)]
struct Row {
    valid_from: TimeStamp,
    value: Option<SmallBytes>,
}

#[derive(Debug, Clone, Copy)]
struct RowWeighter;

impl Weighter<SmallBytes, Row> for RowWeighter {
    fn weight(&self, key: &SmallBytes, row: &Row) -> u64 {
        key.len() as u64 + row.value.as_ref().map_or(0, |v| v.len() as u64) + ROW_OVERHEAD_BYTES
    }
}

/// Hit and miss counts since open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RowCacheStats {
    /// Reads served from a row.
    pub hits: u64,
    /// Reads that went to the engine.
    pub misses: u64,
    /// Rows in the cache.
    pub rows: usize,
    /// Bytes the rows weigh.
    pub weight_bytes: u64,
}

/// A fill ticket: taken before a read that missed, redeemed with its result.
#[derive(Debug, Clone, Copy)]
pub struct FillTicket {
    epoch: u64,
    read_ts: TimeStamp,
}

/// The rows, in [`SHARDS`] caches chosen by key hash.
struct Rows {
    shards: Vec<Cache<SmallBytes, Row, RowWeighter>>,
}

impl Rows {
    fn new(items: usize, capacity_bytes: u64) -> Rows {
        let items = items.div_ceil(SHARDS);
        let bytes = capacity_bytes.div_ceil(SHARDS as u64);
        Rows { shards: (0..SHARDS).map(|_| Cache::with_weighter(items, bytes, RowWeighter)).collect() }
    }

    fn shard(&self, key: &[u8]) -> &Cache<SmallBytes, Row, RowWeighter> {
        &self.shards[shard_of(key)]
    }

    fn shard_mut(&mut self, key: &[u8]) -> &mut Cache<SmallBytes, Row, RowWeighter> {
        &mut self.shards[shard_of(key)]
    }

    fn get(&self, key: &[u8]) -> Option<&Row> {
        self.shard(key).get(key)
    }

    /// Sets `key`'s row to `row`, unless the key's row is newer (applied out of timestamp order):
    /// that row goes, and the engine decides which version wins. A key that has a row costs one
    /// hash lookup and keeps its key allocation (a SET used to peek, then insert a fresh key).
    fn set_unless_newer(&mut self, key: &[u8], row: Row) {
        let shard = self.shard_mut(key);
        let newer = match shard.peek_mut(key) {
            Some(mut existing) if existing.valid_from <= row.valid_from => {
                *existing = row;
                return;
            }
            Some(_) => true,
            None => false,
        };
        if newer {
            shard.remove(key);
        } else {
            shard.insert(SmallBytes::copy_from(key), row);
        }
    }

    fn insert(&mut self, key: SmallBytes, row: Row) {
        self.shard_mut(key.as_slice()).insert(key, row);
    }

    fn remove(&mut self, key: &[u8]) {
        self.shard_mut(key).remove(key);
    }

    fn clear(&mut self) {
        self.shards.iter_mut().for_each(Cache::clear);
    }

    fn len(&self) -> usize {
        self.shards.iter().map(Cache::len).sum()
    }

    fn weight(&self) -> u64 {
        self.shards.iter().map(Cache::weight).sum()
    }
}

fn shard_of(key: &[u8]) -> usize {
    (stable_hash(key) % SHARDS as u64) as usize
}

/// The row cache of one core. With a capacity of 0 it holds nothing.
pub struct RowCache {
    rows: Option<RefCell<Rows>>,
    /// Which missed keys a fill may cache.
    doorkeeper: RefCell<Doorkeeper>,
    /// Bumped by every observed batch.
    epoch: Cell<u64>,
    /// The largest commit_ts observed.
    max_applied_ts: Cell<TimeStamp>,
    hits: Cell<u64>,
    misses: Cell<u64>,
}

impl std::fmt::Debug for RowCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RowCache").field("stats", &self.stats()).finish()
    }
}

impl RowCache {
    /// A cache weighing at most `capacity_bytes`.
    pub fn new(capacity_bytes: u64) -> RowCache {
        let items = (capacity_bytes / (ROW_OVERHEAD_BYTES + SMALL_ROW_DATA_BYTES)).max(1) as usize;
        let rows = (capacity_bytes > 0).then(|| RefCell::new(Rows::new(items, capacity_bytes)));
        RowCache {
            rows,
            doorkeeper: RefCell::new(Doorkeeper::new(items)),
            epoch: Cell::new(0),
            max_applied_ts: Cell::new(TimeStamp::ZERO),
            hits: Cell::new(0),
            misses: Cell::new(0),
        }
    }

    /// The value of `user_key` at `read_ts` if a row answers it: `Some(None)` means "no value".
    pub fn get(&self, user_key: &[u8], read_ts: TimeStamp) -> Option<Option<Bytes>> {
        let found = self.get_if_cached(user_key, read_ts);
        if found.is_none() {
            self.misses.set(self.misses.get() + 1);
        }
        found
    }

    /// Like [`RowCache::get`], but a miss is not counted: for a read that, when this finds
    /// nothing, goes on to [`RowCache::get`] (which counts it).
    pub fn get_if_cached(&self, user_key: &[u8], read_ts: TimeStamp) -> Option<Option<Bytes>> {
        let found = self.rows.as_ref().and_then(|rows| {
            let rows = rows.borrow();
            let row = rows.get(user_key)?;
            (row.valid_from <= read_ts).then(|| row.value.as_ref().map(SmallBytes::to_bytes))
        })?;
        self.hits.set(self.hits.get() + 1);
        Some(found)
    }

    /// Taken before a read at `read_ts` that missed; see [`RowCache::fill`].
    pub fn ticket(&self, read_ts: TimeStamp) -> FillTicket {
        FillTicket { epoch: self.epoch.get(), read_ts }
    }

    /// Offers what a read found for `user_key` (see the module doc for when it is kept).
    pub fn fill(&self, user_key: &[u8], ticket: FillTicket, value: Option<Bytes>, lock_seen: bool) {
        let Some(rows) = &self.rows else { return };
        if !self.doorkeeper.borrow_mut().admit(user_key) {
            return;
        }
        let current = ticket.epoch == self.epoch.get() && ticket.read_ts >= self.max_applied_ts.get();
        if !current || lock_seen || value.as_ref().is_some_and(|v| v.len() > MAX_CACHED_VALUE_BYTES) {
            return;
        }
        let row = Row { valid_from: ticket.read_ts, value: value.as_deref().map(SmallBytes::copy_from) };
        rows.borrow_mut().insert(SmallBytes::copy_from(user_key), row);
    }

    /// Brings the rows up to date with a batch the state machine has just applied.
    pub fn observe(&self, batch: &WriteBatch) {
        self.epoch.set(self.epoch.get() + 1);
        let Some(rows) = &self.rows else { return };
        let mut rows = rows.borrow_mut();
        for (index, op) in batch.ops().iter().enumerate() {
            match op {
                WriteOp::Put { cf: Cf::Write, key, value } => self.observe_write(&mut rows, batch, index, key, value),
                WriteOp::Put { cf: Cf::Lock, key, .. }
                | WriteOp::Delete { cf: Cf::Lock | Cf::Write, key }
                | WriteOp::Delete { cf: Cf::Default, key } => drop_row(&mut rows, key),
                WriteOp::DeleteRange { .. } => rows.clear(),
                WriteOp::Put { .. } | WriteOp::Delete { .. } => {}
            }
        }
    }

    /// `at`: the Write CF op's place in the batch.
    fn observe_write(&self, rows: &mut Rows, batch: &WriteBatch, at: usize, key: &[u8], value: &[u8]) {
        let (Ok((data_key, commit_ts)), Ok(write)) = (keys::split_ts(key), Write::decode(value)) else {
            drop_row(rows, key);
            return;
        };
        self.max_applied_ts.set(self.max_applied_ts.get().max(commit_ts));
        let Some(user_key) = user_key_of(data_key) else { return };
        let value = match write.write_type {
            WriteType::Lock | WriteType::Rollback => return,
            WriteType::Delete => None,
            WriteType::Put => match write.short_value.or_else(|| default_value(batch, at, data_key, write.start_ts)) {
                Some(value) if value.len() <= MAX_CACHED_VALUE_BYTES => Some(SmallBytes::copy_from(&value)),
                _ => {
                    rows.remove(&user_key);
                    return;
                }
            },
        };
        rows.set_unless_newer(&user_key, Row { valid_from: commit_ts, value });
    }

    /// Forgets every row (after an apply that failed half way).
    pub fn clear(&self) {
        self.epoch.set(self.epoch.get() + 1);
        if let Some(rows) = &self.rows {
            rows.borrow_mut().clear();
        }
    }

    /// Hits, misses and size.
    pub fn stats(&self) -> RowCacheStats {
        let (rows, weight_bytes) =
            self.rows.as_ref().map_or((0, 0), |rows| (rows.borrow().len(), rows.borrow().weight()));
        RowCacheStats { hits: self.hits.get(), misses: self.misses.get(), rows, weight_bytes }
    }
}

/// Drops the row of the key a Lock/Write/Default CF key belongs to (a Lock CF key is a data key;
/// the others carry a timestamp suffix).
fn drop_row(rows: &mut Rows, key: &[u8]) {
    let data_key = keys::split_ts(key).map(|(data_key, _)| data_key).ok();
    for candidate in [Some(key), data_key].into_iter().flatten() {
        if let Some(user_key) = user_key_of(candidate) {
            rows.remove(&user_key);
        }
    }
}

/// The user key of a data key, if it is one.
fn user_key_of(data_key: &[u8]) -> Option<Vec<u8>> {
    let encoded = data_key.get(SLOT_LEN..)?;
    match keys::decode_memcomparable(encoded) {
        Ok((user_key, [])) => Some(user_key),
        _ => None,
    }
}

/// The Default CF value a Put record at `start_ts` points to, if the batch carries it. A 1PC
/// batch puts a value just before its Write CF record (op `index`), so that op is tried first:
/// a merged raft entry holds hundreds of writes, and searching the whole batch for each was
/// quadratic.
fn default_value(batch: &WriteBatch, index: usize, data_key: &[u8], start_ts: TimeStamp) -> Option<Bytes> {
    let wanted = keys::with_ts(data_key, start_ts);
    let ops = batch.ops();
    let previous = index.checked_sub(1).and_then(|previous| ops.get(previous));
    previous.into_iter().chain(ops).find_map(|op| match op {
        WriteOp::Put { cf: Cf::Default, key, value } if key.as_ref() == wanted.as_slice() => Some(value.clone()),
        _ => None,
    })
}

mod admission;
mod small;
#[cfg(test)]
mod tests;
