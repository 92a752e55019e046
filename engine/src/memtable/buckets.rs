//! [`BucketMap`]: the ordered map of one column family of a memtable, split by the first 14 bits
//! of the user key into up to 16,384 B-trees.
//!
//! Internal keys order by user key first, so the trees, taken in bucket order, are the whole map
//! in order. Keys of the server's data start with their 14-bit hash slot (in two bytes), which
//! spreads a full 64 MiB memtable (about 450k keys) over 4,096 trees of about a hundred entries:
//! an insert descends two levels instead of six. A probe inserting 450k slot-prefixed keys
//! measured 626-650 ns per insert against 791-828 ns for one `BTreeMap`, for 60 MiB of
//! memory against 57 MiB; 65,536 buckets were as fast but took 67 MiB, their small trees'
//! nodes less full (`perf/results/memtable-buckets-2026-12-06.md`). Keys that share their
//! first 14 bits (a column family of metadata, an engine used alone) land in one tree and cost
//! what one `BTreeMap` costs.
//!
//! Fixed cost: the directory of a column family that received a write is 16,384 `u32`s and a
//! 16,384-bit occupancy bitmap, 66 KiB, allocated on the first insert and freed with the
//! memtable.
//!
//! Invariants: `directory[b]` is 0 for an empty bucket and otherwise one more than the index of
//! the bucket's tree in `trees`; bit `b` of `occupied` is set exactly when bucket `b` is
//! non-empty (buckets never empty again: a memtable only grows).

use std::collections::BTreeMap;
use std::ops::Bound;

use bytes::Bytes;

use crate::key::InternalKey;

const BUCKETS: usize = 1 << 14;
const WORD_BITS: usize = 64;

/// An ordered map from internal key to value, bucketed by the user key's first 14 bits.
#[derive(Debug, Default)]
pub struct BucketMap {
    directory: Vec<u32>,
    occupied: Vec<u64>,
    trees: Vec<BTreeMap<InternalKey, Bytes>>,
    len: usize,
}

impl BucketMap {
    /// Number of entries.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Inserts or replaces the value of `key`.
    pub fn insert(&mut self, key: InternalKey, value: Bytes) {
        let bucket = usize::from(key.bucket());
        if self.directory.is_empty() {
            self.directory = vec![0; BUCKETS];
            self.occupied = vec![0; BUCKETS / WORD_BITS];
        }
        let slot = match self.directory[bucket] {
            0 => {
                self.trees.push(BTreeMap::new());
                self.directory[bucket] = u32::try_from(self.trees.len()).expect("at most 16,384 trees");
                self.occupied[bucket / WORD_BITS] |= 1 << (bucket % WORD_BITS);
                self.trees.len() - 1
            }
            index => index as usize - 1,
        };
        if self.trees[slot].insert(key, value).is_none() {
            self.len += 1;
        }
    }

    /// The first entry at or after `target` that shares its bucket: every version of a user key
    /// is in the key's bucket, so a point read looks no further.
    pub fn first_in_bucket_from(&self, target: &InternalKey) -> Option<(&InternalKey, &Bytes)> {
        self.tree(usize::from(target.bucket()))?.range(target..).next()
    }

    /// The first entry above `lower`.
    pub fn first_from(&self, lower: Bound<&InternalKey>) -> Option<(&InternalKey, &Bytes)> {
        self.iter_from(lower).next()
    }

    /// The last entry below `upper`.
    pub fn last_before(&self, upper: Bound<&InternalKey>) -> Option<(&InternalKey, &Bytes)> {
        let start = match upper {
            Bound::Unbounded => BUCKETS - 1,
            Bound::Included(key) | Bound::Excluded(key) => usize::from(key.bucket()),
        };
        if let Some(found) = self.tree(start).and_then(|tree| tree.range((Bound::Unbounded, upper)).next_back()) {
            return Some(found);
        }
        let previous = self.occupied_before(start)?;
        self.tree(previous).and_then(BTreeMap::last_key_value)
    }

