//! An in-memory file system with a live and a durable image per file, and fault injection.
//!
//! Each file keeps two byte vectors: `live` (what reads see: every completed write) and
//! `durable` (what survives a power loss: the live image as of the file's last `sync`).
//! [`MemFs::crash`] models a crash:
//! - [`CrashMode::ProcessKill`]: O_DIRECT writes that completed survive a `kill -9`, so live stays.
//! - [`CrashMode::PowerLoss`]: every file goes back to its durable image (unsynced writes lost).
//! - [`CrashMode::TornWrite`]: like power loss, but a prefix of each file's unsynced tail survives,
//!   cut at an arbitrary byte (not on a block boundary), modelling a torn write.
//!
//! Directory operations (create, rename, remove) are treated as durable at once; the engine
//! still calls `sync_dir` where a real file system needs it.
//!
//! Faults: [`MemFs::inject`] makes matching operations fail with an I/O error; [`MemFs::flip_byte`]
//! corrupts a byte in both images. The handle is `Clone` and cheap: all clones share the files.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use bytes::Bytes;

use super::{FileSystem, OpenMode, check_write_alignment};
use crate::error::{Error, Result};

/// How a simulated crash treats unsynced data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrashMode {
    /// The process died; completed writes survive.
    ProcessKill,
    /// Power was lost; only synced data survives.
    PowerLoss,
    /// Power was lost mid-write: synced data plus a torn prefix of the unsynced tail, whose
    /// length is `seed` modulo the unsynced length.
    TornWrite {
        /// Chooses where each file's unsynced tail is cut.
        seed: u64,
    },
}

/// Which operations a fault applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultOp {
    /// `read_at`.
    Read,
    /// `write_at`.
    Write,
    /// `sync`.
    Sync,
    /// `open`.
    Open,
}

/// An injected fault: the next `count` operations of kind `op` on a path containing
/// `path_contains` fail.
#[derive(Debug, Clone)]
pub struct Fault {
    /// The operation that fails.
    pub op: FaultOp,
    /// Only paths whose text contains this fail (empty: every path).
    pub path_contains: String,
    /// How many operations fail before the fault is used up.
    pub count: u32,
    /// The OS error the operation fails with (e.g. `libc::ENOSPC`); `None`: a generic error.
    pub os_error: Option<i32>,
}

#[derive(Debug, Default, Clone)]
struct MemFileData {
    live: Vec<u8>,
    durable: Vec<u8>,
}

#[derive(Debug, Default)]
struct State {
    files: BTreeMap<PathBuf, Rc<RefCell<MemFileData>>>,
    faults: Vec<Fault>,
    syncs: u64,
}

impl State {
    fn take_fault(&mut self, op: FaultOp, path: &Path) -> Result<()> {
        let text = path.to_string_lossy();
        let hit = self.faults.iter_mut().find(|f| f.op == op && f.count > 0 && text.contains(&f.path_contains));
        if let Some(fault) = hit {
            fault.count -= 1;
            let error = match fault.os_error {
                Some(code) => std::io::Error::from_raw_os_error(code),
                None => std::io::Error::other(format!("injected {op:?} fault")),
            };
            return Err(Error::io(path, error));
        }
        Ok(())
    }
}

/// The in-memory file system.
#[derive(Debug, Clone, Default)]
pub struct MemFs {
    state: Rc<RefCell<State>>,
}

impl MemFs {
    /// An empty file system.
    pub fn new() -> MemFs {
        MemFs::default()
    }

    /// Simulates a crash; open handles keep working on the surviving images (a test reopens
    /// the engine, the old handles are simply dropped).
    pub fn crash(&self, mode: CrashMode) {
        let state = self.state.borrow();
        for data in state.files.values() {
            let mut data = data.borrow_mut();
            let surviving = match mode {
                CrashMode::ProcessKill => continue,
                CrashMode::PowerLoss => data.durable.clone(),
                CrashMode::TornWrite { seed } => torn_image(&data, seed),
            };
            data.live = surviving.clone();
            data.durable = surviving;
        }
    }

