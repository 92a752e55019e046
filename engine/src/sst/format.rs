//! Block framing (compression byte and checksum), block handles and the fixed-size footer.
//!
//! Every block of a table (data, index, filter, range tombstones, properties) is stored framed:
//!
//! ```text
//! +-------------------------+------------------+------------------------------------------+
//! | payload (n bytes)       | u8 compression   | u32 LE masked crc32c(payload, compression) |
//! +-------------------------+------------------+------------------------------------------+
//! ```
//!
//! A [`BlockHandle`] names a framed block by offset and *total* size (trailer included). The
//! footer is the last [`FOOTER_LEN`] bytes of the file:
//!
//! ```text
//! +-------------+--------------+-------------------+---------------+--------+--------+-------+
//! | index       | filter       | range tombstones  | properties    | u32    | u32    | u64   |
//! | u64 off,len | u64 off,len  | u64 off,len       | u64 off,len   | version| crc    | magic |
//! +-------------+--------------+-------------------+---------------+--------+--------+-------+
//!   0             16             32                  48              64       68       72..80
//! ```
//!
//! The footer crc covers bytes 0..68. A filter handle of size 0 means "no filter".

use bytes::Bytes;

use crate::codec::{self, Lz4Gate, Reader};
use crate::error::{Error, Result};

use super::FORMAT_VERSION;

/// Bytes after a block's payload: compression byte and crc.
pub const BLOCK_TRAILER_LEN: usize = 5;

/// Size of the footer at the end of every table file.
pub const FOOTER_LEN: usize = 80;

/// "NoKVSST" followed by 0x01: identifies a table file.
pub const MAGIC: u64 = u64::from_be_bytes(*b"NoKVSST\x01");

/// Compression byte values.
const COMPRESSION_NONE: u8 = 0;
const COMPRESSION_LZ4: u8 = 1;

/// lz4 never expands data by more than this factor when decompressing; a larger claimed size
/// is corruption (and must not become a huge allocation).
const LZ4_MAX_RATIO: usize = 255;

/// Where a framed block lives in the file; `size_bytes` includes the 5-byte trailer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BlockHandle {
    /// Offset of the block's first byte.
    pub offset: u64,
    /// Length of payload plus trailer.
    pub size_bytes: u64,
}

impl BlockHandle {
    /// Appends the handle as two varints (the index block's value format).
    pub fn encode_varint(&self, out: &mut Vec<u8>) {
        codec::put_varint(out, self.offset);
        codec::put_varint(out, self.size_bytes);
    }

    /// Decodes a handle written by [`BlockHandle::encode_varint`].
    pub fn decode_varint(reader: &mut Reader<'_>) -> Option<BlockHandle> {
        Some(BlockHandle { offset: reader.varint()?, size_bytes: reader.varint()? })
    }

    /// The first byte after the block.
    pub fn end(&self) -> Option<u64> {
        self.offset.checked_add(self.size_bytes)
    }

    /// Fails with corruption unless the block lies within `0..data_end`.
    pub fn check_within(&self, data_end: u64, what: &'static str) -> Result<()> {
        match self.end() {
            Some(end) if end <= data_end && self.size_bytes >= BLOCK_TRAILER_LEN as u64 => Ok(()),
            _ => Err(Error::corruption(what, format!("block handle {self:?} outside data region 0..{data_end}"))),
        }
    }
}

/// Frames `payload` and appends it to `out`, lz4-compressing it when given a gate that lets it
/// try and that saves at least an eighth. Returns the handle of the appended block.
pub fn append_block(out: &mut Vec<u8>, payload: &[u8], lz4: Option<&Lz4Gate>) -> BlockHandle {
    let offset = out.len();
    let compressed = lz4.is_some_and(|gate| gate.try_compress(|| codec::append_lz4(out, payload, lz4_limit(payload))));
    if !compressed {
        out.extend_from_slice(payload);
    }
    put_trailer(out, offset, compressed)
}

