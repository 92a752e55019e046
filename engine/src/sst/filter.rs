//! The bloom filter over a table's user keys.
//!
//! Tables written now carry a *blocked* filter: every key's probes fall in one 64-byte block,
//! so a lookup touches one cache line (a classic filter touches one per probe until it finds a
//! zero: about two for an absent key, each a cache miss in a big filter, plus a division each).
//!
//! ```text
//! blocked:  | n x 64-byte blocks | u8 probe count | u8 BLOCKED_TAG |
//! classic:  | bit array (m/8 bytes)               | u8 probe count |   (older tables)
//! ```
//!
//! Both start from [`stable_hash`] of the user key (h). Blocked: the block is
//! `(h >> 32) * n >> 32`; probe `i` sets bit `g_i >> 23` of it, where `g_0` is the low half of
//! h and `g_{i+1} = g_i * 0x9e3779b9 (mod 2^32)`. Classic: probe `i` sets bit
//! `(h1 + i * h2) mod m`, `h1`/`h2` the low/high halves of h (Kirsch–Mitzenmacher). The last
//! byte tells them apart: a classic filter ends in its probe count (1..=30), a blocked one in
//! `BLOCKED_TAG`. The hash and both layouts are on-disk formats: changing one needs a new tag.

use bytes::Bytes;

use crate::error::{Error, Result};

/// Fewest bits a filter has, so tiny tables still get a useful false-positive rate.
const MIN_FILTER_BITS: usize = 64;
/// Most probes a filter may declare; more is corruption.
const MAX_PROBES: u8 = 30;
/// The last byte of a blocked filter (never a classic filter's probe count).
const BLOCKED_TAG: u8 = 0xb1;
/// Bytes of one block of a blocked filter: a cache line.
pub(crate) const BLOCK_BYTES: usize = 64;
/// The multiplier that moves a blocked filter from one probe to the next.
const PROBE_MULTIPLIER: u32 = 0x9e37_79b9;

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

/// A key's [`stable_hash`], computed once to probe many filters with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FilterHash(pub u64);

impl FilterHash {
    /// The hash of `user_key` (or of a prefix, for prefix filters).
    pub fn of(user_key: &[u8]) -> FilterHash {
        FilterHash(stable_hash(user_key))
    }
}

/// A prefix a read is bounded to (see `ReadOptions::prefix`), with its [`FilterHash`]
/// computed once for the memtables and every table the read asks.
#[derive(Debug, Clone)]
pub struct KeyPrefix {
    bytes: Bytes,
    hash: FilterHash,
}

impl KeyPrefix {
    /// `bytes` and their hash.
    pub fn new(bytes: Bytes) -> KeyPrefix {
        KeyPrefix { hash: FilterHash::of(&bytes), bytes }
    }

    /// A copy of `bytes` and their hash.
    pub fn copy_from_slice(bytes: &[u8]) -> KeyPrefix {
        KeyPrefix::new(Bytes::copy_from_slice(bytes))
    }

    /// The prefix.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Its filter hash.
    pub fn hash(&self) -> FilterHash {
        self.hash
    }
}

/// Bit positions of a classic filter of `bit_count` bits.
fn classic_positions(hash: u64, probes: u8, bit_count: u64) -> impl Iterator<Item = u64> {
    let first = hash & 0xffff_ffff;
    let step = (hash >> 32) | 1;
    (0..u64::from(probes)).map(move |i| first.wrapping_add(i.wrapping_mul(step)) % bit_count)
}

/// The block of a blocked filter of `blocks` blocks that `hash` probes.
fn block_of(hash: u64, blocks: usize) -> usize {
    (((hash >> 32) * blocks as u64) >> 32) as usize
}

/// Bit positions (0..512) within its block.
fn blocked_positions(hash: u64, probes: u8) -> impl Iterator<Item = usize> {
    let mut state = hash as u32;
    (0..probes).map(move |_| {
        let bit = (state >> 23) as usize;
        state = state.wrapping_mul(PROBE_MULTIPLIER);
        bit
    })
}

/// Sets the bits of `hash` in the blocks of a blocked filter (`bits`, whole blocks).
pub(crate) fn blocked_insert(bits: &mut [u8], hash: u64, probes: u8) {
    let start = block_of(hash, bits.len() / BLOCK_BYTES) * BLOCK_BYTES;
    let block = &mut bits[start..start + BLOCK_BYTES];
    for bit in blocked_positions(hash, probes) {
        block[bit / 8] |= 1 << (bit % 8);
    }
}

