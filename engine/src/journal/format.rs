//! Byte layout of journal segments and records (see the module doc of `journal` for diagrams).
//!
//! Everything here is pure: encoding into vectors and decoding from slices. Decoders never
//! panic; any malformed input is `Error::Corruption`.

use bytes::Bytes;

use crate::codec::{self, Lz4Gate, Reader};
use crate::error::{Error, Result};
use crate::io::IO_ALIGN;

/// Version of the segment and record format written by this build.
pub const FORMAT_VERSION: u32 = 1;
/// First bytes of every segment file.
pub const SEGMENT_MAGIC: [u8; 8] = *b"NOKVJRNL";
/// The segment header occupies one whole aligned block; batches start after it.
pub const SEGMENT_HEADER_BYTES: u64 = IO_ALIGN as u64;
/// `crc u32 | len u32 | type u8 | flags u8`.
pub const RECORD_HEADER_BYTES: usize = 10;
/// Payloads shorter than this are never compressed: lz4 rarely pays on small records.
pub const COMPRESSION_MIN_BYTES: usize = 4096;
/// Upper bound of one record's payload, so a length field can never ask for absurd memory.
pub const MAX_RECORD_PAYLOAD_BYTES: usize = 1 << 30;
/// Flag bit 0: the payload is lz4 block-compressed with its uncompressed size prepended.
pub const FLAG_LZ4: u8 = 1;

const WHAT: &str = "journal record";

/// Record types. A batch is one `BatchHeader` followed by exactly `record_count` other records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordType {
    /// `varint batch_seq | varint record_count`.
    BatchHeader = 1,
    /// `varint region | varint first_index | varint count | count x (varint term | varint len | bytes)`.
    Entries = 2,
    /// `varint region | varint key_len | key | u8 op (1 put, 2 delete) | [varint len | value]`.
    State = 3,
    /// `varint region | varint index`: entries below `index` are no longer needed.
    Compact = 4,
}

impl RecordType {
    fn from_u8(value: u8) -> Result<RecordType> {
        match value {
            1 => Ok(RecordType::BatchHeader),
            2 => Ok(RecordType::Entries),
            3 => Ok(RecordType::State),
            4 => Ok(RecordType::Compact),
            other => Err(Error::corruption(WHAT, format!("unknown record type {other}"))),
        }
    }
}

/// Where one entry's payload sits inside its (uncompressed) `Entries` record payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryMeta {
    /// The entry's raft term.
    pub term: u64,
    /// Offset of the entry payload inside the uncompressed record payload.
    pub payload_offset: u32,
    /// Length of the entry payload.
    pub payload_len: u32,
}

/// The decoded meaning of one record, as the index applies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordBody {
    /// Opens a batch.
    BatchHeader {
        /// Consecutive over the whole journal; a stale or foreign batch breaks the chain.
        batch_seq: u64,
        /// How many records follow in this batch.
        record_count: u64,
    },
    /// Consecutive entries of one region.
    Entries {
        /// The raft group.
        region_id: u64,
        /// Index of the first entry; the others follow consecutively.
        first_index: u64,
        /// Term and payload position of each entry.
        entries: Vec<EntryMeta>,
    },
    /// A per-region key/value (raft hard state and the like); the latest wins.
    State {
        /// The raft group.
        region_id: u64,
        /// The key.
        key: Bytes,
        /// The value; `None` deletes the key.
        value: Option<Bytes>,
    },
    /// Entries of `region_id` below `index` are no longer needed.
    Compact {
        /// The raft group.
        region_id: u64,
        /// The new first needed index.
        index: u64,
    },
}

/// The file name of segment `seq`.
pub fn segment_file_name(seq: u64) -> String {
    format!("journal-{seq:016}.log")
}