    /// Adds a fault.
    pub fn inject(&self, fault: Fault) {
        self.state.borrow_mut().faults.push(fault);
    }

    /// Removes every fault.
    pub fn clear_faults(&self) {
        self.state.borrow_mut().faults.clear();
    }

    /// XORs the byte at `offset` of `path` with `mask` in both images.
    pub fn flip_byte(&self, path: &Path, offset: usize, mask: u8) -> Result<()> {
        let data = self.file_data(path)?;
        let mut guard = data.borrow_mut();
        let data = &mut *guard;
        for image in [&mut data.live, &mut data.durable] {
            if let Some(byte) = image.get_mut(offset) {
                *byte ^= mask;
            }
        }
        Ok(())
    }

    /// A copy of the live image of `path`.
    pub fn contents(&self, path: &Path) -> Result<Vec<u8>> {
        Ok(self.file_data(path)?.borrow().live.clone())
    }

    /// Every file path, sorted.
    pub fn paths(&self) -> Vec<PathBuf> {
        self.state.borrow().files.keys().cloned().collect()
    }

    /// How many `sync` calls succeeded, over all files.
    pub fn sync_count(&self) -> u64 {
        self.state.borrow().syncs
    }

    fn file_data(&self, path: &Path) -> Result<Rc<RefCell<MemFileData>>> {
        self.state.borrow().files.get(path).cloned().ok_or_else(|| not_found(path))
    }
}

fn torn_image(data: &MemFileData, seed: u64) -> Vec<u8> {
    let durable_len = data.durable.len().min(data.live.len());
    let unsynced = data.live.len() - durable_len;
    let mut image = data.live.clone();
    if unsynced > 0 {
        let keep = (seed % (unsynced as u64 + 1)) as usize;
        image.truncate(durable_len + keep);
    }
    image
}

fn not_found(path: &Path) -> Error {
    Error::io(path, std::io::Error::from(std::io::ErrorKind::NotFound))
}

/// A handle on an in-memory file.
#[derive(Debug)]
pub struct MemFile {
    path: PathBuf,
    data: Rc<RefCell<MemFileData>>,
    fs: MemFs,
    writable: bool,
}

impl FileSystem for MemFs {
    type File = MemFile;

    async fn open(&self, path: &Path, mode: OpenMode) -> Result<MemFile> {
        let mut state = self.state.borrow_mut();
        state.take_fault(FaultOp::Open, path)?;
        let data = match mode {
            OpenMode::CreateTruncate => {
                let data = Rc::new(RefCell::new(MemFileData::default()));
                state.files.insert(path.to_path_buf(), data.clone());
                data
            }
            OpenMode::ReadWrite | OpenMode::ReadOnly => {
                state.files.get(path).cloned().ok_or_else(|| not_found(path))?
            }
        };
        let writable = mode != OpenMode::ReadOnly;
        Ok(MemFile { path: path.to_path_buf(), data, fs: self.clone(), writable })
    }

    async fn remove(&self, path: &Path) -> Result<()> {
        self.state.borrow_mut().files.remove(path).map(|_| ()).ok_or_else(|| not_found(path))
    }

    async fn rename(&self, from: &Path, to: &Path) -> Result<()> {
        let mut state = self.state.borrow_mut();
        let data = state.files.remove(from).ok_or_else(|| not_found(from))?;
        state.files.insert(to.to_path_buf(), data);
        Ok(())
    }

    async fn list(&self, dir: &Path) -> Result<Vec<String>> {
        let state = self.state.borrow();
        let names = state
            .files
            .keys()
            .filter(|path| path.parent() == Some(dir))
            .filter_map(|path| path.file_name().map(|name| name.to_string_lossy().into_owned()))
            .collect();
        Ok(names)
    }

    async fn create_dir_all(&self, _dir: &Path) -> Result<()> {
        Ok(())
    }

    async fn sync_dir(&self, _dir: &Path) -> Result<()> {
        Ok(())
    }

    async fn exists(&self, path: &Path) -> Result<bool> {
        Ok(self.state.borrow().files.contains_key(path))
    }
}

