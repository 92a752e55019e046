//! The value log itself: open and recovery, batched appends, rotation, sync and reads.
//! Garbage-collection primitives are in the sibling `gc` module.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use bytes::Bytes;

use super::format::{
    HEADER_BYTES, ValuePointer, VlogPosition, decode_record, encode_header, encode_record, file_name, header_is_blank,
    parse_file_name, verify_header,
};
use super::gc::GcState;
use super::scan::scan_records;
use super::{ValueLogOptions, ValueLogStats, obsolete};
use crate::codec::{Lz4Gate, align_up};
use crate::error::{Error, Result};
use crate::io::{File, FileSystem, IO_ALIGN, OpenMode, join, pad_to_alignment, read_exact_at};
use crate::sync::LocalMutex;

const WHAT_POINTER: &str = "value pointer";

/// A record read back by a scan, with the pointer that addresses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VlogRecord {
    /// The key the record was appended with.
    pub key: Bytes,
    /// The value, decompressed.
    pub value: Bytes,
    /// Where the record is.
    pub pointer: ValuePointer,
}

/// Appends of the active file not yet written: `buf` belongs at aligned file offset `start`.
#[derive(Debug, Default)]
struct Tail {
    start: u64,
    buf: Vec<u8>,
}

/// An open value-log file.
pub(super) struct FileEntry<Fl> {
    pub(super) file: Rc<Fl>,
    /// Bytes of the file that hold completed writes.
    pub(super) size_bytes: u64,
}

/// The value log of one core. See the module documentation.
pub struct ValueLog<F: FileSystem> {
    pub(super) fs: F,
    pub(super) dir: PathBuf,
    pub(super) options: ValueLogOptions,
    pub(super) files: RefCell<BTreeMap<u32, FileEntry<F::File>>>,
    pub(super) active_id: Cell<u32>,
    /// True when the active file has writes its last sync did not cover.
    unsynced: Cell<bool>,
    /// Buffered appends to the active file (see `ValueLogOptions::write_buffer_bytes`).
    tail: RefCell<Tail>,
    /// Why appends are refused, after a failed write or sync.
    failure: RefCell<Option<String>>,
    /// Serialises appends, syncs, rotations and deletions.
    pub(super) writer: LocalMutex,
    pub(super) gc: RefCell<GcState>,
    pub(super) stats: RefCell<ValueLogStats>,
    /// Decides which values lz4 is tried on.
    lz4: Lz4Gate,
}

impl<F: FileSystem> std::fmt::Debug for ValueLog<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ValueLog")
            .field("dir", &self.dir)
            .field("active_id", &self.active_id.get())
            .field("file_ids", &self.file_ids())
            .finish_non_exhaustive()
    }
}

impl<F: FileSystem> ValueLog<F> {
    /// Opens (or creates) the value log in `dir`: deletes files recorded as obsolete, checks
    /// every header and truncates a torn tail of the newest file.
    pub async fn open(fs: F, dir: &Path, options: ValueLogOptions) -> Result<ValueLog<F>> {
        Self::open_at_head(fs, dir, options, None).await
    }

    /// Opens the value log like [`ValueLog::open`], first cutting it back to `head` when one is
    /// given (see "Durability and recovery" in the module doc): files after `head.file_id` are
    /// deleted, and that file becomes the active one again, cut at `head.offset`. Everything up
    /// to the head was synced, so no tail is scanned.
    pub async fn open_at_head(
        fs: F,
        dir: &Path,
        options: ValueLogOptions,
        head: Option<VlogPosition>,
    ) -> Result<ValueLog<F>> {
        options.validate()?;
        fs.create_dir_all(dir).await?;
        let mut stats = ValueLogStats::default();
        delete_listed_obsolete(&fs, dir, &mut stats).await?;
        let mut ids = list_file_ids(&fs, dir).await?;
        if let Some(head) = head {
            cut_files_past(&fs, dir, &mut ids, head, &mut stats).await?;
        }
        let mut files = BTreeMap::new();
        let active_id = match ids.split_last() {
            Some((&last, older)) => {
                for &file_id in older {
                    files.insert(file_id, open_sealed(&fs, dir, file_id).await?);
                }
                let active = match head {
                    Some(head) => reopen_at_head(&fs, dir, head, &options).await?,
                    None => recover_active(&fs, dir, last, &options, &mut stats).await?,
                };
                files.insert(last, active);
                last
            }
            None => {
                files.insert(1, create_file(&fs, dir, 1, options.file_size_bytes).await?);
                stats.files_created += 1;
                1
            }
        };
        Ok(ValueLog {
            fs,
            dir: dir.to_path_buf(),
            options,
            files: RefCell::new(files),
            active_id: Cell::new(active_id),
            unsynced: Cell::new(false),
            tail: RefCell::new(Tail::default()),
            failure: RefCell::new(None),
            writer: LocalMutex::new(),
            gc: RefCell::new(GcState::default()),
            stats: RefCell::new(stats),
            lz4: Lz4Gate::default(),
        })
    }

