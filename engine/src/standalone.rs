//! `Db`: the engine with its journal, as one embedded durable key-value store.
//!
//! This is the engine used on its own (benchmarks, tools, the crash tests): every write batch
//! becomes one journal entry of a single region, is made durable by the journal's group
//! commit, and is then applied to the engine. In the server, raft takes this role instead
//! (entries of many regions in the same journal), and the engine is used directly.
//!
//! Recovery: open the engine (manifest and tables), open the journal, and re-apply every entry
//! past the region's flushed watermark. Applies happen strictly in journal order even when
//! several tasks write at once: each write takes its index when it is staged and waits for its
//! turn to apply.

use std::cell::Cell;
use std::path::Path;
use std::rc::Rc;

use bytes::Bytes;

use crate::batch::WriteBatch;
use crate::db::{DbIterator, Engine, ReadOptions, Snapshot};
use crate::error::{Error, Result};
use crate::io::FileSystem;
use crate::journal::{Journal, JournalBatch, JournalEntry};
use crate::key::{Cf, Seq};
use crate::options::EngineOptions;
use crate::sync::Notify;

/// The region id the standalone store writes its journal entries under.
pub const STANDALONE_REGION: u64 = 1;
/// Entries read per step during recovery.
const REPLAY_CHUNK_ENTRIES: u64 = 1024;

/// When a write is acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// After the journal's fdatasync (survives power loss): `appendfsync always`.
    Sync,
    /// After the journal write completes (survives a process crash; O_DIRECT): `everysec`/`no`.
    Written,
}

/// An embedded durable store: engine + journal. Cheap to clone.
pub struct Db<F: FileSystem> {
    engine: Engine<F>,
    journal: Rc<Journal<F>>,
    next_index: Rc<Cell<u64>>,
    applied_index: Rc<Cell<u64>>,
    apply_turn: Notify,
    failed: Rc<Cell<bool>>,
}

impl<F: FileSystem> Clone for Db<F> {
    fn clone(&self) -> Self {
        Db {
            engine: self.engine.clone(),
            journal: self.journal.clone(),
            next_index: self.next_index.clone(),
            applied_index: self.applied_index.clone(),
            apply_turn: self.apply_turn.clone(),
            failed: self.failed.clone(),
        }
    }
}

impl<F: FileSystem> std::fmt::Debug for Db<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").field("engine", &self.engine).field("applied_index", &self.applied_index.get()).finish()
    }
}

impl<F: FileSystem> Db<F> {
    /// Opens (or creates) a store in `dir` and replays its journal.
    pub async fn open(fs: F, dir: &Path, options: EngineOptions) -> Result<Db<F>> {
        let journal_options = options.journal.clone();
        let engine = Engine::open(fs.clone(), dir, options).await?;
        let journal = Journal::open(fs, &dir.join("journal"), journal_options).await?;
        let flushed = engine.flushed_index(STANDALONE_REGION);
        let last = journal.last_index(STANDALONE_REGION).unwrap_or(0).max(flushed);
        let replayed = replay(&engine, &journal, flushed, last).await?;
        tracing::info!(dir = %dir.display(), flushed, replayed, "store opened");
        Ok(Db {
            engine,
            journal: Rc::new(journal),
            next_index: Rc::new(Cell::new(last + 1)),
            applied_index: Rc::new(Cell::new(last)),
            apply_turn: Notify::new(),
            failed: Rc::new(Cell::new(false)),
        })
    }

    /// The engine underneath (reads, statistics, flush and compaction controls).
    pub fn engine(&self) -> &Engine<F> {
        &self.engine
    }

    /// The journal underneath.
    pub fn journal(&self) -> &Journal<F> {
        &self.journal
    }

