//! Write stalls with background work attached: a write that finds no room waits for the
//! background task to flush, it never spins. A spin that never yields would keep the background
//! task on the same thread from running at all; stalled writers that wake each other would keep
//! it to the scraps a low-share task queue gets. Either way the writes below would (nearly) hang
//! and the watchdog fails the test.

use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use futures_lite::future::{block_on, or};
use glommio::{Latency, LocalExecutorBuilder, Shares};
use nokv_engine::io::mem::MemFs;
use nokv_engine::{Cf, Db, Durability, Engine, EngineOptions, WriteBatch};

const KEYS: usize = 40_000;
/// Concurrent writers in the server's runtime shape (one per raft region of a core).
const WRITERS: usize = 4;

/// Generous: the writes take well under a second when nothing hangs.
const WATCHDOG: Duration = Duration::from_secs(60);

fn options() -> EngineOptions {
    EngineOptions { memtable_size_bytes: 1 << 20, max_frozen_memtables: 1, ..Default::default() }
}

fn key(i: usize) -> String {
    format!("key{i:06}")
}

fn value(i: usize) -> Vec<u8> {
    format!("value-{i:06}-").repeat(16).into_bytes()
}

/// Writes that fill memtable after memtable, with the background task attached on the same
/// thread, then checks every key and that the writers really stalled.
async fn write_through_stalls() -> (u64, u64) {
    let db = Db::open(MemFs::new(), Path::new("/db"), options()).await.expect("open");
    let background = async {
        db.run_background().await.expect("background work");
        unreachable!("background work ends only when the engine is closed");
    };
    let writes = async {
        for i in 0..KEYS {
            db.put(key(i).as_bytes(), &value(i), Durability::Written).await.expect("put");
        }
    };
    or(background, writes).await;
    for i in 0..KEYS {
        let found = db.get(key(i).as_bytes()).await.expect("get");
        assert_eq!(found.as_deref(), Some(value(i).as_slice()), "key {i}");
    }
    let stats = db.engine().stats();
    (stats.write_stalls, stats.flushes)
}

/// The server's shape: background work in a low-share task queue, several writers in the default
/// queue, all on one glommio executor.
fn write_through_stalls_in_a_low_share_queue() -> (u64, u64) {
    let executor = LocalExecutorBuilder::default().make().expect("executor");
    executor.run(async {
        let db = Db::open(MemFs::new(), Path::new("/db"), options()).await.expect("open");
        let queue = glommio::executor().create_task_queue(Shares::Static(100), Latency::NotImportant, "background");
        let background = db.clone();
        glommio::spawn_local_into(async move { background.run_background().await }, queue).expect("spawn").detach();
        // Half the writers are tasks of their own, half share one task the way a core's raft
        // regions apply together: a wake-up meant for one of those wakes them all.
        let tasks: Vec<_> =
            (0..WRITERS / 2).map(|writer| glommio::spawn_local(write_keys(db.clone(), writer))).collect();
        let shared: Vec<_> = (WRITERS / 2..WRITERS).map(|writer| apply_keys(db.engine(), writer)).collect();
        nokv_engine::sync::join_all(shared).await;
        for task in tasks {
            task.await;
        }
        for i in 0..KEYS {
            let found = db.get(key(i).as_bytes()).await.expect("get");
            assert_eq!(found.as_deref(), Some(value(i).as_slice()), "key {i}");
        }
        let stats = db.engine().stats();
        // Every wake-up of a stalled writer answers an event: a freeze, a flush or a compaction
        // (or the background task starting). Writers that woke each other would count millions.
        let events = 2 * stats.flushes + stats.compactions + 2;
        assert!(
            stats.write_stall_waits <= WRITERS as u64 * events,
            "{} wake-ups of stalled writes for {events} background events",
            stats.write_stall_waits
        );
        (stats.write_stalls, stats.flushes)
    })
}

/// Writer `writer` of [`WRITERS`]: every key `i` with `i % WRITERS == writer`.
async fn write_keys(db: Db<MemFs>, writer: usize) {
    for i in (writer..KEYS).step_by(WRITERS) {
        db.put(key(i).as_bytes(), &value(i), Durability::Written).await.expect("put");
    }
}

/// Like [`write_keys`], straight into the engine the way raft applies: region `writer`, one
/// batch per key (the keys are readable through `Db` as well).
async fn apply_keys(engine: &Engine<MemFs>, writer: usize) {
    for (index, i) in (writer..KEYS).step_by(WRITERS).enumerate() {
        let mut batch = WriteBatch::new();
        batch.put(Cf::Default, key(i).into_bytes(), value(i));
        engine.apply(1000 + writer as u64, index as u64 + 1, &batch).await.expect("apply");
    }
}

fn with_watchdog(run: fn() -> (u64, u64)) {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = sender.send(run());
    });
    let (stalls, flushes) = receiver.recv_timeout(WATCHDOG).expect("writes hung in a write stall");
    assert!(stalls > 0, "the writes never stalled, so the test shows nothing");
    assert!(flushes > 1, "only {flushes} flushes");
}

#[test]
fn concurrent_stalled_writers_let_a_low_share_background_queue_run() {
    with_watchdog(write_through_stalls_in_a_low_share_queue);
}

#[test]
fn a_stalled_write_waits_for_the_background_task_instead_of_spinning() {
    with_watchdog(|| block_on(write_through_stalls()));
}
