//! What callers hand to `Journal::append`: entries of any number of regions, states and
//! compaction commands, kept in the order they were added (that order is the log order).

use bytes::Bytes;

use super::format::MAX_RECORD_PAYLOAD_BYTES;
use crate::error::{Error, Result};

/// One raft log entry of one region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalEntry {
    /// The raft group the entry belongs to.
    pub region_id: u64,
    /// The entry's term.
    pub term: u64,
    /// The entry's index in its region's log.
    pub index: u64,
    /// The encoded entry.
    pub payload: Bytes,
}

/// One entry of an `Entries` item as it will be written: its payload is `head` then `body`,
/// read back as one run of bytes. The two parts let a caller put a short header of its own in
/// front of bytes it already holds without first copying them together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StagedEntry {
    pub(crate) term: u64,
    pub(crate) head: Bytes,
    pub(crate) body: Bytes,
}

impl StagedEntry {
    pub(crate) fn payload_len(&self) -> usize {
        self.head.len() + self.body.len()
    }
}

/// One item of a batch; each becomes one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Item {
    /// Consecutive entries of one region starting at `first_index`.
    Entries { region_id: u64, first_index: u64, entries: Vec<StagedEntry> },
    /// Sets (`Some`) or deletes (`None`) a per-region key.
    State { region_id: u64, key: Bytes, value: Option<Bytes> },
    /// Entries of the region below `index` are no longer needed.
    Compact { region_id: u64, index: u64 },
}

/// A group of writes that becomes durable together (all or nothing on recovery).
///
/// Entries of one region added in a row with consecutive indexes share one record; an entry
/// whose index is at or below the region's last index replaces that suffix of the log (raft
/// conflict resolution), and an entry beyond `last_index + 1` restarts the region's log there
/// (after a raft snapshot).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JournalBatch {
    pub(crate) items: Vec<Item>,
    /// Set by `Journal::purge`: the writer re-appends every latest state value living in a
    /// segment below this one, reading the values when it encodes the batch so a newer value
    /// staged concurrently can never be overwritten by an older copy.
    pub(crate) rewrite_states_below: Option<u64>,
}

impl JournalBatch {
    /// An empty batch.
    pub fn new() -> JournalBatch {
        JournalBatch::default()
    }

    /// Adds one entry, extending the previous item when it continues the same region's run.
    pub fn add_entry(&mut self, entry: JournalEntry) {
        self.add_entry_with_head(entry, Bytes::new());
    }

    /// Adds one entry whose payload is `head` followed by `entry.payload`; `read_entries` gives
    /// back the two as one payload.
    pub fn add_entry_with_head(&mut self, entry: JournalEntry, head: Bytes) {
        let JournalEntry { region_id, term, index, payload } = entry;
        let staged = StagedEntry { term, head, body: payload };
        if let Some(Item::Entries { region_id: last_region, first_index, entries }) = self.items.last_mut()
            && *last_region == region_id
            && *first_index + entries.len() as u64 == index
        {
            entries.push(staged);
            return;
        }
        self.items.push(Item::Entries { region_id, first_index: index, entries: vec![staged] });
    }

    /// Adds entries in order.
    pub fn add_entries(&mut self, entries: impl IntoIterator<Item = JournalEntry>) {
        entries.into_iter().for_each(|entry| self.add_entry(entry));
    }

    /// Sets a per-region key (raft hard state and the like); the latest write wins.
    pub fn put_state(&mut self, region_id: u64, key: impl Into<Bytes>, value: impl Into<Bytes>) {
        self.items.push(Item::State { region_id, key: key.into(), value: Some(value.into()) });
    }

    /// Deletes a per-region key.
    pub fn delete_state(&mut self, region_id: u64, key: impl Into<Bytes>) {
        self.items.push(Item::State { region_id, key: key.into(), value: None });
    }

    /// Records that entries of `region_id` below `index` are no longer needed.
    pub fn compact_to(&mut self, region_id: u64, index: u64) {
        self.items.push(Item::Compact { region_id, index });
    }

    /// True when the batch writes nothing.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty() && self.rewrite_states_below.is_none()
    }

    /// Number of items (records) in the batch.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Rejects items whose record would exceed the record size limit.
    pub(crate) fn validate(&self) -> Result<()> {
        for item in &self.items {
            let bound = item.payload_bound_bytes();
            if bound > MAX_RECORD_PAYLOAD_BYTES {
                return Err(Error::InvalidArgument(format!(
                    "journal record of {bound} bytes exceeds the limit of {MAX_RECORD_PAYLOAD_BYTES}"
                )));
            }
        }
        Ok(())
    }
}

impl Item {
    /// An upper bound of the encoded payload size (varints at their longest).
    pub(crate) fn payload_bound_bytes(&self) -> usize {
        match self {
            Item::Entries { entries, .. } => {
                entries.iter().fold(30usize, |sum, entry| sum.saturating_add(entry.payload_len() + 20))
            }
            Item::State { key, value, .. } => 31 + key.len() + value.as_ref().map_or(0, Bytes::len),
            Item::Compact { .. } => 20,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(region_id: u64, index: u64) -> JournalEntry {
        JournalEntry { region_id, term: 1, index, payload: Bytes::from(vec![index as u8]) }
    }

    #[test]
    fn consecutive_entries_of_a_region_share_an_item() {
        let mut batch = JournalBatch::new();
        batch.add_entries([entry(1, 5), entry(1, 6), entry(2, 1), entry(1, 7), entry(1, 3)]);
        assert_eq!(batch.len(), 4);
        assert!(
            matches!(&batch.items[0], Item::Entries { region_id: 1, first_index: 5, entries } if entries.len() == 2)
        );
        assert!(matches!(&batch.items[3], Item::Entries { region_id: 1, first_index: 3, .. }));
    }

    #[test]
    fn empty_batch_is_empty_and_valid() {
        let batch = JournalBatch::new();
        assert!(batch.is_empty());
        batch.validate().expect("valid");
    }
}
