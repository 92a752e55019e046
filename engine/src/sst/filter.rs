//! The bloom filter over a table's user keys.
//!
//! ```text
//! +---------------------------+----------------+
//! | bit array (m/8 bytes)     | u8 probe count |
//! +---------------------------+----------------+
//! ```
//!
//! Probe `i` of a key sets bit `(h1 + i * h2) mod m`, where `h1`/`h2` are the low/high halves of
//! [`stable_hash`] of the user key (Kirsch–Mitzenmacher double hashing). The hash is part of the
//! on-disk format: changing it requires a new format version.

use bytes::Bytes;

use crate::error::{Error, Result};

/// Fewest bits a filter has, so tiny tables still get a useful false-positive rate.
const MIN_FILTER_BITS: usize = 64;
/// Most probes a filter may declare; more is corruption.
const MAX_PROBES: u8 = 30;

/// The 64-bit finaliser of splitmix64: a cheap bijective bit mixer.
pub(crate) fn mix64(mut value: u64) -> u64 {
    value = (value ^ (value >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    value = (value ^ (value >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    value ^ (value >> 31)
}

/// A stable (platform- and release-independent) 64-bit hash of `bytes`.
pub fn stable_hash(bytes: &[u8]) -> u64 {
    const MULTIPLIER: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut state = (bytes.len() as u64).wrapping_mul(MULTIPLIER) ^ 0x243f_6a88_85a3_08d3;
    for chunk in bytes.chunks(8) {
        let mut word = [0u8; 8];
        word[..chunk.len()].copy_from_slice(chunk);
        state = (state ^ u64::from_le_bytes(word)).wrapping_mul(MULTIPLIER).rotate_left(29);
    }
    mix64(state)
}

fn probe_positions(hash: u64, probes: u8, bit_count: u64) -> impl Iterator<Item = u64> {
    let first = hash & 0xffff_ffff;
    let step = (hash >> 32) | 1;
    (0..u64::from(probes)).map(move |i| first.wrapping_add(i.wrapping_mul(step)) % bit_count)
}

/// Collects user-key hashes while a table is built.
#[derive(Debug)]
pub struct FilterBuilder {
    hashes: Vec<u64>,
    bits_per_key: usize,
}

impl FilterBuilder {
    /// A builder for a filter of about `bits_per_key` bits per distinct key.
    pub fn new(bits_per_key: usize) -> Self {
        debug_assert!(bits_per_key > 0);
        FilterBuilder { hashes: Vec::new(), bits_per_key }
    }

    /// Adds a user key; consecutive versions of one key are added once.
    pub fn add(&mut self, user_key: &[u8]) {
        let hash = stable_hash(user_key);
        if self.hashes.last() != Some(&hash) {
            self.hashes.push(hash);
        }
    }

    /// The filter payload.
    pub fn finish(&self) -> Vec<u8> {
        let bit_count = (self.hashes.len() * self.bits_per_key).max(MIN_FILTER_BITS).next_multiple_of(8);
        // k = ln 2 * bits/key minimises the false-positive rate.
        let probes =
            ((self.bits_per_key as f64) * std::f64::consts::LN_2).round().clamp(1.0, f64::from(MAX_PROBES)) as u8;
        let mut out = vec![0u8; bit_count / 8];
        for hash in &self.hashes {
            for bit in probe_positions(*hash, probes, bit_count as u64) {
                out[(bit / 8) as usize] |= 1 << (bit % 8);
            }
        }
        out.push(probes);
        out
    }
}

/// A loaded bloom filter.
#[derive(Debug)]
pub struct BloomFilter {
    bits: Bytes,
    probes: u8,
}

impl BloomFilter {
    /// Checks a filter payload.
    pub fn parse(payload: Bytes) -> Result<BloomFilter> {
        let what = "sst filter";
        let Some((&probes, bits)) = payload.split_last() else {
            return Err(Error::corruption(what, "empty filter"));
        };
        if bits.is_empty() || probes == 0 || probes > MAX_PROBES {
            return Err(Error::corruption(what, format!("{} bytes with {probes} probes", bits.len())));
        }
        Ok(BloomFilter { bits: payload.slice(..payload.len() - 1), probes })
    }

    /// False only when `user_key` was certainly not added.
    pub fn may_contain(&self, user_key: &[u8]) -> bool {
        let bit_count = self.bits.len() as u64 * 8;
        probe_positions(stable_hash(user_key), self.probes, bit_count)
            .all(|bit| self.bits[(bit / 8) as usize] & (1 << (bit % 8)) != 0)
    }

    /// Memory held, for the index cache's weight.
    pub fn size_bytes(&self) -> usize {
        self.bits.len() + std::mem::size_of::<Self>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter_of(keys: impl Iterator<Item = Vec<u8>>, bits_per_key: usize) -> BloomFilter {
        let mut builder = FilterBuilder::new(bits_per_key);
        keys.for_each(|key| builder.add(&key));
        BloomFilter::parse(Bytes::from(builder.finish())).expect("valid filter")
    }

    #[test]
    fn has_no_false_negatives() {
        let filter = filter_of((0..5000u32).map(|i| i.to_be_bytes().to_vec()), 10);
        assert!((0..5000u32).all(|i| filter.may_contain(&i.to_be_bytes())));
    }

    #[test]
    fn false_positive_rate_matches_ten_bits_per_key() {
        let filter = filter_of((0..10_000u32).map(|i| format!("user-key-{i}").into_bytes()), 10);
        let false_positives =
            (0..10_000u32).filter(|i| filter.may_contain(format!("other-key-{i}").as_bytes())).count();
        // Theory for 10 bits/key and 7 probes: about 0.8 %.
        assert!(false_positives < 200, "{false_positives} false positives in 10000");
        assert!(false_positives > 10, "{false_positives}: suspiciously perfect");
    }

    #[test]
    fn stable_hash_is_stable() {
        // Pinned values: the filter is on disk, so the hash must never change silently.
        assert_eq!(stable_hash(b""), 0xe9e0_033e_3bad_af36);
        assert_eq!(stable_hash(b"nokv"), 0xd318_da2d_b2ac_d4f8);
        assert_eq!(stable_hash(b"user-key-0123456789"), 0x0a0c_6b04_c459_b3b3);
        assert_ne!(stable_hash(b"a"), stable_hash(b"a\0"));
    }

    #[test]
    fn rejects_malformed_payloads() {
        assert!(BloomFilter::parse(Bytes::new()).is_err());
        assert!(BloomFilter::parse(Bytes::from_static(&[0])).is_err());
        assert!(BloomFilter::parse(Bytes::from_static(&[0, 0, 31])).is_err());
    }
}