/// The segment number of a journal file name, or `None` for any other file.
pub fn parse_segment_file_name(name: &str) -> Option<u64> {
    let digits = name.strip_prefix("journal-")?.strip_suffix(".log")?;
    if digits.len() != 16 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// The 4 KiB header block of segment `seq`: `magic | u32 version | u64 seq | u32 crc | zeros`.
pub fn encode_segment_header(seq: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(IO_ALIGN);
    out.extend_from_slice(&SEGMENT_MAGIC);
    codec::put_u32(&mut out, FORMAT_VERSION);
    codec::put_u64(&mut out, seq);
    let crc = codec::masked_crc(&out);
    codec::put_u32(&mut out, crc);
    out.resize(IO_ALIGN, 0);
    out
}

/// Checks a segment header read from the file named for `expected_seq`.
pub fn check_segment_header(bytes: &[u8], expected_seq: u64) -> Result<()> {
    const WHAT: &str = "journal segment header";
    let fields = bytes.get(..24).ok_or_else(|| Error::corruption(WHAT, "segment shorter than its header"))?;
    let stored_crc = codec::u32_at(bytes, 20).expect("24 bytes checked");
    if fields[..8] != SEGMENT_MAGIC || !codec::verify_masked_crc(&fields[..20], stored_crc) {
        return Err(Error::corruption(WHAT, "bad magic or checksum"));
    }
    let version = codec::u32_at(bytes, 8).expect("24 bytes checked");
    if version != FORMAT_VERSION {
        return Err(Error::UnsupportedVersion { what: "journal", version });
    }
    let seq = codec::u64_at(bytes, 12).expect("24 bytes checked");
    if seq != expected_seq {
        return Err(Error::corruption(WHAT, format!("header says segment {seq}, file name says {expected_seq}")));
    }
    Ok(())
}

/// Appends one framed record; compresses the payload with lz4 when given a gate that lets it
/// try and it pays. Returns the framed length.
pub fn frame_record(out: &mut Vec<u8>, record_type: RecordType, payload: &[u8], lz4: Option<&Lz4Gate>) -> usize {
    let start = put_record_header(out, record_type);
    let compressed = try_lz4(out, payload, lz4);
    if !compressed {
        out.extend_from_slice(payload);
    }
    finish_record(out, start, compressed)
}

/// [`frame_record`] of the payload `write_payload` appends, written where the record keeps it
/// (no payload buffer of its own); when compressing pays, the payload is compressed into
/// `scratch` and replaced by it. Returns the framed length and what `write_payload` returned.
pub fn frame_record_with<R>(
    out: &mut Vec<u8>,
    record_type: RecordType,
    lz4: Option<&Lz4Gate>,
    scratch: &mut Vec<u8>,
    write_payload: impl FnOnce(&mut Vec<u8>) -> R,
) -> (usize, R) {
    let start = put_record_header(out, record_type);
    let body = out.len();
    let written = write_payload(out);
    let payload = &out[body..];
    scratch.clear();
    let compressed = try_lz4(scratch, payload, lz4);
    if compressed {
        out.truncate(body);
        out.extend_from_slice(scratch);
    }
    (finish_record(out, start, compressed), written)
}

/// Appends `payload` lz4-compressed to `out` when it is large enough, the gate lets it try,
/// and that saves more than an eighth; false (and `out` unchanged) otherwise.
fn try_lz4(out: &mut Vec<u8>, payload: &[u8], lz4: Option<&Lz4Gate>) -> bool {
    let under_seven_eighths = payload.len() - payload.len() / 8 - 1;
    payload.len() >= COMPRESSION_MIN_BYTES
        && lz4.is_some_and(|gate| gate.try_compress(|| codec::append_lz4(out, payload, under_seven_eighths)))
}

/// Appends a record header whose crc and length [`finish_record`] fills in; returns its start.
fn put_record_header(out: &mut Vec<u8>, record_type: RecordType) -> usize {
    let start = out.len();
    codec::put_u32(out, 0); // crc, set last
    codec::put_u32(out, 0); // stored length, set once known
    out.push(record_type as u8);
    out.push(0); // flags
    start
}

/// Fills in the header of the record at `start` whose stored payload ends `out`; returns the
/// framed length.
fn finish_record(out: &mut [u8], start: usize, compressed: bool) -> usize {
    let body = start + RECORD_HEADER_BYTES;
    if compressed {
        out[body - 1] = FLAG_LZ4;
    }
    let stored_len = u32::try_from(out.len() - body).expect("payload size validated by the batch");
    out[start + 4..start + 8].copy_from_slice(&stored_len.to_le_bytes());
    let crc = codec::masked_crc(&out[start + 4..]);
    out[start..start + 4].copy_from_slice(&crc.to_le_bytes());
    out.len() - start
}

/// One frame read from a buffer.
#[derive(Debug)]
pub enum Frame<'a> {
    /// An all-zero record header: padding up to the next aligned block.
    Padding,
    /// A record whose checksum verified.
    Record {
        /// The record type byte.
        record_type: RecordType,
        /// The flags byte.
        flags: u8,
        /// The stored (possibly compressed) payload.
        stored: &'a [u8],
        /// Header plus stored payload.
        framed_len: usize,
    },
}

