//! One region's raft log and raft state: raft-rs's [`raft::Storage`] over an in-memory entry
//! cache and the core's shared journal.
//!
//! # What lives where
//! The journal holds every entry and the region's small states durably (written by the ready
//! round, `crate::ready`); this module keeps the in-memory view raft-rs reads synchronously:
//!
//! ```text
//!   index:  .. truncated | truncated+1 ....... applied | applied+1 .............. last
//!           (compacted)  |  in the journal only         |  journal + entry cache
//!                        |  (term() via the journal's    |  (entries() served from memory)
//!                        |   in-memory index, no I/O)    |
//! ```
//!
//! Invariant: the cache holds every entry after the applied index, consecutive, ending at
//! `last_index`. raft-rs fetches committed entries for a ready with a context that cannot wait
//! (`GetEntriesFor::GenReady`), so they must be in memory; older entries are only needed to
//! catch up a lagging follower, a context that *can* wait: those reads return
//! `LogTemporarilyUnavailable`, are queued as [`FetchRequest`]s, read from the journal by the
//! next round and handed back through `RawNode::on_entries_fetched`.
//!
//! The bound of the cache is the bound on unapplied entries: a leader refuses proposals beyond
//! `max_uncommitted_size_bytes` of uncommitted log, and committed entries are applied in the same
//! round that commits them, so the cache holds at most about that many bytes per region (after a
//! restart, the entries between the state machine's flushed index and the log's end, which the
//! first round re-applies and evicts).
//!
//! # Journal layout of a region (format version 2)
//! ```text
//! entry  (journal Entries item)    payload = head | data, head = ENTRY_FORMAT | u8 entry type
//!                                            | varint context length | context; term and
//!                                            index are the journal's own
//!                                            (version 1 payloads, an eraftpb::Entry encoded
//!                                            with protobuf, still decode)
//! state  b"hard_state"             eraftpb::HardState, protobuf-encoded
//! state  b"conf_state"             eraftpb::ConfState, protobuf-encoded
//! state  b"truncated_state"        u8 version (1) | u64 LE index | u64 LE term
//! ```
//! The persisted `HardState::commit` may lag (the commit index a round learns after its write
//! is written with the next round's batch): on restart it is raised to the state machine's
//! applied index, and a single voter re-commits the rest of its log on election.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use bytes::Bytes;
use nokv_engine::codec::{self, Reader};
use nokv_engine::io::FileSystem;
use nokv_engine::journal::{Journal, JournalBatch, JournalEntry};
use raft::eraftpb::{ConfState, Entry, EntryType, HardState, Snapshot};
use raft::{GetEntriesContext, RaftState, StorageError};

use crate::error::{RaftError, Result};

/// State key of the raft hard state (term, vote, commit).
pub const HARD_STATE_KEY: &[u8] = b"hard_state";
/// State key of the membership.
pub const CONF_STATE_KEY: &[u8] = b"conf_state";
/// State key of the index and term of the last compacted entry.
pub const TRUNCATED_STATE_KEY: &[u8] = b"truncated_state";
/// First byte of an entry's journal payload. A version 1 payload is a protobuf-encoded `Entry`,
/// which starts with one of its field tags (0x08 to 0x32).
const ENTRY_FORMAT: u8 = 0xE2;
/// Version byte of the `truncated_state` value.
const TRUNCATED_STATE_VERSION: u8 = 1;

/// An entry read that raft-rs agreed to wait for.
#[derive(Debug)]
pub struct FetchRequest {
    /// First index wanted.
    pub low: u64,
    /// Raft's context, handed back through `RawNode::on_entries_fetched`.
    pub context: GetEntriesContext,
}

/// The in-memory view of a region's log. See the module doc.
struct LogState<F: FileSystem> {
    region_id: u64,
    journal: Rc<Journal<F>>,
    hard_state: HardState,
    conf_state: ConfState,
    truncated_index: u64,
    truncated_term: u64,
    last_index: u64,
    /// Consecutive entries ending at `last_index`.
    cache: VecDeque<Entry>,
    fetch_requests: Vec<FetchRequest>,
}

