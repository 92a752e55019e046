//! Helpers shared by the fuzz targets and the seed generator.
//!
//! - [`block_on`] and [`mem_file`]: run the engine's async decoders on an in-memory file made
//!   of fuzz bytes (MemFs futures complete immediately).
//! - `fix_*_checksums`: every on-disk format NoKV writes is checksummed, so a mutated byte
//!   almost always stops the decoder at the checksum. Each fixer walks an image the way the
//!   reader does and rewrites every checksum it can find, so the fuzzer reaches the code
//!   behind them. Targets take one mode byte that says whether to fix checksums, so the
//!   checksum-rejection paths are fuzzed too.
//! - [`resp`]: a small RESP3 reply reader, used to check that encoded replies parse back to
//!   what was encoded (NoKV itself never parses replies).

pub mod resp;

use std::future::Future;
use std::path::Path;

use nokv_engine::codec::{Reader, align_up, masked_crc};
use nokv_engine::io::mem::{MemFile, MemFs};
use nokv_engine::io::{File, FileSystem, IO_ALIGN, OpenMode};
use nokv_engine::sst::format::{BLOCK_TRAILER_LEN, BlockHandle, FOOTER_LEN};

/// Runs a future that completes without a runtime (everything on MemFs does).
pub fn block_on<T>(future: impl Future<Output = T>) -> T {
    futures_lite::future::block_on(future)
}

/// Creates `path` on `fs` holding exactly `bytes` (writes are aligned, so pad then truncate).
pub async fn mem_file(fs: &MemFs, path: &Path, bytes: &[u8]) -> MemFile {
    let file = fs.open(path, OpenMode::CreateTruncate).await.expect("MemFs creates files");
    let mut padded = bytes.to_vec();
    padded.resize(align_up(bytes.len() as u64, IO_ALIGN as u64) as usize, 0);
    if !padded.is_empty() {
        file.write_at(0, &padded).await.expect("aligned write to MemFs");
    }
    file.truncate(bytes.len() as u64).await.expect("MemFs truncates");
    file.sync().await.expect("MemFs syncs");
    file
}

fn put_u32_at(image: &mut [u8], offset: usize, value: u32) {
    if let Some(slot) = image.get_mut(offset..offset + 4) {
        slot.copy_from_slice(&value.to_le_bytes());
    }
}

fn u32_at(image: &[u8], offset: usize) -> Option<u32> {
    Some(u32::from_le_bytes(image.get(offset..offset + 4)?.try_into().ok()?))
}

fn u64_at(image: &[u8], offset: usize) -> Option<u64> {
    Some(u64::from_le_bytes(image.get(offset..offset + 8)?.try_into().ok()?))
}

/// Journal segment: header crc (bytes 20..24 over 0..20), then every record
/// `crc | len | type | flags | payload`, crc over everything after it; all-zero record headers
/// are padding up to the next 4 KiB block.
pub fn fix_journal_checksums(image: &mut [u8]) {
    if image.len() >= 24 {
        let crc = masked_crc(&image[..20]);
        put_u32_at(image, 20, crc);
    }
    let mut pos = IO_ALIGN;
    while pos + 10 <= image.len() {
        if image[pos..pos + 10].iter().all(|&b| b == 0) {
            pos = align_up(pos as u64 + 1, IO_ALIGN as u64) as usize;
            continue;
        }
        let len = u32_at(image, pos + 4).expect("10 bytes checked") as usize;
        let Some(end) = (pos + 10).checked_add(len).filter(|&end| end <= image.len()) else { return };
        let crc = masked_crc(&image[pos + 4..end]);
        put_u32_at(image, pos, crc);
        pos = end;
    }
}

/// Manifest file: header crc (bytes 20..24 over 0..20), then 4 KiB-aligned records
/// `crc | len | payload`, crc over the payload.
pub fn fix_manifest_checksums(image: &mut [u8]) {
    if image.len() >= 24 {
        let crc = masked_crc(&image[..20]);
        put_u32_at(image, 20, crc);
    }
    let mut pos = IO_ALIGN;
    while let Some(len) = u32_at(image, pos + 4) {
        let start = pos + 8;
        let Some(end) = start.checked_add(len as usize).filter(|&end| end <= image.len() && len > 0) else { return };
        let crc = masked_crc(&image[start..end]);
        put_u32_at(image, pos, crc);
        pos = align_up(end as u64, IO_ALIGN as u64) as usize;
    }
}

