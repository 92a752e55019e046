//! The engine's view of files: a small async trait pair and two implementations.
//!
//! - [`dma::DmaFs`] is the production implementation on glommio `DmaFile`s (O_DIRECT, io_uring).
//! - [`mem::MemFs`] keeps every file in memory with a *live* and a *durable* image, and can
//!   inject faults (lost unsynced writes, torn writes, I/O errors, flipped bytes) for tests.
//!
//! Only this module (and the runtime in `shard`) names glommio types; everything else in the
//! engine is generic over [`FileSystem`], so it runs unchanged on either implementation.
//!
//! # Alignment contract
//! Writes go through O_DIRECT, so `File::write_at` requires the offset and the length to be
//! multiples of [`IO_ALIGN`]. Both implementations enforce it, so a test on `MemFs` catches an
//! unaligned write as surely as the disk would. Reads may be at any offset and length; they
//! return fewer bytes than asked only at the end of the file.

pub mod dma;
pub mod mem;

use std::path::{Path, PathBuf};

use bytes::Bytes;

use crate::error::{Error, Result};

/// Alignment of every write's offset and length (the page size; the disk's physical block).
pub const IO_ALIGN: usize = 4096;

/// How to open a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// Create the file, truncating it if it exists; readable and writable.
    CreateTruncate,
    /// Open an existing file readable and writable.
    ReadWrite,
    /// Open an existing file read-only.
    ReadOnly,
}

/// A directory of files.
pub trait FileSystem: Clone + 'static {
    /// The file handle type.
    type File: File;

    /// Opens (or creates) a file.
    async fn open(&self, path: &Path, mode: OpenMode) -> Result<Self::File>;
    /// Removes a file.
    async fn remove(&self, path: &Path) -> Result<()>;
    /// Renames a file atomically, replacing `to` if it exists.
    async fn rename(&self, from: &Path, to: &Path) -> Result<()>;
    /// Lists the file names (not paths) directly inside `dir`.
    async fn list(&self, dir: &Path) -> Result<Vec<String>>;
    /// Creates a directory and its parents.
    async fn create_dir_all(&self, dir: &Path) -> Result<()>;
    /// Makes creations, renames and removals inside `dir` durable.
    async fn sync_dir(&self, dir: &Path) -> Result<()>;
    /// True when the file exists.
    async fn exists(&self, path: &Path) -> Result<bool>;
    /// Called by background work (flush, compaction, value-log GC) between two slices of
    /// work: gives the core's client work a turn. By default it only yields to the other tasks
    /// of the caller's task queue.
    async fn pause(&self) {
        futures_lite::future::yield_now().await;
    }
}

/// An open file.
pub trait File: 'static {
    /// The path the file was opened with.
    fn path(&self) -> &Path;
    /// Reads up to `len` bytes at `offset`; fewer only at the end of the file.
    async fn read_at(&self, offset: u64, len: usize) -> Result<Bytes>;
    /// Writes `data` at `offset`. Both must be multiples of [`IO_ALIGN`].
    async fn write_at(&self, offset: u64, data: &[u8]) -> Result<()>;
    /// Makes every completed write durable (fdatasync).
    async fn sync(&self) -> Result<()>;
    /// The file's size in bytes.
    async fn size(&self) -> Result<u64>;
    /// Sets the file's size.
    async fn truncate(&self, size: u64) -> Result<()>;
    /// Reserves disk space so the file is at least `len` bytes long (zeros past the old end),
    /// like `fallocate(fd, 0, 0, len)`. Appending by overwriting reserved space keeps O_DIRECT
    /// writes from growing the file: the kernel can issue them inline (a write past EOF is
    /// punted to an io-wq worker) and `fdatasync` has no size change to commit. A hint: an
    /// implementation may do nothing, so callers must not rely on the new size.
    async fn allocate(&self, len: u64) -> Result<()>;
}

/// Reads exactly `len` bytes at `offset`, or fails with `Corruption` naming `what` when the
/// file is shorter.
pub async fn read_exact_at<F: File>(file: &F, offset: u64, len: usize, what: &'static str) -> Result<Bytes> {
    let bytes = file.read_at(offset, len).await?;
    if bytes.len() != len {
        return Err(Error::corruption(
            what,
            format!("{}: wanted {len} bytes at {offset}, file ends after {}", file.path().display(), bytes.len()),
        ));
    }
    Ok(bytes)
}

/// Checks the alignment contract of `write_at`.
pub(crate) fn check_write_alignment(path: &Path, offset: u64, len: usize) -> Result<()> {
    if !offset.is_multiple_of(IO_ALIGN as u64) || !len.is_multiple_of(IO_ALIGN) {
        return Err(Error::InvalidArgument(format!(
            "unaligned write to {}: offset {offset}, length {len} (alignment {IO_ALIGN})",
            path.display()
        )));
    }
    Ok(())
}

/// Joins a directory and a file name.
pub fn join(dir: &Path, name: &str) -> PathBuf {
    dir.join(name)
}

/// Pads `buf` with zeros to a multiple of [`IO_ALIGN`].
pub fn pad_to_alignment(buf: &mut Vec<u8>) {
    let padded = crate::codec::align_up(buf.len() as u64, IO_ALIGN as u64) as usize;
    buf.resize(padded, 0);
}
