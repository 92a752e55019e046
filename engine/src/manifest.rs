//! The manifest: a log of version edits, replayed on open to rebuild the current [`Version`].
//!
//! ```text
//! CURRENT            one 4 KiB block: u32 masked crc32c | u32 len | file name of the live manifest
//! MANIFEST-{id:06}   header block (4 KiB): magic u64 | version u32 | manifest id u64 | crc u32
//!                    then appends, each starting on a 4 KiB boundary and zero padded:
//!                    { u32 masked crc32c | u32 len | VersionEdit bytes }+
//! ```
//!
//! Every `log` call appends one record and syncs it before returning, so an edit is durable
//! before the caller deletes anything it replaces. A record that fails its checksum at the tail
//! is a torn append that was never acknowledged: replay stops there. When the manifest grows past
//! `MANIFEST_REWRITE_BYTES` it is rewritten as one snapshot edit into a new file and CURRENT is
//! switched with an atomic rename.

use std::path::{Path, PathBuf};

use crate::codec::{self, Reader, masked_crc, put_u32, put_u64};
use crate::error::{Error, Result};
use crate::io::{File, FileSystem, IO_ALIGN, OpenMode, pad_to_alignment, read_exact_at};
use crate::version::{Version, VersionEdit};

const MAGIC: u64 = 0x4e6f_4b56_4d41_4e31; // "NoKVMAN1"
/// Manifest format version.
pub const FORMAT_VERSION: u32 = 1;
const CURRENT: &str = "CURRENT";
const RECORD_HEADER_BYTES: usize = 8;
/// Size past which the manifest is rewritten as a snapshot.
pub const MANIFEST_REWRITE_BYTES: u64 = 4 << 20;

/// The open manifest.
#[derive(Debug)]
pub struct Manifest<F: FileSystem> {
    fs: F,
    dir: PathBuf,
    id: u64,
    file: F::File,
    write_offset: u64,
}

impl<F: FileSystem> Manifest<F> {
    /// Opens the manifest of `dir`, or creates an empty one; returns it with the replayed version.
    pub async fn open(fs: F, dir: &Path) -> Result<(Manifest<F>, Version)> {
        fs.create_dir_all(dir).await?;
        let current = dir.join(CURRENT);
        if !fs.exists(&current).await? {
            let mut version = Version::default();
            version.next_file_id = 1;
            let manifest = Manifest::create(fs, dir, 1, &version).await?;
            return Ok((manifest, version));
        }
        let name = read_current(&fs, &current).await?;
        let id = parse_manifest_name(&name)?;
        let file = fs.open(&dir.join(&name), OpenMode::ReadWrite).await?;
        let (version, write_offset) = replay(&file, id).await?;
        Ok((Manifest { fs, dir: dir.to_path_buf(), id, file, write_offset }, version))
    }

    async fn create(fs: F, dir: &Path, id: u64, version: &Version) -> Result<Manifest<F>> {
        let path = dir.join(manifest_name(id));
        let file = fs.open(&path, OpenMode::CreateTruncate).await?;
        file.write_at(0, &header_block(id)).await?;
        let mut manifest = Manifest { fs, dir: dir.to_path_buf(), id, file, write_offset: IO_ALIGN as u64 };
        manifest.append(&version.snapshot_edit()).await?;
        write_current(&manifest.fs, dir, &manifest_name(id)).await?;
        Ok(manifest)
    }

    /// Durably appends an edit. `version` must be the result of applying it; when the file is
    /// large, the manifest is rewritten from `version`.
    pub async fn log(&mut self, edit: &VersionEdit, version: &Version) -> Result<()> {
        if self.write_offset >= MANIFEST_REWRITE_BYTES {
            return self.rewrite(version).await;
        }
        self.append(edit).await
    }

    async fn append(&mut self, edit: &VersionEdit) -> Result<()> {
        let payload = edit.encode();
        let mut record = Vec::with_capacity(payload.len() + RECORD_HEADER_BYTES);
        put_u32(&mut record, masked_crc(&payload));
        put_u32(&mut record, payload.len() as u32);
        record.extend_from_slice(&payload);
        pad_to_alignment(&mut record);
        self.file.write_at(self.write_offset, &record).await?;
        self.file.sync().await?;
        self.write_offset += record.len() as u64;
        Ok(())
    }

    async fn rewrite(&mut self, version: &Version) -> Result<()> {
        let old = self.dir.join(manifest_name(self.id));
        let next = Manifest::create(self.fs.clone(), &self.dir, self.id + 1, version).await?;
        *self = next;
        self.fs.remove(&old).await?;
        self.fs.sync_dir(&self.dir).await
    }
}

fn manifest_name(id: u64) -> String {
    format!("MANIFEST-{id:06}")
}

fn parse_manifest_name(name: &str) -> Result<u64> {
    name.strip_prefix("MANIFEST-")
        .and_then(|id| id.parse().ok())
        .ok_or_else(|| Error::corruption("CURRENT", format!("bad manifest name {name:?}")))
}

fn header_block(id: u64) -> Vec<u8> {
    let mut block = Vec::with_capacity(IO_ALIGN);
    put_u64(&mut block, MAGIC);
    put_u32(&mut block, FORMAT_VERSION);
    put_u64(&mut block, id);
    let crc = masked_crc(&block);
    put_u32(&mut block, crc);
    pad_to_alignment(&mut block);
    block
}