impl super::File for MemFile {
    fn path(&self) -> &Path {
        &self.path
    }

    async fn read_at(&self, offset: u64, len: usize) -> Result<Bytes> {
        self.fs.state.borrow_mut().take_fault(FaultOp::Read, &self.path)?;
        let data = self.data.borrow();
        let start = usize::try_from(offset).unwrap_or(usize::MAX).min(data.live.len());
        let end = start.saturating_add(len).min(data.live.len());
        Ok(Bytes::copy_from_slice(&data.live[start..end]))
    }

    async fn write_at(&self, offset: u64, bytes: &[u8]) -> Result<()> {
        check_write_alignment(&self.path, offset, bytes.len())?;
        if !self.writable {
            return Err(Error::io(&self.path, std::io::Error::from(std::io::ErrorKind::PermissionDenied)));
        }
        self.fs.state.borrow_mut().take_fault(FaultOp::Write, &self.path)?;
        let mut data = self.data.borrow_mut();
        let start = offset as usize;
        let end = start + bytes.len();
        if data.live.len() < end {
            data.live.resize(end, 0);
        }
        data.live[start..end].copy_from_slice(bytes);
        Ok(())
    }

    async fn sync(&self) -> Result<()> {
        let mut state = self.fs.state.borrow_mut();
        state.take_fault(FaultOp::Sync, &self.path)?;
        state.syncs += 1;
        let mut data = self.data.borrow_mut();
        data.durable = data.live.clone();
        Ok(())
    }

    async fn size(&self) -> Result<u64> {
        Ok(self.data.borrow().live.len() as u64)
    }

    async fn truncate(&self, size: u64) -> Result<()> {
        let mut data = self.data.borrow_mut();
        data.live.resize(size as usize, 0);
        Ok(())
    }

    async fn allocate(&self, _len: u64) -> Result<()> {
        // Reserving space means nothing in memory; tests that want a preallocated zero tail
        // extend the file with `truncate`.
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use futures_lite::future::block_on;

    use super::*;
    use crate::io::{File, IO_ALIGN};

    #[test]
    fn power_loss_drops_unsynced_writes_and_process_kill_keeps_them() {
        block_on(async {
            let fs = MemFs::new();
            let path = Path::new("/db/f");
            let file = fs.open(path, OpenMode::CreateTruncate).await.expect("open");
            file.write_at(0, &[1u8; IO_ALIGN]).await.expect("write");
            file.sync().await.expect("sync");
            file.write_at(IO_ALIGN as u64, &[2u8; IO_ALIGN]).await.expect("write");
            fs.crash(CrashMode::ProcessKill);
            assert_eq!(file.size().await.expect("size"), 2 * IO_ALIGN as u64);
            fs.crash(CrashMode::PowerLoss);
            assert_eq!(file.size().await.expect("size"), IO_ALIGN as u64);
        });
    }

    #[test]
    fn torn_write_keeps_a_partial_tail() {
        block_on(async {
            let fs = MemFs::new();
            let path = Path::new("/db/f");
            let file = fs.open(path, OpenMode::CreateTruncate).await.expect("open");
            file.write_at(0, &[7u8; IO_ALIGN]).await.expect("write");
            fs.crash(CrashMode::TornWrite { seed: 100 });
            assert_eq!(fs.contents(path).expect("contents"), vec![7u8; 100]);
        });
    }

    #[test]
    fn unaligned_writes_and_injected_faults_fail() {
        block_on(async {
            let fs = MemFs::new();
            let path = Path::new("/db/f");
            let file = fs.open(path, OpenMode::CreateTruncate).await.expect("open");
            assert!(file.write_at(1, &[0u8; IO_ALIGN]).await.is_err());
            assert!(file.write_at(0, &[0u8; 10]).await.is_err());
            fs.inject(Fault { op: FaultOp::Sync, path_contains: "f".into(), count: 1, os_error: None });
            assert!(file.sync().await.is_err());
            assert!(file.sync().await.is_ok());
        });
    }
}
