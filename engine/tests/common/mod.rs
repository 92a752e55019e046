//! Helpers shared by the engine's scenario tests.

#![allow(dead_code)]

/// `len` bytes that lz4 cannot shrink, derived from `seed` (so value-log records keep their size
/// and a test can recompute the value it wrote).
pub fn incompressible(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}
