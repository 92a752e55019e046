//! Model test: random sequences of put / delete / delete-range / flush / compact / reopen on the
//! engine agree with a `BTreeMap` on every read (gets, scans forward and backward, `seek_first`
//! now and at a snapshot), with values on both sides of the value-log threshold.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::path::Path;

use bytes::Bytes;
use futures_lite::future::block_on;
use nokv_engine::compaction::picker::CompactionOptions;
use nokv_engine::io::mem::{CrashMode, MemFs};
use nokv_engine::key::Cf;
use nokv_engine::{Db, Durability, EngineOptions, ReadOptions, Snapshot, WriteBatch};
use proptest::prelude::*;

const VALUE_THRESHOLD_BYTES: usize = 64;

#[derive(Debug, Clone)]
enum Op {
    Put(u16, usize, u8),
    Delete(u16),
    DeleteRange(u16, u16),
    Flush,
    Compact,
    Reopen,
    Get(u16),
    Scan(u16, u16, bool),
    /// `Engine::seek_first` from the first key to before the second, now and at the snapshot.
    SeekFirst(u16, u16),
    /// Takes a snapshot (replacing the last) and remembers the model at it.
    Snapshot,
}

fn op_strategy() -> impl Strategy<Value = Op> {
    prop_oneof![
        30 => (0u16..200, prop_oneof![0usize..16, 60usize..200], any::<u8>()).prop_map(|(k, n, b)| Op::Put(k, n, b)),
        8 => (0u16..200).prop_map(Op::Delete),
        2 => (0u16..200, 0u16..40).prop_map(|(k, n)| Op::DeleteRange(k, k + n)),
        3 => Just(Op::Flush),
        2 => Just(Op::Compact),
        2 => Just(Op::Reopen),
        10 => (0u16..200).prop_map(Op::Get),
        3 => (0u16..200, 0u16..60, any::<bool>()).prop_map(|(k, n, r)| Op::Scan(k, k + n, r)),
        6 => (0u16..200, 0u16..20).prop_map(|(k, n)| Op::SeekFirst(k, k + n)),
        1 => Just(Op::Snapshot),
    ]
}

fn key(index: u16) -> Vec<u8> {
    // Keys of different lengths, some prefixes of others, to stress the internal-key order.
    let mut key = format!("k{index}").into_bytes();
    if index.is_multiple_of(7) {
        key.truncate(2);
    }
    key
}

fn value(len: usize, byte: u8) -> Vec<u8> {
    (0..len).map(|i| byte.wrapping_add(i as u8)).collect()
}

fn options() -> EngineOptions {
    options_separating(false)
}

/// With `at_flush`, values of 32 to 149 bytes go to the value log at flush and larger ones at
/// write time; without, every value of at least 64 bytes goes there at write time.
fn options_separating(at_flush: bool) -> EngineOptions {
    let (value_threshold_bytes, flush_value_threshold_bytes) =
        if at_flush { (150, Some(32)) } else { (VALUE_THRESHOLD_BYTES, None) };
    let mut options = EngineOptions {
        memtable_size_bytes: 64 << 10,
        value_threshold_bytes,
        flush_value_threshold_bytes,
        compaction: CompactionOptions {
            l0_compaction_trigger: 2,
            base_level_bytes: 1 << 20,
            target_file_size_bytes: 64 << 10,
            ..Default::default()
        },
        ..Default::default()
    };
    options.table.block_size_bytes = 512;
    options.journal.segment_size_bytes = 64 << 10;
    options.value_log.file_size_bytes = 64 << 10;
    options
}

/// What the engine should hold: key to value.
type Model = BTreeMap<Vec<u8>, Vec<u8>>;

struct Harness {
    fs: MemFs,
    db: Db<MemFs>,
    model: Model,
    /// A snapshot and the model at it (dropped at a reopen).
    snapshot: Option<(Snapshot, Model)>,
    options: EngineOptions,
}

impl Harness {
    async fn new() -> Harness {
        Harness::with_options(options()).await
    }

    async fn with_options(options: EngineOptions) -> Harness {
        let fs = MemFs::new();
        let db = Db::open(fs.clone(), Path::new("/db"), options.clone()).await.expect("open");
        Harness { fs, db, model: BTreeMap::new(), snapshot: None, options }
    }

