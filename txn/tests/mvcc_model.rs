//! Model test: random 1PC transactions (puts and deletes, inline, Default-CF and value-log sized
//! values) at increasing timestamps, with flushes and compactions in between, agree with a
//! model of every key's version history on point reads at any past timestamp and on scans
//! (forward, reverse, limited, resumed) at a timestamp.

use std::collections::BTreeMap;
use std::path::Path;

use bytes::Bytes;
use futures_lite::future::block_on;
use nokv_engine::compaction::picker::CompactionOptions;
use nokv_engine::io::mem::MemFs;
use nokv_engine::{Engine, EngineOptions, WriteBatch};
use nokv_txn::keys::{self, SLOT_COUNT};
use nokv_txn::mvcc::{self, Mutation, ScanOptions, ScanRange};
use nokv_txn::timestamp::TimeStamp;
use proptest::prelude::*;

/// Keys of different lengths, prefixes of each other, around the 8-byte group size, with and
/// without hash tags (several share a slot).
const KEYS: [&[u8]; 12] = [
    b"",
    b"a",
    b"a\0",
    b"ab",
    b"abcdefg",
    b"abcdefgh",
    b"abcdefghi",
    b"{t}x",
    b"{t}xy",
    b"{t}",
    b"\xff\xff",
    b"k\x00\x01",
];

#[derive(Debug, Clone)]
enum Op {
    /// One transaction: (key index, value length and byte, or a delete).
    Commit(Vec<(usize, Option<(usize, u8)>)>),
    Flush,
    Compact,
    /// Point read at `(ts fraction of now)`.
    Get(usize, u16),
    /// Scan at a ts fraction: limit, reverse.
    Scan(u16, usize, bool),
}

fn value_strategy() -> impl Strategy<Value = Option<(usize, u8)>> {
    let len = prop_oneof![6 => 0usize..40, 3 => 250usize..300, 1 => 500usize..700];
    prop_oneof![4 => (len, any::<u8>()).prop_map(Some), 1 => Just(None)]
}

fn op_strategy() -> impl Strategy<Value = Op> {
    prop_oneof![
        30 => proptest::collection::vec((0..KEYS.len(), value_strategy()), 1..4).prop_map(Op::Commit),
        3 => Just(Op::Flush),
        2 => Just(Op::Compact),
        20 => (0..KEYS.len(), any::<u16>()).prop_map(|(k, t)| Op::Get(k, t)),
        6 => (any::<u16>(), 1usize..16, any::<bool>()).prop_map(|(t, l, r)| Op::Scan(t, l, r)),
    ]
}

fn value(len: usize, byte: u8) -> Bytes {
    (0..len).map(|i| byte.wrapping_add(i as u8)).collect()
}

fn options() -> EngineOptions {
    let mut options = EngineOptions {
        memtable_size_bytes: 64 << 10,
        value_threshold_bytes: 512,
        compaction: CompactionOptions {
            l0_compaction_trigger: 2,
            base_level_bytes: 1 << 20,
            target_file_size_bytes: 64 << 10,
            ..Default::default()
        },
        ..Default::default()
    };
    options.table.block_size_bytes = 256;
    options
}

/// Every key's versions: `(commit_ts, value or None for a delete)`, oldest first.
type Model = BTreeMap<Vec<u8>, Vec<(TimeStamp, Option<Bytes>)>>;

struct Harness {
    engine: Engine<MemFs>,
    model: Model,
    now: u64,
    index: u64,
}

impl Harness {
    fn new() -> Harness {
        let engine = block_on(Engine::open(MemFs::new(), Path::new("/db"), options())).expect("open");
        Harness { engine, model: Model::new(), now: 100, index: 0 }
    }

    /// A read timestamp spread over the history (including before the first commit).
    fn past_ts(&self, fraction: u16) -> TimeStamp {
        TimeStamp::new(self.now * u64::from(fraction) / u64::from(u16::MAX) + 1)
    }

    fn commit(&mut self, changes: &[(usize, Option<(usize, u8)>)]) {
        // One transaction writes a key once; the last change of a key wins, as in MSET.
        let mut by_key: BTreeMap<usize, Option<Bytes>> = BTreeMap::new();
        for (key, change) in changes {
            by_key.insert(*key, change.map(|(len, byte)| value(len, byte)));
        }
        let start_ts = TimeStamp::new(self.now + 1);
        let commit_ts = TimeStamp::new(self.now + 3);
        self.now += 3;
        let mutations: Vec<Mutation> = by_key
            .iter()
            .map(|(key, change)| {
                let key = Bytes::from_static(KEYS[*key]);
                match change {
                    Some(value) => Mutation::Put(key, value.clone().into()),
                    None => Mutation::Delete(key),
                }
            })
            .collect();
        self.index += 1;
        let batch = WriteBatch::decode(&mvcc::one_pc(&mutations, start_ts, commit_ts)).expect("decode");
        block_on(self.engine.apply(1, self.index, &batch)).expect("apply");
        for (key, change) in by_key {
            self.model.entry(KEYS[key].to_vec()).or_default().push((commit_ts, change));
        }
    }