/// What `RegionStorage::load` found.
pub struct Loaded<F: FileSystem> {
    /// The storage, ready for `RawNode::new`.
    pub storage: RegionStorage<F>,
    /// The index raft starts applying after (`Config::applied`).
    pub applied_index: u64,
    /// State values `load` changed (bootstrap, repair) that must be written before use.
    pub states_to_write: Vec<(&'static [u8], Bytes)>,
}

/// raft-rs's storage of one region; cheap to clone (shared with the region's `RawNode`).
pub struct RegionStorage<F: FileSystem> {
    inner: Rc<RefCell<LogState<F>>>,
}

impl<F: FileSystem> Clone for RegionStorage<F> {
    fn clone(&self) -> Self {
        RegionStorage { inner: self.inner.clone() }
    }
}

impl<F: FileSystem> RegionStorage<F> {
    /// Loads a region from the journal, or bootstraps it as a one-voter group of `node_id`
    /// when the journal knows nothing of it. `state_machine_applied` is the state machine's
    /// durable applied index; raft re-delivers committed entries after it.
    pub async fn load(
        journal: Rc<Journal<F>>,
        region_id: u64,
        node_id: u64,
        state_machine_applied: u64,
    ) -> Result<Loaded<F>> {
        let mut states_to_write = Vec::new();
        let hard_state: HardState = decode_state(&journal, region_id, HARD_STATE_KEY)?.unwrap_or_default();
        let conf_state = match decode_state::<ConfState, F>(&journal, region_id, CONF_STATE_KEY)? {
            Some(conf_state) => conf_state,
            None => {
                let conf_state = bootstrap_conf_state(&journal, region_id, node_id)?;
                states_to_write.push((CONF_STATE_KEY, encode_message(&conf_state)));
                conf_state
            }
        };
        let (truncated_index, truncated_term) = read_truncated_state(&journal, region_id)?;
        let mut state = LogState {
            last_index: journal.last_index(region_id).unwrap_or(truncated_index).max(truncated_index),
            region_id,
            hard_state,
            conf_state,
            truncated_index,
            truncated_term,
            cache: VecDeque::new(),
            fetch_requests: Vec::new(),
            journal: journal.clone(),
        };
        state.check_first_index()?;
        let applied_index = state_machine_applied.max(truncated_index);
        if applied_index > state.last_index {
            state.skip_lost_tail(applied_index);
            states_to_write.push((TRUNCATED_STATE_KEY, state.encode_truncated_state()));
        }
        state.hard_state.commit = state.hard_state.commit.max(applied_index).min(state.last_index);
        state.cache = read_cached_entries(&journal, region_id, applied_index + 1, state.last_index + 1).await?;
        let storage = RegionStorage { inner: Rc::new(RefCell::new(state)) };
        Ok(Loaded { storage, applied_index, states_to_write })
    }

    /// Makes `entries` (a ready's new entries) visible to raft; entries at or below the last
    /// index replace that suffix (a raft conflict).
    pub fn append(&self, entries: &[Entry]) {
        self.inner.borrow_mut().append(entries);
    }

    /// Records a hard state from a ready.
    pub fn set_hard_state(&self, hard_state: &HardState) {
        self.inner.borrow_mut().hard_state = hard_state.clone();
    }

    /// Records a commit index learnt from a light ready.
    pub fn set_commit(&self, commit: u64) {
        self.inner.borrow_mut().hard_state.commit = commit;
    }

    /// Records a membership applied from a conf change.
    pub fn set_conf_state(&self, conf_state: ConfState) {
        self.inner.borrow_mut().conf_state = conf_state;
    }

    /// The hard state, encoded for the journal.
    pub fn encoded_hard_state(&self) -> Bytes {
        encode_message(&self.inner.borrow().hard_state)
    }

    /// The membership, encoded for the journal.
    pub fn encoded_conf_state(&self) -> Bytes {
        encode_message(&self.inner.borrow().conf_state)
    }

    /// Drops cached entries at or below `applied_index` (they stay in the journal).
    pub fn evict_applied(&self, applied_index: u64) {
        let mut state = self.inner.borrow_mut();
        while state.cache.front().is_some_and(|entry| entry.index <= applied_index) {
            state.cache.pop_front();
        }
    }