    /// Appends `(key, value)` records and returns their pointers in order. Not synced: see
    /// [`ValueLog::sync`]. Without a write buffer the records are one write starting on a
    /// fresh 4 KiB boundary; with one they join the buffer, which is written once full.
    pub async fn append(&self, records: &[(&[u8], &[u8])]) -> Result<Vec<ValuePointer>> {
        if records.is_empty() {
            return Ok(Vec::new());
        }
        if self.options.write_buffer_bytes == 0 {
            return self.append_through(records).await;
        }
        let (batch, record_lens) = encode_records(records, self.lz4())?;
        let _guard = self.writer.lock().await;
        self.check_healthy()?;
        self.rotate_if_needed(align_up(batch.len() as u64, IO_ALIGN as u64)).await?;
        let (file_id, offset) = self.buffer_records(&batch, record_lens.len());
        let pointers = self.pointers(file_id, offset, &record_lens);
        if self.tail.borrow().buf.len() >= self.options.write_buffer_bytes {
            self.write_tail().await?;
        }
        Ok(pointers)
    }

    /// The gate of value compression, when it is on.
    fn lz4(&self) -> Option<&Lz4Gate> {
        self.options.compression.then_some(&self.lz4)
    }

    /// Adds encoded records to the buffer; returns the file and offset of the first.
    fn buffer_records(&self, batch: &[u8], record_count: usize) -> (u32, u64) {
        let file_id = self.active_id.get();
        let end = self.file_size(file_id).expect("the active file is always open");
        let mut tail = self.tail.borrow_mut();
        if tail.buf.is_empty() {
            tail.start = align_up(end, IO_ALIGN as u64);
        }
        let offset = tail.start + tail.buf.len() as u64;
        tail.buf.extend_from_slice(batch);
        drop(tail);
        self.entry_mut(file_id, |entry| entry.size_bytes = offset + batch.len() as u64);
        let mut stats = self.stats.borrow_mut();
        stats.records_written += record_count as u64;
        (file_id, offset)
    }

    /// Writes the buffer, zero-padded to a whole block, to the active file. The next append
    /// starts on a fresh block, so no written block is ever written again. The caller holds
    /// the writer lock.
    async fn write_tail(&self) -> Result<()> {
        let (start, mut data) = {
            let tail = self.tail.borrow();
            (tail.start, tail.buf.clone())
        };
        if data.is_empty() {
            return Ok(());
        }
        let records_bytes = data.len() as u64;
        pad_to_alignment(&mut data);
        let file_id = self.active_id.get();
        let file = self.handle(file_id).expect("the active file is always open");
        if let Err(error) = file.write_at(start, &data).await {
            return Err(self.fail(error));
        }
        self.tail.borrow_mut().buf.clear();
        self.unsynced.set(true);
        self.gc.borrow_mut().add_discard(file_id, data.len() as u64 - records_bytes);
        self.stats.borrow_mut().bytes_written += data.len() as u64;
        Ok(())
    }

    /// Writes the buffered appends (not synced).
    pub(super) async fn write_buffered(&self) -> Result<()> {
        let _guard = self.writer.lock().await;
        self.check_healthy()?;
        self.write_tail().await
    }

    /// The bytes at `pointer` when they are still in the write buffer.
    fn read_buffered(&self, pointer: &ValuePointer) -> Option<Bytes> {
        let tail = self.tail.borrow();
        if pointer.file_id != self.active_id.get() || pointer.offset < tail.start || tail.buf.is_empty() {
            return None;
        }
        let start = usize::try_from(pointer.offset - tail.start).ok()?;
        let bytes = tail.buf.get(start..start.checked_add(pointer.len as usize)?)?;
        Some(Bytes::copy_from_slice(bytes))
    }

