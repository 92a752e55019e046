//! MVCC GC in compaction: after many overwrites of a key, a safe point and a full compaction,
//! the versions below the newest one at or below the safe point are gone (Write records and
//! their Default values, inline, in SSTs and in the value log alike), every read at or above the
//! safe point returns what it did before, and a key deleted below the safe point loses all of
//! its versions, the Delete mark included, once its mark is collected.

use std::path::Path;
use std::rc::Rc;

use bytes::Bytes;
use futures_lite::future::block_on;
use nokv_engine::io::mem::{CrashMode, MemFs};
use nokv_engine::{Cf, Engine, EngineOptions, ReadOptions, WriteBatch};
use nokv_txn::gc::filter::{WriteCfGcFilter, collect_delete_marks};
use nokv_txn::keys;
use nokv_txn::mvcc::{self, Mutation};
use nokv_txn::timestamp::TimeStamp;

/// Versions of each key written.
const OVERWRITES: u64 = 60;
/// The write whose commit_ts becomes the safe point.
const SAFE_POINT_WRITE: u64 = 40;

struct Fixture {
    fs: MemFs,
    engine: Engine<MemFs>,
    filter: Rc<WriteCfGcFilter>,
    next_index: u64,
}

impl Fixture {
    fn open() -> Fixture {
        Fixture::open_on(MemFs::new())
    }

    fn open_on(fs: MemFs) -> Fixture {
        let mut options = EngineOptions { memtable_size_bytes: 64 << 10, ..Default::default() };
        mvcc::tune_engine_options(&mut options);
        let engine = block_on(Engine::open(fs.clone(), Path::new("/db"), options)).expect("open");
        let filter = Rc::new(WriteCfGcFilter::new());
        engine.set_compaction_filter(Cf::Write, Some(filter.clone()));
        Fixture { fs, engine, filter, next_index: 1 }
    }

    fn write_overwrites(&mut self) {
        for version in 1..=OVERWRITES {
            for (key, len) in KEYS {
                self.commit(Mutation::Put(Bytes::from_static(key), value(key, version, len).into()), version);
            }
            if version % 20 == 0 {
                // Several tables, so compaction merges them (a lone table is only moved down).
                block_on(self.engine.flush()).expect("flush");
            }
        }
    }

    /// Commits one mutation with `commit_ts = start_ts + 1 = 10 * version + 1`.
    fn commit(&mut self, mutation: Mutation, version: u64) {
        let start_ts = TimeStamp::new(10 * version);
        let batch = WriteBatch::decode(&mvcc::one_pc(&[mutation], start_ts, start_ts.next())).expect("decode");
        block_on(self.engine.apply(1, self.next_index, &batch)).expect("apply");
        self.next_index += 1;
    }

    fn get(&self, key: &[u8], read_ts: u64) -> Option<Bytes> {
        block_on(mvcc::get(&self.engine, key, TimeStamp::new(read_ts))).expect("get")
    }

    /// Entries of `key` visible in `cf` (Write: versions; Default: long values).
    fn versions(&self, cf: Cf, key: &[u8]) -> usize {
        let data_key = keys::data_key(key);
        let options = ReadOptions {
            lower_bound: Some(Bytes::from(data_key.clone())),
            upper_bound: Some(Bytes::from(keys::after_versions(&data_key))),
            ..ReadOptions::new()
        };
        block_on(async {
            let mut iter = self.engine.iter(cf, &options);
            iter.seek_to_first().await.expect("seek");
            let mut count = 0;
            while iter.is_valid() {
                count += 1;
                iter.next().await.expect("next");
            }
            count
        })
    }

    fn compact_all(&self) {
        block_on(async {
            self.engine.flush().await.expect("flush");
            self.engine.compact_range_all().await.expect("compact");
        });
    }
}

/// A value of `len` bytes naming its key and version.
fn value(key: &[u8], version: u64, len: usize) -> Bytes {
    let mut value = format!("{}@{version}:", String::from_utf8_lossy(key)).into_bytes();
    value.resize(len, b'.');
    Bytes::from(value)
}

/// Inline (in the Write record), in the Default CF's SSTs, and in the value log.
const KEYS: [(&[u8], usize); 3] = [(b"inline", 20), (b"default", 1000), (b"vlog", 6000)];

