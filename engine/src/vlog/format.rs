//! Byte layout of value-log files: the header block, records and value pointers.
//!
//! The diagrams live in the parent module's doc; this file is their only encoder and decoder.
//! Every decoder returns `Error::Corruption` on any input it cannot fully verify and never
//! panics.

use bytes::Bytes;

use crate::codec::{Lz4Gate, Reader, masked_crc, masked_crc_parts, put_u32, put_u64, put_varint};
use crate::error::{Error, Result};
use crate::io::IO_ALIGN;

/// Version of the value-log file format (header block and record layout).
pub const FORMAT_VERSION: u32 = 1;

/// Size of the header block that starts every file; the first record follows it.
pub const HEADER_BYTES: u64 = IO_ALIGN as u64;

/// "NOKVVLOG" read as little-endian bytes.
const FILE_MAGIC: u64 = u64::from_le_bytes(*b"NOKVVLOG");

/// Bytes of the header block covered by its checksum: magic, version, file id.
const HEADER_CHECKED_BYTES: usize = 16;

/// Record flag: the stored value is lz4 block data with its uncompressed size prepended.
const FLAG_LZ4: u8 = 1;

/// Longest possible record prefix: crc, flags and two varints of at most 10 bytes.
pub const RECORD_PREFIX_MAX_BYTES: usize = 4 + 1 + 10 + 10;

/// Largest ratio lz4 can achieve; a prepended size beyond it is corrupt, so a damaged record
/// cannot make the decoder allocate gigabytes.
const LZ4_MAX_RATIO: usize = 255;

const WHAT_RECORD: &str = "value-log record";
const WHAT_HEADER: &str = "value-log file header";
const WHAT_POINTER: &str = "value pointer";

/// Where a value lives: the whole record at `offset..offset + len` of file `file_id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct ValuePointer {
    /// The value-log file.
    pub file_id: u32,
    /// Byte offset of the record in the file.
    pub offset: u64,
    /// Length of the whole record (prefix, key and stored value).
    pub len: u32,
}

impl ValuePointer {
    /// Length of [`ValuePointer::encode`]'s output.
    pub const ENCODED_LEN: usize = 16;

    /// Fixed little-endian encoding: `file_id u32 | offset u64 | len u32`.
    pub fn encode(&self) -> [u8; Self::ENCODED_LEN] {
        let mut out = Vec::with_capacity(Self::ENCODED_LEN);
        put_u32(&mut out, self.file_id);
        put_u64(&mut out, self.offset);
        put_u32(&mut out, self.len);
        out.try_into().expect("three fixed-width fields are exactly ENCODED_LEN bytes")
    }

    /// Decodes [`ValuePointer::encode`]'s output; any other length is corruption.
    pub fn decode(input: &[u8]) -> Result<ValuePointer> {
        if input.len() != Self::ENCODED_LEN {
            let detail = format!("expected {} bytes, got {}", Self::ENCODED_LEN, input.len());
            return Err(Error::corruption(WHAT_POINTER, detail));
        }
        let mut reader = Reader::new(input);
        let short = || Error::corruption(WHAT_POINTER, "short input");
        let file_id = reader.u32().ok_or_else(short)?;
        let offset = reader.u64().ok_or_else(short)?;
        let len = reader.u32().ok_or_else(short)?;
        Ok(ValuePointer { file_id, offset, len })
    }

    /// The position just past the record.
    pub fn end(&self) -> VlogPosition {
        VlogPosition { file_id: self.file_id, offset: self.offset + u64::from(self.len) }
    }
}

/// A position in the value log: byte `offset` of file `file_id`. Ordered by file, then offset,
/// which is the order of appends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VlogPosition {
    /// The value-log file.
    pub file_id: u32,
    /// Byte offset in the file.
    pub offset: u64,
}

/// The name of value-log file `file_id`.
pub fn file_name(file_id: u32) -> String {
    format!("vlog-{file_id:08}.log")
}

