//! The `vlog-obsolete` file: value-log files whose live values were rewritten *and* flushed,
//! waiting only for old snapshots to end before they are deleted.
//!
//! Only such files are recorded: after a restart no snapshot exists, so every file listed here
//! is deleted at open. Files merely marked obsolete (rewrite not yet flushed) are deliberately
//! not persisted: if the engine crashes before the flush, the relocated pointers are lost and
//! the LSM still points into the old file, which must therefore survive.
//!
//! The file is replaced atomically (write `vlog-obsolete.tmp`, sync, rename, sync the
//! directory), so it is never torn; a checksum failure is reported as corruption.
//!
//! ```text
//! 0        8         12       16                 16+4n     20+4n       multiple of 4 KiB
//! | magic  | version | count  | file_id u32 × n  | crc u32 | zero padding |
//! ```
//! All integers little-endian; the masked crc32c covers every byte before it.

use std::collections::BTreeSet;
use std::path::Path;

use crate::codec::{Reader, masked_crc, put_u32, put_u64};
use crate::error::{Error, Result};
use crate::io::{File, FileSystem, OpenMode, join, pad_to_alignment};

use super::format::FORMAT_VERSION;

/// The file's name in the value-log directory.
pub const OBSOLETE_FILE_NAME: &str = "vlog-obsolete";
/// The name it is written under before the atomic rename.
pub const OBSOLETE_TMP_NAME: &str = "vlog-obsolete.tmp";

/// "NOKVOBSL" read as little-endian bytes.
const OBSOLETE_MAGIC: u64 = u64::from_le_bytes(*b"NOKVOBSL");

const WHAT: &str = "value-log obsolete list";

/// Encodes the list, padded to the write alignment.
pub fn encode(file_ids: &BTreeSet<u32>) -> Vec<u8> {
    let mut out = Vec::new();
    put_u64(&mut out, OBSOLETE_MAGIC);
    put_u32(&mut out, FORMAT_VERSION);
    put_u32(&mut out, file_ids.len() as u32);
    for &file_id in file_ids {
        put_u32(&mut out, file_id);
    }
    let crc = masked_crc(&out);
    put_u32(&mut out, crc);
    pad_to_alignment(&mut out);
    out
}

/// Decodes and verifies the list.
pub fn decode(input: &[u8]) -> Result<BTreeSet<u32>> {
    let mut reader = Reader::new(input);
    let short = || Error::corruption(WHAT, "short input");
    if reader.u64().ok_or_else(short)? != OBSOLETE_MAGIC {
        return Err(Error::corruption(WHAT, "bad magic"));
    }
    let version = reader.u32().ok_or_else(short)?;
    let count = reader.u32().ok_or_else(short)? as usize;
    let ids_bytes = count.checked_mul(4).ok_or_else(short)?;
    let ids = reader.bytes(ids_bytes).ok_or_else(short)?;
    let checked_len = input.len() - reader.remaining().len();
    let crc = reader.u32().ok_or_else(short)?;
    if masked_crc(&input[..checked_len]) != crc {
        return Err(Error::corruption(WHAT, "checksum mismatch"));
    }
    if version != FORMAT_VERSION {
        return Err(Error::UnsupportedVersion { what: "value-log obsolete list", version });
    }
    let mut ids_reader = Reader::new(ids);
    Ok(std::iter::from_fn(|| ids_reader.u32()).collect())
}

/// Reads the list from `dir`; empty when there is none.
pub async fn read<F: FileSystem>(fs: &F, dir: &Path) -> Result<BTreeSet<u32>> {
    let path = join(dir, OBSOLETE_FILE_NAME);
    if !fs.exists(&path).await? {
        return Ok(BTreeSet::new());
    }
    let file = fs.open(&path, OpenMode::ReadOnly).await?;
    let size = file.size().await?;
    let bytes = crate::io::read_exact_at(&file, 0, size as usize, WHAT).await?;
    decode(&bytes)
}

/// Replaces the list in `dir` atomically; an empty list removes the file.
pub async fn write<F: FileSystem>(fs: &F, dir: &Path, file_ids: &BTreeSet<u32>) -> Result<()> {
    let path = join(dir, OBSOLETE_FILE_NAME);
    if file_ids.is_empty() {
        if fs.exists(&path).await? {
            fs.remove(&path).await?;
            fs.sync_dir(dir).await?;
        }
        return Ok(());
    }
    let tmp = join(dir, OBSOLETE_TMP_NAME);
    let file = fs.open(&tmp, OpenMode::CreateTruncate).await?;
    file.write_at(0, &encode(file_ids)).await?;
    file.sync().await?;
    drop(file);
    fs.rename(&tmp, &path).await?;
    fs.sync_dir(dir).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_round_trips_and_detects_damage() {
        let ids: BTreeSet<u32> = [3, 9, 1 << 20].into_iter().collect();
        let bytes = encode(&ids);
        assert_eq!(bytes.len() % crate::io::IO_ALIGN, 0);
        assert_eq!(decode(&bytes).expect("decode"), ids);
        for offset in 0..28 {
            let mut damaged = bytes.clone();
            damaged[offset] ^= 0x04;
            assert!(decode(&damaged).is_err(), "flip at {offset}");
        }
        assert!(decode(&bytes[..10]).is_err());
        assert!(decode(&[0xff; 64]).is_err());
    }
}