    /// Marks entries up to `index` as compacted; returns the encoded truncated state to persist.
    pub fn compact_to(&self, index: u64) -> Result<Bytes> {
        let mut state = self.inner.borrow_mut();
        if index <= state.truncated_index {
            return Ok(state.encode_truncated_state());
        }
        let term = state.term(index).map_err(RaftError::Raft)?;
        state.truncated_index = index;
        state.truncated_term = term;
        while state.cache.front().is_some_and(|entry| entry.index <= index) {
            state.cache.pop_front();
        }
        Ok(state.encode_truncated_state())
    }

    /// Takes the queued entry reads raft agreed to wait for.
    pub fn take_fetch_requests(&self) -> Vec<FetchRequest> {
        std::mem::take(&mut self.inner.borrow_mut().fetch_requests)
    }

    /// Reads entries `[low, first cached)` from the journal into the cache, so the retried
    /// `entries()` call of a fetch request is served from memory (the next eviction trims them).
    pub async fn prefetch(&self, low: u64) -> Result<()> {
        let (journal, region_id, high) = {
            let state = self.inner.borrow();
            (state.journal.clone(), state.region_id, state.first_cached_index())
        };
        if low >= high || low <= self.inner.borrow().truncated_index {
            return Ok(());
        }
        let older = read_cached_entries(&journal, region_id, low, high).await?;
        let mut state = self.inner.borrow_mut();
        // Only prepend when nothing moved the cache meanwhile; otherwise raft simply asks again.
        if state.first_cached_index() == high {
            for entry in older.into_iter().rev() {
                state.cache.push_front(entry);
            }
        }
        Ok(())
    }

    /// Index of the last entry.
    pub fn last_index(&self) -> u64 {
        self.inner.borrow().last_index
    }

    /// Index of the first entry still in the log (truncated index + 1).
    pub fn first_index(&self) -> u64 {
        self.inner.borrow().truncated_index + 1
    }

    /// Number of cached entries.
    pub fn cached_entries(&self) -> usize {
        self.inner.borrow().cache.len()
    }

    /// The membership.
    pub fn conf_state(&self) -> ConfState {
        self.inner.borrow().conf_state.clone()
    }
}

impl<F: FileSystem> LogState<F> {
    fn first_cached_index(&self) -> u64 {
        self.last_index + 1 - self.cache.len() as u64
    }

    fn append(&mut self, entries: &[Entry]) {
        let Some(first) = entries.first() else { return };
        let first_cached = self.first_cached_index();
        if first.index < first_cached {
            // Only committed (hence never conflicting) entries lie below the cache, so this
            // means raft restarted the log (after a snapshot): start the cache afresh.
            tracing::warn!(region_id = self.region_id, index = first.index, "raft log restarts below the entry cache");
            self.cache.clear();
        } else {
            self.cache.truncate((first.index - first_cached) as usize);
        }
        self.cache.extend(entries.iter().cloned());
        self.last_index = entries.last().map_or(self.last_index, |entry| entry.index);
    }

    /// The journal lost entries the state machine already applied (`sync_log` off and a power
    /// loss): the log restarts after `applied_index`. The term of the lost entry is unknown;
    /// the hard state's term bounds it from above, which keeps the log-matching checks of a
    /// single voter sound. A multi-voter group would need a snapshot here instead.
    fn skip_lost_tail(&mut self, applied_index: u64) {
        tracing::warn!(
            region_id = self.region_id,
            applied_index,
            last_index = self.last_index,
            "raft log ends before the state machine's applied index; restarting the log there"
        );
        self.truncated_index = applied_index;
        self.truncated_term = self.hard_state.term.max(self.truncated_term);
        self.last_index = applied_index;
        self.journal.compact_to(self.region_id, applied_index + 1);
    }

    fn check_first_index(&self) -> Result<()> {
        match self.journal.first_index(self.region_id) {
            Some(first) if first > self.truncated_index + 1 => Err(RaftError::Storage(nokv_engine::Error::corruption(
                "raft log",
                format!(
                    "region {}: journal entries start at {first}, after the truncated index {}",
                    self.region_id, self.truncated_index
                ),
            ))),
            _ => Ok(()),
        }
    }

