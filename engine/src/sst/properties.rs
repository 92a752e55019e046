//! Table properties (the [`TableMeta`] stored in the properties block) and range tombstones.
//!
//! Properties payload, all varints unless noted:
//!
//! ```text
//! entry_count | range_tombstone_count | point_tombstone_count | data_block_count |
//! raw_key_bytes | raw_value_bytes | smallest_seq | largest_seq |
//! varint len + smallest internal key | varint len + largest internal key |
//! filter_prefix_suffix_bytes (optional: absent in older files, read as 0)
//! ```
//!
//! Bytes after these fields are ignored, so version 1 can grow fields at the end.
//! Range tombstones are stored in the [block format](super::block): key = start internal key,
//! value = end user key (exclusive).

use std::cmp::Ordering;

use crate::codec::{self, Reader};
use crate::error::{Error, Result};
use crate::key::{self, MAX_SEQ, ValueKind, compare_internal};

/// What the rest of the engine knows about a table without reading it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TableMeta {
    /// Smallest internal key (point entries and range-tombstone starts).
    pub smallest: Vec<u8>,
    /// Largest internal key (point entries and `(tombstone end, MAX_SEQ, RangeDelete)`).
    pub largest: Vec<u8>,
    /// Point entries (every kind but `RangeDelete`).
    pub entry_count: u64,
    /// Range tombstones.
    pub range_tombstone_count: u64,
    /// Point entries of kind `Delete`.
    pub point_tombstone_count: u64,
    /// Data blocks.
    pub data_block_count: u64,
    /// Sum of internal-key lengths of point entries.
    pub raw_key_bytes: u64,
    /// Sum of value lengths of point entries.
    pub raw_value_bytes: u64,
    /// Smallest sequence number of any entry or tombstone.
    pub smallest_seq: u64,
    /// Largest sequence number of any entry or tombstone.
    pub largest_seq: u64,
    /// The whole file, padding and footer included.
    pub file_size_bytes: u64,
    /// When > 0, the filter also holds each user key without its last this-many bytes.
    pub filter_prefix_suffix_bytes: u64,
}

impl TableMeta {
    /// Widens the key and sequence bounds to cover `internal_key` (`seq` is its sequence).
    pub(crate) fn cover(&mut self, internal_key: &[u8], upper_bound: &[u8], seq: u64) {
        let first = self.entry_count + self.range_tombstone_count == 0;
        // In place: point entries come in increasing order, so nearly every one is the new
        // largest, and a fresh allocation for each was 1.4% of a compaction's samples.
        if first || compare_internal(internal_key, &self.smallest) == Ordering::Less {
            self.smallest.clear();
            self.smallest.extend_from_slice(internal_key);
        }
        if first || compare_internal(upper_bound, &self.largest) == Ordering::Greater {
            self.largest.clear();
            self.largest.extend_from_slice(upper_bound);
        }
        self.smallest_seq = if first { seq } else { self.smallest_seq.min(seq) };
        self.largest_seq = if first { seq } else { self.largest_seq.max(seq) };
    }

    /// The properties payload (everything but `file_size_bytes`, which is the file's size).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for field in [
            self.entry_count,
            self.range_tombstone_count,
            self.point_tombstone_count,
            self.data_block_count,
            self.raw_key_bytes,
            self.raw_value_bytes,
            self.smallest_seq,
            self.largest_seq,
        ] {
            codec::put_varint(&mut out, field);
        }
        codec::put_length_prefixed(&mut out, &self.smallest);
        codec::put_length_prefixed(&mut out, &self.largest);
        codec::put_varint(&mut out, self.filter_prefix_suffix_bytes);
        out
    }

    /// Decodes a properties payload of a file of `file_size_bytes`.
    pub fn decode(payload: &[u8], file_size_bytes: u64) -> Result<TableMeta> {
        let mut reader = Reader::new(payload);
        let meta = decode_fields(&mut reader, file_size_bytes)
            .ok_or_else(|| Error::corruption("sst properties", "truncated properties"))?;
        let empty = meta.entry_count == 0 && meta.range_tombstone_count == 0;
        if empty || key::parse_internal(&meta.smallest).is_none() || key::parse_internal(&meta.largest).is_none() {
            return Err(Error::corruption("sst properties", "missing or malformed key bounds"));
        }
        Ok(meta)
    }
}

fn decode_fields(reader: &mut Reader<'_>, file_size_bytes: u64) -> Option<TableMeta> {
    Some(TableMeta {
        entry_count: reader.varint()?,
        range_tombstone_count: reader.varint()?,
        point_tombstone_count: reader.varint()?,
        data_block_count: reader.varint()?,
        raw_key_bytes: reader.varint()?,
        raw_value_bytes: reader.varint()?,
        smallest_seq: reader.varint()?,
        largest_seq: reader.varint()?,
        smallest: reader.length_prefixed()?.to_vec(),
        largest: reader.length_prefixed()?.to_vec(),
        file_size_bytes,
        filter_prefix_suffix_bytes: if reader.is_empty() { 0 } else { reader.varint()? },
    })
}

/// A range tombstone: deletes user keys in `[user_key(start), end)` older than `start`'s seq.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeTombstone {
    /// Internal key of kind `RangeDelete` at the range's first user key.
    pub start: Vec<u8>,
    /// First user key *not* deleted.
    pub end: Vec<u8>,
}

impl RangeTombstone {
    /// The largest internal key the tombstone covers, used as a table's upper bound.
    pub fn upper_bound(&self) -> Vec<u8> {
        key::encode_internal(&self.end, MAX_SEQ, ValueKind::RangeDelete)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_round_trip() {
        let meta = TableMeta {
            smallest: key::encode_internal(b"a", 3, ValueKind::Put),
            largest: key::encode_internal(b"z", 1, ValueKind::Delete),
            entry_count: 10,
            range_tombstone_count: 1,
            point_tombstone_count: 2,
            data_block_count: 3,
            raw_key_bytes: 100,
            raw_value_bytes: 1000,
            smallest_seq: 1,
            largest_seq: 3,
            file_size_bytes: 8192,
            filter_prefix_suffix_bytes: 8,
        };
        assert_eq!(TableMeta::decode(&meta.encode(), 8192).expect("valid"), meta);
        // A file written before the field existed ends right after the largest key.
        let mut older = meta.encode();
        older.pop();
        assert_eq!(TableMeta::decode(&older, 8192).expect("valid").filter_prefix_suffix_bytes, 0);
        // Any shorter cut loses a required field.
        for len in 0..older.len() {
            assert!(TableMeta::decode(&older[..len], 8192).is_err());
        }
    }
}
