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
//! - [`RowCache::fill`], after a read that missed, if the row fits without an eviction or else
//!   if the key also missed recently (see `admission`: keys read once are not worth pushing
//!   out a row that is read again). A read's result is the newest state only if
//!   no apply ran while it read (the apply `epoch` is unchanged), no applied commit is newer than
//!   its timestamp (a write can be applied before its proposer advances the TSO, and a read in
//!   that window reads below it), and it saw no lock (a row hides locks from readers).
//!
//! Invariant: a row is never older than what the engine holds for its key, so serving it at any
//! `read_ts >= valid_from` returns what the engine read would return. The cache is per core and
//! single-threaded; it starts empty at every open (replayed applies refill it).

use std::cell::{Cell, RefCell};
use std::ops::Range;

use bytes::Bytes;
use nokv_engine::sst::filter::stable_hash;
use nokv_engine::{Cf, WriteBatch, WriteOp};

use self::admission::Doorkeeper;
use self::small::SmallBytes;
use self::table::RowTable;
use crate::keys::{self, SLOT_LEN};
use crate::record::{Write, WriteType};
use crate::timestamp::TimeStamp;

/// Bytes counted per row besides its out-of-line key and value bytes: the table's entry (with
/// the inline bytes) and its slot (8 bytes at a load between 3/8 and 3/4: 16 on average).
const ROW_FIXED_BYTES: u32 = (std::mem::size_of::<table::Entry<Row>>() + 16) as u32;
/// Bytes counted per out-of-line key or value on top of its length: the allocator's rounding
/// and the shared buffer's header a reader's clone adds.
const OUT_OF_LINE_OVERHEAD_BYTES: u32 = 48;
/// Ops of an applied batch whose rows' memory is read together before their changes are made.
const WARM_WINDOW: usize = 16;
/// Values larger than this are not cached (they live in the value log and the block cache).
pub const MAX_CACHED_VALUE_BYTES: usize = 64 * 1024;
/// The rows are split by key hash into this many tables, each with its share of the budget, so
/// a table's slots double in a 64th of the time one table's would (a copy the core cannot
/// interrupt).
const SHARDS: usize = 64;

/// One key's newest state.
#[derive(Debug, Clone)]
struct Row {
    valid_from: TimeStamp,
    value: Option<SmallBytes>,
}

impl Row {
    /// The value a read at `read_ts` gets from this row, if the row is valid then.
    fn answer(&self, read_ts: TimeStamp) -> Option<Option<Bytes>> {
        (self.valid_from <= read_ts).then(|| self.value.as_ref().map(SmallBytes::to_bytes))
    }
}