    /// Appends as one aligned write, at once (no write buffer).
    async fn append_through(&self, records: &[(&[u8], &[u8])]) -> Result<Vec<ValuePointer>> {
        let (batch, record_lens) = encode_batch(records, self.lz4())?;
        let _guard = self.writer.lock().await;
        self.check_healthy()?;
        self.rotate_if_needed(batch.len() as u64).await?;
        let (file_id, file, offset) = self.active_append_position();
        if let Err(error) = file.write_at(offset, &batch).await {
            return Err(self.fail(error));
        }
        self.unsynced.set(true);
        Ok(self.finish_append(file_id, offset, &batch, &record_lens))
    }

    /// Records a completed batch write and builds its pointers.
    fn finish_append(&self, file_id: u32, offset: u64, batch: &[u8], record_lens: &[u32]) -> Vec<ValuePointer> {
        let end = offset + batch.len() as u64;
        self.entry_mut(file_id, |entry| entry.size_bytes = end);
        let records_bytes: u64 = record_lens.iter().map(|&len| u64::from(len)).sum();
        self.gc.borrow_mut().add_discard(file_id, batch.len() as u64 - records_bytes);
        let mut stats = self.stats.borrow_mut();
        stats.records_written += record_lens.len() as u64;
        stats.bytes_written += batch.len() as u64;
        drop(stats);
        self.pointers(file_id, offset, record_lens)
    }

    /// Pointers of records of `record_lens` laid out back to back from `offset`.
    fn pointers(&self, file_id: u32, offset: u64, record_lens: &[u32]) -> Vec<ValuePointer> {
        let mut position = offset;
        record_lens
            .iter()
            .map(|&len| {
                let pointer = ValuePointer { file_id, offset: position, len };
                position += u64::from(len);
                pointer
            })
            .collect()
    }

    /// Makes every append that returned before this call durable.
    pub async fn sync(&self) -> Result<()> {
        let _guard = self.writer.lock().await;
        self.check_healthy()?;
        self.sync_active().await
    }

    /// Syncs the active file even when the log holds nothing unsynced (recovery may have found
    /// records a crash left unsynced) and returns where its data ends: the head of a store that
    /// never recorded one.
    pub async fn sync_end(&self) -> Result<VlogPosition> {
        let _guard = self.writer.lock().await;
        self.check_healthy()?;
        self.unsynced.set(true);
        self.sync_active().await?;
        let file_id = self.active_id.get();
        let offset = self.file_size(file_id).expect("the active file is always open");
        Ok(VlogPosition { file_id, offset })
    }

    /// Writes the buffer and syncs the active file if it has unsynced writes. The caller
    /// holds the writer lock.
    async fn sync_active(&self) -> Result<()> {
        self.write_tail().await?;
        if !self.unsynced.get() {
            return Ok(());
        }
        let file = self.handle(self.active_id.get()).expect("the active file is always open");
        if let Err(error) = file.sync().await {
            return Err(self.fail(error));
        }
        self.unsynced.set(false);
        Ok(())
    }

    /// Starts a new active file when a batch of `batch_bytes` would push the current one past
    /// `file_size_bytes` (a batch larger than that gets a file of its own).
    async fn rotate_if_needed(&self, batch_bytes: u64) -> Result<()> {
        let (_, _, offset) = self.active_append_position();
        if offset == HEADER_BYTES || offset + batch_bytes <= self.options.file_size_bytes {
            return Ok(());
        }
        // The retiring file gives back its unused reserved space, and is synced now so that
        // only the newest file can ever be torn.
        self.release_reserved_space().await?;
        self.sync_active().await?;
        let next_id =
            self.active_id.get().checked_add(1).ok_or_else(|| Error::Closed("value-log file ids exhausted".into()))?;
        let entry = match create_file(&self.fs, &self.dir, next_id, self.options.file_size_bytes).await {
            Ok(entry) => entry,
            Err(error) => {
                // Most often no room for the reservation: leave no half-made file behind.
                let _ = self.fs.remove(&join(&self.dir, &file_name(next_id))).await;
                return Err(error);
            }
        };
        self.files.borrow_mut().insert(next_id, entry);
        self.active_id.set(next_id);
        // `create_file` synced the new file's header.
        self.unsynced.set(false);
        self.stats.borrow_mut().files_created += 1;
        tracing::debug!(file_id = next_id, "value log rotated to a new file");
        Ok(())
    }

