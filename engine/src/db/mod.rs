//! The engine: one LSM tree (four column families) with its value log, caches and manifest,
//! owned by one core.
//!
//! The engine writes no WAL of its own. Its caller (the standalone [`crate::Db`], or raft in the
//! server) makes a write durable in the journal first and then calls [`Engine::apply`] with the
//! entry's `(region_id, index)`. Each flush records, per region, the highest index it contains
//! (the *flushed watermark*), so recovery replays the journal only past it.
//!
//! Concurrency: everything is single-threaded, but several tasks of the core's executor may
//! call in at once. Shared state lives in `RefCell`s that are never borrowed across an `.await`;
//! manifest updates are serialised by an async mutex; sequence numbers are allocated and
//! memtable inserts made in one synchronous step, so a reader never sees a half-applied batch.
//!
//! Background work (flush, compaction, value-log GC) runs in [`Engine::run_background`], which
//! the runtime spawns in a low-share task queue. Without it (tests, tools), a write that would
//! have to wait for background work does that work inline.

mod compact;
mod flush;
mod gc;
mod level_iter;
mod read;

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use bytes::Bytes;

pub use read::{DbIterator, ReadOptions};

use crate::batch::{WriteBatch, WriteOp};
use crate::cache::{CacheStats, Caches};
use crate::compaction::filter::CompactionFilter;
use crate::compaction::picker::Cursors;
use crate::error::{Error, Result};
use crate::io::{FileSystem, OpenMode};
use crate::key::{Cf, Seq, ValueKind};
use crate::manifest::Manifest;
use crate::memtable::{self, MemTable};
use crate::options::EngineOptions;
use crate::range_del::RangeTombstone;
use crate::sst::Table;
use crate::sync::{LocalMutex, Notify, Pinned, Pins};
use crate::version::{FileMeta, Version, VersionEdit};
use crate::vlog::{ValueLog, ValueLogStats, ValuePointer, VlogPosition};

/// The per-core LSM engine. Cheap to clone: clones share one engine.
pub struct Engine<F: FileSystem> {
    inner: Rc<Inner<F>>,
}

impl<F: FileSystem> Clone for Engine<F> {
    fn clone(&self) -> Self {
        Engine { inner: self.inner.clone() }
    }
}

impl<F: FileSystem> std::fmt::Debug for Engine<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("dir", &self.inner.dir).finish_non_exhaustive()
    }
}

struct Inner<F: FileSystem> {
    fs: F,
    dir: PathBuf,
    options: EngineOptions,
    caches: Rc<Caches>,
    vlog: ValueLog<F>,
    manifest: RefCell<Option<Manifest<F>>>,
    manifest_lock: LocalMutex,
    state: RefCell<State<F>>,
    snapshots: Pins<Seq>,
    /// Notified when background work may be needed, and when some finished.
    events: Notify,
    background_attached: Cell<bool>,
    stats: RefCell<EngineStats>,
    /// Compaction filters per CF (by `Cf::index`).
    filters: RefCell<[Option<Rc<dyn CompactionFilter>>; 4]>,
}

struct State<F: FileSystem> {
    active: Rc<MemTable>,
    /// Frozen memtables, oldest first.
    frozen: VecDeque<Rc<MemTable>>,
    version: Rc<Version>,
    tables: HashMap<u64, Rc<Table<F::File>>>,
    /// Per CF, the open tables of the current version's files in level order (the order of
    /// `version.levels(cf)` flattened): a read takes them with one reference count instead of
    /// a map lookup per file.
    version_tables: [LevelTables<F>; 4],
    /// Range tombstones of the current version's tables, per CF.
    table_tombstones: [Rc<Vec<RangeTombstone>>; 4],
    last_seq: Seq,
    next_file_id: u64,
    next_memtable_id: u64,
    /// The CFs' `filter_prefix_suffix_bytes`, for the hash indexes of new memtables.
    filter_suffix_bytes: [usize; 4],
    cursors: Cursors,
    flushing: bool,
    compacting: bool,
    /// Value-log files whose live values were rewritten at `seq`: deletable once a flush covers it.
    vlog_relocated: Vec<(u32, Seq)>,
    /// Set when background work failed; writes are refused from then on.
    failure: Option<String>,
    /// Why background work last failed for lack of space (cleared by its next success).
    disk_error: Option<String>,
    closed: bool,
}