    fn encode_truncated_state(&self) -> Bytes {
        let mut out = vec![TRUNCATED_STATE_VERSION];
        codec::put_u64(&mut out, self.truncated_index);
        codec::put_u64(&mut out, self.truncated_term);
        Bytes::from(out)
    }

    fn term(&self, index: u64) -> raft::Result<u64> {
        if index == self.truncated_index {
            return Ok(self.truncated_term);
        }
        if index < self.truncated_index {
            return Err(raft::Error::Store(StorageError::Compacted));
        }
        if index > self.last_index {
            return Err(raft::Error::Store(StorageError::Unavailable));
        }
        let first_cached = self.first_cached_index();
        if index >= first_cached {
            return Ok(self.cache[(index - first_cached) as usize].term);
        }
        self.journal.term(self.region_id, index).ok_or(raft::Error::Store(StorageError::Unavailable))
    }

    fn entries(
        &mut self,
        low: u64,
        high: u64,
        max_size: Option<u64>,
        context: GetEntriesContext,
    ) -> raft::Result<Vec<Entry>> {
        if low <= self.truncated_index {
            return Err(raft::Error::Store(StorageError::Compacted));
        }
        if high > self.last_index + 1 || low > high {
            return Err(raft::Error::Store(StorageError::Unavailable));
        }
        let first_cached = self.first_cached_index();
        if low >= first_cached {
            let range = (low - first_cached) as usize..(high - first_cached) as usize;
            let mut entries: Vec<Entry> = self.cache.range(range).cloned().collect();
            raft::util::limit_size(&mut entries, max_size);
            return Ok(entries);
        }
        if context.can_async() {
            self.fetch_requests.push(FetchRequest { low, context });
            return Err(raft::Error::Store(StorageError::LogTemporarilyUnavailable));
        }
        tracing::error!(region_id = self.region_id, low, first_cached, "raft wants uncached entries synchronously");
        Err(raft::Error::Store(StorageError::Unavailable))
    }
}

impl<F: FileSystem> raft::Storage for RegionStorage<F> {
    fn initial_state(&self) -> raft::Result<RaftState> {
        let state = self.inner.borrow();
        Ok(RaftState::new(state.hard_state.clone(), state.conf_state.clone()))
    }

    fn entries(
        &self,
        low: u64,
        high: u64,
        max_size: impl Into<Option<u64>>,
        context: GetEntriesContext,
    ) -> raft::Result<Vec<Entry>> {
        self.inner.borrow_mut().entries(low, high, max_size.into(), context)
    }

    fn term(&self, index: u64) -> raft::Result<u64> {
        self.inner.borrow().term(index)
    }

    fn first_index(&self) -> raft::Result<u64> {
        Ok(self.inner.borrow().truncated_index + 1)
    }

    fn last_index(&self) -> raft::Result<u64> {
        Ok(self.inner.borrow().last_index)
    }