#[test]
fn overwritten_versions_below_the_safe_point_are_dropped_and_reads_above_it_are_unchanged() {
    let mut fixture = Fixture::open();
    fixture.write_overwrites();
    let safe_point = 10 * SAFE_POINT_WRITE + 1;
    let reads_from = [safe_point, safe_point + 5, 10 * (SAFE_POINT_WRITE + 7) + 1, u64::MAX >> 1];
    let before: Vec<_> = KEYS.iter().flat_map(|(key, _)| reads_from.iter().map(|&ts| fixture.get(key, ts))).collect();
    for (key, _) in KEYS {
        assert_eq!(fixture.versions(Cf::Write, key), OVERWRITES as usize);
    }

    fixture.filter.advance_safe_point(TimeStamp::new(safe_point));
    fixture.compact_all();

    let after: Vec<_> = KEYS.iter().flat_map(|(key, _)| reads_from.iter().map(|&ts| fixture.get(key, ts))).collect();
    assert_eq!(after, before, "reads at or above the safe point are unchanged");
    let kept = (OVERWRITES - SAFE_POINT_WRITE + 1) as usize;
    for (key, len) in KEYS {
        assert_eq!(fixture.versions(Cf::Write, key), kept, "{}", String::from_utf8_lossy(key));
        let long_values = if len > 255 { kept } else { 0 };
        assert_eq!(fixture.versions(Cf::Default, key), long_values, "{}", String::from_utf8_lossy(key));
        assert_eq!(fixture.get(key, safe_point - 1), None, "below the safe point the history is gone");
        assert_eq!(fixture.get(key, u64::MAX >> 1), Some(value(key, OVERWRITES, len)));
    }
    let stats = fixture.filter.stats();
    assert_eq!(stats.versions_dropped, 3 * (SAFE_POINT_WRITE - 1));
    assert_eq!(stats.default_deletes, 2 * (SAFE_POINT_WRITE - 1));
}

#[test]
fn a_key_deleted_below_the_safe_point_loses_every_version_once_its_mark_is_collected() {
    let mut fixture = Fixture::open();
    for version in 1..=10 {
        fixture.commit(Mutation::Put(Bytes::from_static(b"gone"), value(b"gone", version, 1000).into()), version);
        fixture.commit(Mutation::Put(Bytes::from_static(b"kept"), value(b"kept", version, 20).into()), version);
        if version == 5 {
            // Two tables, so the compaction merges them (a lone table is only moved down).
            block_on(fixture.engine.flush()).expect("flush");
        }
    }
    fixture.commit(Mutation::Delete(Bytes::from_static(b"gone")), 11);
    fixture.filter.advance_safe_point(TimeStamp::new(10 * 12));
    fixture.compact_all();
    // The compaction keeps the Delete (older versions of the key might sit outside it) but
    // drops the versions it holds below it.
    assert_eq!(fixture.versions(Cf::Write, b"gone"), 1);
    assert_eq!(fixture.versions(Cf::Default, b"gone"), 0);
    assert_eq!(fixture.get(b"gone", 10 * 12), None);

    let collected = block_on(collect_delete_marks(&fixture.engine, &fixture.filter)).expect("collect");
    assert_eq!(collected, 1, "the bottommost compaction queued the mark");
    assert_eq!(fixture.versions(Cf::Write, b"gone"), 0);
    assert_eq!(fixture.get(b"gone", 10 * 12), None);
    assert_eq!(fixture.versions(Cf::Write, b"kept"), 1);
    assert_eq!(fixture.get(b"kept", 10 * 12), Some(value(b"kept", 10, 20)));
    assert_eq!(fixture.filter.stats().delete_marks_collected, 1);
}

#[test]
fn gc_deletes_lost_in_a_crash_only_leak_space() {
    let mut fixture = Fixture::open();
    fixture.write_overwrites();
    let flushed_index = fixture.engine.flushed_index(1);
    let safe_point = 10 * SAFE_POINT_WRITE + 1;
    fixture.filter.advance_safe_point(TimeStamp::new(safe_point));
    fixture.compact_all();
    assert_eq!(fixture.engine.flushed_index(1), flushed_index, "the deletes carry no watermark");
    // The Default CF deletes are still in the memtable: a power loss takes them.
    fixture.fs.crash(CrashMode::PowerLoss);
    let reopened = Fixture::open_on(fixture.fs.clone());
    assert_eq!(reopened.engine.flushed_index(1), flushed_index);
    let kept = (OVERWRITES - SAFE_POINT_WRITE + 1) as usize;
    for (key, len) in KEYS {
        assert_eq!(reopened.versions(Cf::Write, key), kept, "the compaction itself is durable");
        assert_eq!(reopened.get(key, safe_point), Some(value(key, SAFE_POINT_WRITE, len)));
        assert_eq!(reopened.get(key, u64::MAX >> 1), Some(value(key, OVERWRITES, len)));
    }
    assert!(reopened.versions(Cf::Default, b"default") > kept, "the lost deletes leak their values");
}
