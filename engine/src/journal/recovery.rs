//! Scanning a segment on open: verify every batch, feed complete batches to the index, and
//! find where the good data ends.
//!
//! A batch counts only when its header and all `record_count` records that follow verify,
//! and its sequence number continues the previous batch's; a batch is applied all or nothing.
//! Zero bytes where a batch would start are padding (skip to the next aligned block). The
//! caller decides what a failure means: the torn tail of the last segment, or corruption.

use bytes::Bytes;

use super::format::{self, Frame, RecordBody, SEGMENT_HEADER_BYTES};
use super::index::{JournalIndex, RecordLocation};
use crate::codec::align_up;
use crate::error::{Error, Result};
use crate::io::IO_ALIGN;

const WHAT: &str = "journal batch";

/// The outcome of scanning one segment.
#[derive(Debug)]
pub struct SegmentScan {
    /// Aligned offset just after the last good batch (the header end when there is none).
    pub good_end: u64,
    /// Sequence number of the last good batch in this segment.
    pub last_batch_seq: Option<u64>,
    /// Why the scan stopped before the end of the data, if it did.
    pub failure: Option<Error>,
}

struct ScannedBatch {
    batch_seq: u64,
    end: usize,
    records: Vec<(RecordBody, RecordLocation)>,
}

/// Scans `bytes` (a whole segment, header included), applying every good batch to `index`.
/// `expected_seq` is the sequence number the first batch must carry (`None`: any).
pub fn scan_segment(segment: u64, bytes: &[u8], expected_seq: Option<u64>, index: &mut JournalIndex) -> SegmentScan {
    let mut scan = SegmentScan { good_end: SEGMENT_HEADER_BYTES, last_batch_seq: None, failure: None };
    let mut expected_seq = expected_seq;
    let mut pos = SEGMENT_HEADER_BYTES as usize;
    while pos < bytes.len() {
        match read_batch(segment, bytes, pos, expected_seq) {
            Ok(None) => pos = align_up(pos as u64 + 1, IO_ALIGN as u64) as usize,
            Ok(Some(batch)) => {
                batch.records.iter().for_each(|(body, location)| index.apply(body, *location));
                pos = align_up(batch.end as u64, IO_ALIGN as u64) as usize;
                scan.good_end = pos as u64;
                scan.last_batch_seq = Some(batch.batch_seq);
                expected_seq = Some(batch.batch_seq + 1);
            }
            Err(error) => {
                scan.failure = Some(error);
                break;
            }
        }
    }
    scan
}

/// Reads the batch starting at `pos`; `None` when the block there is zero padding.
fn read_batch(segment: u64, bytes: &[u8], pos: usize, expected_seq: Option<u64>) -> Result<Option<ScannedBatch>> {
    let (header, mut cursor) = match read_record(segment, bytes, pos)? {
        None => return Ok(None),
        Some(found) => (found.0, pos + found.1.framed_len as usize),
    };
    let RecordBody::BatchHeader { batch_seq, record_count } = header else {
        return Err(Error::corruption(WHAT, format!("segment {segment} offset {pos}: batch without a header")));
    };
    if expected_seq.is_some_and(|expected| expected != batch_seq) {
        let detail = format!("segment {segment} offset {pos}: batch {batch_seq}, expected {expected_seq:?}");
        return Err(Error::corruption(WHAT, detail));
    }
    // Every record takes at least a header, which bounds a sane count by the bytes left.
    if record_count > (bytes.len() - cursor) as u64 / format::RECORD_HEADER_BYTES as u64 {
        return Err(Error::corruption(
            WHAT,
            format!("segment {segment} offset {pos}: {record_count} records cannot fit"),
        ));
    }
    let mut records = Vec::with_capacity(record_count as usize);
    for _ in 0..record_count {
        let Some((body, location)) = read_record(segment, bytes, cursor)? else {
            return Err(Error::corruption(WHAT, format!("segment {segment} offset {cursor}: batch cut short")));
        };
        if matches!(body, RecordBody::BatchHeader { .. }) {
            return Err(Error::corruption(WHAT, format!("segment {segment} offset {cursor}: nested batch header")));
        }
        cursor += location.framed_len as usize;
        records.push((body, location));
    }
    Ok(Some(ScannedBatch { batch_seq, end: cursor, records }))
}

/// Reads and decodes one record; `None` for zero padding.
fn read_record(segment: u64, bytes: &[u8], pos: usize) -> Result<Option<(RecordBody, RecordLocation)>> {
    let Frame::Record { record_type, flags, stored, framed_len } = format::read_frame(bytes, pos)? else {
        return Ok(None);
    };
    let body = format::decode_body(record_type, &format::frame_payload(flags, stored, Bytes::copy_from_slice)?)?;
    let framed_len = u32::try_from(framed_len).map_err(|_| Error::corruption(WHAT, "record length overflow"))?;
    Ok(Some((body, RecordLocation { segment, offset: pos as u64, framed_len })))
}