/// A CF's open tables in level order, shared by the reads of one version.
pub(super) type LevelTables<F> = Rc<[Rc<Table<<F as FileSystem>::File>>]>;

/// Counters of the engine's work.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EngineStats {
    /// Batches applied.
    pub batches_applied: u64,
    /// Memtables flushed.
    pub flushes: u64,
    /// Compactions run (trivial moves included).
    pub compactions: u64,
    /// Bytes read by compactions.
    pub compaction_read_bytes: u64,
    /// Bytes written by flushes and compactions.
    pub table_write_bytes: u64,
    /// Value-log files collected.
    pub vlog_files_collected: u64,
    /// Times a write waited for background work.
    pub write_stalls: u64,
    /// Times a stalled write woke up and looked for room again (a few per background step;
    /// many more would mean stalled writers wake each other instead of waiting).
    pub write_stall_waits: u64,
    /// Entries compaction filters dropped.
    pub filtered_entries: u64,
    /// Point deletes written unjournaled (compaction filters' follow-ups, MVCC GC).
    pub unjournaled_deletes: u64,
}

/// A consistent read point. Versions it can see are kept by compaction until it is dropped.
#[derive(Debug)]
pub struct Snapshot {
    pin: Pinned<Seq>,
}

impl Snapshot {
    /// The sequence number the snapshot reads at.
    pub fn seq(&self) -> Seq {
        self.pin.value()
    }
}

/// A batch's values moved to the value log.
#[derive(Default)]
struct Separated {
    /// Encoded pointers, in batch order.
    pointers: Vec<Bytes>,
    /// Bytes of the values moved.
    value_bytes: u64,
    /// The end of the last record appended.
    vlog_end: Option<VlogPosition>,
}

const SST_DIR: &str = "sst";
const VLOG_DIR: &str = "vlog";

impl<F: FileSystem> Engine<F> {
    /// Opens (or creates) the engine in `dir`.
    pub async fn open(fs: F, dir: &Path, options: EngineOptions) -> Result<Engine<F>> {
        options.validate()?;
        fs.create_dir_all(&dir.join(SST_DIR)).await?;
        let (mut manifest, version) = Manifest::open(fs.clone(), dir).await?;
        let caches = Rc::new(Caches::new(&options.cache)?);
        // Values past the head belong to memtables that died unflushed: cut them before the
        // caller replays the journal, which appends them again.
        let vlog =
            ValueLog::open_at_head(fs.clone(), &dir.join(VLOG_DIR), options.value_log.clone(), version.vlog_head)
                .await?;
        let version = adopt_vlog_head(&mut manifest, version, &vlog).await?;
        vlog.set_discard_stats(version.vlog_discard.iter().map(|(f, b)| (*f, *b)));
        let tables = open_tables(&fs, dir, &version, &caches).await?;
        remove_orphans(&fs, dir, &version, &vlog).await?;
        let state = State::new(version, tables, options.filter_prefix_suffix_bytes);
        let inner = Inner {
            fs,
            dir: dir.to_path_buf(),
            options,
            caches,
            vlog,
            manifest: RefCell::new(Some(manifest)),
            manifest_lock: LocalMutex::new(),
            state: RefCell::new(state),
            snapshots: Pins::default(),
            events: Notify::new(),
            background_attached: Cell::new(false),
            stats: RefCell::new(EngineStats::default()),
            filters: RefCell::new(Default::default()),
        };
        Ok(Engine { inner: Rc::new(inner) })
    }