    async fn run(&mut self, op: &Op) {
        match op {
            Op::Put(k, len, byte) => {
                let (k, v) = (key(*k), value(*len, *byte));
                self.db.put(&k, &v, Durability::Written).await.expect("put");
                self.model.insert(k, v);
            }
            Op::Delete(k) => {
                self.db.delete(&key(*k), Durability::Written).await.expect("delete");
                self.model.remove(&key(*k));
            }
            Op::DeleteRange(a, b) => self.delete_range(key(*a), key(*b)).await,
            Op::Flush => self.db.flush().await.expect("flush"),
            Op::Compact => {
                self.db.flush().await.expect("flush");
                self.db.engine().compact_until_idle().await.expect("compact");
            }
            Op::Reopen => {
                self.snapshot = None;
                self.fs.crash(CrashMode::ProcessKill);
                self.db = Db::open(self.fs.clone(), Path::new("/db"), self.options.clone()).await.expect("reopen");
            }
            Op::Get(k) => {
                let found = self.db.get(&key(*k)).await.expect("get");
                assert_eq!(found.as_deref(), self.model.get(&key(*k)).map(|v| v.as_slice()), "get {:?}", key(*k));
            }
            Op::Scan(a, b, reverse) => self.check_scan(key(*a), key(*b), *reverse).await,
            Op::SeekFirst(a, b) => self.check_seek_first(key(*a), key(*b)).await,
            Op::Snapshot => self.snapshot = Some((self.db.snapshot(), self.model.clone())),
        }
    }

    async fn delete_range(&mut self, start: Vec<u8>, end: Vec<u8>) {
        if start >= end {
            return;
        }
        let mut batch = WriteBatch::new();
        batch.delete_range(Cf::Default, start.clone(), end.clone());
        self.db.write(&batch, Durability::Written).await.expect("delete range");
        let doomed: Vec<Vec<u8>> = self.model.range(start..end).map(|(k, _)| k.clone()).collect();
        for k in doomed {
            self.model.remove(&k);
        }
    }

    async fn check_scan(&self, lower: Vec<u8>, upper: Vec<u8>, reverse: bool) {
        let (lower, upper) = if lower <= upper { (lower, upper) } else { (upper, lower) };
        let options = ReadOptions {
            lower_bound: Some(Bytes::from(lower.clone())),
            upper_bound: Some(Bytes::from(upper.clone())),
            ..ReadOptions::new()
        };
        let mut iter = self.db.iter(Cf::Default, &options);
        let mut seen = Vec::new();
        if reverse {
            iter.seek_to_last().await.expect("seek");
        } else {
            iter.seek_to_first().await.expect("seek");
        }
        while iter.is_valid() {
            seen.push((iter.key().to_vec(), iter.value().to_vec()));
            if reverse { iter.prev().await.expect("prev") } else { iter.next().await.expect("next") }
        }
        let range = (Bound::Included(lower), Bound::Excluded(upper));
        let mut expected: Vec<(Vec<u8>, Vec<u8>)> =
            self.model.range(range).map(|(k, v)| (k.clone(), v.clone())).collect();
        if reverse {
            expected.reverse();
        }
        assert_eq!(seen, expected, "scan reverse={reverse}");
    }

    async fn check_seek_first(&self, target: Vec<u8>, upper: Vec<u8>) {
        let at_snapshot = self.snapshot.as_ref().map(|(snapshot, model)| (ReadOptions::at(snapshot), model));
        for (read, model) in [(ReadOptions::new(), &self.model)].into_iter().chain(at_snapshot) {
            let read = ReadOptions { upper_bound: Some(Bytes::from(upper.clone())), ..read };
            let found = self.db.engine().seek_first(Cf::Default, &target, &read).await.expect("seek_first");
            let found = found.map(|(k, v)| (k.to_vec(), v.to_vec()));
            let expected = model.range(target.clone()..).next().filter(|(k, _)| **k < upper);
            let expected = expected.map(|(k, v)| (k.clone(), v.clone()));
            assert_eq!(found, expected, "seek_first {target:?}..{upper:?} at {:?}", read.snapshot);
        }
    }

