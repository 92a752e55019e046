//! TinyLFU admission: a count-min sketch of recent access frequencies plus a doorkeeper.
//!
//! The doorkeeper is a small bloom filter that absorbs first sightings, so the sketch only
//! counts keys seen at least twice and one-hit wonders (a scan) cost a bit each, not a
//! counter. After `window` recorded accesses every counter is halved and the doorkeeper
//! cleared, so old popularity fades (aging).

use crate::sst::filter::mix64;

const SKETCH_ROWS: usize = 4;
/// Counters saturate here, as 4-bit counters would.
const COUNTER_MAX: u8 = 15;
const DOORKEEPER_PROBES: u64 = 3;
/// The sketch is sized for at least this many items.
const MIN_ITEMS: usize = 64;

/// Frequency estimator for cache keys, identified by a 64-bit hash.
#[derive(Debug)]
pub struct TinyLfu {
    counters: Vec<u8>,
    width_mask: u64,
    doorkeeper: Vec<u64>,
    doorkeeper_bits: u64,
    recorded: u64,
    window: u64,
}

impl TinyLfu {
    /// A sketch sized for a cache holding about `expected_items` items.
    pub fn new(expected_items: usize) -> Self {
        let expected_items = expected_items.max(MIN_ITEMS);
        // Eight counters per item per row keep collisions with the hot set rare, so a key seen
        // once does not borrow a hot key's count.
        let width = (expected_items * 8).next_power_of_two();
        let window = 10 * expected_items as u64;
        // Eight bits per access in a window keep the doorkeeper's false positives near 1 %.
        let doorkeeper_bits = (window * 8).next_power_of_two();
        TinyLfu {
            counters: vec![0; SKETCH_ROWS * width],
            width_mask: width as u64 - 1,
            doorkeeper: vec![0; (doorkeeper_bits / 64) as usize],
            doorkeeper_bits,
            recorded: 0,
            window,
        }
    }

    /// Records one access to the key with `hash`.
    pub fn record(&mut self, hash: u64) {
        if self.doorkeeper_insert(hash) {
            for slot in self.counter_slots(hash) {
                self.counters[slot] = (self.counters[slot] + 1).min(COUNTER_MAX);
            }
        }
        self.recorded += 1;
        if self.recorded >= self.window {
            self.age();
        }
    }

    /// Estimated accesses in the current window (doorkeeper bit plus sketch count).
    pub fn estimate(&self, hash: u64) -> u32 {
        let count = self.counter_slots(hash).map(|slot| self.counters[slot]).min().unwrap_or(0);
        u32::from(count) + u32::from(self.doorkeeper_contains(hash))
    }

    fn age(&mut self) {
        self.counters.iter_mut().for_each(|counter| *counter >>= 1);
        self.doorkeeper.iter_mut().for_each(|word| *word = 0);
        self.recorded = 0;
    }

    fn counter_slots(&self, hash: u64) -> impl Iterator<Item = usize> + use<> {
        let mixed = mix64(hash);
        let (first, step) = (mixed, (mixed >> 32) | 1);
        let (width, mask) = (self.width_mask + 1, self.width_mask);
        (0..SKETCH_ROWS as u64)
            .map(move |row| (row * width + (first.wrapping_add(row.wrapping_mul(step)) & mask)) as usize)
    }

    fn doorkeeper_positions(&self, hash: u64) -> impl Iterator<Item = u64> + use<> {
        let (first, step, bits) = (hash, (hash >> 32) | 1, self.doorkeeper_bits);
        (0..DOORKEEPER_PROBES).map(move |i| first.wrapping_add(i.wrapping_mul(step)) & (bits - 1))
    }

    fn doorkeeper_contains(&self, hash: u64) -> bool {
        self.doorkeeper_positions(hash).all(|bit| self.doorkeeper[(bit / 64) as usize] & (1 << (bit % 64)) != 0)
    }

    /// Sets the key's bits; true when they were all set already.
    fn doorkeeper_insert(&mut self, hash: u64) -> bool {
        let mut present = true;
        for bit in self.doorkeeper_positions(hash) {
            let word = &mut self.doorkeeper[(bit / 64) as usize];
            present &= *word & (1 << (bit % 64)) != 0;
            *word |= 1 << (bit % 64);
        }
        present
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_repeated_accesses() {
        let mut sketch = TinyLfu::new(1000);
        let key = mix64(42);
        assert_eq!(sketch.estimate(key), 0);
        sketch.record(key);
        assert_eq!(sketch.estimate(key), 1);
        sketch.record(key);
        sketch.record(key);
        assert_eq!(sketch.estimate(key), 3);
    }

    #[test]
    fn aging_halves_counts_and_forgets_single_sightings() {
        let mut sketch = TinyLfu::new(64);
        let hot = mix64(1);
        for _ in 0..9 {
            sketch.record(hot);
        }
        let before = sketch.estimate(hot);
        let noise_count = sketch.window - sketch.recorded;
        for noise in 0..noise_count {
            sketch.record(mix64(1000 + noise));
        }
        assert_eq!(sketch.recorded, 0, "a window passed");
        assert!(sketch.estimate(hot) < before);
        assert_eq!(sketch.estimate(mix64(1000)), 0);
    }
}