/// Reads the frame at `pos` of `buf`; a cut-short or checksum-failing frame is `Corruption`.
pub fn read_frame(buf: &[u8], pos: usize) -> Result<Frame<'_>> {
    let rest = buf.get(pos..).unwrap_or_default();
    let Some(header) = rest.get(..RECORD_HEADER_BYTES) else {
        if rest.iter().all(|&b| b == 0) {
            return Ok(Frame::Padding);
        }
        return Err(Error::corruption(WHAT, format!("record header cut short at {pos}")));
    };
    if header.iter().all(|&b| b == 0) {
        return Ok(Frame::Padding);
    }
    let stored_crc = codec::u32_at(header, 0).expect("header length checked");
    let len = codec::u32_at(header, 4).expect("header length checked") as usize;
    let framed_len = RECORD_HEADER_BYTES + len;
    let framed = rest.get(..framed_len).ok_or_else(|| Error::corruption(WHAT, format!("record cut short at {pos}")))?;
    if !codec::verify_masked_crc(&framed[4..], stored_crc) {
        return Err(Error::corruption(WHAT, format!("checksum mismatch at {pos}")));
    }
    let record_type = RecordType::from_u8(header[8])?;
    Ok(Frame::Record { record_type, flags: header[9], stored: &framed[RECORD_HEADER_BYTES..], framed_len })
}

/// The uncompressed payload of a verified frame; an uncompressed one is `stored` turned into
/// `Bytes` by `to_bytes` (a copy, or a slice of a buffer that holds it).
pub fn frame_payload(flags: u8, stored: &[u8], to_bytes: impl FnOnce(&[u8]) -> Bytes) -> Result<Bytes> {
    match flags {
        0 => Ok(to_bytes(stored)),
        FLAG_LZ4 => decompress(stored),
        other => Err(Error::corruption(WHAT, format!("unknown flags {other:#x}"))),
    }
}

fn decompress(stored: &[u8]) -> Result<Bytes> {
    let (size, _) =
        lz4_flex::block::uncompressed_size(stored).map_err(|e| Error::corruption(WHAT, format!("lz4 size: {e}")))?;
    // lz4 cannot expand more than 255x, so a larger claim is damage; checking it first keeps a
    // corrupt size from allocating up to the record limit (found by the journal fuzz target).
    if size > MAX_RECORD_PAYLOAD_BYTES || size > stored.len().saturating_mul(255) {
        return Err(Error::corruption(WHAT, format!("lz4 size {size} over the limit")));
    }
    let payload =
        lz4_flex::block::decompress_size_prepended(stored).map_err(|e| Error::corruption(WHAT, format!("lz4: {e}")))?;
    Ok(Bytes::from(payload))
}

/// Encodes a batch header payload.
pub fn encode_batch_header(batch_seq: u64, record_count: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(20);
    codec::put_varint(&mut out, batch_seq);
    codec::put_varint(&mut out, record_count);
    out
}

/// Encodes an `Entries` payload from `(term, head, body)` triples, each entry's payload being
/// its head followed by its body; returns it with each entry's position in it.
#[cfg(test)]
pub fn encode_entries<'a>(
    region_id: u64,
    first_index: u64,
    entries: impl ExactSizeIterator<Item = (u64, &'a [u8], &'a [u8])> + Clone,
) -> (Vec<u8>, Vec<EntryMeta>) {
    // Three varints, and per entry two varints (at most 10 bytes each) and the payload.
    let bound_bytes = entries.clone().fold(30, |sum, (_, head, body)| sum + 20 + head.len() + body.len());
    let mut out = Vec::with_capacity(bound_bytes);
    let metas = encode_entries_into(&mut out, region_id, first_index, entries);
    (out, metas)
}