    /// Writes a batch atomically; returns its last sequence number once it is durable as asked
    /// and visible to reads.
    pub async fn write(&self, batch: &WriteBatch, durability: Durability) -> Result<Seq> {
        if self.failed.get() {
            return Err(Error::Closed("an earlier write failed; reopen the store".into()));
        }
        let index = self.next_index.get();
        self.next_index.set(index + 1);
        let mut journal_batch = JournalBatch::new();
        let payload = Bytes::from(batch.encode());
        journal_batch.add_entry(JournalEntry { region_id: STANDALONE_REGION, term: 1, index, payload });
        let logged = self.journal.append(journal_batch, durability == Durability::Sync).await;
        self.wait_for_turn(index).await?;
        let applied = match logged {
            Ok(()) => self.engine.apply(STANDALONE_REGION, index, batch).await,
            Err(error) => Err(error),
        };
        if applied.is_err() {
            // A logged-but-unapplied (or unlogged) entry breaks the in-order apply chain.
            self.failed.set(true);
        }
        self.applied_index.set(index);
        self.apply_turn.notify_all();
        applied
    }

    async fn wait_for_turn(&self, index: u64) -> Result<()> {
        while self.applied_index.get() + 1 != index {
            if self.failed.get() {
                return Err(Error::Closed("an earlier write failed; reopen the store".into()));
            }
            self.apply_turn.notified().await;
        }
        Ok(())
    }

    /// Sets `key` (Default CF).
    pub async fn put(&self, key: &[u8], value: &[u8], durability: Durability) -> Result<Seq> {
        let mut batch = WriteBatch::new();
        batch.put(Cf::Default, Bytes::copy_from_slice(key), Bytes::copy_from_slice(value));
        self.write(&batch, durability).await
    }

    /// Deletes `key` (Default CF).
    pub async fn delete(&self, key: &[u8], durability: Durability) -> Result<Seq> {
        let mut batch = WriteBatch::new();
        batch.delete(Cf::Default, Bytes::copy_from_slice(key));
        self.write(&batch, durability).await
    }

    /// Reads `key` (Default CF) at the newest state.
    pub async fn get(&self, key: &[u8]) -> Result<Option<Bytes>> {
        self.engine.get(Cf::Default, key, &ReadOptions::new()).await
    }

    /// An iterator over a column family.
    pub fn iter(&self, cf: Cf, options: &ReadOptions) -> DbIterator<F> {
        self.engine.iter(cf, options)
    }

    /// A snapshot of the newest state.
    pub fn snapshot(&self) -> Snapshot {
        self.engine.snapshot()
    }

    /// Makes every written entry durable (`appendfsync everysec` calls this once a second).
    pub async fn sync(&self) -> Result<()> {
        self.journal.sync().await
    }

    /// Flushes memtables and purges the journal up to the new watermark.
    pub async fn flush(&self) -> Result<()> {
        self.engine.flush().await?;
        self.purge_journal().await
    }

    /// Drops journal segments every entry of which is in SSTs.
    pub async fn purge_journal(&self) -> Result<()> {
        let flushed = self.engine.flushed_index(STANDALONE_REGION);
        if flushed > 0 {
            self.journal.compact_to(STANDALONE_REGION, flushed + 1);
        }
        self.journal.purge().await?;
        Ok(())
    }

    /// Runs the engine's background work and purges the journal after flushes, until closed.
    pub async fn run_background(&self) -> Result<()> {
        let purger = async {
            let mut purged_at = 0;
            while !self.engine.is_closed() {
                self.engine.changed().await;
                let flushed = self.engine.flushed_index(STANDALONE_REGION);
                if flushed != purged_at {
                    purged_at = flushed;
                    self.purge_journal().await?;
                }
            }
            Ok::<(), Error>(())
        };
        let (background, purged) = futures_lite::future::zip(self.engine.run_background(), purger).await;
        background.and(purged)
    }

    /// Syncs the journal, flushes, and stops.
    pub async fn close(&self) -> Result<()> {
        self.journal.sync().await?;
        self.engine.close().await?;
        self.purge_journal().await
    }
}

async fn replay<F: FileSystem>(engine: &Engine<F>, journal: &Journal<F>, flushed: u64, last: u64) -> Result<u64> {
    let mut low = flushed + 1;
    while low <= last {
        let high = (low + REPLAY_CHUNK_ENTRIES).min(last + 1);
        for entry in journal.read_entries(STANDALONE_REGION, low, high).await? {
            let batch = WriteBatch::decode(&entry.payload)?;
            engine.apply(STANDALONE_REGION, entry.index, &batch).await?;
        }
        low = high;
    }
    Ok(last - flushed)
}