/// Value-log file: header crc (bytes 16..20 over 0..16), then records
/// `crc | flags | varint key_len | varint value_len | key | value`, crc over everything after
/// it; four zero bytes at a record boundary start padding up to the next 4 KiB block.
pub fn fix_vlog_checksums(image: &mut [u8]) {
    if image.len() >= 20 {
        let crc = masked_crc(&image[..16]);
        put_u32_at(image, 16, crc);
    }
    let mut pos = IO_ALIGN;
    while pos + 4 < image.len() {
        if image[pos..pos + 4].iter().all(|&b| b == 0) {
            pos = align_up(pos as u64 + 1, IO_ALIGN as u64) as usize;
            continue;
        }
        let mut reader = Reader::new(&image[pos + 5..]);
        let (Some(key_len), Some(value_len)) = (reader.varint(), reader.varint()) else { return };
        let prefix_len = image.len() - pos - reader.remaining().len();
        let total = (prefix_len as u64).saturating_add(key_len).saturating_add(value_len);
        let Some(end) = usize::try_from(total).ok().and_then(|t| pos.checked_add(t)).filter(|&e| e <= image.len())
        else {
            return;
        };
        let crc = masked_crc(&image[pos + 4..end]);
        put_u32_at(image, pos, crc);
        pos = end;
    }
}

/// Rewrites the trailer crc of the framed block `handle` (`payload | kind | crc`, crc over
/// payload and kind) if the handle lies inside the image.
fn fix_block(image: &mut [u8], handle: BlockHandle) {
    let (Ok(offset), Ok(size)) = (usize::try_from(handle.offset), usize::try_from(handle.size_bytes)) else { return };
    let Some(end) = offset.checked_add(size).filter(|&end| end <= image.len() && size >= BLOCK_TRAILER_LEN) else {
        return;
    };
    let crc = masked_crc(&image[offset..end - 4]);
    put_u32_at(image, end - 4, crc);
}

/// SST: the footer crc, the four meta blocks the footer names, then every data block the
/// (now verifiable) index names.
pub fn fix_sst_checksums(image: &mut [u8]) {
    let Some(footer_at) = image.len().checked_sub(FOOTER_LEN) else { return };
    let crc = masked_crc(&image[footer_at..footer_at + 68]);
    put_u32_at(image, footer_at + 68, crc);
    let handle = |slot: usize| BlockHandle {
        offset: u64_at(image, footer_at + slot * 16).expect("footer length checked"),
        size_bytes: u64_at(image, footer_at + slot * 16 + 8).expect("footer length checked"),
    };
    let handles = [handle(0), handle(1), handle(2), handle(3)];
    for handle in handles {
        fix_block(image, handle);
    }
    let index = handles[0];
    let Some(raw) = usize::try_from(index.offset)
        .ok()
        .zip(usize::try_from(index.size_bytes).ok())
        .and_then(|(offset, size)| image.get(offset..offset.checked_add(size)?))
    else {
        return;
    };
    let raw = bytes::Bytes::copy_from_slice(raw);
    let Ok(contents) = nokv_engine::sst::format::open_block(raw, "fuzz index") else { return };
    let Ok(index) = nokv_engine::sst::index::IndexBlock::parse(contents, footer_at as u64) else { return };
    for block in 0..index.len() {
        fix_block(image, index.handle(block));
    }
}

/// A table image from fuzz bytes: a size that is not a multiple of 4 KiB gets zeros inserted
/// before its last [`FOOTER_LEN`] bytes, so the footer stays at the end of the file.
pub fn sst_image(bytes: &[u8]) -> Vec<u8> {
    let aligned = align_up(bytes.len().max(FOOTER_LEN) as u64, IO_ALIGN as u64) as usize;
    let split = bytes.len().saturating_sub(FOOTER_LEN);
    let mut image = bytes[..split].to_vec();
    image.resize(aligned - (bytes.len() - split), 0);
    image.extend_from_slice(&bytes[split..]);
    image
}