    /// The engine's options.
    pub fn options(&self) -> &EngineOptions {
        &self.inner.options
    }

    /// The flushed watermark of a region: every journal entry up to it is in SSTs.
    pub fn flushed_index(&self, region_id: u64) -> u64 {
        self.inner.state.borrow().version.applied.get(&region_id).copied().unwrap_or(0)
    }

    /// Every region's flushed watermark.
    pub fn flushed_indexes(&self) -> BTreeMap<u64, u64> {
        self.inner.state.borrow().version.applied.clone()
    }

    /// The sequence number of the newest applied write.
    pub fn last_seq(&self) -> Seq {
        self.inner.state.borrow().last_seq
    }

    /// Takes a snapshot at the newest applied write.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot { pin: self.inner.snapshots.pin(self.last_seq()) }
    }

    /// Sequence numbers at or below this are visible to every reader.
    fn oldest_snapshot(&self) -> Seq {
        self.inner.snapshots.oldest().unwrap_or_else(|| self.last_seq())
    }

    /// Applies a batch that is already durable in the journal as `region_id`'s entry `index`.
    /// Applies of one region must be made in index order. Returns the batch's last sequence.
    pub async fn apply(&self, region_id: u64, index: u64, batch: &WriteBatch) -> Result<Seq> {
        self.check_writable()?;
        self.wait_for_room().await?;
        // The batch is durable in the journal already and raft counts it applied: it must reach
        // the memtable whatever the value log does. When the value log cannot take the large
        // values (a full disk), they stay inline; the SST holds them after the flush.
        let (separated, threshold) = match self.separate_values(batch).await {
            Ok(separated) => (separated, self.inner.options.value_threshold_bytes),
            Err(error) => {
                tracing::warn!(%error, "value log append failed; keeping this batch's values inline");
                (Separated::default(), usize::MAX)
            }
        };
        let mut state = self.inner.state.borrow_mut();
        let memtable = state.active.clone();
        let mut pointers = separated.pointers.into_iter();
        for window in batch.ops().chunks(memtable::WARM_KEYS) {
            memtable.warm(window.iter().filter_map(|op| match op {
                WriteOp::Put { cf, key, .. } | WriteOp::Delete { cf, key } => Some((*cf, &key[..])),
                WriteOp::DeleteRange { .. } => None,
            }));
            for op in window {
                state.last_seq += 1;
                let seq = state.last_seq;
                insert_op(&memtable, op, seq, &mut pointers, threshold);
            }
        }
        memtable.note_applied(region_id, index);
        memtable.note_separated(separated.value_bytes);
        if let Some(end) = separated.vlog_end {
            memtable.note_vlog_end(end);
        }
        let seq = state.last_seq;
        self.freeze_if_full(&mut state);
        drop(state);
        self.inner.stats.borrow_mut().batches_applied += 1;
        Ok(seq)
    }

    /// Writes point deletes that are not in the journal (each replica's own garbage
    /// collection: compaction filters' follow-ups, MVCC GC). They get fresh sequence numbers
    /// but no region watermark, so flushed-index bookkeeping and recovery are unaffected; a
    /// crash before the memtable holding them is flushed loses them. Only for deletes whose
    /// loss merely leaks space. Returns the last sequence used.
    pub fn delete_unjournaled(&self, keys: &[(Cf, Bytes)]) -> Result<Seq> {
        self.check_writable()?;
        let mut state = self.inner.state.borrow_mut();
        let memtable = state.active.clone();
        for (cf, key) in keys {
            state.last_seq += 1;
            memtable.insert(*cf, key, state.last_seq, ValueKind::Delete, Bytes::new());
        }
        let seq = state.last_seq;
        self.freeze_if_full(&mut state);
        drop(state);
        self.inner.stats.borrow_mut().unjournaled_deletes += keys.len() as u64;
        Ok(seq)
    }

    /// Installs (or with `None` removes) the compaction filter of `cf`; it applies from the
    /// next compaction on.
    pub fn set_compaction_filter(&self, cf: Cf, filter: Option<Rc<dyn CompactionFilter>>) {
        self.inner.filters.borrow_mut()[cf.index()] = filter;
    }

    fn compaction_filter(&self, cf: Cf) -> Option<Rc<dyn CompactionFilter>> {
        self.inner.filters.borrow()[cf.index()].clone()
    }

    /// Freezes the active memtable once it is full (or holds too many unflushed value bytes).
    fn freeze_if_full(&self, state: &mut State<F>) {
        let options = &self.inner.options;
        let active = &state.active;
        if active.size_bytes() >= options.memtable_size_bytes
            || active.separated_bytes() >= options.max_unflushed_value_bytes
        {
            state.freeze();
            self.inner.events.notify_all();
        }
    }

    /// Writes large values to the value log; returns their pointers in batch order.
    async fn separate_values(&self, batch: &WriteBatch) -> Result<Separated> {
        let threshold = self.inner.options.value_threshold_bytes;
        let large: Vec<(&[u8], &[u8])> = batch
            .ops()
            .iter()
            .filter_map(|op| match op {
                WriteOp::Put { cf: Cf::Default, key, value } if value.len() >= threshold => {
                    Some((&key[..], &value[..]))
                }
                _ => None,
            })
            .collect();
        if large.is_empty() {
            return Ok(Separated::default());
        }
        let value_bytes = large.iter().map(|(_, value)| value.len() as u64).sum();
        let pointers = self.inner.vlog.append(&large).await?;
        Ok(Separated {
            pointers: pointers.iter().map(|p| Bytes::copy_from_slice(&p.encode())).collect(),
            value_bytes,
            vlog_end: pointers.iter().map(ValuePointer::end).max(),
        })
    }

    fn check_writable(&self) -> Result<()> {
        let state = self.inner.state.borrow();
        if state.closed {
            return Err(Error::Closed("engine was closed".into()));
        }
        match &state.failure {
            Some(reason) => Err(Error::Closed(format!("background work failed: {reason}"))),
            None => Ok(()),
        }
    }

    /// Waits (or works inline) while too many memtables wait for flush or L0 is too deep.
    async fn wait_for_room(&self) -> Result<()> {
        let mut stalled = false;
        loop {
            let (frozen, l0) = {
                let state = self.inner.state.borrow();
                (state.frozen.len(), state.version.max_l0_file_count())
            };
            let compaction = &self.inner.options.compaction;
            if frozen < self.inner.options.max_frozen_memtables && l0 < compaction.l0_stop_trigger {
                if l0 >= compaction.l0_slowdown_trigger {
                    futures_lite::future::yield_now().await;
                }
                return Ok(());
            }
            if !stalled {
                stalled = true;
                self.inner.stats.borrow_mut().write_stalls += 1;
            }
            self.make_progress().await?;
            self.inner.stats.borrow_mut().write_stall_waits += 1;
            self.check_writable()?;
        }
    }

    /// Lets background work advance: waits for the background task, or does one step inline.
    async fn make_progress(&self) -> Result<()> {
        // While the background task pauses after a full disk, wait for it to come back rather
        // than fail this write with an inline flush that would hit the same full disk.
        if self.inner.background_attached.get() || self.inner.state.borrow().disk_error.is_some() {
            // Only wait for the background task's next step. It is woken by every freeze and
            // does not sleep while a flush or compaction is due, so it needs no wake-up from here;
            // a wake-up would also wake every other waiter, stalled writes included, and they
            // would wake each other back without end while the background task starves.
            self.inner.events.notified().await;
            return Ok(());
        }
        if !self.flush_oldest().await? && !self.compact_once().await? {
            futures_lite::future::yield_now().await;
        }
        Ok(())
    }

    /// Runs flushes, compactions and value-log GC until the engine is closed. Spawn it in a
    /// low-share task queue. It returns the first error it hits. A full disk is transient: the
    /// caller runs it again after a pause (nothing is lost: the journal keeps every unflushed
    /// write, and failed outputs are deleted), and `disk_error` reports it meanwhile. Any other
    /// error makes the engine refuse writes.
    ///
    /// Flushes run in their own lane, beside compaction and value-log GC: a compaction of
    /// hundreds of MiB takes seconds, and a flush queued behind it would let the frozen
    /// memtables pile up until writes stall. Both lanes are one task, so they interleave at
    /// their yields.
    pub async fn run_background(&self) -> Result<()> {
        self.inner.background_attached.set(true);
        self.inner.events.notify_all();
        let stop = Cell::new(false);
        let (flushes, compactions) = futures_lite::future::zip(
            self.background_lane(&stop, Lane::Flush),
            self.background_lane(&stop, Lane::Compaction),
        )
        .await;
        let result = flushes.and(compactions);
        self.inner.background_attached.set(false);
        match &result {
            Err(error) if error.is_no_space() => {
                self.inner.state.borrow_mut().disk_error = Some(error.reason());
                tracing::warn!(%error, "engine background work failed for lack of space; it is retried");
            }
            Err(error) => {
                self.inner.state.borrow_mut().failure = Some(error.to_string());
                tracing::error!(%error, "engine background work failed; refusing writes");
            }
            Ok(()) => {}
        }
        self.inner.events.notify_all();
        result
    }

    /// Why background work (flush, compaction) last failed for lack of space, until it
    /// succeeds again.
    pub fn disk_error(&self) -> Option<String> {
        self.inner.state.borrow().disk_error.clone()
    }

    /// One lane of background work. The first error stops both lanes, each after its current
    /// step (a step is never dropped half done: it would leave its `flushing` or `compacting`
    /// flag set).
    async fn background_lane(&self, stop: &Cell<bool>, lane: Lane) -> Result<()> {
        let result = self.background_steps(stop, lane).await;
        if result.is_err() {
            stop.set(true);
            self.inner.events.notify_all();
        }
        result
    }

    async fn background_steps(&self, stop: &Cell<bool>, lane: Lane) -> Result<()> {
        loop {
            if self.inner.state.borrow().closed || stop.get() {
                return Ok(());
            }
            let notified = self.inner.events.notified();
            let worked = match lane {
                Lane::Flush => self.flush_oldest().await?,
                // Value-log GC goes last: it only pays once compaction has counted discarded bytes.
                Lane::Compaction => self.compact_once().await? || self.gc_value_log().await?.is_some(),
            };
            if worked {
                if self.inner.state.borrow_mut().disk_error.take().is_some() {
                    tracing::info!("engine background work succeeded again");
                }
                self.inner.events.notify_all();
                self.inner.fs.pause().await;
            } else {
                notified.await;
            }
        }
    }

    /// Freezes the active memtable (if not empty) and flushes every frozen memtable.
    pub async fn flush(&self) -> Result<()> {
        if !self.inner.state.borrow().active.is_empty() {
            self.inner.state.borrow_mut().freeze();
        }
        while self.flush_oldest().await? {}
        Ok(())
    }

    /// Runs compactions until the picker finds nothing to do.
    pub async fn compact_until_idle(&self) -> Result<()> {
        while self.compact_once().await? {}
        Ok(())
    }

    /// Flushes, then stops background work and refuses further writes.
    pub async fn close(&self) -> Result<()> {
        self.flush().await?;
        self.inner.vlog.sync().await?;
        self.inner.state.borrow_mut().closed = true;
        self.inner.events.notify_all();
        Ok(())
    }

    /// True once `close` ran.
    pub fn is_closed(&self) -> bool {
        self.inner.state.borrow().closed
    }

    /// Completes at the next change of background state (a freeze, flush, compaction or close).
    pub async fn changed(&self) {
        self.inner.events.notified().await;
    }

    /// Counters.
    pub fn stats(&self) -> EngineStats {
        self.inner.stats.borrow().clone()
    }

    /// Cache counters.
    pub fn cache_stats(&self) -> CacheStats {
        self.inner.caches.stats()
    }

    /// Files per level and CF: `levels[cf][level] = (file count, bytes)`.
    pub fn level_summary(&self) -> Vec<(Cf, Vec<(usize, u64)>)> {
        let state = self.inner.state.borrow();
        Cf::ALL
            .iter()
            .map(|cf| {
                let levels = state.version.levels(*cf);
                (*cf, levels.iter().map(|files| (files.len(), files.iter().map(|f| f.size_bytes).sum())).collect())
            })
            .collect()
    }

    /// Memory held by memtables (active and frozen).
    pub fn memtable_bytes(&self) -> u64 {
        let state = self.inner.state.borrow();
        state.active.size_bytes() + state.frozen.iter().map(|m| m.size_bytes()).sum::<u64>()
    }

    /// Bytes in value-log files.
    pub fn value_log_bytes(&self) -> u64 {
        self.inner.vlog.total_bytes()
    }

    /// The value-log head the manifest records: the end of the furthest value a flushed table
    /// points at. Open cuts the value log back to it.
    pub fn value_log_head(&self) -> Option<VlogPosition> {
        self.inner.state.borrow().version.vlog_head
    }

    /// Value-log sizes and counters.
    pub fn value_log_stats(&self) -> ValueLogStats {
        self.inner.vlog.stats()
    }

    /// Logs an edit durably and installs the resulting version.
    async fn log_and_install(&self, edit: VersionEdit) -> Result<Rc<Version>> {
        let _guard = self.inner.manifest_lock.lock().await;
        let next = Rc::new(self.inner.state.borrow().version.apply(&edit)?);
        let mut manifest = self.inner.manifest.borrow_mut().take().expect("manifest is present under the lock");
        let logged = manifest.log(&edit, &next).await;
        *self.inner.manifest.borrow_mut() = Some(manifest);
        logged?;
        self.inner.state.borrow_mut().install(next.clone());
        Ok(next)
    }

    /// Allocates a new file id.
    fn next_file_id(&self) -> u64 {
        let mut state = self.inner.state.borrow_mut();
        let id = state.next_file_id;
        state.next_file_id += 1;
        id
    }

    fn table_path(&self, id: u64) -> PathBuf {
        table_path(&self.inner.dir, id)
    }

    async fn open_table(&self, meta: &FileMeta) -> Result<Rc<Table<F::File>>> {
        let file = self.inner.fs.open(&self.table_path(meta.id), OpenMode::ReadOnly).await?;
        Ok(Rc::new(Table::open(file, meta.id, self.inner.caches.clone()).await?))
    }
}

