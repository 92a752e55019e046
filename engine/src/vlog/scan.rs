//! Sequential scan of a value-log file: every record after the header block, verified.
//!
//! Used twice: at open, on the newest file, to find where a torn tail starts (the first record
//! that is short or fails its checksum ends the valid data), and by garbage collection to read
//! every record of a file (where damage is an error, because that file was synced long ago).
//! Zero bytes from a record boundary to the next 4 KiB boundary are batch padding and skipped;
//! no valid record is all zeros, so padding and records cannot be confused.

use bytes::Bytes;

use super::format::{HEADER_BYTES, RECORD_PREFIX_MAX_BYTES, ValuePointer, VerifiedRecord, decode_record, parse_prefix};
use crate::codec::align_up;
use crate::error::Result;
use crate::io::{File, IO_ALIGN};

/// How a scan ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanEnd {
    /// End of the last valid record (the header's end when there is none).
    pub valid_end: u64,
    /// Why the scan stopped before the end of the file, if it did.
    pub damage: Option<String>,
}

/// Reads a file through a window of `chunk_bytes`, so a scan issues few large reads.
struct Window<'a, Fl: File> {
    file: &'a Fl,
    end: u64,
    chunk_bytes: usize,
    buf: Bytes,
    buf_start: u64,
}

impl<Fl: File> Window<'_, Fl> {
    /// Up to `len` bytes at `offset`; fewer only at `end` (or where the file is shorter).
    async fn get(&mut self, offset: u64, len: usize) -> Result<Bytes> {
        let available = usize::try_from(self.end.saturating_sub(offset)).unwrap_or(usize::MAX);
        let len = len.min(available);
        let buf_end = self.buf_start + self.buf.len() as u64;
        if offset < self.buf_start || offset + len as u64 > buf_end {
            let want = len.max(self.chunk_bytes).min(available);
            self.buf = self.file.read_at(offset, want).await?;
            self.buf_start = offset;
        }
        let start = (offset - self.buf_start) as usize;
        let end = (start + len).min(self.buf.len());
        Ok(self.buf.slice(start..end))
    }
}

/// One step of a scan.
enum Step {
    /// Zero padding up to this offset.
    Padding(u64),
    /// A verified record of this length.
    Record(VerifiedRecord, u32),
    /// Bytes that are neither padding nor a valid record.
    Damage(String),
}

/// Scans records of `file` (value-log file `file_id`) in `HEADER_BYTES..end`, calling `visit`
/// with each verified record and its pointer. Stops at the first damage and reports it; I/O
/// errors and errors from `visit` are returned.
pub async fn scan_records<Fl: File>(
    file: &Fl,
    file_id: u32,
    end: u64,
    chunk_bytes: usize,
    mut visit: impl FnMut(VerifiedRecord, ValuePointer) -> Result<()>,
) -> Result<ScanEnd> {
    let mut window = Window { file, end, chunk_bytes, buf: Bytes::new(), buf_start: 0 };
    let mut position = HEADER_BYTES;
    let mut valid_end = HEADER_BYTES;
    while position < end {
        match step(&mut window, position).await? {
            Step::Padding(next) => position = next,
            Step::Record(record, len) => {
                visit(record, ValuePointer { file_id, offset: position, len })?;
                position += u64::from(len);
                valid_end = position;
            }
            Step::Damage(detail) => {
                let damage = Some(format!("file {file_id} at offset {position}: {detail}"));
                return Ok(ScanEnd { valid_end, damage });
            }
        }
    }
    Ok(ScanEnd { valid_end, damage: None })
}

async fn step<Fl: File>(window: &mut Window<'_, Fl>, position: u64) -> Result<Step> {
    let head = window.get(position, RECORD_PREFIX_MAX_BYTES).await?;
    if head.iter().take(4).all(|&b| b == 0) {
        let block_end = align_up(position + 1, IO_ALIGN as u64).min(window.end);
        let run = window.get(position, (block_end - position) as usize).await?;
        if run.len() as u64 == block_end - position && run.iter().all(|&b| b == 0) {
            return Ok(Step::Padding(block_end));
        }
    }
    let Some(prefix) = parse_prefix(&head) else {
        return Ok(Step::Damage("truncated record prefix".into()));
    };
    let bytes = window.get(position, prefix.record_len as usize).await?;
    if bytes.len() != prefix.record_len as usize {
        return Ok(Step::Damage(format!("record of {} bytes runs past the end", prefix.record_len)));
    }
    match decode_record(&bytes) {
        Ok(record) => Ok(Step::Record(record, prefix.record_len)),
        Err(error) => Ok(Step::Damage(error.to_string())),
    }
}