    /// Cuts the active file's zero tail of reserved space. The caller holds the writer lock.
    async fn release_reserved_space(&self) -> Result<()> {
        self.write_tail().await?;
        let (_, file, end) = self.active_append_position();
        if let Err(error) = file.truncate(end).await {
            return Err(self.fail(error));
        }
        self.unsynced.set(true);
        Ok(())
    }

    /// The active file and the aligned offset where the next batch goes.
    fn active_append_position(&self) -> (u32, Rc<F::File>, u64) {
        let files = self.files.borrow();
        let file_id = self.active_id.get();
        let entry = files.get(&file_id).expect("the active file is always open");
        (file_id, entry.file.clone(), align_up(entry.size_bytes, IO_ALIGN as u64))
    }

    /// Reads the record `pointer` addresses and returns its key and value, verified.
    pub async fn read(&self, pointer: &ValuePointer) -> Result<(Bytes, Bytes)> {
        let bytes = self.read_record(pointer).await?;
        Self::decode_read(pointer, &bytes)
    }

    /// The stored bytes of the record `pointer` addresses, not yet verified (a cache can keep
    /// them as stored, compressed, and [`ValueLog::decode_read`] them on every hit).
    pub async fn read_record(&self, pointer: &ValuePointer) -> Result<Bytes> {
        let file = self.checked_handle(pointer)?;
        match self.read_buffered(pointer) {
            Some(bytes) => Ok(bytes),
            None => read_exact_at(&*file, pointer.offset, pointer.len as usize, WHAT_POINTER).await,
        }
    }

    /// Verifies and decodes record bytes [`ValueLog::read_record`] returned for `pointer`.
    pub fn decode_read(pointer: &ValuePointer, bytes: &Bytes) -> Result<(Bytes, Bytes)> {
        let record = decode_record(bytes).map_err(|error| with_pointer(error, pointer))?;
        let value = record.value().map_err(|error| with_pointer(error, pointer))?;
        Ok((record.key, value))
    }

    /// The handle of the file `pointer` names, after checking the pointer lies inside it.
    fn checked_handle(&self, pointer: &ValuePointer) -> Result<Rc<F::File>> {
        let files = self.files.borrow();
        let Some(entry) = files.get(&pointer.file_id) else {
            let detail =
                format!("{pointer:?}: value-log file {} does not exist (deleted or never written)", pointer.file_id);
            return Err(Error::corruption(WHAT_POINTER, detail));
        };
        let end = pointer.offset.checked_add(u64::from(pointer.len));
        if pointer.offset < HEADER_BYTES || end.is_none_or(|end| end > entry.size_bytes) {
            let detail = format!("{pointer:?} lies outside file {} of {} bytes", pointer.file_id, entry.size_bytes);
            return Err(Error::corruption(WHAT_POINTER, detail));
        }
        Ok(entry.file.clone())
    }

    /// The id of the file appends go to.
    pub fn active_file_id(&self) -> u32 {
        self.active_id.get()
    }

    /// Ids of every file, ascending.
    pub fn file_ids(&self) -> Vec<u32> {
        self.files.borrow().keys().copied().collect()
    }

    /// Size of file `file_id` in bytes, or `None` when there is no such file.
    pub fn file_size(&self, file_id: u32) -> Option<u64> {
        self.files.borrow().get(&file_id).map(|entry| entry.size_bytes)
    }

    /// Bytes of all files.
    pub fn total_bytes(&self) -> u64 {
        self.files.borrow().values().map(|entry| entry.size_bytes).sum()
    }

    /// Current sizes and counters.
    pub fn stats(&self) -> ValueLogStats {
        let mut stats = self.stats.borrow().clone();
        stats.files = self.files.borrow().len() as u64;
        stats.total_bytes = self.total_bytes();
        stats
    }

    /// The options the log was opened with.
    pub fn options(&self) -> &ValueLogOptions {
        &self.options
    }

    pub(super) fn handle(&self, file_id: u32) -> Option<Rc<F::File>> {
        self.files.borrow().get(&file_id).map(|entry| entry.file.clone())
    }

    fn entry_mut(&self, file_id: u32, update: impl FnOnce(&mut FileEntry<F::File>)) {
        if let Some(entry) = self.files.borrow_mut().get_mut(&file_id) {
            update(entry);
        }
    }