/// [`append_block`] of the payload `out[offset..]`, framed where it lies: compressed through
/// `scratch` when the gate lets it try and it pays, left in place otherwise.
pub fn frame_in_place(out: &mut Vec<u8>, offset: usize, lz4: Option<&Lz4Gate>, scratch: &mut Vec<u8>) -> BlockHandle {
    let payload = &out[offset..];
    scratch.clear();
    let compressed =
        lz4.is_some_and(|gate| gate.try_compress(|| codec::append_lz4(scratch, payload, lz4_limit(payload))));
    if compressed {
        out.truncate(offset);
        out.extend_from_slice(scratch);
    }
    put_trailer(out, offset, compressed)
}

/// A block is stored compressed only when that saves at least an eighth.
fn lz4_limit(payload: &[u8]) -> usize {
    payload.len() - payload.len() / 8
}

/// Appends the trailer of the block stored at `out[offset..]`; returns its handle.
fn put_trailer(out: &mut Vec<u8>, offset: usize, compressed: bool) -> BlockHandle {
    out.push(if compressed { COMPRESSION_LZ4 } else { COMPRESSION_NONE });
    let crc = codec::masked_crc(&out[offset..]);
    codec::put_u32(out, crc);
    BlockHandle { offset: offset as u64, size_bytes: (out.len() - offset) as u64 }
}

/// Verifies a framed block read from disk and returns its (decompressed) payload.
pub fn open_block(raw: Bytes, what: &'static str) -> Result<Bytes> {
    let Some(payload_len) = raw.len().checked_sub(BLOCK_TRAILER_LEN) else {
        return Err(Error::corruption(what, format!("block of {} bytes is shorter than its trailer", raw.len())));
    };
    let kind = raw[payload_len];
    let stored = codec::u32_at(&raw, payload_len + 1).expect("trailer length checked");
    if !codec::verify_masked_crc(&raw[..=payload_len], stored) {
        return Err(Error::corruption(what, "block checksum mismatch"));
    }
    let payload = raw.slice(..payload_len);
    match kind {
        COMPRESSION_NONE => Ok(payload),
        COMPRESSION_LZ4 => decompress_lz4(&payload, what),
        other => Err(Error::corruption(what, format!("unknown compression type {other}"))),
    }
}

fn decompress_lz4(payload: &[u8], what: &'static str) -> Result<Bytes> {
    let bad = |detail: String| Error::corruption(what, detail);
    let (size, _) = lz4_flex::block::uncompressed_size(payload).map_err(|e| bad(e.to_string()))?;
    if size > payload.len().saturating_mul(LZ4_MAX_RATIO) {
        return Err(bad(format!("lz4 block claims {size} bytes from {}", payload.len())));
    }
    let contents = lz4_flex::block::decompress_size_prepended(payload).map_err(|e| bad(format!("lz4: {e}")))?;
    Ok(Bytes::from(contents))
}

/// The footer: where the meta blocks are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Footer {
    /// The index block (one entry per data block).
    pub index: BlockHandle,
    /// The bloom filter over user keys; size 0 when the table has none.
    pub filter: BlockHandle,
    /// The range-tombstone block.
    pub range_tombstones: BlockHandle,
    /// The properties block.
    pub properties: BlockHandle,
}

impl Footer {
    fn handles(&self) -> [BlockHandle; 4] {
        [self.index, self.filter, self.range_tombstones, self.properties]
    }

