//! The key filter of one column family of a memtable: which keys it holds, so that a point read
//! or a prefix-bounded seek of a key the memtable does not hold skips the ordered map (a tree
//! descent of memory-bound key comparisons) for one hash lookup.
//!
//! It holds the 64-bit [`stable_hash`] of every inserted user key's *filter key*: the key
//! without the column family's `filter_prefix_suffix_bytes` (a version suffix), or the whole key
//! when it is not longer than the suffix, the same prefix SST filters record. A point read asks
//! for the filter key of the key it wants; a prefix read (see `ReadOptions::prefix`) asks for its
//! prefix, which is the filter key of every key it wants.
//!
//! Invariant: no false negatives. Every inserted key's filter key is in the set and the set
//! only grows (a memtable never drops an entry, and a frozen one never changes), so "absent" is
//! exact. "Present" is wrong only on a 64-bit hash collision, which costs a seek and nothing
//! else.

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};

use crate::sst::builder::prefix_of;
use crate::sst::filter::{KeyPrefix, stable_hash};

/// Memory one distinct filter key costs, counted into the memtable's size: the `u64` and its
/// control byte at the table's load factor.
pub const FILTER_KEY_BYTES: u64 = 16;
/// The set is split by six bits of the hash into 64 tables, so growing one rehashes a
/// 64th of the keys. One table of a full 64 MiB memtable (about 600k keys) took 15 ms to double,
/// all of it on the core's thread between two client requests.
const SHARD_BITS: u32 = 6;

type HashSet64 = HashSet<u64, BuildHasherDefault<PassThroughHasher>>;

/// The filter of one column family of one memtable.
#[derive(Debug)]
pub struct KeyFilter {
    suffix_bytes: usize,
    shards: Vec<HashSet64>,
}

impl KeyFilter {
    /// An empty filter for a column family whose keys end in `suffix_bytes` version bytes.
    pub fn new(suffix_bytes: usize) -> KeyFilter {
        KeyFilter { suffix_bytes, shards: (0..1 << SHARD_BITS).map(|_| HashSet64::default()).collect() }
    }

    /// Records `user_key`; true when its filter key was not there yet.
    pub fn insert(&mut self, user_key: &[u8]) -> bool {
        let hash = stable_hash(self.filter_key(user_key));
        let shard = shard_of(hash);
        self.shards[shard].insert(hash)
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
        self.shards[shard_of(hash)].contains(&hash)
    }

    fn filter_key<'a>(&self, user_key: &'a [u8]) -> &'a [u8] {
        prefix_of(user_key, self.suffix_bytes).unwrap_or(user_key)
    }
}

/// Middle bits: hashbrown takes a table's bucket from the low bits and its tag from the top 7.
fn shard_of(hash: u64) -> usize {
    ((hash >> 40) & ((1 << SHARD_BITS) - 1)) as usize
}

impl Default for KeyFilter {
    fn default() -> KeyFilter {
        KeyFilter::new(0)
    }
}

/// The set's hasher: its values are already [`stable_hash`]es, well mixed in every bit, so
/// hashing them again would only cost time.
#[derive(Debug, Default)]
struct PassThroughHasher(u64);

impl Hasher for PassThroughHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is used; fold anything else in so the hasher stays a hasher.
        for byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*byte);
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn versioned(prefix: &[u8], version: u64) -> Vec<u8> {
        [prefix, &version.to_be_bytes()].concat()
    }

    #[test]
    fn without_suffix_every_inserted_key_is_present_and_others_are_absent() {
        let mut filter = KeyFilter::new(0);
        let keys: Vec<Vec<u8>> = (0..10_000u32).map(|i| format!("key:{i}").into_bytes()).collect();
        for key in &keys {
            assert!(filter.insert(key));
        }
        assert!(!filter.insert(&keys[0]), "a repeated key is not new");
        assert!(keys.iter().all(|key| filter.may_contain_key(key)));
        let absent = (10_000..20_000u32).filter(|i| filter.may_contain_key(format!("key:{i}").as_bytes())).count();
        assert_eq!(absent, 0, "64-bit hashes of 10k keys do not collide");
        assert!(
            filter.may_contain_prefix(&KeyPrefix::copy_from_slice(b"anything")),
            "without a suffix a prefix cannot be ruled out"
        );
    }

    #[test]
    fn with_suffix_versions_share_their_prefix() {
        let mut filter = KeyFilter::new(8);
        assert!(filter.insert(&versioned(b"apple", 7)));
        assert!(!filter.insert(&versioned(b"apple", 9)), "another version of a known prefix");
        assert!(filter.may_contain_key(&versioned(b"apple", 7)));
        assert!(filter.may_contain_key(&versioned(b"apple", 1)), "the filter knows prefixes only");
        assert!(filter.may_contain_prefix(&KeyPrefix::copy_from_slice(b"apple")));
        assert!(!filter.may_contain_prefix(&KeyPrefix::copy_from_slice(b"appl")));
        assert!(!filter.may_contain_prefix(&KeyPrefix::copy_from_slice(b"apples")));
        assert!(!filter.may_contain_key(&versioned(b"pear", 7)));
    }

    #[test]
    fn keys_not_longer_than_the_suffix_are_kept_whole() {
        let mut filter = KeyFilter::new(8);
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