    fn check_healthy(&self) -> Result<()> {
        match &*self.failure.borrow() {
            Some(reason) => Err(Error::Closed(format!("value log failed earlier: {reason}"))),
            None => Ok(()),
        }
    }

    /// Refuses further appends after a failed write or sync: the file's state is unknown until
    /// recovery runs at the next open. A full disk is the exception: nothing advanced past the
    /// failed write (the buffered tail keeps its place and is written again, an unbuffered batch
    /// got no pointers), so appends and syncs are simply retried.
    fn fail(&self, error: Error) -> Error {
        if error.is_no_space() {
            tracing::warn!(%error, "value log write failed for lack of space; it is retried");
            return error;
        }
        tracing::error!(%error, "value log write failed; refusing appends until reopened");
        *self.failure.borrow_mut() = Some(error.to_string());
        error
    }
}

/// Encodes records into one zero-padded batch; returns it and each record's length.
fn encode_batch(records: &[(&[u8], &[u8])], lz4: Option<&Lz4Gate>) -> Result<(Vec<u8>, Vec<u32>)> {
    let (mut batch, record_lens) = encode_records(records, lz4)?;
    pad_to_alignment(&mut batch);
    Ok((batch, record_lens))
}

/// Encodes records back to back; returns them and each record's length.
fn encode_records(records: &[(&[u8], &[u8])], lz4: Option<&Lz4Gate>) -> Result<(Vec<u8>, Vec<u32>)> {
    let capacity = records.iter().map(|(key, value)| key.len() + value.len() + 16).sum();
    let mut batch = Vec::with_capacity(capacity);
    let mut record_lens = Vec::with_capacity(records.len());
    for (key, value) in records {
        record_lens.push(encode_record(&mut batch, key, value, lz4)?);
    }
    Ok((batch, record_lens))
}

/// Adds the pointer to a corruption error's detail.
fn with_pointer(error: Error, pointer: &ValuePointer) -> Error {
    match error {
        Error::Corruption { what, detail } => Error::corruption(what, format!("{pointer:?}: {detail}")),
        other => other,
    }
}

/// Ids of the value-log files in `dir`, ascending; removes a leftover temporary file.
async fn list_file_ids<F: FileSystem>(fs: &F, dir: &Path) -> Result<Vec<u32>> {
    let names = fs.list(dir).await?;
    if names.iter().any(|name| name == obsolete::OBSOLETE_TMP_NAME) {
        fs.remove(&join(dir, obsolete::OBSOLETE_TMP_NAME)).await?;
    }
    let ids: BTreeSet<u32> = names.iter().filter_map(|name| parse_file_name(name)).collect();
    Ok(ids.into_iter().collect())
}

/// Deletes the files `vlog-obsolete` lists (their rewrites were flushed before the restart)
/// and then the list itself.
async fn delete_listed_obsolete<F: FileSystem>(fs: &F, dir: &Path, stats: &mut ValueLogStats) -> Result<()> {
    let listed = match obsolete::read(fs, dir).await {
        Ok(listed) => listed,
        Err(error) if error.is_corruption() => {
            // Keeping the files is always safe; it only costs space until GC picks them again.
            tracing::warn!(%error, "ignoring a damaged value-log obsolete list");
            BTreeSet::new()
        }
        Err(error) => return Err(error),
    };
    for file_id in &listed {
        let path = join(dir, &file_name(*file_id));
        if fs.exists(&path).await? {
            let file = fs.open(&path, OpenMode::ReadOnly).await?;
            stats.bytes_reclaimed += file.size().await?;
            drop(file);
            fs.remove(&path).await?;
            stats.files_deleted += 1;
        }
    }
    if !listed.is_empty() {
        fs.sync_dir(dir).await?;
    }
    obsolete::write(fs, dir, &BTreeSet::new()).await
}

/// Opens a file that is no longer appended to; it was synced when it was retired, so only
/// its header is checked.
async fn open_sealed<F: FileSystem>(fs: &F, dir: &Path, file_id: u32) -> Result<FileEntry<F::File>> {
    let file = fs.open(&join(dir, &file_name(file_id)), OpenMode::ReadOnly).await?;
    let header = file.read_at(0, IO_ALIGN).await?;
    verify_header(&header, file_id)?;
    let size_bytes = file.size().await?;
    Ok(FileEntry { file: Rc::new(file), size_bytes })
}

