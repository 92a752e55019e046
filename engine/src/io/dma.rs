//! The production file system: glommio `DmaFile`s (O_DIRECT through io_uring).
//!
//! Workarounds for glommio 0.9 on this kernel (see `shared/reference/environment.md` 2c):
//! - The first `DmaFile` opened on a device, per executor thread, probes IOPOLL support with a
//!   read; on an empty file that read returns EOF and glommio wrongly caches "pollable", after
//!   which every read fails with EOPNOTSUPP. [`DmaFs::new`] primes the probe on each thread by
//!   opening a non-empty scratch file first.
//! - `DmaFile::create` opens write-only; files are opened read-write through `OpenOptions`.
//!
//! Nothing here blocks the core's thread: removes and renames go through glommio (its blocking
//! pool), and a directory sync is an io_uring fdatasync. The blocking `std::fs` versions held
//! the whole core during every flush's directory sync and every journal segment's removal:
//! that is work on the request path of every core.
//!
//! Every method must be called from inside a glommio executor.

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bytes::Bytes;
use glommio::io::{DmaFile, OpenOptions};

use super::{FileSystem, OpenMode, check_write_alignment};
use crate::error::{Error, Result};

/// Background work runs at most this long on a core before it lets client work run.
const PAUSE_EVERY: Duration = Duration::from_millis(1);
/// How long that pause sleeps: long enough for the executor to poll its rings.
const PAUSE_FOR: Duration = Duration::from_micros(20);

thread_local! {
    static PRIMED: Cell<bool> = const { Cell::new(false) };
    /// When background work on this thread last paused (see `DmaFs::pause`).
    static LAST_PAUSE: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// Opens every file with O_DIRECT on glommio.
#[derive(Debug, Clone, Default)]
pub struct DmaFs {
    _private: (),
}

impl DmaFs {
    /// Prepares this executor thread for DMA files in `dir` (which must exist or be creatable).
    pub async fn new(dir: &Path) -> Result<DmaFs> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        if !PRIMED.with(Cell::get) {
            prime_iopoll_probe(dir).await?;
            PRIMED.with(|primed| primed.set(true));
        }
        Ok(DmaFs { _private: () })
    }
}

/// Opens a non-empty file first so glommio's one-time IOPOLL probe sees real data and
/// correctly concludes the device is not pollable.
async fn prime_iopoll_probe(dir: &Path) -> Result<()> {
    let path = dir.join(format!(".iopoll-probe-{}", std::process::id()));
    std::fs::write(&path, vec![0u8; super::IO_ALIGN]).map_err(|e| Error::io(&path, e))?;
    let file = DmaFile::open(&path).await.map_err(|e| Error::io(&path, e.into()))?;
    let _ = file.close().await;
    std::fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
    Ok(())
}

/// An O_DIRECT file.
#[derive(Debug)]
pub struct DmaFileHandle {
    file: DmaFile,
    path: PathBuf,
}

impl FileSystem for DmaFs {
    type File = DmaFileHandle;

    async fn open(&self, path: &Path, mode: OpenMode) -> Result<DmaFileHandle> {
        let mut options = OpenOptions::new();
        match mode {
            OpenMode::CreateTruncate => options.read(true).write(true).create(true).truncate(true),
            OpenMode::ReadWrite => options.read(true).write(true),
            OpenMode::ReadOnly => options.read(true),
        };
        let file = options.dma_open(path).await.map_err(|e| Error::io(path, e.into()))?;
        Ok(DmaFileHandle { file, path: path.to_path_buf() })
    }

    async fn remove(&self, path: &Path) -> Result<()> {
        glommio::io::remove(absolute(path)?).await.map_err(|e| Error::io(path, e.into()))
    }

    async fn rename(&self, from: &Path, to: &Path) -> Result<()> {
        glommio::io::rename(absolute(from)?, absolute(to)?).await.map_err(|e| Error::io(from, e.into()))
    }