    /// The fixed-size encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(FOOTER_LEN);
        for handle in self.handles() {
            codec::put_u64(&mut out, handle.offset);
            codec::put_u64(&mut out, handle.size_bytes);
        }
        codec::put_u32(&mut out, FORMAT_VERSION);
        let crc = codec::masked_crc(&out);
        codec::put_u32(&mut out, crc);
        codec::put_u64(&mut out, MAGIC);
        debug_assert_eq!(out.len(), FOOTER_LEN);
        out
    }

    /// Decodes and verifies a footer: magic, then checksum, then version.
    pub fn decode(raw: &[u8]) -> Result<Footer> {
        let what = "sst footer";
        if raw.len() != FOOTER_LEN {
            return Err(Error::corruption(what, format!("footer of {} bytes", raw.len())));
        }
        if codec::u64_at(raw, 72) != Some(MAGIC) {
            return Err(Error::corruption(what, "bad magic number: not a NoKV table"));
        }
        let stored = codec::u32_at(raw, 68).expect("length checked");
        if !codec::verify_masked_crc(&raw[..68], stored) {
            return Err(Error::corruption(what, "footer checksum mismatch"));
        }
        let version = codec::u32_at(raw, 64).expect("length checked");
        if version != FORMAT_VERSION {
            return Err(Error::UnsupportedVersion { what: "sst", version });
        }
        let handle_at = |slot: usize| BlockHandle {
            offset: codec::u64_at(raw, slot * 16).expect("length checked"),
            size_bytes: codec::u64_at(raw, slot * 16 + 8).expect("length checked"),
        };
        Ok(Footer {
            index: handle_at(0),
            filter: handle_at(1),
            range_tombstones: handle_at(2),
            properties: handle_at(3),
        })
    }

    /// Fails with corruption unless every present block lies within `0..data_end`.
    pub fn check_within(&self, data_end: u64) -> Result<()> {
        self.index.check_within(data_end, "sst footer")?;
        if self.filter.size_bytes != 0 {
            self.filter.check_within(data_end, "sst footer")?;
        }
        self.range_tombstones.check_within(data_end, "sst footer")?;
        self.properties.check_within(data_end, "sst footer")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framed_block_round_trips_with_and_without_compression() {
        let compressible = vec![7u8; 4000];
        let random: Vec<u8> = (0..4000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        for payload in [compressible, random, Vec::new()] {
            let mut out = vec![0xAA; 3];
            let handle = append_block(&mut out, &payload, Some(&Lz4Gate::default()));
            assert_eq!(handle.offset, 3);
            assert_eq!(handle.end(), Some(out.len() as u64));
            let opened = open_block(Bytes::from(out[3..].to_vec()), "test").expect("valid block");
            assert_eq!(opened.as_ref(), payload.as_slice());
        }
    }

    #[test]
    fn compression_is_used_only_when_it_pays() {
        let mut out = Vec::new();
        let handle = append_block(&mut out, &[1u8; 4096], Some(&Lz4Gate::default()));
        assert!(handle.size_bytes < 200);
        assert_eq!(out[out.len() - BLOCK_TRAILER_LEN], COMPRESSION_LZ4);
        let mut out = Vec::new();
        append_block(&mut out, b"abc", Some(&Lz4Gate::default()));
        assert_eq!(out[3], COMPRESSION_NONE);
    }

    #[test]
    fn every_flipped_bit_of_a_block_is_corruption() {
        let mut out = Vec::new();
        append_block(&mut out, &[3u8; 300], Some(&Lz4Gate::default()));
        for index in 0..out.len() {
            let mut damaged = out.clone();
            damaged[index] ^= 0x10;
            let error = open_block(Bytes::from(damaged), "test").expect_err("damage detected");
            assert!(error.is_corruption());
        }
        assert!(open_block(Bytes::from_static(b"abc"), "test").expect_err("short").is_corruption());
    }

    #[test]
    fn footer_round_trips_and_rejects_damage() {
        let footer = Footer {
            index: BlockHandle { offset: 1, size_bytes: 2 },
            filter: BlockHandle { offset: 3, size_bytes: 4 },
            range_tombstones: BlockHandle { offset: 5, size_bytes: 6 },
            properties: BlockHandle { offset: 7, size_bytes: 8 },
        };
        let raw = footer.encode();
        assert_eq!(Footer::decode(&raw).expect("valid"), footer);
        for index in 0..FOOTER_LEN {
            let mut damaged = raw.clone();
            damaged[index] ^= 1;
            assert!(Footer::decode(&damaged).is_err(), "flip at {index} undetected");
        }
    }
}
