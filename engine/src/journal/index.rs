//! The in-memory index of the journal: for every region, where each live entry sits on disk,
//! and the latest value of each of its states.
//!
//! Recovery and the live writer update it through the same [`JournalIndex::apply`], in log
//! order, so the index after a reopen is exactly the index before it.
//!
//! Invariants: a region's entries are consecutive from `first_index`; their segments never
//! decrease along the deque (the log only appends), so the front entry pins the oldest
//! segment the region needs.

use std::collections::{BTreeMap, HashSet, VecDeque};

use bytes::Bytes;

use super::format::{EntryMeta, RecordBody};
use crate::error::{Error, Result};

/// A region's entry deque is shrunk after a compaction only above this capacity.
const SHRINK_MIN_CAPACITY: usize = 1024;

/// Where a framed record lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RecordLocation {
    /// Segment number.
    pub segment: u64,
    /// Byte offset of the record header in the segment.
    pub offset: u64,
    /// Header plus stored payload.
    pub framed_len: u32,
}

/// Where one entry lives: its record and its position inside the uncompressed payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryLocation {
    /// The record holding the entry.
    pub record: RecordLocation,
    /// The entry's term.
    pub term: u64,
    /// Position of the payload in the uncompressed record payload.
    pub payload_offset: u32,
    /// Payload length.
    pub payload_len: u32,
}

/// A state value and the segment its latest record lives in.
#[derive(Debug, Clone, PartialEq, Eq)]
struct StateValue {
    value: Bytes,
    segment: u64,
}

/// One region's log.
#[derive(Debug, Default)]
struct RegionLog {
    /// Index of `entries[0]`; when `entries` is empty, the next index a contiguous append
    /// would have.
    first_index: u64,
    entries: VecDeque<EntryLocation>,
    states: BTreeMap<Bytes, StateValue>,
}

impl RegionLog {
    fn next_index(&self) -> u64 {
        self.first_index + self.entries.len() as u64
    }

    fn append(&mut self, first_index: u64, metas: &[EntryMeta], record: RecordLocation) {
        if metas.is_empty() {
            return;
        }
        let overlaps = !self.entries.is_empty() && first_index >= self.first_index && first_index <= self.next_index();
        if overlaps {
            // A raft conflict: the new entries replace the suffix from `first_index` on.
            self.entries.truncate((first_index - self.first_index) as usize);
        } else {
            if !self.entries.is_empty() {
                tracing::debug!(first_index, next = self.next_index(), "journal region log restarts");
            }
            self.entries.clear();
            self.first_index = first_index;
        }
        let locations = metas.iter().map(|meta| EntryLocation {
            record,
            term: meta.term,
            payload_offset: meta.payload_offset,
            payload_len: meta.payload_len,
        });
        self.entries.extend(locations);
    }

    fn compact_to(&mut self, index: u64) {
        if index <= self.first_index {
            return;
        }
        let dropped = (index - self.first_index).min(self.entries.len() as u64) as usize;
        self.entries.drain(..dropped);
        self.first_index = index;
        // A deque keeps the capacity of its longest moment; the entries between two flushes
        // can number millions (40 bytes each), so give back what the next ones will not need.
        if self.entries.capacity() > SHRINK_MIN_CAPACITY && self.entries.capacity() > 4 * self.entries.len() {
            self.entries.shrink_to(2 * self.entries.len());
        }
    }

    fn set_state(&mut self, key: &Bytes, value: &Option<Bytes>, segment: u64) {
        match value {
            Some(value) => {
                self.states.insert(key.clone(), StateValue { value: value.clone(), segment });
            }
            None => {
                self.states.remove(key);
            }
        }
    }
}

/// The per-region index of a journal.
#[derive(Debug, Default)]
pub struct JournalIndex {
    regions: BTreeMap<u64, RegionLog>,
}