/// False only when `hash` was never inserted into the blocks of a blocked filter (`bits`).
pub(crate) fn blocked_contains(bits: &[u8], hash: u64, probes: u8) -> bool {
    let block = &bits[block_of(hash, bits.len() / BLOCK_BYTES) * BLOCK_BYTES..][..BLOCK_BYTES];
    blocked_positions(hash, probes).all(|bit| block[bit / 8] & (1 << (bit % 8)) != 0)
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
    /// Makes room for `keys` more keys, so that a builder that knows its size grows its list of
    /// hashes once.
    pub fn reserve(&mut self, keys: usize) {
        self.hashes.reserve(keys);
    }

    pub fn add(&mut self, user_key: &[u8]) {
        let hash = stable_hash(user_key);
        if self.hashes.last() != Some(&hash) {
            self.hashes.push(hash);
        }
    }

    /// The filter payload (blocked).
    pub fn finish(&self) -> Vec<u8> {
        let bit_count = (self.hashes.len() * self.bits_per_key).max(MIN_FILTER_BITS);
        let blocks = bit_count.div_ceil(BLOCK_BYTES * 8);
        let mut out = vec![0u8; blocks * BLOCK_BYTES];
        let probes = self.probes();
        for &hash in &self.hashes {
            blocked_insert(&mut out, hash, probes);
        }
        out.extend_from_slice(&[probes, BLOCKED_TAG]);
        out
    }

    /// k = ln 2 * bits/key minimises the false-positive rate.
    fn probes(&self) -> u8 {
        ((self.bits_per_key as f64) * std::f64::consts::LN_2).round().clamp(1.0, f64::from(MAX_PROBES)) as u8
    }

    /// The payload of a classic filter, as tables were written before blocked filters.
    #[cfg(test)]
    fn finish_classic(&self) -> Vec<u8> {
        let bit_count = (self.hashes.len() * self.bits_per_key).max(MIN_FILTER_BITS).next_multiple_of(8);
        let mut out = vec![0u8; bit_count / 8];
        for &hash in &self.hashes {
            for bit in classic_positions(hash, self.probes(), bit_count as u64) {
                out[(bit / 8) as usize] |= 1 << (bit % 8);
            }
        }
        out.push(self.probes());
        out
    }
}

/// A loaded bloom filter.
#[derive(Debug)]
pub struct BloomFilter {
    bits: Bytes,
    probes: u8,
    blocked: bool,
}

impl BloomFilter {
    /// Checks a filter payload.
    pub fn parse(payload: Bytes) -> Result<BloomFilter> {
        let what = "sst filter";
        let blocked = payload.last() == Some(&BLOCKED_TAG);
        let trailer = if blocked { 2 } else { 1 };
        let Some(bits_len) = payload.len().checked_sub(trailer) else {
            return Err(Error::corruption(what, "empty filter"));
        };
        let probes = payload[bits_len];
        let bad_size = bits_len == 0 || (blocked && bits_len % BLOCK_BYTES != 0);
        if bad_size || probes == 0 || probes > MAX_PROBES {
            return Err(Error::corruption(what, format!("{bits_len} bytes with {probes} probes")));
        }
        Ok(BloomFilter { bits: payload.slice(..bits_len), probes, blocked })
    }

    /// False only when `user_key` was certainly not added.
    pub fn may_contain(&self, user_key: &[u8]) -> bool {
        self.may_contain_hash(FilterHash::of(user_key))
    }

    /// [`BloomFilter::may_contain`] of the key with this hash.
    pub fn may_contain_hash(&self, FilterHash(hash): FilterHash) -> bool {
        if self.blocked {
            return blocked_contains(&self.bits, hash, self.probes);
        }
        let bit_count = self.bits.len() as u64 * 8;
        classic_positions(hash, self.probes, bit_count).all(|bit| self.bits[(bit / 8) as usize] & (1 << (bit % 8)) != 0)
    }

