//! Crash test: a child process writes with `appendfsync always` semantics (each write is
//! acknowledged only after the journal's fdatasync) and reports every acknowledged key on
//! stdout; the parent kills it with SIGKILL at a random moment, many times, on the same
//! directory. After each kill the store is reopened and every acknowledged write must be there
//! with its exact value, and every key present must carry the value its writer would have
//! written (no garbage from unacknowledged or torn writes).
//!
//! The child is this same test binary, re-run with `NOKV_CRASH_CHILD` set.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use glommio::LocalExecutorBuilder;
use nokv_engine::compaction::picker::CompactionOptions;
use nokv_engine::io::dma::DmaFs;
use nokv_engine::key::Cf;
use nokv_engine::{Db, Durability, EngineOptions, ReadOptions};
use rand::Rng;

const CHILD_ENV: &str = "NOKV_CRASH_CHILD";
const WRITERS: usize = 4;
/// Kill/restart rounds; `NOKV_CRASH_ROUNDS` raises it for a longer run.
const DEFAULT_ROUNDS: usize = 10;

fn options() -> EngineOptions {
    let mut options = EngineOptions {
        memtable_size_bytes: 256 << 10,
        compaction: CompactionOptions {
            l0_compaction_trigger: 2,
            base_level_bytes: 1 << 20,
            target_file_size_bytes: 256 << 10,
            ..Default::default()
        },
        ..Default::default()
    };
    options.journal.segment_size_bytes = 1 << 20;
    options.value_log.file_size_bytes = 1 << 20;
    options
}

/// The value a writer stores under `key`: derived from the key, small or large (value log).
fn expected_value(key: &str) -> Vec<u8> {
    let seed = key.bytes().fold(7u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
    let len = if seed % 5 == 0 { 5000 + (seed % 3000) as usize } else { 10 + (seed % 200) as usize };
    (0..len).map(|i| (seed as usize + i) as u8).collect()
}

#[test]
fn crash_child() {
    let Ok(dir) = std::env::var(CHILD_ENV) else { return };
    let round: usize = std::env::var("NOKV_CRASH_ROUND").expect("round").parse().expect("number");
    run_in_executor(move || async move {
        let dir = PathBuf::from(dir);
        let fs = DmaFs::new(&dir).await.expect("fs");
        let db = Db::open(fs, &dir, options()).await.expect("open");
        let background = glommio::spawn_local({
            let db = db.clone();
            async move { db.run_background().await }
        })
        .detach();
        let writers: Vec<_> = (0..WRITERS)
            .map(|writer| {
                let db = db.clone();
                glommio::spawn_local(async move {
                    for i in 0.. {
                        let key = format!("r{round:02}-w{writer}-{i:07}");
                        db.put(key.as_bytes(), &expected_value(&key), Durability::Sync).await.expect("put");
                        println!("ACK {key}");
                    }
                })
            })
            .collect();
        for writer in writers {
            writer.await;
        }
        drop(background);
    });
}

fn run_in_executor<G, Fut>(body: G)
where
    G: FnOnce() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + 'static,
{
    LocalExecutorBuilder::default().spawn(body).expect("executor").join().expect("join");
}

/// Runs one child until it acknowledged `acks_before_kill` keys (or a time limit), then kills it.
fn run_child_and_kill(dir: &Path, round: usize, acks_before_kill: usize) -> Vec<String> {
    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, dir)
        .env("NOKV_CRASH_ROUND", round.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn child");
    let stdout = child.stdout.take().expect("piped stdout");
    let started = Instant::now();
    let mut acked = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let Ok(line) = line else { break };
        if let Some(key) = line.strip_prefix("ACK ") {
            acked.push(key.to_string());
        }
        if acked.len() >= acks_before_kill || started.elapsed() > Duration::from_secs(20) {
            break;
        }
    }
    child.kill().expect("SIGKILL the child");
    child.wait().expect("reap the child");
    acked
}

fn verify(dir: &Path, acked: Vec<String>) -> usize {
    let dir = dir.to_path_buf();
    let (sender, receiver) = std::sync::mpsc::channel();
    run_in_executor(move || async move {
        let fs = DmaFs::new(&dir).await.expect("fs");
        let db = Db::open(fs, &dir, options()).await.expect("reopen after kill");
        for key in &acked {
            let found = db.get(key.as_bytes()).await.expect("get");
            assert_eq!(found.as_deref(), Some(expected_value(key).as_slice()), "acknowledged key {key} lost or wrong");
        }
        let mut iter = db.iter(Cf::Default, &ReadOptions::new());
        iter.seek_to_first().await.expect("scan");
        let mut present = 0;
        while iter.is_valid() {
            let key = String::from_utf8(iter.key().to_vec()).expect("keys are text");
            assert_eq!(iter.value().as_ref(), expected_value(&key).as_slice(), "garbage under {key}");
            present += 1;
            iter.next().await.expect("next");
        }
        db.close().await.expect("close");
        sender.send(present).expect("send");
    });
    receiver.recv().expect("verification result")
}

#[test]
fn acknowledged_writes_survive_sigkill() {
    if std::env::var(CHILD_ENV).is_ok() {
        return;
    }
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("tempdir");
    let mut rng = rand::rng();
    let mut all_acked: Vec<String> = Vec::new();
    let rounds = std::env::var("NOKV_CRASH_ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(DEFAULT_ROUNDS);
    for round in 0..rounds {
        let acks_before_kill = rng.random_range(1..3000);
        let acked = run_child_and_kill(dir.path(), round, acks_before_kill);
        all_acked.extend(acked);
        let present = verify(dir.path(), all_acked.clone());
        assert!(present >= all_acked.len(), "round {round}: {present} keys present, {} acknowledged", all_acked.len());
    }
    eprintln!("crash test: {rounds} SIGKILL rounds, {} acknowledged writes verified", all_acked.len());
}