/// The two lanes of [`Engine::run_background`].
#[derive(Debug, Clone, Copy)]
enum Lane {
    Flush,
    Compaction,
}

fn insert_op(
    memtable: &MemTable,
    op: &WriteOp,
    seq: Seq,
    pointers: &mut impl Iterator<Item = Bytes>,
    threshold: usize,
) {
    match op {
        WriteOp::Put { cf: Cf::Default, key, value } if value.len() >= threshold => {
            let pointer = pointers.next().expect("one pointer per large value");
            memtable.insert(Cf::Default, key, seq, ValueKind::Pointer, pointer);
        }
        WriteOp::Put { cf, key, value } => memtable.insert(*cf, key, seq, ValueKind::Put, value.clone()),
        WriteOp::Delete { cf, key } => memtable.insert(*cf, key, seq, ValueKind::Delete, Bytes::new()),
        WriteOp::DeleteRange { cf, start, end } => memtable.delete_range(*cf, start, end, seq),
    }
}

impl<F: FileSystem> State<F> {
    fn new(version: Version, tables: HashMap<u64, Rc<Table<F::File>>>, filter_suffix_bytes: [usize; 4]) -> State<F> {
        let mut state = State {
            active: Rc::new(MemTable::new(1, filter_suffix_bytes)),
            frozen: VecDeque::new(),
            last_seq: version.last_seq,
            next_file_id: version.next_file_id.max(1),
            version: Rc::new(Version::default()),
            tables,
            version_tables: Default::default(),
            table_tombstones: Default::default(),
            next_memtable_id: 2,
            filter_suffix_bytes,
            cursors: Cursors::default(),
            flushing: false,
            compacting: false,
            vlog_relocated: Vec::new(),
            failure: None,
            disk_error: None,
            closed: false,
        };
        state.install(Rc::new(version));
        state
    }

