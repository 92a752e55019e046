//! Fill admission: once the row cache is full, it takes a row from a read that missed only when
//! the same key missed recently, so keys read once (lookups of keys never written, one-off
//! reads) do not push out rows that are read again (TinyLFU's doorkeeper). While a row fits
//! without an eviction it is taken whatever the doorkeeper says: it costs no other row.
//!
//! One bit per hash bucket of user keys remembers "missed since the last reset". A fill of a
//! key whose bit is clear sets it and is refused; a fill of a key whose bit is set is admitted.
//! When a quarter of the bits are set every bit is cleared, so the memory of misses is bounded
//! and old misses fade. A collision admits a row that was not read twice, which only costs the
//! insert: admission decides what is cached, never what a read returns.

use nokv_engine::sst::filter::stable_hash;

/// Bits per row the cache is sized for (so about `ROWS_PER_RESET = BITS_PER_ROW / 4` distinct
/// keys' misses are remembered per cached row before the bits are cleared).
const BITS_PER_ROW: usize = 4;
/// Fewest bits, so tiny caches still remember some misses.
const MIN_BITS: usize = 1 << 12;

/// The recently missed keys, as one bit per hash bucket.
#[derive(Debug)]
pub(super) struct Doorkeeper {
    words: Vec<u64>,
    set_bits: usize,
}

impl Doorkeeper {
    /// A doorkeeper for a cache of about `rows` rows.
    pub(super) fn new(rows: usize) -> Doorkeeper {
        let bits = rows.saturating_mul(BITS_PER_ROW).max(MIN_BITS).next_power_of_two();
        Doorkeeper { words: vec![0; bits / 64], set_bits: 0 }
    }

    /// True when `user_key` missed since the last reset; otherwise remembers this miss.
    pub(super) fn admit(&mut self, user_key: &[u8]) -> bool {
        let bit_count = self.words.len() * 64;
        let bit = (stable_hash(user_key) as usize) & (bit_count - 1);
        let (word, mask) = (bit / 64, 1u64 << (bit % 64));
        if self.words[word] & mask != 0 {
            return true;
        }
        if self.set_bits >= bit_count / 4 {
            self.words.fill(0);
            self.set_bits = 0;
        }
        self.words[word] |= mask;
        self.set_bits += 1;
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_admitted_on_its_second_miss() {
        let mut doorkeeper = Doorkeeper::new(1000);
        assert!(!doorkeeper.admit(b"k"));
        assert!(doorkeeper.admit(b"k"));
        assert!(doorkeeper.admit(b"k"), "still remembered");
    }

    #[test]
    fn misses_are_forgotten_once_a_quarter_of_the_bits_are_set() {
        let mut doorkeeper = Doorkeeper::new(0);
        assert!(!doorkeeper.admit(b"first"));
        // Distinct misses until the bits are cleared: about MIN_BITS / 4 (collisions set no
        // new bit, hence the bound of twice that).
        let mut others = 0;
        let mut previous_set_bits = doorkeeper.set_bits;
        while others < MIN_BITS / 2 {
            doorkeeper.admit(format!("other{others}").as_bytes());
            others += 1;
            if doorkeeper.set_bits < previous_set_bits {
                break;
            }
            previous_set_bits = doorkeeper.set_bits;
        }
        assert!((MIN_BITS / 4..MIN_BITS / 2).contains(&others), "cleared after {others} misses");
        assert!(!doorkeeper.admit(b"first"), "the reset forgot the first miss");
    }
}
