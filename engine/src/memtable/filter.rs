//! The key filter of one column family of a memtable: which keys it holds, so that a point read
//! or a prefix-bounded seek of a key the memtable does not hold skips the ordered map (a tree
//! descent of memory-bound key comparisons) for one hash lookup.
//!
//! It records the [`stable_hash`] of every inserted user key's *filter key*: the key
//! without the column family's `filter_prefix_suffix_bytes` (a version suffix), or the whole key
//! when it is not longer than the suffix, the same prefix SST filters record. A point read asks
//! for the filter key of the key it wants; a prefix read (see `ReadOptions::prefix`) asks for its
//! prefix, which is the filter key of every key it wants.
//!
//! It is a blocked bloom filter (every key's bits in one 64-byte block, the layout of the
//! tables' filters) of [`BITS_PER_KEY`] bits per key the memtable can hold at most, allocated
//! at its first insert and counted into the memtable's size then. It was a hash set of the
//! 64-bit hashes: exact, but 16 bytes a key, so a full 64 MiB memtable of 16-byte values (about
//! 450k keys) spent 7 MiB of its budget on the set, and a growing set rehashed. The filter of
//! a full 64 MiB memtable is 750 KiB, so such a memtable holds about 10% more entries before
//! it is frozen. An insert costs about what it did (SET 16 B -P16: 4.3% of samples against
//! 4.7% for the set), one cache line instead of two; reading the blocks of a window of inserts
//! back to back first did not make the misses overlap (the reads took what the inserts saved).
//!
//! Invariant: no false negatives. Every inserted key's filter key has its bits set and bits
//! are never cleared (a memtable never drops an entry, and a frozen one never changes), so
//! "absent" is exact. "Present" is wrong for about 1% of absent keys when the memtable is
//! full, and costs a tree descent and nothing else.

use crate::sst::builder::prefix_of;
use crate::sst::filter::{self, BLOCK_BYTES, KeyPrefix, stable_hash};

/// Bits per key of a full memtable: about 1% false positives with [`PROBES`] probes.
pub const BITS_PER_KEY: u64 = 10;
/// Probes per key (ln 2 x bits per key).
const PROBES: u8 = 7;

/// The filter of one column family of one memtable.
#[derive(Debug)]
pub struct KeyFilter {
    suffix_bytes: usize,
    /// Bytes of the filter once allocated (whole blocks).
    len_bytes: usize,
    /// `len_bytes` of blocks after the first insert, empty before.
    bits: Vec<u8>,
}

impl KeyFilter {
    /// An empty filter for a column family whose keys end in `suffix_bytes` version bytes, sized
    /// for `max_keys` keys.
    pub fn new(suffix_bytes: usize, max_keys: u64) -> KeyFilter {
        let blocks = (max_keys.max(1) * BITS_PER_KEY).div_ceil(8 * BLOCK_BYTES as u64);
        let len_bytes = usize::try_from(blocks).expect("a memtable filter fits in memory") * BLOCK_BYTES;
        KeyFilter { suffix_bytes, len_bytes, bits: Vec::new() }
    }

    /// Records `user_key`.
    pub fn insert(&mut self, user_key: &[u8]) {
        if self.bits.is_empty() {
            self.bits = vec![0; self.len_bytes];
        }
        let hash = stable_hash(self.filter_key(user_key));
        filter::blocked_insert(&mut self.bits, hash, PROBES);
    }

    /// Memory held, in bytes.
    pub fn size_bytes(&self) -> u64 {
        self.bits.len() as u64
    }

    /// False only when no inserted key equals `user_key`.
    pub fn may_contain_key(&self, user_key: &[u8]) -> bool {
        self.contains(stable_hash(self.filter_key(user_key)))
    }

    /// False only when no inserted key is `prefix` followed by exactly the suffix bytes. Without
    /// a suffix (or for an empty prefix, whose keys are not longer than the suffix) it cannot
    /// tell and says true, as SST filters do.
    pub fn may_contain_prefix(&self, prefix: &KeyPrefix) -> bool {
        self.suffix_bytes == 0 || prefix.bytes().is_empty() || self.contains(prefix.hash().0)
    }

    fn contains(&self, hash: u64) -> bool {
        !self.bits.is_empty() && filter::blocked_contains(&self.bits, hash, PROBES)
    }

    fn filter_key<'a>(&self, user_key: &'a [u8]) -> &'a [u8] {
        prefix_of(user_key, self.suffix_bytes).unwrap_or(user_key)
    }
}

impl Default for KeyFilter {
    fn default() -> KeyFilter {
        KeyFilter::new(0, 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn versioned(prefix: &[u8], version: u64) -> Vec<u8> {
        [prefix, &version.to_be_bytes()].concat()
    }

    #[test]
    fn without_suffix_every_inserted_key_is_present_and_few_others() {
        let mut filter = KeyFilter::new(0, 10_000);
        assert!(!filter.may_contain_key(b"key:0"), "an empty filter holds nothing");
        assert_eq!(filter.size_bytes(), 0, "allocated at the first insert");
        let keys: Vec<Vec<u8>> = (0..10_000u32).map(|i| format!("key:{i}").into_bytes()).collect();
        for key in &keys {
            filter.insert(key);
        }
        assert_eq!(
            filter.size_bytes(),
            (10_000 * BITS_PER_KEY).div_ceil(512) * 64,
            "whole blocks for the keys asked for"
        );
        assert!(keys.iter().all(|key| filter.may_contain_key(key)));
        let false_positives =
            (10_000..20_000u32).filter(|i| filter.may_contain_key(format!("key:{i}").as_bytes())).count();
        assert!(false_positives < 200, "about 1% of absent keys when full: {false_positives}");
        assert!(
            filter.may_contain_prefix(&KeyPrefix::copy_from_slice(b"anything")),
            "without a suffix a prefix cannot be ruled out"
        );
    }

    #[test]
    fn with_suffix_versions_share_their_prefix() {
        let mut filter = KeyFilter::new(8, 100);
        filter.insert(&versioned(b"apple", 7));
        filter.insert(&versioned(b"apple", 9));
        assert!(filter.may_contain_key(&versioned(b"apple", 7)));
        assert!(filter.may_contain_key(&versioned(b"apple", 1)), "the filter knows prefixes only");
        assert!(filter.may_contain_prefix(&KeyPrefix::copy_from_slice(b"apple")));
        assert!(!filter.may_contain_prefix(&KeyPrefix::copy_from_slice(b"appl")));
        assert!(!filter.may_contain_prefix(&KeyPrefix::copy_from_slice(b"apples")));
        assert!(!filter.may_contain_key(&versioned(b"pear", 7)));
    }

    #[test]
    fn keys_not_longer_than_the_suffix_are_kept_whole() {
        let mut filter = KeyFilter::new(8, 100);
        filter.insert(b"short");
        filter.insert(&versioned(b"", 3));
        assert!(filter.may_contain_key(b"short"));
        assert!(filter.may_contain_key(&versioned(b"", 3)));
        assert!(!filter.may_contain_key(b"shore"));
        assert!(
            filter.may_contain_prefix(&KeyPrefix::copy_from_slice(b"")),
            "an 8-byte key has the empty prefix: never ruled out"
        );
    }
}