    fn model_get(&self, key: &[u8], read_ts: TimeStamp) -> Option<Bytes> {
        let versions = self.model.get(key)?;
        versions.iter().rev().find(|(commit_ts, _)| *commit_ts <= read_ts).and_then(|(_, value)| value.clone())
    }

    /// The live keys at `read_ts` in storage order (slot, then user key).
    fn model_scan(&self, read_ts: TimeStamp) -> Vec<(Bytes, Bytes)> {
        let mut live: Vec<(Vec<u8>, Bytes, Bytes)> = self
            .model
            .keys()
            .filter_map(|key| {
                self.model_get(key, read_ts).map(|v| (keys::data_key(key), Bytes::copy_from_slice(key), v))
            })
            .collect();
        live.sort();
        live.into_iter().map(|(_, key, value)| (key, value)).collect()
    }

    fn check_get(&self, key: &[u8], read_ts: TimeStamp) -> Result<(), TestCaseError> {
        let got = block_on(mvcc::get(&self.engine, key, read_ts)).expect("get");
        prop_assert_eq!(got, self.model_get(key, read_ts), "key {:?} at {}", key, read_ts);
        Ok(())
    }

    fn check_scan(&self, read_ts: TimeStamp, limit: usize, reverse: bool) -> Result<(), TestCaseError> {
        let mut expected = self.model_scan(read_ts);
        if reverse {
            expected.reverse();
        }
        let whole = ScanRange::slots(0, SLOT_COUNT);
        let options = ScanOptions { limit, reverse, ..Default::default() };
        let mut range = whole.clone();
        let mut got = Vec::new();
        // Page through with resumption, as SCAN's cursor does.
        for _ in 0..=expected.len() {
            let page = block_on(mvcc::scan(&self.engine, &range, read_ts, &options)).expect("scan");
            prop_assert!(page.len() <= limit);
            let Some(last) = page.last() else { break };
            range = if reverse { range.before(&last.data_key) } else { range.after(&last.data_key) };
            got.extend(page.into_iter().map(|e| (e.user_key, e.value)));
        }
        prop_assert_eq!(&got, &expected, "scan at {} reverse {}", read_ts, reverse);
        let keys_only = ScanOptions { limit: usize::MAX, keys_only: true, ..Default::default() };
        let all = block_on(mvcc::scan(&self.engine, &whole, read_ts, &keys_only)).expect("scan");
        prop_assert_eq!(all.len(), expected.len());
        prop_assert!(all.iter().all(|e| e.value.is_empty()));
        Ok(())
    }

    fn check_latest_commit(&self) -> Result<(), TestCaseError> {
        for (key, versions) in &self.model {
            let latest = versions.last().map(|(ts, _)| *ts);
            prop_assert_eq!(block_on(mvcc::latest_commit_ts(&self.engine, key)).expect("latest"), latest);
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn mvcc_reads_agree_with_the_model(ops in proptest::collection::vec(op_strategy(), 1..120)) {
        let mut harness = Harness::new();
        for op in &ops {
            match op {
                Op::Commit(changes) => harness.commit(changes),
                Op::Flush => block_on(harness.engine.flush()).expect("flush"),
                Op::Compact => block_on(harness.engine.compact_until_idle()).expect("compact"),
                Op::Get(key, fraction) => harness.check_get(KEYS[*key], harness.past_ts(*fraction))?,
                Op::Scan(fraction, limit, reverse) => harness.check_scan(harness.past_ts(*fraction), *limit, *reverse)?,
            }
        }
        let now = TimeStamp::new(harness.now);
        for key in KEYS {
            harness.check_get(key, now)?;
            harness.check_get(key, TimeStamp::MAX)?;
        }
        harness.check_scan(now, 5, false)?;
        harness.check_scan(now, 3, true)?;
        harness.check_latest_commit()?;
    }
}

#[test]
fn keys_sharing_a_hash_tag_scan_together_by_slot() {
    let mut harness = Harness::new();
    harness.commit(&[(7, Some((3, 1))), (8, Some((3, 2))), (9, Some((3, 3))), (1, Some((3, 4)))]);
    let slot = keys::slot_of(b"{t}");
    let range = ScanRange::slots(slot, slot + 1);
    let options = ScanOptions { limit: 10, ..Default::default() };
    let found = block_on(mvcc::scan(&harness.engine, &range, TimeStamp::new(harness.now), &options)).expect("scan");
    let names: Vec<&[u8]> = found.iter().map(|e| e.user_key.as_ref()).collect();
    assert_eq!(names, [&b"{t}"[..], b"{t}x", b"{t}xy"]);
}