impl JournalIndex {
    /// Applies one record found (or written) at `location`.
    pub fn apply(&mut self, body: &RecordBody, location: RecordLocation) {
        match body {
            RecordBody::BatchHeader { .. } => {}
            RecordBody::Entries { region_id, first_index, entries } => {
                self.regions.entry(*region_id).or_default().append(*first_index, entries, location);
            }
            RecordBody::State { region_id, key, value } => {
                self.regions.entry(*region_id).or_default().set_state(key, value, location.segment);
            }
            RecordBody::Compact { region_id, index } => self.compact_to(*region_id, *index),
        }
    }

    /// Bytes the entry locations take (their deques' capacity).
    pub fn entry_capacity_bytes(&self) -> u64 {
        let entries: usize = self.regions.values().map(|region| region.entries.capacity()).sum();
        (entries * std::mem::size_of::<EntryLocation>()) as u64
    }

    /// Drops entries of `region_id` below `index`.
    pub fn compact_to(&mut self, region_id: u64, index: u64) {
        self.regions.entry(region_id).or_default().compact_to(index);
    }

    /// Locations of entries `[low, high)` of a region, with their indexes.
    pub fn locations(&self, region_id: u64, low: u64, high: u64) -> Result<Vec<(u64, EntryLocation)>> {
        let region = self.regions.get(&region_id);
        let (first, next) = region.map_or((0, 0), |r| (r.first_index, r.next_index()));
        if low > high || (low < high && (low < first || high > next)) {
            return Err(Error::InvalidArgument(format!(
                "journal entries [{low}, {high}) of region {region_id} outside the live range [{first}, {next})"
            )));
        }
        let Some(region) = region else { return Ok(Vec::new()) };
        let start = (low - first) as usize;
        let end = (high - first) as usize;
        Ok((start..end).map(|pos| (first + pos as u64, region.entries[pos])).collect())
    }

    /// Index of the first live entry of a region.
    pub fn first_index(&self, region_id: u64) -> Option<u64> {
        self.regions.get(&region_id).filter(|r| !r.entries.is_empty()).map(|r| r.first_index)
    }

    /// Index of the last live entry of a region.
    pub fn last_index(&self, region_id: u64) -> Option<u64> {
        self.regions.get(&region_id).filter(|r| !r.entries.is_empty()).map(|r| r.next_index() - 1)
    }

    /// Term of a live entry.
    pub fn term(&self, region_id: u64, index: u64) -> Option<u64> {
        let region = self.regions.get(&region_id)?;
        let pos = index.checked_sub(region.first_index)?;
        region.entries.get(usize::try_from(pos).ok()?).map(|location| location.term)
    }

    /// Every region with live entries or states.
    pub fn regions(&self) -> Vec<u64> {
        let live = |r: &RegionLog| !r.entries.is_empty() || !r.states.is_empty();
        self.regions.iter().filter(|(_, r)| live(r)).map(|(id, _)| *id).collect()
    }

    /// The latest value of a state.
    pub fn state(&self, region_id: u64, key: &[u8]) -> Option<Bytes> {
        self.regions.get(&region_id)?.states.get(key).map(|state| state.value.clone())
    }

    /// The oldest segment holding a needed entry or a latest state value.
    pub fn oldest_needed_segment(&self) -> Option<u64> {
        self.oldest_entry_segment().into_iter().chain(self.oldest_state_segment()).min()
    }

    /// The oldest segment holding a needed entry.
    pub fn oldest_entry_segment(&self) -> Option<u64> {
        self.regions.values().filter_map(|r| r.entries.front()).map(|e| e.record.segment).min()
    }

    fn oldest_state_segment(&self) -> Option<u64> {
        self.regions.values().flat_map(|r| r.states.values()).map(|state| state.segment).min()
    }

    /// Regions whose first needed entry lives in `segment`.
    pub fn regions_with_entries_in(&self, segment: u64) -> Vec<u64> {
        let pins = |r: &RegionLog| r.entries.front().is_some_and(|e| e.record.segment == segment);
        self.regions.iter().filter(|(_, r)| pins(r)).map(|(id, _)| *id).collect()
    }