    fn freeze(&mut self) {
        let id = self.next_memtable_id;
        self.next_memtable_id += 1;
        let next = MemTable::new(id, self.filter_suffix_bytes);
        let old = std::mem::replace(&mut self.active, Rc::new(next));
        self.frozen.push_back(old);
    }

    /// Makes `version` current. Every file of it must have its table open.
    fn install(&mut self, version: Rc<Version>) {
        for cf in Cf::ALL {
            let tables: LevelTables<F> = version
                .levels(cf)
                .iter()
                .flatten()
                .map(|meta| self.tables.get(&meta.id).expect("every version file has an open table").clone())
                .collect();
            let tombstones: Vec<RangeTombstone> = tables
                .iter()
                .flat_map(|table| {
                    table.range_tombstones().iter().filter_map(|t| RangeTombstone::from_sst(&t.start, &t.end))
                })
                .collect();
            self.table_tombstones[cf.index()] = Rc::new(tombstones);
            self.version_tables[cf.index()] = tables;
        }
        self.version = version;
    }
}

fn table_path(dir: &Path, id: u64) -> PathBuf {
    dir.join(SST_DIR).join(format!("{id:08}.sst"))
}

async fn open_tables<F: FileSystem>(
    fs: &F,
    dir: &Path,
    version: &Version,
    caches: &Rc<Caches>,
) -> Result<HashMap<u64, Rc<Table<F::File>>>> {
    let mut tables = HashMap::new();
    for meta in version.all_files() {
        let file = fs.open(&table_path(dir, meta.id), OpenMode::ReadOnly).await?;
        tables.insert(meta.id, Rc::new(Table::open(file, meta.id, caches.clone()).await?));
    }
    Ok(tables)
}

