//! Write stalls with background work attached: a write that finds no room waits for the
//! background task to flush, it never spins. A spin would never yield, so the background task on
//! the same thread could never run: the writes below would hang and the watchdog fails the test.

use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use futures_lite::future::{block_on, or};
use nokv_engine::io::mem::MemFs;
use nokv_engine::{Db, Durability, EngineOptions};

const KEYS: usize = 4000;

/// Generous: the writes take well under a second when nothing hangs.
const WATCHDOG: Duration = Duration::from_secs(120);

fn options() -> EngineOptions {
    EngineOptions { memtable_size_bytes: 64 << 10, max_frozen_memtables: 1, ..Default::default() }
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

#[test]
fn a_stalled_write_waits_for_the_background_task_instead_of_spinning() {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = sender.send(block_on(write_through_stalls()));
    });
    let (stalls, flushes) = receiver.recv_timeout(WATCHDOG).expect("writes hung in a write stall");
    assert!(stalls > 0, "the writes never stalled, so the test shows nothing");
    assert!(flushes > 1, "only {flushes} flushes");
}