fn check_header(block: &[u8], id: u64) -> Result<()> {
    let mut reader = Reader::new(block);
    let (magic, version, found_id) = (reader.u64(), reader.u32(), reader.u64());
    let crc = reader.u32();
    if magic != Some(MAGIC) || crc != Some(masked_crc(&block[..20])) {
        return Err(Error::corruption("manifest header", "bad magic or checksum"));
    }
    if version != Some(FORMAT_VERSION) {
        return Err(Error::UnsupportedVersion { what: "manifest", version: version.unwrap_or(0) });
    }
    if found_id != Some(id) {
        return Err(Error::corruption("manifest header", format!("id {found_id:?} where {id} was expected")));
    }
    Ok(())
}

/// Replays every intact record; returns the version and the offset after the last good record.
async fn replay<G: File>(file: &G, id: u64) -> Result<(Version, u64)> {
    let size = file.size().await?;
    let contents = file.read_at(0, size as usize).await?;
    check_header(contents.get(..IO_ALIGN).unwrap_or(&[]), id)?;
    let mut version = Version::default();
    let mut offset = IO_ALIGN;
    while let Some((edit, next)) = next_record(&contents, offset) {
        version = version.apply(&VersionEdit::decode(edit)?)?;
        offset = next;
    }
    Ok((version, offset as u64))
}

/// The record at `offset` and the aligned offset after it; `None` at the end or at a torn tail.
fn next_record(contents: &[u8], offset: usize) -> Option<(&[u8], usize)> {
    let crc = codec::u32_at(contents, offset)?;
    let len = codec::u32_at(contents, offset + 4)? as usize;
    let start = offset + RECORD_HEADER_BYTES;
    let payload = contents.get(start..start.checked_add(len)?)?;
    if len == 0 || !codec::verify_masked_crc(payload, crc) {
        return None;
    }
    Some((payload, codec::align_up((start + len) as u64, IO_ALIGN as u64) as usize))
}

async fn read_current<F: FileSystem>(fs: &F, path: &Path) -> Result<String> {
    let file = fs.open(path, OpenMode::ReadOnly).await?;
    let block = read_exact_at(&file, 0, IO_ALIGN, "CURRENT").await?;
    let mut reader = Reader::new(&block);
    let (crc, len) = (reader.u32(), reader.u32());
    let name = len.and_then(|len| reader.bytes(len as usize));
    match (crc, name) {
        (Some(crc), Some(name)) if codec::verify_masked_crc(name, crc) => {
            String::from_utf8(name.to_vec()).map_err(|_| Error::corruption("CURRENT", "name is not UTF-8"))
        }
        _ => Err(Error::corruption("CURRENT", "bad checksum")),
    }
}

async fn write_current<F: FileSystem>(fs: &F, dir: &Path, name: &str) -> Result<()> {
    let mut block = Vec::with_capacity(IO_ALIGN);
    put_u32(&mut block, masked_crc(name.as_bytes()));
    put_u32(&mut block, name.len() as u32);
    block.extend_from_slice(name.as_bytes());
    pad_to_alignment(&mut block);
    let temp = dir.join("CURRENT.tmp");
    let file = fs.open(&temp, OpenMode::CreateTruncate).await?;
    file.write_at(0, &block).await?;
    file.sync().await?;
    fs.rename(&temp, &dir.join(CURRENT)).await?;
    fs.sync_dir(dir).await
}

#[cfg(test)]
mod tests {
    use futures_lite::future::block_on;

    use super::*;
    use crate::io::mem::{CrashMode, MemFs};
    use crate::version::tests::file;

    #[test]
    fn edits_survive_reopen_and_a_torn_tail_is_ignored() {
        block_on(async {
            let fs = MemFs::new();
            let dir = Path::new("/db");
            let (mut manifest, version) = Manifest::open(fs.clone(), dir).await.expect("create");
            let edit =
                VersionEdit { added: vec![file(1, 0, b"a", b"b", 10)], next_file_id: Some(2), ..Default::default() };
            let version = version.apply(&edit).expect("apply");
            manifest.log(&edit, &version).await.expect("log");
            let path = dir.join(manifest_name(1));
            let intact = fs.contents(&path).expect("contents").len();
            let torn = VersionEdit { added: vec![file(2, 0, b"c", b"d", 10)], ..Default::default() };
            manifest.log(&torn, &version.apply(&torn).expect("apply")).await.expect("log");
            fs.flip_byte(&path, intact + 9, 0xff).expect("flip");
            fs.crash(CrashMode::PowerLoss);
            let (_, reopened) = Manifest::open(fs.clone(), dir).await.expect("reopen");
            assert_eq!(reopened.snapshot_edit(), version.snapshot_edit());
        });
    }

    #[test]
    fn rewrite_switches_current() {
        block_on(async {
            let fs = MemFs::new();
            let dir = Path::new("/db");
            let (mut manifest, version) = Manifest::open(fs.clone(), dir).await.expect("create");
            let edit = VersionEdit { applied: vec![(1, 5)], ..Default::default() };
            let version = version.apply(&edit).expect("apply");
            manifest.rewrite(&version).await.expect("rewrite");
            assert!(!fs.exists(&dir.join(manifest_name(1))).await.expect("exists"));
            let (_, reopened) = Manifest::open(fs, dir).await.expect("reopen");
            assert_eq!(reopened.applied.get(&1), Some(&5));
        });
    }
}