/// Records the value log's current end as its head in a store that has none (new, or written
/// by a version without heads). Everything in the log now is kept, as before; from here on a
/// crash cuts what it leaves past the head.
async fn adopt_vlog_head<F: FileSystem>(
    manifest: &mut Manifest<F>,
    version: Version,
    vlog: &ValueLog<F>,
) -> Result<Version> {
    if version.vlog_head.is_some() {
        return Ok(version);
    }
    let edit = VersionEdit { vlog_head: Some(vlog.sync_end().await?), ..Default::default() };
    let next = version.apply(&edit)?;
    manifest.log(&edit, &next).await?;
    Ok(next)
}

/// Removes SSTs no version references and value-log files the manifest recorded as deleted
/// (left behind by a crash between logging an edit and unlinking).
async fn remove_orphans<F: FileSystem>(fs: &F, dir: &Path, version: &Version, vlog: &ValueLog<F>) -> Result<()> {
    let live: std::collections::HashSet<u64> = version.all_files().map(|f| f.id).collect();
    for name in fs.list(&dir.join(SST_DIR)).await? {
        let id = name.strip_suffix(".sst").and_then(|id| id.parse::<u64>().ok());
        if id.is_some_and(|id| !live.contains(&id)) {
            tracing::info!(file = %name, "removing orphaned table");
            fs.remove(&dir.join(SST_DIR).join(&name)).await?;
        }
    }
    for file_id in &version.vlog_deleted {
        vlog.remove_file(*file_id).await?;
    }
    Ok(())
}