    async fn check_everything(&self) {
        for (k, v) in &self.model {
            assert_eq!(self.db.get(k).await.expect("get").as_deref(), Some(v.as_slice()));
        }
        self.check_scan(Vec::new(), vec![0xff], false).await;
        self.check_scan(Vec::new(), vec![0xff], true).await;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn engine_agrees_with_btreemap(ops in proptest::collection::vec(op_strategy(), 1..400)) {
        block_on(async {
            let mut harness = Harness::new().await;
            for op in &ops {
                harness.run(op).await;
            }
            harness.check_everything().await;
        });
    }

    #[test]
    fn engine_separating_values_at_flush_agrees_with_btreemap(ops in proptest::collection::vec(op_strategy(), 1..400)) {
        block_on(async {
            let mut harness = Harness::with_options(options_separating(true)).await;
            for op in &ops {
                harness.run(op).await;
            }
            harness.check_everything().await;
        });
    }
}

#[test]
fn direction_changes_in_the_middle_of_a_scan() {
    block_on(async {
        let mut harness = Harness::new().await;
        for index in 0..50u16 {
            harness.run(&Op::Put(index, 8, index as u8)).await;
            if index % 10 == 0 {
                harness.run(&Op::Flush).await;
            }
        }
        let mut iter = harness.db.iter(Cf::Default, &ReadOptions::new());
        iter.seek(&key(20)).await.expect("seek");
        let start = iter.key().to_vec();
        iter.next().await.expect("next");
        iter.next().await.expect("next");
        iter.prev().await.expect("prev");
        iter.prev().await.expect("prev");
        assert_eq!(iter.key(), start.as_slice());
        iter.seek_for_prev(&key(20)).await.expect("seek_for_prev");
        assert_eq!(iter.key(), key(20).as_slice());
    });
}

#[test]
fn long_scans_over_value_log_values_read_ahead_and_still_turn_around() {
    block_on(async {
        let mut harness = Harness::new().await;
        for index in 0..120u16 {
            harness.run(&Op::Put(index, 100 + index as usize, index as u8)).await;
            if index % 40 == 0 {
                harness.run(&Op::Flush).await;
            }
        }
        for index in (0..120u16).step_by(9) {
            harness.run(&Op::Delete(index)).await;
        }
        harness.run(&Op::Scan(0, 120, false)).await;
        harness.run(&Op::Scan(0, 120, true)).await;
        // Deep into a forward scan the iterator has resolved keys ahead of its position;
        // turning around must still step back one key at a time.
        let mut iter = harness.db.iter(Cf::Default, &ReadOptions::new());
        iter.seek_to_first().await.expect("seek");
        let mut seen = Vec::new();
        for _ in 0..50 {
            seen.push((iter.key().to_vec(), iter.value().to_vec()));
            iter.next().await.expect("next");
        }
        for expected in seen.iter().rev().take(5) {
            iter.prev().await.expect("prev");
            assert_eq!((iter.key().to_vec(), iter.value().to_vec()), *expected);
        }
        iter.next().await.expect("next");
        assert_eq!(iter.key(), seen[seen.len() - 4].0.as_slice());
    });
}

#[test]
fn snapshot_reads_ignore_later_writes() {
    block_on(async {
        let harness = Harness::new().await;
        harness.db.put(b"a", b"1", Durability::Written).await.expect("put");
        let snapshot = harness.db.snapshot();
        harness.db.put(b"a", b"2", Durability::Written).await.expect("put");
        harness.db.flush().await.expect("flush");
        harness.db.engine().compact_until_idle().await.expect("compact");
        let old = harness.db.engine().get(Cf::Default, b"a", &ReadOptions::at(&snapshot)).await.expect("get");
        assert_eq!(old.as_deref(), Some(&b"1"[..]));
        assert_eq!(harness.db.get(b"a").await.expect("get").as_deref(), Some(&b"2"[..]));
    });
}

#[test]
fn seek_first_finds_keys_across_the_files_of_a_level() {
    block_on(async {
        let db = Db::open(MemFs::new(), Path::new("/db"), options()).await.expect("open");
        let mut model = Model::new();
        for index in 0..3000u16 {
            let (k, v) = (key(index), value(48, index as u8));
            db.put(&k, &v, Durability::Written).await.expect("put");
            model.insert(k, v);
        }
        db.flush().await.expect("flush");
        db.engine().compact_until_idle().await.expect("compact");
        let old = (db.snapshot(), model.clone());
        // Newer versions and deletes of every third key, some left in the memtable.
        for index in (0..3000u16).step_by(3) {
            if index % 2 == 0 {
                db.delete(&key(index), Durability::Written).await.expect("delete");
                model.remove(&key(index));
            } else {
                let v = value(48, index as u8 ^ 0x55);
                db.put(&key(index), &v, Durability::Written).await.expect("put");
                model.insert(key(index), v);
            }
            if index == 1500 {
                db.flush().await.expect("flush");
            }
        }
        let levels = &db.engine().level_summary()[Cf::Default.index()].1;
        assert!(levels.iter().skip(1).any(|(files, _)| *files > 2), "a level of several files: {levels:?}");
        for (read, model) in [(ReadOptions::new(), &model), (ReadOptions::at(&old.0), &old.1)] {
            for index in 0..3000u16 {
                let target = key(index);
                let found = db.engine().seek_first(Cf::Default, &target, &read).await.expect("seek_first");
                let expected = model.range(target.clone()..).next().map(|(k, v)| (k.clone(), v.clone()));
                assert_eq!(found.map(|(k, v)| (k.to_vec(), v.to_vec())), expected, "from {target:?}");
            }
        }
    });
}