    /// Reads the byte of the block a probe of `hash` starts in (the first probed byte of a
    /// classic filter), so that a read about to probe many tables' filters can let their
    /// cache misses overlap.
    pub fn warm(&self, FilterHash(hash): FilterHash) {
        let byte = if self.blocked {
            block_of(hash, self.bits.len() / BLOCK_BYTES) * BLOCK_BYTES
        } else {
            let first_bit = classic_positions(hash, 1, self.bits.len() as u64 * 8).next().unwrap_or(0);
            (first_bit / 8) as usize
        };
        std::hint::black_box(self.bits.get(byte).copied());
    }

    /// Memory held, for the index cache's weight.
    pub fn size_bytes(&self) -> usize {
        self.bits.len() + std::mem::size_of::<Self>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builder_of(keys: impl Iterator<Item = Vec<u8>>, bits_per_key: usize) -> FilterBuilder {
        let mut builder = FilterBuilder::new(bits_per_key);
        keys.for_each(|key| builder.add(&key));
        builder
    }

    /// The filter as written now and as older tables hold it.
    fn both_layouts(keys: impl Iterator<Item = Vec<u8>>, bits_per_key: usize) -> [BloomFilter; 2] {
        let builder = builder_of(keys, bits_per_key);
        let [blocked, classic] = [builder.finish(), builder.finish_classic()]
            .map(|payload| BloomFilter::parse(Bytes::from(payload)).expect("valid filter"));
        assert!(blocked.blocked && !classic.blocked);
        [blocked, classic]
    }

    #[test]
    fn has_no_false_negatives() {
        for filter in both_layouts((0..5000u32).map(|i| i.to_be_bytes().to_vec()), 10) {
            assert!((0..5000u32).all(|i| filter.may_contain(&i.to_be_bytes())));
            assert!((0..5000u32).all(|i| filter.may_contain_hash(FilterHash::of(&i.to_be_bytes()))));
        }
    }

    #[test]
    fn false_positive_rate_matches_ten_bits_per_key() {
        for filter in both_layouts((0..100_000u32).map(|i| format!("user-key-{i}").into_bytes()), 10) {
            let false_positives =
                (0..100_000u32).filter(|i| filter.may_contain(format!("other-key-{i}").as_bytes())).count();
            // Theory for 10 bits/key and 7 probes: about 0.8 % classic, a little more blocked
            // (blocks fill unevenly).
            assert!(false_positives < 1500, "{false_positives} false positives in 100000");
            assert!(false_positives > 300, "{false_positives}: suspiciously perfect");
        }
    }

    #[test]
    fn a_blocked_filter_is_whole_blocks_and_tagged() {
        let payload = builder_of((0..1000u32).map(|i| i.to_le_bytes().to_vec()), 10).finish();
        assert_eq!(payload.last(), Some(&BLOCKED_TAG));
        assert_eq!((payload.len() - 2) % BLOCK_BYTES, 0);
        assert_eq!(payload.len() - 2, 10_000usize.div_ceil(512) * BLOCK_BYTES);
        let empty = FilterBuilder::new(10).finish();
        assert_eq!(empty.len(), BLOCK_BYTES + 2, "even an empty table gets one block");
        assert!(!BloomFilter::parse(Bytes::from(empty)).expect("valid").may_contain(b"x"));
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
    fn blocked_layout_is_pinned() {
        // On disk: the block and bits of a key must never change silently.
        let hash = stable_hash(b"nokv");
        assert_eq!(block_of(hash, 4), 3);
        assert_eq!(blocked_positions(hash, 7).collect::<Vec<_>>(), [357, 321, 92, 449, 247, 51, 414]);
    }

    #[test]
    fn rejects_malformed_payloads() {
        assert!(BloomFilter::parse(Bytes::new()).is_err());
        assert!(BloomFilter::parse(Bytes::from_static(&[0])).is_err());
        assert!(BloomFilter::parse(Bytes::from_static(&[0, 0, 31])).is_err());
        assert!(BloomFilter::parse(Bytes::from_static(&[BLOCKED_TAG])).is_err());
        assert!(BloomFilter::parse(Bytes::from_static(&[7, BLOCKED_TAG])).is_err(), "no blocks");
        assert!(
            BloomFilter::parse(Bytes::from(vec![0; 65].into_iter().chain([7, BLOCKED_TAG]).collect::<Vec<_>>()))
                .is_err()
        );
        assert!(
            BloomFilter::parse(Bytes::from(vec![0; 64].into_iter().chain([0, BLOCKED_TAG]).collect::<Vec<_>>()))
                .is_err()
        );
    }
}