    /// Latest state values living in segments below `segment`, except the keys in `skip`.
    pub fn states_below(&self, segment: u64, skip: &HashSet<(u64, Bytes)>) -> Vec<(u64, Bytes, Bytes)> {
        let mut found = Vec::new();
        for (region_id, region) in &self.regions {
            for (key, state) in &region.states {
                if state.segment < segment && !skip.contains(&(*region_id, key.clone())) {
                    found.push((*region_id, key.clone(), state.value.clone()));
                }
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn location(segment: u64) -> RecordLocation {
        RecordLocation { segment, offset: 4096, framed_len: 100 }
    }

    fn entries(region_id: u64, first_index: u64, count: u64, term: u64) -> RecordBody {
        let meta = EntryMeta { term, payload_offset: 0, payload_len: 1 };
        RecordBody::Entries { region_id, first_index, entries: vec![meta; count as usize] }
    }

    #[test]
    fn conflicting_append_replaces_the_suffix() {
        let mut index = JournalIndex::default();
        index.apply(&entries(1, 1, 10, 1), location(1));
        index.apply(&entries(1, 6, 2, 2), location(2));
        assert_eq!((index.first_index(1), index.last_index(1)), (Some(1), Some(7)));
        assert_eq!((index.term(1, 5), index.term(1, 6), index.term(1, 8)), (Some(1), Some(2), None));
    }

    #[test]
    fn compaction_moves_the_first_index_and_unpins_segments() {
        let mut index = JournalIndex::default();
        index.apply(&entries(1, 1, 5, 1), location(1));
        index.apply(&entries(1, 6, 5, 1), location(2));
        assert_eq!(index.oldest_entry_segment(), Some(1));
        index.compact_to(1, 6);
        assert_eq!(index.first_index(1), Some(6));
        assert_eq!(index.oldest_entry_segment(), Some(2));
        index.compact_to(1, 20);
        assert_eq!(index.first_index(1), None);
        index.apply(&entries(1, 20, 1, 3), location(3));
        assert_eq!(index.first_index(1), Some(20));
    }

    #[test]
    fn compaction_gives_back_the_capacity_of_a_long_log() {
        let mut index = JournalIndex::default();
        index.apply(&entries(1, 1, 100_000, 1), location(1));
        let long_bytes = index.entry_capacity_bytes();
        assert!(long_bytes >= 100_000 * std::mem::size_of::<EntryLocation>() as u64);
        index.compact_to(1, 99_991);
        assert!(index.entry_capacity_bytes() < long_bytes / 100, "{}", index.entry_capacity_bytes());
        assert_eq!((index.first_index(1), index.last_index(1)), (Some(99_991), Some(100_000)));
        assert_eq!(index.term(1, 99_995), Some(1));
    }

    #[test]
    fn out_of_range_reads_are_rejected() {
        let mut index = JournalIndex::default();
        index.apply(&entries(1, 5, 5, 1), location(1));
        assert_eq!(index.locations(1, 5, 10).expect("in range").len(), 5);
        assert!(index.locations(1, 4, 6).is_err());
        assert!(index.locations(1, 9, 11).is_err());
        assert!(index.locations(2, 1, 1).expect("empty range").is_empty());
    }

    #[test]
    fn latest_state_wins_and_delete_removes() {
        let mut index = JournalIndex::default();
        let put = |v: &'static [u8]| RecordBody::State {
            region_id: 3,
            key: Bytes::from_static(b"hs"),
            value: Some(Bytes::from_static(v)),
        };
        index.apply(&put(b"a"), location(1));
        index.apply(&put(b"b"), location(2));
        assert_eq!(index.state(3, b"hs"), Some(Bytes::from_static(b"b")));
        assert_eq!(index.states_below(3, &HashSet::new()).len(), 1);
        index.apply(&RecordBody::State { region_id: 3, key: Bytes::from_static(b"hs"), value: None }, location(3));
        assert_eq!(index.state(3, b"hs"), None);
    }
}
