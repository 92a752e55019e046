//! Background work runs in two lanes: a flush never waits for a running compaction. A
//! compaction of hundreds of MiB takes seconds; a flush queued behind it would let frozen
//! memtables pile up until every write stalls.

use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use glommio::LocalExecutorBuilder;
use nokv_engine::io::mem::MemFs;
use nokv_engine::{Db, Durability, EngineOptions};

const MEMTABLE_BYTES: u64 = 1 << 20;
/// L0 files written before the background task starts: enough for an L0 compaction.
const L0_FILES: usize = 4;
/// Each L0 file holds this many small entries; the compaction merges all of them.
const KEYS_PER_FILE: usize = 5_000;
/// Values of the puts made while the compaction runs: a few of them fill a memtable.
const LARGE_VALUE_BYTES: u64 = 64 << 10;
/// Generous: the test takes well under a second when nothing hangs.
const WATCHDOG: Duration = Duration::from_secs(60);

fn options() -> EngineOptions {
    // Large values stay inline, so they count in full towards the memtable size.
    let mut options =
        EngineOptions { memtable_size_bytes: MEMTABLE_BYTES, value_threshold_bytes: 1 << 20, ..Default::default() };
    options.compaction.l0_compaction_trigger = L0_FILES;
    options
}

fn key(file: usize, i: usize) -> String {
    // Interleaved across files, so the compaction really merges.
    format!("key{i:06}-{file}")
}

#[test]
fn a_flush_does_not_wait_for_a_running_compaction() {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        flush_during_compaction();
        let _ = sender.send(());
    });
    receiver.recv_timeout(WATCHDOG).expect("background work hung (or the test panicked)");
}

fn flush_during_compaction() {
    let executor = LocalExecutorBuilder::default().make().expect("executor");
    executor.run(async {
        let db = Db::open(MemFs::new(), Path::new("/db"), options()).await.expect("open");
        let small = vec![b'v'; 16];
        for file in 0..L0_FILES {
            for i in 0..KEYS_PER_FILE {
                db.put(key(file, i).as_bytes(), &small, Durability::Written).await.expect("put");
            }
            db.engine().flush().await.expect("flush");
        }
        let engine = db.engine().clone();
        let before = engine.stats();
        assert_eq!((before.flushes, before.compactions), (L0_FILES as u64, 0));

        // Same task queue as this task, so each yield below lets background work run one slice.
        let background = db.clone();
        glommio::spawn_local(async move { background.run_background().await }).detach();
        // Let the compaction of the L0 files start (MemFs never makes a task wait: only yields
        // switch tasks), then fill a memtable with a few large puts until it freezes: the
        // compaction advances by about one slice per put.
        for _ in 0..8 {
            futures_lite::future::yield_now().await;
        }
        let large = vec![b'w'; LARGE_VALUE_BYTES as usize];
        for i in 0..2 * MEMTABLE_BYTES / LARGE_VALUE_BYTES {
            db.put(format!("new{i:06}").as_bytes(), &large, Durability::Written).await.expect("put");
        }
        while engine.stats().flushes == before.flushes {
            engine.changed().await;
        }
        assert_eq!(engine.stats().compactions, 0, "the flush waited for the L0 compaction to finish");
        while engine.stats().compactions == 0 {
            engine.changed().await;
        }
        for file in 0..L0_FILES {
            for i in (0..KEYS_PER_FILE).step_by(997) {
                let found = db.get(key(file, i).as_bytes()).await.expect("get");
                assert_eq!(found.as_deref(), Some(small.as_slice()), "{}", key(file, i));
            }
        }
    });
}