/// [`encode_entries`] appending to `out`; positions are from where it began appending.
pub fn encode_entries_into<'a>(
    out: &mut Vec<u8>,
    region_id: u64,
    first_index: u64,
    entries: impl ExactSizeIterator<Item = (u64, &'a [u8], &'a [u8])>,
) -> Vec<EntryMeta> {
    let start = out.len();
    codec::put_varint(out, region_id);
    codec::put_varint(out, first_index);
    codec::put_varint(out, entries.len() as u64);
    let mut metas = Vec::with_capacity(entries.len());
    for (term, head, body) in entries {
        let payload_len = u32::try_from(head.len() + body.len()).expect("payload size validated by the batch");
        codec::put_varint(out, term);
        codec::put_varint(out, u64::from(payload_len));
        let payload_offset = u32::try_from(out.len() - start).expect("payload size validated by the batch");
        out.extend_from_slice(head);
        out.extend_from_slice(body);
        metas.push(EntryMeta { term, payload_offset, payload_len });
    }
    metas
}

/// Encodes a `State` payload.
pub fn encode_state(region_id: u64, key: &[u8], value: Option<&[u8]>) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + key.len() + value.map_or(0, <[u8]>::len));
    codec::put_varint(&mut out, region_id);
    codec::put_length_prefixed(&mut out, key);
    match value {
        Some(value) => {
            out.push(1);
            codec::put_length_prefixed(&mut out, value);
        }
        None => out.push(2),
    }
    out
}

/// Encodes a `Compact` payload.
pub fn encode_compact(region_id: u64, index: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(20);
    codec::put_varint(&mut out, region_id);
    codec::put_varint(&mut out, index);
    out
}

/// Decodes an uncompressed payload of `record_type`.
pub fn decode_body(record_type: RecordType, payload: &[u8]) -> Result<RecordBody> {
    let mut reader = Reader::new(payload);
    let body = match record_type {
        RecordType::BatchHeader => {
            let batch_seq = varint(&mut reader)?;
            RecordBody::BatchHeader { batch_seq, record_count: varint(&mut reader)? }
        }
        RecordType::Entries => decode_entries(&mut reader, payload.len())?,
        RecordType::State => decode_state(&mut reader)?,
        RecordType::Compact => {
            let region_id = varint(&mut reader)?;
            RecordBody::Compact { region_id, index: varint(&mut reader)? }
        }
    };
    if !reader.is_empty() {
        return Err(Error::corruption(WHAT, format!("{} trailing bytes in {record_type:?}", reader.remaining().len())));
    }
    Ok(body)
}

fn decode_entries(reader: &mut Reader<'_>, payload_len: usize) -> Result<RecordBody> {
    let region_id = varint(reader)?;
    let first_index = varint(reader)?;
    let count = varint(reader)?;
    // Every entry takes at least two bytes, so a count beyond that is corrupt, not a reason
    // to reserve memory.
    if count > payload_len as u64 / 2 || first_index.checked_add(count).is_none() {
        return Err(Error::corruption(WHAT, format!("entry count {count} does not fit the record")));
    }
    let mut entries = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let term = varint(reader)?;
        let len = varint(reader)?;
        let payload_offset = payload_len - reader.remaining().len();
        let bytes = usize::try_from(len).ok().and_then(|len| reader.bytes(len));
        bytes.ok_or_else(|| Error::corruption(WHAT, "entry payload cut short"))?;
        entries.push(EntryMeta { term, payload_offset: payload_offset as u32, payload_len: len as u32 });
    }
    Ok(RecordBody::Entries { region_id, first_index, entries })
}

fn decode_state(reader: &mut Reader<'_>) -> Result<RecordBody> {
    let region_id = varint(reader)?;
    let key = reader.length_prefixed().ok_or_else(|| Error::corruption(WHAT, "state key cut short"))?;
    let value = match reader.u8() {
        Some(1) => {
            let value = reader.length_prefixed().ok_or_else(|| Error::corruption(WHAT, "state value cut short"))?;
            Some(Bytes::copy_from_slice(value))
        }
        Some(2) => None,
        other => return Err(Error::corruption(WHAT, format!("bad state op {other:?}"))),
    };
    Ok(RecordBody::State { region_id, key: Bytes::copy_from_slice(key), value })
}