    fn snapshot(&self, _request_index: u64, _to: u64) -> raft::Result<Snapshot> {
        // Snapshots (range scans of the region's slots) come with multi-voter groups.
        Err(raft::Error::Store(StorageError::SnapshotTemporarilyUnavailable))
    }
}

/// Encodes a raft protobuf message.
pub fn encode_message(message: &impl protobuf::Message) -> Bytes {
    // eraftpb is proto3: no required fields, so `is_initialized` holds and encoding cannot fail.
    Bytes::from(message.write_to_bytes().expect("proto3 messages always encode"))
}

/// Decodes a raft protobuf message read from the journal.
pub fn decode_message<M: protobuf::Message>(bytes: &[u8], what: &str) -> Result<M> {
    M::parse_from_bytes(bytes)
        .map_err(|error| RaftError::Storage(nokv_engine::Error::corruption("raft state", format!("{what}: {error}"))))
}

/// Adds `entry` to `batch`. Its journal payload is a short head (format, entry type, context)
/// followed by the entry's data as it is: the data (a proposal, or several merged) goes into the
/// journal's record without an encoding of its own, and comes back as a slice of it.
pub fn stage_entry(batch: &mut JournalBatch, region_id: u64, entry: &Entry) {
    let stored = JournalEntry { region_id, term: entry.term, index: entry.index, payload: entry.data.clone() };
    batch.add_entry_with_head(stored, entry_head(entry));
}

fn entry_head(entry: &Entry) -> Bytes {
    let entry_type = entry.get_entry_type();
    if entry.context.is_empty() {
        return match entry_type {
            EntryType::EntryNormal => Bytes::from_static(&[ENTRY_FORMAT, EntryType::EntryNormal as u8, 0]),
            EntryType::EntryConfChange => Bytes::from_static(&[ENTRY_FORMAT, EntryType::EntryConfChange as u8, 0]),
            EntryType::EntryConfChangeV2 => Bytes::from_static(&[ENTRY_FORMAT, EntryType::EntryConfChangeV2 as u8, 0]),
        };
    }
    let mut head = vec![ENTRY_FORMAT, entry_type as u8];
    codec::put_length_prefixed(&mut head, &entry.context);
    Bytes::from(head)
}

/// Decodes the journal payload of entry `index` of `region_id` (see [`stage_entry`]); `term`
/// is the journal's. The entry's data and context are slices of `payload`, not copies.
pub fn decode_entry(region_id: u64, term: u64, index: u64, payload: &Bytes) -> Result<Entry> {
    let corrupt = |detail: String| {
        RaftError::Storage(nokv_engine::Error::corruption("raft entry", format!("region {region_id}: {detail}")))
    };
    if payload.first() != Some(&ENTRY_FORMAT) {
        let entry: Entry = decode_message(payload, "raft entry")?;
        if entry.index != index || entry.term != term {
            let (entry_term, entry_index) = (entry.term, entry.index);
            return Err(corrupt(format!("journal says ({term}, {index}), entry says ({entry_term}, {entry_index})")));
        }
        return Ok(entry);
    }
    let mut reader = Reader::new(&payload[1..]);
    let entry_type = reader.u8().and_then(|value| protobuf::ProtobufEnum::from_i32(i32::from(value)));
    let context = reader.length_prefixed();
    let (Some(entry_type), Some(context)) = (entry_type, context) else {
        return Err(corrupt(format!("entry {index}: a damaged head in {} bytes", payload.len())));
    };
    let data = payload.slice(payload.len() - reader.remaining().len()..);
    Ok(Entry { entry_type, term, index, data, context: payload.slice_ref(context), ..Entry::default() })
}

fn decode_state<M: protobuf::Message, F: FileSystem>(
    journal: &Journal<F>,
    region_id: u64,
    key: &[u8],
) -> Result<Option<M>> {
    let Some(bytes) = journal.state(region_id, key) else { return Ok(None) };
    let what = format!("region {region_id} {}", String::from_utf8_lossy(key));
    decode_message(&bytes, &what).map(Some)
}

/// A region the journal knows nothing of becomes a one-voter group; a region with a log or
/// a hard state but no membership is damaged.
fn bootstrap_conf_state<F: FileSystem>(journal: &Journal<F>, region_id: u64, node_id: u64) -> Result<ConfState> {
    let has_history = journal.last_index(region_id).is_some() || journal.state(region_id, HARD_STATE_KEY).is_some();
    if has_history {
        return Err(RaftError::Storage(nokv_engine::Error::corruption(
            "raft state",
            format!("region {region_id} has a log but no conf state"),
        )));
    }
    Ok(ConfState { voters: vec![node_id], ..ConfState::default() })
}

fn read_truncated_state<F: FileSystem>(journal: &Journal<F>, region_id: u64) -> Result<(u64, u64)> {
    let Some(bytes) = journal.state(region_id, TRUNCATED_STATE_KEY) else { return Ok((0, 0)) };
    let mut reader = Reader::new(&bytes);
    let corrupt = |detail: String| RaftError::Storage(nokv_engine::Error::corruption("raft truncated state", detail));
    match reader.u8() {
        Some(TRUNCATED_STATE_VERSION) => {}
        other => return Err(corrupt(format!("region {region_id}: unknown version {other:?}"))),
    }
    match (reader.u64(), reader.u64(), reader.is_empty()) {
        (Some(index), Some(term), true) => Ok((index, term)),
        _ => Err(corrupt(format!("region {region_id}: {} bytes", bytes.len()))),
    }
}

/// Entries `[low, high)` from the journal, decoded and checked against the journal's index.
async fn read_cached_entries<F: FileSystem>(
    journal: &Journal<F>,
    region_id: u64,
    low: u64,
    high: u64,
) -> Result<VecDeque<Entry>> {
    if low >= high {
        return Ok(VecDeque::new());
    }
    let stored = journal.read_entries(region_id, low, high).await?;
    let mut entries = VecDeque::with_capacity(stored.len());
    for stored in stored {
        let entry = decode_entry(region_id, stored.term, stored.index, &stored.payload)?;
        entries.push_back(entry);
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use futures_lite::future::block_on;
    use nokv_engine::io::mem::MemFs;
    use nokv_engine::journal::JournalOptions;
    use raft::Storage;

    use super::*;

    fn entry(index: u64, term: u64) -> Entry {
        Entry { index, term, data: vec![index as u8].into(), ..Entry::default() }
    }

    /// A journal holding entries 1..=10 (term 1) of region 7, with `commit` in its hard state.
    fn journal_with_log(commit: u64, with_conf_state: bool) -> Rc<Journal<MemFs>> {
        let journal = block_on(Journal::open(MemFs::new(), Path::new("/j"), JournalOptions::default())).expect("opens");
        let mut batch = JournalBatch::new();
        for index in 1..=10 {
            stage_entry(&mut batch, 7, &entry(index, 1));
        }
        let hard_state = HardState { term: 1, vote: 1, commit, ..HardState::default() };
        batch.put_state(7, HARD_STATE_KEY, encode_message(&hard_state));
        if with_conf_state {
            let conf_state = ConfState { voters: vec![1], ..ConfState::default() };
            batch.put_state(7, CONF_STATE_KEY, encode_message(&conf_state));
        }
        block_on(journal.append(batch, true)).expect("appends");
        Rc::new(journal)
    }

    fn load(journal: &Rc<Journal<MemFs>>, applied: u64) -> Result<Loaded<MemFs>> {
        block_on(RegionStorage::load(journal.clone(), 7, 1, applied))
    }

    #[test]
    fn caches_exactly_the_unapplied_entries_and_reads_terms_of_the_rest_from_the_journal() {
        let loaded = load(&journal_with_log(10, true), 5).expect("loads");
        let storage = loaded.storage;
        assert_eq!((loaded.applied_index, storage.cached_entries()), (5, 5));
        assert_eq!((storage.first_index(), storage.last_index()), (1, 10));
        assert_eq!(Storage::term(&storage, 3).expect("term from the journal index"), 1);
        assert_eq!(Storage::term(&storage, 0).expect("term of the truncated index"), 0);
        let cached = storage.entries(6, 11, None, GetEntriesContext::empty(false)).expect("cached");
        assert_eq!(cached.iter().map(|e| e.index).collect::<Vec<_>>(), [6, 7, 8, 9, 10]);
    }

    #[test]
    fn uncached_entries_are_fetched_from_the_journal_when_raft_can_wait() {
        let storage = load(&journal_with_log(10, true), 5).expect("loads").storage;
        let sync_miss = storage.entries(2, 6, None, GetEntriesContext::empty(false));
        assert!(matches!(sync_miss, Err(raft::Error::Store(StorageError::Unavailable))));
        let async_miss = storage.entries(2, 6, None, GetEntriesContext::empty(true));
        assert!(matches!(async_miss, Err(raft::Error::Store(StorageError::LogTemporarilyUnavailable))));
        let requests = storage.take_fetch_requests();
        assert_eq!(requests.len(), 1);
        block_on(storage.prefetch(requests[0].low)).expect("reads the journal");
        let fetched = storage.entries(2, 6, None, GetEntriesContext::empty(false)).expect("now cached");
        assert_eq!(fetched, (2..6).map(|index| entry(index, 1)).collect::<Vec<_>>());
    }

    #[test]
    fn a_lagging_commit_index_is_raised_to_the_applied_index() {
        let storage = load(&journal_with_log(3, true), 8).expect("loads").storage;
        assert_eq!(storage.initial_state().expect("state").hard_state.commit, 8);
    }

    #[test]
    fn appends_replace_a_conflicting_suffix() {
        let storage = load(&journal_with_log(10, true), 5).expect("loads").storage;
        storage.append(&[entry(8, 2), entry(9, 2)]);
        assert_eq!(storage.last_index(), 9);
        assert_eq!(Storage::term(&storage, 8).expect("term"), 2);
        assert_eq!(Storage::term(&storage, 7).expect("term"), 1);
        storage.evict_applied(8);
        assert_eq!(storage.cached_entries(), 1);
    }

    #[test]
    fn compaction_keeps_the_term_of_the_truncated_index() {
        let storage = load(&journal_with_log(10, true), 10).expect("loads").storage;
        let encoded = storage.compact_to(6).expect("compacts");
        assert_eq!(encoded.len(), 17);
        assert_eq!(storage.first_index(), 7);
        assert_eq!(Storage::term(&storage, 6).expect("term"), 1);
        assert!(matches!(Storage::term(&storage, 5), Err(raft::Error::Store(StorageError::Compacted))));
        let compacted = storage.entries(5, 8, None, GetEntriesContext::empty(false));
        assert!(matches!(compacted, Err(raft::Error::Store(StorageError::Compacted))));
    }

    #[test]
    fn entries_of_every_type_round_trip_through_the_journal_with_data_and_context() {
        let journal = journal_with_log(10, true);
        let mut batch = JournalBatch::new();
        let conf = |entry_type, context: &'static [u8]| Entry {
            entry_type,
            term: 2,
            data: Bytes::from_static(b"change"),
            context: Bytes::from_static(context),
            ..Entry::default()
        };
        let written = [
            Entry { index: 11, ..conf(EntryType::EntryNormal, b"") },
            Entry { index: 12, ..conf(EntryType::EntryConfChange, b"") },
            Entry { index: 13, ..conf(EntryType::EntryConfChangeV2, b"ctx") },
            Entry { index: 14, data: Bytes::new(), ..conf(EntryType::EntryNormal, b"context of an empty entry") },
        ];
        written.iter().for_each(|entry| stage_entry(&mut batch, 7, entry));
        block_on(journal.append(batch, true)).expect("appends");
        let read = block_on(read_cached_entries(&journal, 7, 11, 15)).expect("reads");
        assert_eq!(Vec::from(read), written);
    }

    #[test]
    fn a_protobuf_payload_of_format_1_still_decodes_and_a_damaged_head_is_corruption() {
        let entry = Entry { entry_type: EntryType::EntryConfChange, ..entry(4, 3) };
        let old = encode_message(&entry);
        assert_ne!(old.first(), Some(&ENTRY_FORMAT));
        assert_eq!(decode_entry(7, 3, 4, &old).expect("decodes"), entry);
        assert!(decode_entry(7, 3, 5, &old).is_err(), "the index is checked against the journal's");
        for damaged in [&[ENTRY_FORMAT][..], &[ENTRY_FORMAT, 9, 0], &[ENTRY_FORMAT, 0, 5, 1]] {
            let error = decode_entry(7, 3, 4, &Bytes::copy_from_slice(damaged)).expect_err("damaged");
            assert!(error.to_string().contains("damaged head"), "{error}");
        }
    }

    #[test]
    fn a_log_without_a_membership_is_corruption() {
        assert!(matches!(load(&journal_with_log(10, false), 0), Err(RaftError::Storage(e)) if e.is_corruption()));
    }

    #[test]
    fn an_unknown_region_bootstraps_as_a_single_voter() {
        let journal = journal_with_log(10, true);
        let loaded = block_on(RegionStorage::load(journal, 99, 4, 0)).expect("bootstraps");
        assert_eq!(loaded.storage.conf_state().voters, [4]);
        assert_eq!(loaded.states_to_write.len(), 1, "the membership must be persisted");
        assert_eq!((loaded.storage.first_index(), loaded.storage.last_index()), (1, 0));
    }
}