/// What `key` and `row` are counted as against the budget.
fn weight_of(key: &[u8], row: &Row) -> u32 {
    let out_of_line = |len: usize| if len > small::INLINE_BYTES { len as u32 + OUT_OF_LINE_OVERHEAD_BYTES } else { 0 };
    ROW_FIXED_BYTES + out_of_line(key.len()) + row.value.as_ref().map_or(0, |value| out_of_line(value.len()))
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

/// The rows, in [`SHARDS`] tables chosen by key hash.
struct Rows {
    shards: Vec<RowTable<Row>>,
}

/// A key's hash: the top bits choose its table, the low 32 its place in the table.
#[derive(Debug, Clone, Copy)]
struct KeyHash(u64);

impl KeyHash {
    fn of(key: &[u8]) -> KeyHash {
        KeyHash(stable_hash(key))
    }

    fn shard(self) -> usize {
        (self.0 >> (64 - SHARDS.trailing_zeros())) as usize
    }

    fn in_shard(self) -> u32 {
        self.0 as u32
    }
}

impl Rows {
    fn new(capacity_bytes: u64) -> Rows {
        let bytes = capacity_bytes.div_ceil(SHARDS as u64);
        Rows { shards: (0..SHARDS).map(|_| RowTable::new(bytes, ROW_FIXED_BYTES)).collect() }
    }

    fn get(&self, key: &[u8]) -> Option<&Row> {
        let hash = KeyHash::of(key);
        self.shards[hash.shard()].get(key, hash.in_shard())
    }

    /// The rows of `keys`, their table memory read for all keys before any is looked up, so
    /// that the CPU waits for the misses of many keys at once.
    fn get_many<'a>(&'a self, keys: &[&[u8]]) -> Vec<Option<&'a Row>> {
        let hashes: Vec<KeyHash> = keys.iter().map(|key| KeyHash::of(key)).collect();
        for &hash in &hashes {
            self.warm(hash);
        }
        keys.iter().zip(&hashes).map(|(key, hash)| self.shards[hash.shard()].get(key, hash.in_shard())).collect()
    }

    /// Sets `key`'s row to `value` from `valid_from` on, unless the key's row is newer (applied
    /// out of timestamp order): that row goes, and the engine decides which version wins. A key
    /// that has a row keeps its slot and key copy, and its value's buffer when the new value has
    /// the same length and no reader holds the old one (an overwrite then neither allocates nor
    /// frees).
    fn set_unless_newer(&mut self, key: &[u8], hash: KeyHash, valid_from: TimeStamp, value: Option<&[u8]>) {
        let shard = &mut self.shards[hash.shard()];
        if let Some(existing) = shard.get_mut(key, hash.in_shard()).filter(|row| row.valid_from <= valid_from)
            && let (Some(old), Some(new)) = (&mut existing.value, value)
            && old.overwrite(new)
        {
            existing.valid_from = valid_from;
            return;
        }
        let row = Row { valid_from, value: value.map(SmallBytes::copy_from) };
        let weight = weight_of(key, &row);
        shard.upsert(key, hash.in_shard(), row, weight, |existing| existing.valid_from <= valid_from);
    }

    /// Inserts `key`'s row; `admitted` false keeps it out unless it fits without an eviction.
    fn insert(&mut self, key: &[u8], row: Row, admitted: bool) {
        let hash = KeyHash::of(key);
        let weight = weight_of(key, &row);
        let shard = &mut self.shards[hash.shard()];
        if admitted || shard.has_room_for(weight) {
            shard.insert(key, hash.in_shard(), row, weight);
        }
    }

    /// Reads the memory a change of the row of a key with this hash will touch (see
    /// [`RowTable::warm`]).
    fn warm(&self, hash: KeyHash) {
        self.shards[hash.shard()].warm(hash.in_shard());
    }

    fn remove(&mut self, key: &[u8], hash: KeyHash) {
        self.shards[hash.shard()].remove(key, hash.in_shard());
    }

    fn clear(&mut self) {
        self.shards.iter_mut().for_each(RowTable::clear);
    }

    fn len(&self) -> usize {
        self.shards.iter().map(RowTable::len).sum()
    }

    fn weight(&self) -> u64 {
        self.shards.iter().map(RowTable::weight).sum()
    }
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
        let items = (capacity_bytes / u64::from(ROW_FIXED_BYTES)).max(1) as usize;
        let rows = (capacity_bytes > 0).then(|| RefCell::new(Rows::new(capacity_bytes)));
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
        let found = self.rows.as_ref().and_then(|rows| rows.borrow().get(user_key)?.answer(read_ts));
        let counter = if found.is_some() { &self.hits } else { &self.misses };
        counter.set(counter.get() + 1);
        found
    }

    /// [`RowCache::get`] for many keys, `keys[i]` read at `read_ts[i]` (a pipelined run of
    /// reads, whose table lookups then wait for their memory together), without counting
    /// misses: a key this does not answer goes on to [`RowCache::get`], which counts it.
    pub fn get_many_if_cached(&self, keys: &[&[u8]], read_ts: &[TimeStamp]) -> Vec<Option<Option<Bytes>>> {
        let Some(rows) = &self.rows else { return vec![None; keys.len()] };
        let rows = rows.borrow();
        let found_rows = rows.get_many(keys);
        // The readers decode each value's header next: read the out-of-line ones together.
        found_rows.iter().flatten().filter_map(|row| row.value.as_ref()).for_each(SmallBytes::warm);
        let found: Vec<Option<Option<Bytes>>> =
            found_rows.into_iter().zip(read_ts).map(|(row, &read_ts)| row?.answer(read_ts)).collect();
        self.hits.set(self.hits.get() + found.iter().filter(|found| found.is_some()).count() as u64);
        found
    }

    /// Taken before a read at `read_ts` that missed; see [`RowCache::fill`].
    pub fn ticket(&self, read_ts: TimeStamp) -> FillTicket {
        FillTicket { epoch: self.epoch.get(), read_ts }
    }

    /// Offers what a read found for `user_key` (see the module doc for when it is kept).
    pub fn fill(&self, user_key: &[u8], ticket: FillTicket, value: Option<Bytes>, lock_seen: bool) {
        let Some(rows) = &self.rows else { return };
        let admitted = self.doorkeeper.borrow_mut().admit(user_key);
        let current = ticket.epoch == self.epoch.get() && ticket.read_ts >= self.max_applied_ts.get();
        if !current || lock_seen || value.as_ref().is_some_and(|v| v.len() > MAX_CACHED_VALUE_BYTES) {
            return;
        }
        let row = Row { valid_from: ticket.read_ts, value: value.as_deref().map(SmallBytes::copy_from) };
        rows.borrow_mut().insert(user_key, row, admitted);
    }

    /// Brings the rows up to date with a batch the state machine has just applied.
    pub fn observe(&self, batch: &WriteBatch) {
        self.epoch.set(self.epoch.get() + 1);
        let Some(rows) = &self.rows else { return };
        let mut rows = rows.borrow_mut();
        let ops = batch.ops();
        let mut changes = Changes { list: Vec::with_capacity(WARM_WINDOW), keys: Vec::new() };
        for first in (0..ops.len()).step_by(WARM_WINDOW) {
            // A window's changes are worked out first and their rows' memory read for all of
            // them, so that the misses overlap; then the changes are made in order.
            for (index, op) in ops.iter().enumerate().skip(first).take(WARM_WINDOW) {
                self.changes_of(batch, index, op, &mut changes);
            }
            for change in &changes.list {
                if let Change::Set(_, hash, ..) | Change::Remove(_, hash) = change {
                    rows.warm(*hash);
                }
            }
            for change in changes.list.drain(..) {
                match change {
                    Change::Set(key, hash, valid_from, value) => {
                        rows.set_unless_newer(&changes.keys[key], hash, valid_from, value.as_deref())
                    }
                    Change::Remove(key, hash) => rows.remove(&changes.keys[key], hash),
                    Change::Clear => rows.clear(),
                }
            }
            changes.keys.clear();
        }
    }

    /// The changes op `index` of `batch` makes to the rows.
    fn changes_of(&self, batch: &WriteBatch, index: usize, op: &WriteOp, changes: &mut Changes) {
        match op {
            WriteOp::Put { cf: Cf::Write, key, value } => self.write_changes(batch, index, key, value, changes),
            WriteOp::Put { cf: Cf::Lock, key, .. }
            | WriteOp::Delete { cf: Cf::Lock | Cf::Write, key }
            | WriteOp::Delete { cf: Cf::Default, key } => changes.remove_rows_of(key),
            WriteOp::DeleteRange { .. } => changes.list.push(Change::Clear),
            WriteOp::Put { .. } | WriteOp::Delete { .. } => {}
        }
    }

    /// The change a Write CF record makes (`at`: its op's place in the batch).
    fn write_changes(&self, batch: &WriteBatch, at: usize, key: &[u8], value: &Bytes, changes: &mut Changes) {
        let (Ok((data_key, commit_ts)), Ok(write)) = (keys::split_ts(key), Write::decode_shared(value)) else {
            changes.remove_rows_of(key);
            return;
        };
        self.max_applied_ts.set(self.max_applied_ts.get().max(commit_ts));
        let Some(user_key) = changes.push_user_key(data_key) else { return };
        let hash = KeyHash::of(&changes.keys[user_key.clone()]);
        let value = match write.write_type {
            WriteType::Lock | WriteType::Rollback => return,
            WriteType::Delete => None,
            WriteType::Put => match write.short_value.or_else(|| default_value(batch, at, data_key, write.start_ts)) {
                Some(value) if value.len() <= MAX_CACHED_VALUE_BYTES => Some(value),
                _ => {
                    changes.list.push(Change::Remove(user_key, hash));
                    return;
                }
            },
        };
        changes.list.push(Change::Set(user_key, hash, commit_ts, value));
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

/// One change an applied op makes to the rows: a user key's row set (valid from a commit_ts, to
/// a value of the batch, copied when it is set) or removed, or all rows dropped. Keys are
/// ranges of [`Changes::keys`].
enum Change {
    Set(Range<usize>, KeyHash, TimeStamp, Option<Bytes>),
    Remove(Range<usize>, KeyHash),
    Clear,
}

/// The changes of a window of ops, with their user keys side by side in one buffer (an
/// allocation per key was 0.5% of SET 16 B -P16's samples).
struct Changes {
    list: Vec<Change>,
    keys: Vec<u8>,
}

impl Changes {
    /// Appends the user key of `data_key`, if it is a data key, and returns its range.
    fn push_user_key(&mut self, data_key: &[u8]) -> Option<Range<usize>> {
        let start = self.keys.len();
        let decoded = data_key.get(SLOT_LEN..).map(|encoded| keys::decode_memcomparable_into(encoded, &mut self.keys));
        match decoded {
            Some(Ok([])) => Some(start..self.keys.len()),
            _ => {
                self.keys.truncate(start);
                None
            }
        }
    }

    /// Removes the row of the key a Lock/Write/Default CF key belongs to (a Lock CF key is a
    /// data key; the others carry a timestamp suffix).
    fn remove_rows_of(&mut self, key: &[u8]) {
        let data_key = keys::split_ts(key).map(|(data_key, _)| data_key).ok();
        for candidate in [Some(key), data_key].into_iter().flatten() {
            if let Some(user_key) = self.push_user_key(candidate) {
                let hash = KeyHash::of(&self.keys[user_key.clone()]);
                self.list.push(Change::Remove(user_key, hash));
            }
        }
    }
}

/// The Default CF value a Put record at `start_ts` points to, if the batch carries it. A 1PC
/// batch puts a value just before its Write CF record (op `index`), so that op is tried first:
/// a merged raft entry holds hundreds of writes, and searching the whole batch for each was
/// quadratic.
fn default_value(batch: &WriteBatch, index: usize, data_key: &[u8], start_ts: TimeStamp) -> Option<Bytes> {
    let wanted = |key: &[u8]| keys::split_ts(key).is_ok_and(|found| found == (data_key, start_ts));
    let ops = batch.ops();
    let previous = index.checked_sub(1).and_then(|previous| ops.get(previous));
    previous.into_iter().chain(ops).find_map(|op| match op {
        WriteOp::Put { cf: Cf::Default, key, value } if wanted(key) => Some(value.clone()),
        _ => None,
    })
}

mod admission;
mod small;
mod table;
#[cfg(test)]
mod tests;
