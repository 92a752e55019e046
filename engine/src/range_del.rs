//! Range tombstones: `delete_range(start, end)` deletes every user key in `[start, end)` whose
//! versions are older than the tombstone's sequence number.
//!
//! Tombstones live beside point entries, never among them: memtables keep a list per CF, and
//! SSTables a range-tombstone block (`sst`). A read gathers the tombstones visible at its
//! snapshot into a [`TombstoneSet`] and asks whether an entry is covered. Because coverage is
//! decided by sequence numbers alone, it does not matter in which level a tombstone sits.

use bytes::Bytes;

use crate::key::{self, Seq, ValueKind};

/// One range tombstone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeTombstone {
    /// First user key deleted.
    pub start: Bytes,
    /// First user key *not* deleted.
    pub end: Bytes,
    /// The tombstone's sequence number.
    pub seq: Seq,
}

impl RangeTombstone {
    /// A tombstone deleting `[start, end)` at `seq`.
    pub fn new(start: &[u8], end: &[u8], seq: Seq) -> RangeTombstone {
        RangeTombstone { start: Bytes::copy_from_slice(start), end: Bytes::copy_from_slice(end), seq }
    }

    /// Rebuilds a tombstone from its SST form: the start as an internal key, the end user key.
    pub fn from_sst(start_internal: &[u8], end: &[u8]) -> Option<RangeTombstone> {
        let parsed = key::parse_internal(start_internal)?;
        (parsed.kind == ValueKind::RangeDelete).then(|| RangeTombstone::new(parsed.user_key, end, parsed.seq))
    }

    /// The start as the internal key SSTs store.
    pub fn start_internal(&self) -> Vec<u8> {
        key::encode_internal(&self.start, self.seq, ValueKind::RangeDelete)
    }

    /// True when `user_key` is inside the range.
    pub fn contains(&self, user_key: &[u8]) -> bool {
        self.start.as_ref() <= user_key && user_key < self.end.as_ref()
    }

    /// True when the ranges `[start, end)` of both overlap the user-key range `[lower, upper)`.
    pub fn overlaps(&self, lower: &[u8], upper: Option<&[u8]>) -> bool {
        self.end.as_ref() > lower && upper.is_none_or(|upper| self.start.as_ref() < upper)
    }

    /// The part of this tombstone inside `[lower, upper)` (`None` bound: unbounded), if any.
    pub fn clip(&self, lower: Option<&[u8]>, upper: Option<&[u8]>) -> Option<RangeTombstone> {
        let start = match lower {
            Some(lower) if lower > self.start.as_ref() => Bytes::copy_from_slice(lower),
            _ => self.start.clone(),
        };
        let end = match upper {
            Some(upper) if upper < self.end.as_ref() => Bytes::copy_from_slice(upper),
            _ => self.end.clone(),
        };
        (start < end).then_some(RangeTombstone { start, end, seq: self.seq })
    }
}

/// The tombstones visible to one read.
#[derive(Debug, Default, Clone)]
pub struct TombstoneSet {
    tombstones: Vec<RangeTombstone>,
}

impl TombstoneSet {
    /// Collects the tombstones with `seq <= snapshot`.
    pub fn new(all: impl IntoIterator<Item = RangeTombstone>, snapshot: Seq) -> TombstoneSet {
        TombstoneSet { tombstones: all.into_iter().filter(|t| t.seq <= snapshot).collect() }
    }

    /// True when there is nothing to check.
    pub fn is_empty(&self) -> bool {
        self.tombstones.is_empty()
    }

    /// True when a version of `user_key` at `seq` is deleted by a newer visible tombstone.
    pub fn covers(&self, user_key: &[u8], seq: Seq) -> bool {
        self.tombstones.iter().any(|t| t.seq > seq && t.contains(user_key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn covers_only_older_versions_inside_the_range() {
        let set = TombstoneSet::new([RangeTombstone::new(b"b", b"d", 10)], 20);
        assert!(set.covers(b"b", 9));
        assert!(set.covers(b"c", 1));
        assert!(!set.covers(b"c", 11));
        assert!(!set.covers(b"d", 1));
        assert!(!set.covers(b"a", 1));
        assert!(TombstoneSet::new([RangeTombstone::new(b"b", b"d", 10)], 5).is_empty());
    }

    #[test]
    fn clip_and_sst_form_round_trip() {
        let tombstone = RangeTombstone::new(b"b", b"m", 7);
        assert_eq!(tombstone.clip(Some(b"c"), Some(b"f")), Some(RangeTombstone::new(b"c", b"f", 7)));
        assert_eq!(tombstone.clip(Some(b"x"), None), None);
        let restored = RangeTombstone::from_sst(&tombstone.start_internal(), b"m").expect("valid");
        assert_eq!(restored, tombstone);
    }
}
