//! A small byte-bounded cache of framed records (as written: slices of the batches the journal
//! wrote, or read back from a segment), so raft reading the tail it just wrote (replication)
//! does not go back to disk. Readers decode a cached record as one read from disk (an
//! uncompressed payload is a slice of it). FIFO eviction: the tail is what is read, and it is
//! also what was inserted last.

use std::collections::{HashMap, VecDeque};

use bytes::Bytes;

use super::index::RecordLocation;

/// Framed records keyed by location.
#[derive(Debug)]
pub struct RecordCache {
    records: HashMap<RecordLocation, Bytes, foldhash::fast::FixedState>,
    order: VecDeque<RecordLocation>,
    size_bytes: usize,
    capacity_bytes: usize,
}

impl RecordCache {
    /// An empty cache holding at most `capacity_bytes` of records.
    pub fn new(capacity_bytes: usize) -> RecordCache {
        RecordCache { records: HashMap::default(), order: VecDeque::new(), size_bytes: 0, capacity_bytes }
    }

    /// The framed record at `location`, if cached.
    pub fn get(&self, location: &RecordLocation) -> Option<Bytes> {
        self.records.get(location).cloned()
    }

    /// Caches a framed record, evicting the oldest ones to stay within the capacity.
    pub fn insert(&mut self, location: RecordLocation, record: Bytes) {
        if record.len() > self.capacity_bytes || self.records.contains_key(&location) {
            return;
        }
        while self.size_bytes + record.len() > self.capacity_bytes {
            let oldest = self.order.pop_front().expect("size_bytes > 0 means a record is cached");
            let evicted = self.records.remove(&oldest).expect("order and records hold the same keys");
            self.size_bytes -= evicted.len();
        }
        self.size_bytes += record.len();
        self.order.push_back(location);
        self.records.insert(location, record);
    }

    /// Forgets records of segments below `segment` (they were deleted).
    pub fn forget_segments_below(&mut self, segment: u64) {
        self.order.retain(|location| location.segment >= segment);
        self.records.retain(|location, _| location.segment >= segment);
        self.size_bytes = self.records.values().map(Bytes::len).sum();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn location(offset: u64) -> RecordLocation {
        RecordLocation { segment: 1, offset, framed_len: 10 }
    }

    #[test]
    fn evicts_oldest_beyond_capacity() {
        let mut cache = RecordCache::new(10);
        cache.insert(location(0), Bytes::from(vec![0; 6]));
        cache.insert(location(1), Bytes::from(vec![1; 6]));
        assert!(cache.get(&location(0)).is_none());
        assert_eq!(cache.get(&location(1)).map(|b| b.len()), Some(6));
        cache.insert(location(2), Bytes::from(vec![2; 11]));
        assert!(cache.get(&location(2)).is_none());
    }
}