/// The file id of a value-log file name, or `None` for any other name.
pub fn parse_file_name(name: &str) -> Option<u32> {
    let digits = name.strip_prefix("vlog-")?.strip_suffix(".log")?;
    if digits.len() < 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// The 4 KiB header block of file `file_id`.
pub fn encode_header(file_id: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(IO_ALIGN);
    put_u64(&mut out, FILE_MAGIC);
    put_u32(&mut out, FORMAT_VERSION);
    put_u32(&mut out, file_id);
    let crc = masked_crc(&out);
    put_u32(&mut out, crc);
    out.resize(IO_ALIGN, 0);
    out
}

/// True when a header block was never written: the file is shorter than a block or the block is
/// all zeros. Only the newest file can be in this state (a crash right after creating it).
pub fn header_is_blank(block: &[u8]) -> bool {
    block.len() < IO_ALIGN || block.iter().all(|&b| b == 0)
}

/// Verifies a header block and that it names `file_id`.
pub fn verify_header(block: &[u8], file_id: u32) -> Result<()> {
    let mut reader = Reader::new(block);
    let short = || Error::corruption(WHAT_HEADER, format!("file {file_id}: short header"));
    let magic = reader.u64().ok_or_else(short)?;
    let version = reader.u32().ok_or_else(short)?;
    let stored_id = reader.u32().ok_or_else(short)?;
    let crc = reader.u32().ok_or_else(short)?;
    if magic != FILE_MAGIC {
        return Err(Error::corruption(WHAT_HEADER, format!("file {file_id}: bad magic {magic:#x}")));
    }
    if masked_crc(&block[..HEADER_CHECKED_BYTES]) != crc {
        return Err(Error::corruption(WHAT_HEADER, format!("file {file_id}: checksum mismatch")));
    }
    if version != FORMAT_VERSION {
        return Err(Error::UnsupportedVersion { what: "value log", version });
    }
    if stored_id != file_id {
        return Err(Error::corruption(WHAT_HEADER, format!("file {file_id}: header names file {stored_id}")));
    }
    Ok(())
}

/// Appends one record for `key`/`value` to `out` and returns its length. The value is stored
/// lz4-compressed when given a gate that lets it try and compression saves at least an eighth.
pub fn encode_record(out: &mut Vec<u8>, key: &[u8], value: &[u8], lz4: Option<&Lz4Gate>) -> Result<u32> {
    let mut compressed = None;
    if let Some(gate) = lz4.filter(|_| value.len() >= COMPRESS_MIN_BYTES) {
        gate.try_compress(|| {
            compressed = compress_if_worth_it(value);
            compressed.is_some()
        });
    }
    let (flags, stored) = match &compressed {
        Some(bytes) => (FLAG_LZ4, bytes.as_slice()),
        None => (0, value),
    };
    let mut prefix = Vec::with_capacity(RECORD_PREFIX_MAX_BYTES);
    prefix.push(flags);
    put_varint(&mut prefix, key.len() as u64);
    put_varint(&mut prefix, stored.len() as u64);
    let total = 4 + prefix.len() + key.len() + stored.len();
    let len = u32::try_from(total)
        .map_err(|_| Error::InvalidArgument(format!("value-log record of {total} bytes exceeds 4 GiB")))?;
    put_u32(out, masked_crc_parts(&[&prefix, key, stored]));
    out.extend_from_slice(&prefix);
    out.extend_from_slice(key);
    out.extend_from_slice(stored);
    Ok(len)
}

/// Values shorter than this are never worth an lz4 attempt.
const COMPRESS_MIN_BYTES: usize = 64;

fn compress_if_worth_it(value: &[u8]) -> Option<Vec<u8>> {
    let compressed = lz4_flex::block::compress_prepend_size(value);
    let budget = value.len() - value.len() / 8;
    (compressed.len() <= budget).then_some(compressed)
}

/// The lengths a record prefix announces.
#[derive(Debug, Clone, Copy)]
pub struct RecordPrefix {
    /// Bytes of crc, flags and the two varints.
    pub prefix_len: usize,
    /// Length of the whole record.
    pub record_len: u32,
}

/// Parses the prefix at the start of `input`; `None` when it is short or its lengths cannot
/// belong to a record (over 4 GiB).
pub fn parse_prefix(input: &[u8]) -> Option<RecordPrefix> {
    let mut reader = Reader::new(input);
    reader.u32()?;
    reader.u8()?;
    let key_len = reader.varint()?;
    let value_len = reader.varint()?;
    let prefix_len = input.len() - reader.remaining().len();
    let total = (prefix_len as u64).checked_add(key_len)?.checked_add(value_len)?;
    Some(RecordPrefix { prefix_len, record_len: u32::try_from(total).ok()? })
}

/// A record whose checksum and structure were verified; the value may still be compressed.
#[derive(Debug, Clone)]
pub struct VerifiedRecord {
    compressed: bool,
    /// The key.
    pub key: Bytes,
    stored_value: Bytes,
}

impl VerifiedRecord {
    /// The value, decompressed if it was stored compressed.
    pub fn value(&self) -> Result<Bytes> {
        if !self.compressed {
            return Ok(self.stored_value.clone());
        }
        decompress(&self.stored_value).map(Bytes::from)
    }
}

fn decompress(stored: &[u8]) -> Result<Vec<u8>> {
    let (size, _) = lz4_flex::block::uncompressed_size(stored)
        .map_err(|e| Error::corruption(WHAT_RECORD, format!("lz4 size: {e}")))?;
    if size > stored.len().saturating_mul(LZ4_MAX_RATIO) {
        return Err(Error::corruption(WHAT_RECORD, format!("lz4 size {size} impossible for {} bytes", stored.len())));
    }
    lz4_flex::block::decompress_size_prepended(stored).map_err(|e| Error::corruption(WHAT_RECORD, format!("lz4: {e}")))
}

/// Verifies that `record` is exactly one well-formed record with a matching checksum.
pub fn decode_record(record: &Bytes) -> Result<VerifiedRecord> {
    let prefix = parse_prefix(record).ok_or_else(|| Error::corruption(WHAT_RECORD, "truncated prefix"))?;
    if prefix.record_len as usize != record.len() {
        let detail = format!("record announces {} bytes, {} given", prefix.record_len, record.len());
        return Err(Error::corruption(WHAT_RECORD, detail));
    }
    let mut reader = Reader::new(record);
    let crc = reader.u32().expect("prefix parsed");
    let flags = reader.u8().expect("prefix parsed");
    let key_len = reader.varint().expect("prefix parsed") as usize;
    if masked_crc(&record[4..]) != crc {
        return Err(Error::corruption(WHAT_RECORD, "checksum mismatch"));
    }
    if flags & !FLAG_LZ4 != 0 {
        return Err(Error::corruption(WHAT_RECORD, format!("unknown flags {flags:#x}")));
    }
    let key_start = prefix.prefix_len;
    let value_start = key_start + key_len;
    Ok(VerifiedRecord {
        compressed: flags & FLAG_LZ4 != 0,
        key: record.slice(key_start..value_start),
        stored_value: record.slice(value_start..),
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn pointer_round_trips_and_rejects_wrong_lengths() {
        let pointer = ValuePointer { file_id: 7, offset: 1 << 40, len: 4097 };
        assert_eq!(ValuePointer::decode(&pointer.encode()).expect("decode"), pointer);
        assert!(ValuePointer::decode(&[0u8; 15]).expect_err("short").is_corruption());
        assert!(ValuePointer::decode(&[0u8; 17]).expect_err("long").is_corruption());
    }

    #[test]
    fn file_names_round_trip_and_others_are_ignored() {
        assert_eq!(file_name(42), "vlog-00000042.log");
        assert_eq!(parse_file_name(&file_name(42)), Some(42));
        assert_eq!(parse_file_name(&file_name(u32::MAX)), Some(u32::MAX));
        for other in ["vlog-42.log", "vlog-0000004x.log", "vlog-obsolete", "MANIFEST", "vlog-99999999999.log"] {
            assert_eq!(parse_file_name(other), None, "{other}");
        }
    }

    #[test]
    fn header_verifies_and_detects_damage() {
        let header = encode_header(3);
        assert_eq!(header.len(), IO_ALIGN);
        verify_header(&header, 3).expect("valid");
        assert!(verify_header(&header, 4).expect_err("other id").is_corruption());
        for offset in 0..HEADER_CHECKED_BYTES + 4 {
            let mut damaged = header.clone();
            damaged[offset] ^= 0x10;
            assert!(verify_header(&damaged, 3).is_err(), "flip at {offset}");
        }
        assert!(header_is_blank(&[0u8; IO_ALIGN]) && header_is_blank(&header[..100]) && !header_is_blank(&header));
    }

    #[test]
    fn an_all_zero_region_is_never_a_valid_record() {
        // The scanner treats zeros as padding; that is unambiguous only because no valid record
        // consists of zeros.
        let zeros = Bytes::from(vec![0u8; 7]);
        assert!(decode_record(&zeros.slice(..3)).is_err());
        assert!(masked_crc(&[0, 0, 0]) != 0);
    }

    #[test]
    fn compression_only_when_it_pays_an_eighth() {
        let mut out = Vec::new();
        let compressible = vec![b'a'; 10_000];
        let len = encode_record(&mut out, b"k", &compressible, Some(&Lz4Gate::default())).expect("encode");
        assert!((len as usize) < 1000);
        let record = decode_record(&Bytes::from(out)).expect("decode");
        assert_eq!(record.value().expect("value"), compressible);
        let mut out = Vec::new();
        encode_record(&mut out, b"k", &compressible, None).expect("encode");
        assert!(out.len() > 10_000);
    }

    proptest! {
        #[test]
        fn pointer_decode_never_panics(input in proptest::collection::vec(any::<u8>(), 0..40)) {
            let _ = ValuePointer::decode(&input);
        }

        #[test]
        fn record_decode_never_panics(input in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = decode_record(&Bytes::from(input)).and_then(|r| r.value());
        }

        #[test]
        fn record_round_trips(key in proptest::collection::vec(any::<u8>(), 0..40),
                              value in proptest::collection::vec(0u8..4, 0..3000)) {
            let mut out = Vec::new();
            let len = encode_record(&mut out, &key, &value, Some(&Lz4Gate::default())).expect("encode");
            prop_assert_eq!(len as usize, out.len());
            let record = decode_record(&Bytes::from(out)).expect("decode");
            prop_assert_eq!(&record.key[..], &key[..]);
            prop_assert_eq!(&record.value().expect("value")[..], &value[..]);
        }
    }
}