    async fn list(&self, dir: &Path) -> Result<Vec<String>> {
        let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| Error::io(dir, e))?;
            if entry.file_type().map_err(|e| Error::io(dir, e))?.is_file() {
                names.push(entry.file_name().to_string_lossy().into_owned());
            }
        }
        names.sort();
        Ok(names)
    }

    async fn create_dir_all(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))
    }

    async fn sync_dir(&self, dir: &Path) -> Result<()> {
        let handle = glommio::io::Directory::open(absolute(dir)?).await.map_err(|e| Error::io(dir, e.into()))?;
        handle.sync().await.map_err(|e| Error::io(dir, e.into()))
    }

    async fn exists(&self, path: &Path) -> Result<bool> {
        path.try_exists().map_err(|e| Error::io(path, e))
    }

    /// After `PAUSE_EVERY` without one, sleeps `PAUSE_FOR`; otherwise yields.
    ///
    /// A yield returns to the same task queue, and glommio only polls its rings again when the
    /// queue runs out of tasks or its preemption timer fires. That timer is computed from the
    /// queues waiting when it is armed, so a background slice that starts right after the
    /// client queue drained runs under the default 100 ms: `perf` of SET 16 B -P16 showed every
    /// flush holding the core for 100 ms with no network work in between. A sleep empties the
    /// background queue, so the executor polls at once and runs the client tasks that woke.
    async fn pause(&self) {
        let now = Instant::now();
        if LAST_PAUSE.with(Cell::get).is_some_and(|last| now.duration_since(last) < PAUSE_EVERY) {
            futures_lite::future::yield_now().await;
            return;
        }
        glommio::timer::sleep(PAUSE_FOR).await;
        LAST_PAUSE.with(|last| last.set(Some(Instant::now())));
    }
}

impl super::File for DmaFileHandle {
    fn path(&self) -> &Path {
        &self.path
    }

    async fn read_at(&self, offset: u64, len: usize) -> Result<Bytes> {
        if len == 0 {
            return Ok(Bytes::new());
        }
        let result = self.file.read_at(offset, len).await.map_err(|e| Error::io(&self.path, e.into()))?;
        Ok(Bytes::copy_from_slice(&result))
    }

    async fn write_at(&self, offset: u64, data: &[u8]) -> Result<()> {
        check_write_alignment(&self.path, offset, data.len())?;
        let mut written = 0usize;
        while written < data.len() {
            let chunk = &data[written..];
            let mut buffer = self.file.alloc_dma_buffer(chunk.len());
            buffer.as_bytes_mut().copy_from_slice(chunk);
            let position = offset + written as u64;
            let count = self.file.write_at(buffer, position).await.map_err(|e| Error::io(&self.path, e.into()))?;
            if count == 0 || count % super::IO_ALIGN != 0 && written + count < data.len() {
                return Err(Error::io(&self.path, std::io::Error::other(format!("short write of {count} bytes"))));
            }
            written += count;
        }
        Ok(())
    }

    async fn sync(&self) -> Result<()> {
        self.file.fdatasync().await.map_err(|e| Error::io(&self.path, e.into()))
    }

    async fn size(&self) -> Result<u64> {
        self.file.file_size().await.map_err(|e| Error::io(&self.path, e.into()))
    }

    async fn truncate(&self, size: u64) -> Result<()> {
        self.file.truncate(size).await.map_err(|e| Error::io(&self.path, e.into()))
    }

    async fn allocate(&self, len: u64) -> Result<()> {
        // keep_size = false: the size must cover the space, or every write still extends it.
        self.file.pre_allocate(len, false).await.map_err(|e| Error::io(&self.path, e.into()))
    }
}

/// `path` made absolute against the working directory. glommio opens directories with
/// `openat(-1, ..)`, not `AT_FDCWD`, so a relative path fails with EBADF (the default data
/// directory, `./nokv-data`, is relative).
fn absolute(path: &Path) -> Result<PathBuf> {
    std::path::absolute(path).map_err(|e| Error::io(path, e))
}