    /// The entries above `lower`, in order.
    pub fn iter_from<'a>(&'a self, lower: Bound<&InternalKey>) -> impl Iterator<Item = (&'a InternalKey, &'a Bytes)> {
        let start = match lower {
            Bound::Unbounded => 0,
            Bound::Included(key) | Bound::Excluded(key) => usize::from(key.bucket()),
        };
        let first = self.tree(start).into_iter().flat_map(move |tree| tree.range((lower, Bound::Unbounded)));
        let mut next = start;
        let rest = std::iter::from_fn(move || {
            next = self.occupied_after(next)?;
            self.tree(next)
        });
        first.chain(rest.flatten())
    }

    /// Takes the map apart into its entries, in order.
    pub fn into_sorted(self) -> impl Iterator<Item = (InternalKey, Bytes)> {
        let BucketMap { directory, mut trees, .. } = self;
        let order: Vec<usize> =
            directory.into_iter().filter(|&index| index != 0).map(|index| index as usize - 1).collect();
        order.into_iter().flat_map(move |index| std::mem::take(&mut trees[index]))
    }

    fn tree(&self, bucket: usize) -> Option<&BTreeMap<InternalKey, Bytes>> {
        match self.directory.get(bucket)? {
            0 => None,
            index => Some(&self.trees[*index as usize - 1]),
        }
    }

    /// The first non-empty bucket after `bucket`.
    fn occupied_after(&self, bucket: usize) -> Option<usize> {
        let from = bucket + 1;
        let mut word_index = from / WORD_BITS;
        let mut word = *self.occupied.get(word_index)? & (u64::MAX << (from % WORD_BITS));
        loop {
            if word != 0 {
                return Some(word_index * WORD_BITS + word.trailing_zeros() as usize);
            }
            word_index += 1;
            word = *self.occupied.get(word_index)?;
        }
    }

    /// The last non-empty bucket before `bucket`.
    fn occupied_before(&self, bucket: usize) -> Option<usize> {
        let mut word_index = bucket / WORD_BITS;
        let below = (1u64 << (bucket % WORD_BITS)) - 1;
        let mut word = *self.occupied.get(word_index)? & below;
        loop {
            if word != 0 {
                return Some(word_index * WORD_BITS + (WORD_BITS - 1 - word.leading_zeros() as usize));
            }
            word_index = word_index.checked_sub(1)?;
            word = self.occupied[word_index];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::ValueKind;

    fn key(user_key: &[u8], seq: u64) -> InternalKey {
        InternalKey::encode(user_key, seq, ValueKind::Put)
    }

    #[test]
    fn empty_map_finds_nothing() {
        let map = BucketMap::default();
        assert_eq!(map.len(), 0);
        assert_eq!(map.first_from(Bound::Unbounded), None);
        assert_eq!(map.last_before(Bound::Unbounded), None);
        assert_eq!(map.first_in_bucket_from(&key(b"a", 1)), None);
        assert_eq!(map.into_sorted().count(), 0);
    }

    #[test]
    fn walks_across_distant_buckets_both_ways() {
        let mut map = BucketMap::default();
        for user_key in [&b"\xff\xff\xff"[..], b"", b"\x00\x01", b"\x80", b"\x80\x00a"] {
            map.insert(key(user_key, 1), Bytes::new());
        }
        let forward: Vec<Vec<u8>> = map.iter_from(Bound::Unbounded).map(|(k, _)| k.as_slice().to_vec()).collect();
        let mut expected = forward.clone();
        expected.sort_by(|a, b| crate::key::compare_internal(a, b));
        assert_eq!(forward, expected);
        assert_eq!(map.last_before(Bound::Unbounded).map(|(k, _)| k.clone()), Some(key(b"\xff\xff\xff", 1)));
        assert_eq!(map.last_before(Bound::Excluded(&key(b"\x00\x01", 1))).map(|(k, _)| k.clone()), Some(key(b"", 1)));
        assert_eq!(map.last_before(Bound::Excluded(&key(b"", 1))), None);
    }

    proptest::proptest! {
        /// Every query agrees with one `BTreeMap` holding the same entries.
        #[test]
        fn agrees_with_one_btree(
            inserts in proptest::collection::vec((proptest::collection::vec(proptest::prelude::any::<u8>(), 0..4), 1..5u64), 0..80),
            probes in proptest::collection::vec((proptest::collection::vec(proptest::prelude::any::<u8>(), 0..4), 0..6u64), 1..30),
        ) {
            // Few distinct bytes, so that buckets are shared, neighbouring and far apart.
            let squash = |bytes: &[u8]| bytes.iter().map(|b| [0u8, 1, 0x7f, 0x80, 0xff][usize::from(*b % 5)]).collect::<Vec<u8>>();
            let mut map = BucketMap::default();
            let mut model = BTreeMap::new();
            for (user_key, seq) in &inserts {
                let value = Bytes::from(seq.to_be_bytes().to_vec());
                map.insert(key(&squash(user_key), *seq), value.clone());
                model.insert(key(&squash(user_key), *seq), value);
            }
            proptest::prop_assert_eq!(map.len(), model.len());
            for (user_key, seq) in probes {
                let probe = key(&squash(&user_key), seq);
                for bound in [Bound::Included(&probe), Bound::Excluded(&probe), Bound::Unbounded] {
                    let got: Vec<_> = map.iter_from(bound).collect();
                    let want: Vec<_> = model.range((bound, Bound::Unbounded)).collect();
                    proptest::prop_assert_eq!(got, want);
                    proptest::prop_assert_eq!(map.last_before(bound), model.range((Bound::Unbounded, bound)).next_back());
                }
                let same_bucket = model.range(&probe..).next().filter(|(k, _)| k.bucket() == probe.bucket());
                proptest::prop_assert_eq!(map.first_in_bucket_from(&probe), same_bucket);
            }
            let sorted: Vec<_> = map.into_sorted().collect();
            proptest::prop_assert_eq!(sorted, model.into_iter().collect::<Vec<_>>());
        }
    }
}
