//! Every byte-order and integer-encoding choice of the on-disk formats lives here.
//!
//! - Fixed-width integers in file formats are little-endian (`put_u32`, `get_u64`, ...), except
//!   where a key must sort bytewise: those use big-endian (`key::encode_trailer`).
//! - Lengths and counts inside records are LEB128 varints (`put_varint`, `get_varint`).
//! - Checksums are crc32c, masked as LevelDB does so that a checksum of data that itself
//!   contains checksums does not degenerate (`masked_crc`).
//!
//! Decoders never panic on bad input: every `get_*` returns `None` when the input is short, and
//! callers turn that into `Error::Corruption`.

/// Appends a little-endian `u32`.
pub fn put_u32(out: &mut Vec<u8>, value: u32) {
    out.extend_from_slice(&value.to_le_bytes());
}

/// Appends a little-endian `u64`.
pub fn put_u64(out: &mut Vec<u8>, value: u64) {
    out.extend_from_slice(&value.to_le_bytes());
}

/// Appends an unsigned LEB128 varint (at most 10 bytes).
pub fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Appends a varint length followed by the bytes.
pub fn put_length_prefixed(out: &mut Vec<u8>, bytes: &[u8]) {
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// A cursor over an input slice for decoding. Every getter returns `None` on short input.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    input: &'a [u8],
}

impl<'a> Reader<'a> {
    /// Starts reading at the beginning of `input`.
    pub fn new(input: &'a [u8]) -> Self {
        Reader { input }
    }

    /// The bytes not yet consumed.
    pub fn remaining(&self) -> &'a [u8] {
        self.input
    }

    /// True when everything was consumed.
    pub fn is_empty(&self) -> bool {
        self.input.is_empty()
    }

    /// Takes `len` raw bytes.
    pub fn bytes(&mut self, len: usize) -> Option<&'a [u8]> {
        if self.input.len() < len {
            return None;
        }
        let (head, tail) = self.input.split_at(len);
        self.input = tail;
        Some(head)
    }

    /// Takes one byte.
    pub fn u8(&mut self) -> Option<u8> {
        self.bytes(1).map(|b| b[0])
    }

    /// Takes a little-endian `u32`.
    pub fn u32(&mut self) -> Option<u32> {
        self.bytes(4).map(|b| u32::from_le_bytes(b.try_into().expect("length checked")))
    }

    /// Takes a little-endian `u64`.
    pub fn u64(&mut self) -> Option<u64> {
        self.bytes(8).map(|b| u64::from_le_bytes(b.try_into().expect("length checked")))
    }

    /// Takes an unsigned LEB128 varint; rejects encodings longer than 10 bytes or overflowing.
    pub fn varint(&mut self) -> Option<u64> {
        let mut value: u64 = 0;
        for index in 0..10 {
            let byte = self.u8()?;
            let bits = u64::from(byte & 0x7f);
            if index == 9 && byte > 1 {
                return None;
            }
            value |= bits << (7 * index);
            if byte & 0x80 == 0 {
                return Some(value);
            }
        }
        None
    }

    /// Takes a varint length and that many bytes.
    pub fn length_prefixed(&mut self) -> Option<&'a [u8]> {
        let len = usize::try_from(self.varint()?).ok()?;
        self.bytes(len)
    }
}

/// Reads a little-endian `u32` at `offset` of `input`, if it fits.
pub fn u32_at(input: &[u8], offset: usize) -> Option<u32> {
    let end = offset.checked_add(4)?;
    input.get(offset..end).map(|b| u32::from_le_bytes(b.try_into().expect("length checked")))
}

/// Reads a little-endian `u64` at `offset` of `input`, if it fits.
pub fn u64_at(input: &[u8], offset: usize) -> Option<u64> {
    let end = offset.checked_add(8)?;
    input.get(offset..end).map(|b| u64::from_le_bytes(b.try_into().expect("length checked")))
}

const CRC_MASK_DELTA: u32 = 0xa282_ead8;

/// crc32c of `data`, masked (rotated and offset) so that checksums of checksummed data stay
/// strong. Use `masked_crc` to write and `verify_masked_crc` to read.
pub fn masked_crc(data: &[u8]) -> u32 {
    let crc = crc32c::crc32c(data);
    crc.rotate_right(15).wrapping_add(CRC_MASK_DELTA)
}

/// Payloads in a row that failed to compress before a [`Lz4Gate`] stops trying every one.
const LZ4_GIVE_UP_AFTER: u32 = 8;
/// Once given up, a [`Lz4Gate`] still tries one payload in this many, to notice compressible
/// data again.
const LZ4_PROBE_EVERY: u32 = 64;

/// Skips lz4 attempts on data that does not compress. Each writer that compresses (the journal,
/// a table builder, the value log) keeps one: after [`LZ4_GIVE_UP_AFTER`] payloads in a row
/// that did not shrink enough it tries only one in [`LZ4_PROBE_EVERY`], until one shrinks again.
/// Flushing redis-benchmark's 1 KiB values (each a run of 64 distinct characters) spent 8% of
/// the server's samples in lz4 attempts that all failed.
#[derive(Debug, Default)]
pub struct Lz4Gate {
    failures_in_a_row: std::cell::Cell<u32>,
    skipped: std::cell::Cell<u32>,
}