/// Opens the newest file for appending: rewrites a blank header, and truncates a torn tail
/// at the first record that is short or fails its checksum.
async fn recover_active<F: FileSystem>(
    fs: &F,
    dir: &Path,
    file_id: u32,
    options: &ValueLogOptions,
    stats: &mut ValueLogStats,
) -> Result<FileEntry<F::File>> {
    let file = fs.open(&join(dir, &file_name(file_id)), OpenMode::ReadWrite).await?;
    let header = file.read_at(0, IO_ALIGN).await?;
    if header_is_blank(&header) {
        tracing::warn!(file_id, "value-log file has a blank header (crash while creating it); rewriting it");
        drop(file);
        return create_file(fs, dir, file_id, options.file_size_bytes).await;
    }
    verify_header(&header, file_id)?;
    let size_bytes = file.size().await?;
    let end = scan_records(&file, file_id, size_bytes, options.scan_read_bytes, |_, _| Ok(())).await?;
    let Some(damage) = end.damage else {
        // Zeros after the last record are padding or reserved space: appends continue there.
        return Ok(FileEntry { file: Rc::new(file), size_bytes: end.valid_end });
    };
    tracing::warn!(file_id, %damage, valid_end = end.valid_end, "truncating the torn tail of the value log");
    file.truncate(end.valid_end).await?;
    file.allocate(options.file_size_bytes).await?;
    file.sync().await?;
    stats.bytes_truncated += size_bytes - end.valid_end;
    Ok(FileEntry { file: Rc::new(file), size_bytes: end.valid_end })
}

/// Deletes the files after `head.file_id` (they hold only values no flushed table points at)
/// and removes them from `ids`. The head's own file must exist: tables point into it.
async fn cut_files_past<F: FileSystem>(
    fs: &F,
    dir: &Path,
    ids: &mut Vec<u32>,
    head: VlogPosition,
    stats: &mut ValueLogStats,
) -> Result<()> {
    if !ids.contains(&head.file_id) {
        let detail = format!("the recorded head {head:?} names a file that does not exist");
        return Err(Error::corruption("value log", detail));
    }
    let past: Vec<u32> = ids.iter().copied().filter(|&id| id > head.file_id).collect();
    for &file_id in &past {
        fs.remove(&join(dir, &file_name(file_id))).await?;
        stats.files_cut += 1;
    }
    if !past.is_empty() {
        tracing::info!(?head, files = past.len(), "deleted value-log files past the recorded head");
        fs.sync_dir(dir).await?;
    }
    ids.retain(|&id| id <= head.file_id);
    Ok(())
}

/// Opens the head's file for appending again, cut at the head: later records (unflushed,
/// replayed from the journal) go, and so does a partial block after the head, which would
/// otherwise read as a torn record. The reservation is renewed.
async fn reopen_at_head<F: FileSystem>(
    fs: &F,
    dir: &Path,
    head: VlogPosition,
    options: &ValueLogOptions,
) -> Result<FileEntry<F::File>> {
    let file = fs.open(&join(dir, &file_name(head.file_id)), OpenMode::ReadWrite).await?;
    let header = file.read_at(0, IO_ALIGN).await?;
    verify_header(&header, head.file_id)?;
    let size_bytes = file.size().await?;
    if head.offset < HEADER_BYTES || head.offset > size_bytes {
        let detail = format!("the recorded head {head:?} lies outside the file's {size_bytes} bytes");
        return Err(Error::corruption("value log", detail));
    }
    file.truncate(head.offset).await?;
    file.allocate(options.file_size_bytes).await?;
    file.sync().await?;
    Ok(FileEntry { file: Rc::new(file), size_bytes: head.offset })
}

/// Creates file `file_id` with its header block and `reserve_bytes` of reserved space (so
/// appends overwrite instead of growing the file), synced, and makes its name durable.
async fn create_file<F: FileSystem>(
    fs: &F,
    dir: &Path,
    file_id: u32,
    reserve_bytes: u64,
) -> Result<FileEntry<F::File>> {
    let file = fs.open(&join(dir, &file_name(file_id)), OpenMode::CreateTruncate).await?;
    file.write_at(0, &encode_header(file_id)).await?;
    file.allocate(reserve_bytes).await?;
    file.sync().await?;
    fs.sync_dir(dir).await?;
    Ok(FileEntry { file: Rc::new(file), size_bytes: HEADER_BYTES })
}