fn varint(reader: &mut Reader<'_>) -> Result<u64> {
    reader.varint().ok_or_else(|| Error::corruption(WHAT, "bad varint"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_names_round_trip_and_reject_others() {
        assert_eq!(segment_file_name(7), "journal-0000000000000007.log");
        assert_eq!(parse_segment_file_name(&segment_file_name(1_234_567_890_123_456)), Some(1_234_567_890_123_456));
        assert_eq!(parse_segment_file_name("journal-7.log"), None);
        assert_eq!(parse_segment_file_name("MANIFEST"), None);
    }

    #[test]
    fn segment_header_checks_magic_version_and_seq() {
        let header = encode_segment_header(3);
        assert_eq!(header.len(), IO_ALIGN);
        check_segment_header(&header, 3).expect("valid");
        assert!(check_segment_header(&header, 4).is_err());
        let mut flipped = header.clone();
        flipped[13] ^= 1;
        assert!(check_segment_header(&flipped, 3).is_err());
        assert!(check_segment_header(&header[..10], 3).is_err());
    }

    #[test]
    fn records_round_trip_with_and_without_lz4() {
        let small = encode_state(5, b"hs", Some(b"value"));
        let large = encode_entries(9, 10, [(2u64, &[][..], &[7u8; 10_000][..])].into_iter()).0;
        for (payload, expect_flags) in [(small, 0u8), (large, FLAG_LZ4)] {
            let mut buf = Vec::new();
            let framed = frame_record(&mut buf, RecordType::State, &payload, Some(&Lz4Gate::default()));
            let Frame::Record { record_type, flags, stored, framed_len } = read_frame(&buf, 0).expect("frame") else {
                panic!("expected a record");
            };
            assert_eq!((record_type, flags, framed_len), (RecordType::State, expect_flags, framed));
            assert_eq!(frame_payload(flags, stored, Bytes::copy_from_slice).expect("payload"), payload);
            // Written in place after other bytes, with a scratch that held something before.
            let (mut in_place, mut scratch) = (b"before".to_vec(), vec![9u8; 3]);
            let write = |out: &mut Vec<u8>| out.extend_from_slice(&payload);
            let gate = Lz4Gate::default();
            let (framed_in_place, ()) =
                frame_record_with(&mut in_place, RecordType::State, Some(&gate), &mut scratch, write);
            assert_eq!(framed_in_place, framed);
            assert_eq!(&in_place[6..], &buf[..], "the same frame as from a payload buffer");
        }
    }

    #[test]
    fn damaged_frames_are_corruption_and_zeros_are_padding() {
        let mut buf = Vec::new();
        frame_record(&mut buf, RecordType::Compact, &encode_compact(1, 2), Some(&Lz4Gate::default()));
        assert!(matches!(read_frame(&[0u8; 40], 0), Ok(Frame::Padding)));
        assert!(read_frame(&buf[..buf.len() - 1], 0).is_err());
        buf[RECORD_HEADER_BYTES] ^= 0x10;
        assert!(read_frame(&buf, 0).is_err());
    }

    #[test]
    fn bodies_round_trip_and_garbage_never_panics() {
        let (payload, metas) =
            encode_entries(4, 100, [(1u64, &b"a"[..], &b"b"[..]), (2, &b""[..], &b""[..])].into_iter());
        let body = decode_body(RecordType::Entries, &payload).expect("decode");
        assert_eq!(body, RecordBody::Entries { region_id: 4, first_index: 100, entries: metas });
        let state = decode_body(RecordType::State, &encode_state(4, b"k", None)).expect("decode");
        assert_eq!(state, RecordBody::State { region_id: 4, key: Bytes::from_static(b"k"), value: None });
        for len in 0..payload.len() {
            let _ = decode_body(RecordType::Entries, &payload[..len]);
            let _ = decode_body(RecordType::State, &payload[..len]);
        }
        assert!(decode_body(RecordType::Entries, &[1, 1, 0xff, 0xff, 0xff, 0x0f]).is_err());
    }
}