impl Lz4Gate {
    /// Runs `attempt` (which compresses and says whether that paid) unless the recent attempts
    /// say it will not; false when it was skipped or failed.
    pub fn try_compress(&self, attempt: impl FnOnce() -> bool) -> bool {
        if self.failures_in_a_row.get() >= LZ4_GIVE_UP_AFTER {
            let skipped = self.skipped.get() + 1;
            if skipped < LZ4_PROBE_EVERY {
                self.skipped.set(skipped);
                return false;
            }
            self.skipped.set(0);
        }
        let compressed = attempt();
        self.failures_in_a_row.set(if compressed { 0 } else { self.failures_in_a_row.get().saturating_add(1) });
        compressed
    }
}

/// Appends `payload` lz4-compressed with its length in front (the layout of lz4_flex's
/// `compress_prepend_size`, compressed straight into `out`: no buffer of its own, no copy) when
/// that takes at most `max_len` bytes; otherwise leaves `out` as it was and returns false.
pub fn append_lz4(out: &mut Vec<u8>, payload: &[u8], max_len: usize) -> bool {
    const SIZE_LEN: usize = 4;
    let start = out.len();
    let Ok(size) = u32::try_from(payload.len()) else { return false };
    out.extend_from_slice(&size.to_le_bytes());
    out.resize(start + SIZE_LEN + lz4_flex::block::get_maximum_output_size(payload.len()), 0);
    match lz4_flex::block::compress_into(payload, &mut out[start + SIZE_LEN..]) {
        Ok(len) if SIZE_LEN + len <= max_len => {
            out.truncate(start + SIZE_LEN + len);
            true
        }
        _ => {
            out.truncate(start);
            false
        }
    }
}

/// The room [`append_lz4`] needs in `out` beyond `len` bytes while it compresses a payload of
/// `len` bytes (it gives back all but the compressed length afterwards).
pub fn lz4_headroom(len: usize) -> usize {
    4 + lz4_flex::block::get_maximum_output_size(len) - len
}

/// Masked crc32c over several slices, as if they were one.
pub fn masked_crc_parts(parts: &[&[u8]]) -> u32 {
    let crc = parts.iter().fold(0u32, |crc, part| crc32c::crc32c_append(crc, part));
    crc.rotate_right(15).wrapping_add(CRC_MASK_DELTA)
}

/// True when `stored` is the masked crc32c of `data`.
pub fn verify_masked_crc(data: &[u8], stored: u32) -> bool {
    masked_crc(data) == stored
}

/// Rounds `value` up to a multiple of `align` (a power of two).
pub fn align_up(value: u64, align: u64) -> u64 {
    debug_assert!(align.is_power_of_two());
    (value + align - 1) & !(align - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_lz4_gate_gives_up_on_failures_probes_and_comes_back() {
        let gate = Lz4Gate::default();
        let mut attempts = 0;
        for _ in 0..LZ4_GIVE_UP_AFTER {
            assert!(!gate.try_compress(|| {
                attempts += 1;
                false
            }));
        }
        assert_eq!(attempts, LZ4_GIVE_UP_AFTER, "every payload is tried until it gives up");
        let mut probes = 0;
        for _ in 0..LZ4_PROBE_EVERY * 3 {
            gate.try_compress(|| {
                probes += 1;
                false
            });
        }
        assert_eq!(probes, 3, "one probe per {LZ4_PROBE_EVERY} payloads");
        let mut tried = 0;
        for _ in 0..LZ4_PROBE_EVERY + 10 {
            gate.try_compress(|| {
                tried += 1;
                true
            });
        }
        assert_eq!(tried, 11, "a probe that compresses brings every payload back");
    }

    #[test]
    fn varint_round_trips_edges() {
        for value in [0, 1, 127, 128, 300, u32::MAX as u64, u64::MAX - 1, u64::MAX] {
            let mut out = Vec::new();
            put_varint(&mut out, value);
            let mut reader = Reader::new(&out);
            assert_eq!(reader.varint(), Some(value));
            assert!(reader.is_empty());
        }
    }

    #[test]
    fn varint_rejects_truncated_and_overlong() {
        assert_eq!(Reader::new(&[0x80]).varint(), None);
        assert_eq!(Reader::new(&[0xff; 11]).varint(), None);
        assert_eq!(Reader::new(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02]).varint(), None);
    }

    #[test]
    fn masked_crc_detects_flip() {
        let data = b"hello world".to_vec();
        let crc = masked_crc(&data);
        assert!(verify_masked_crc(&data, crc));
        let mut flipped = data.clone();
        flipped[3] ^= 1;
        assert!(!verify_masked_crc(&flipped, crc));
        assert_eq!(masked_crc_parts(&[b"hello", b" world"]), crc);
    }

    #[test]
    fn align_up_rounds() {
        assert_eq!(align_up(0, 4096), 0);
        assert_eq!(align_up(1, 4096), 4096);
        assert_eq!(align_up(4096, 4096), 4096);
    }
}
