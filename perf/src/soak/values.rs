//! The bytes of the values the soak writes, as a function of the write that sent them, so the
//! model keeps 16 bytes per value instead of the value and a read is checked byte for byte.
//!
//! A value is its write id in hex and a colon (`1f3a:`), then a slice of one random alphanumeric
//! payload at an offset derived from the write id, cut to the value's length. The prefix makes
//! every value name its write (a 10-byte value still carries write ids below 2^36), and the
//! slice makes large values incompressible enough to be real value-log traffic.

use super::model::ValueId;

/// How many distinct payload offsets values start at.
const PAYLOAD_OFFSETS: usize = 4096;
/// How many bytes of a value a report shows.
const DESCRIBED_BYTES: usize = 24;

/// The payload values are cut from.
#[derive(Clone, Debug)]
pub struct Values {
    payload: Vec<u8>,
}

impl Values {
    /// A payload for values up to `largest_bytes`, drawn from `seed`.
    pub fn new(seed: u64, largest_bytes: usize) -> Self {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::SmallRng::seed_from_u64(seed);
        let payload = (0..largest_bytes + PAYLOAD_OFFSETS).map(|_| rng.sample(rand::distr::Alphanumeric)).collect();
        Self { payload }
    }

    /// Appends the value's bytes to `out`.
    pub fn write_to(&self, id: ValueId, out: &mut Vec<u8>) {
        let (prefix, prefix_len) = prefix(id);
        let head_len = prefix_len.min(id.len_bytes);
        out.extend_from_slice(&prefix[..head_len]);
        out.extend_from_slice(self.tail(id, head_len));
    }

    /// The value's bytes.
    pub fn bytes(&self, id: ValueId) -> Vec<u8> {
        let mut out = Vec::with_capacity(id.len_bytes);
        self.write_to(id, &mut out);
        out
    }

    /// Whether `bytes` are exactly the value `id`.
    pub fn matches(&self, id: ValueId, bytes: &[u8]) -> bool {
        if bytes.len() != id.len_bytes {
            return false;
        }
        let (prefix, prefix_len) = prefix(id);
        let head_len = prefix_len.min(id.len_bytes);
        bytes[..head_len] == prefix[..head_len] && bytes[head_len..] == *self.tail(id, head_len)
    }

    fn tail(&self, id: ValueId, head_len: usize) -> &[u8] {
        // Spread consecutive writes over the offsets (the golden-ratio multiplier).
        let offset = (id.write.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as usize % PAYLOAD_OFFSETS;
        let tail_len = id.len_bytes - head_len;
        assert!(offset + tail_len <= self.payload.len(), "value of {} B is larger than the payload", id.len_bytes);
        &self.payload[offset..offset + tail_len]
    }
}

/// `<write id in hex>:` and its length.
fn prefix(id: ValueId) -> ([u8; 17], usize) {
    let mut prefix = [0u8; 17];
    let digits = (id.write.checked_ilog2().unwrap_or(0) / 4 + 1) as usize;
    for (position, digit) in prefix[..digits].iter_mut().enumerate() {
        let nibble = (id.write >> (4 * (digits - 1 - position))) & 0xF;
        *digit = b"0123456789abcdef"[nibble as usize];
    }
    prefix[digits] = b':';
    (prefix, digits + 1)
}

/// A short printable description of bytes read: their length and first bytes.
pub fn describe_bytes(bytes: &[u8]) -> String {
    let shown = &bytes[..bytes.len().min(DESCRIBED_BYTES)];
    let ellipsis = if bytes.len() > DESCRIBED_BYTES { "..." } else { "" };
    format!("{} B \"{}{ellipsis}\"", bytes.len(), shown.escape_ascii())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_name_their_write_and_have_their_length() {
        let values = Values::new(1, 65536);
        let small = ValueId { write: 0x1f3a, len_bytes: 10 };
        let bytes = values.bytes(small);
        assert_eq!(bytes.len(), 10);
        assert!(bytes.starts_with(b"1f3a:"));
        assert!(values.matches(small, &bytes));
        let large = ValueId { write: 0x1f3b, len_bytes: 65536 };
        let large_bytes = values.bytes(large);
        assert!(values.matches(large, &large_bytes) && large_bytes.starts_with(b"1f3b:"));
        assert!(!values.matches(large, &large_bytes[..65535]));
        assert!(!values.matches(ValueId { write: 0x1f3c, len_bytes: 10 }, &bytes), "another write's value");
        assert_eq!(values.bytes(ValueId { write: u64::MAX, len_bytes: 4 }), b"ffff");
        assert_eq!(values.bytes(ValueId { write: 0, len_bytes: 2 }), b"0:");
    }
}
