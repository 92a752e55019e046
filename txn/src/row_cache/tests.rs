use super::*;
use crate::mvcc::{Mutation, one_pc};
use crate::record::{Lock, LockType};

fn ts(value: u64) -> TimeStamp {
    TimeStamp::new(value)
}

fn put(key: &str, value: &[u8]) -> Mutation {
    Mutation::Put(Bytes::copy_from_slice(key.as_bytes()), Bytes::copy_from_slice(value).into())
}

/// A read of `key` that missed and was not kept: the next fill of `key` passes admission.
fn missed_before(cache: &RowCache, key: &[u8]) {
    cache.fill(key, cache.ticket(ts(0)), None, true);
}

fn commit(cache: &RowCache, mutations: &[Mutation], start: u64, commit: u64) {
    cache.observe(&WriteBatch::decode(&one_pc(mutations, ts(start), ts(commit))).expect("decode"));
}

#[test]
fn an_applied_put_is_served_from_its_commit_ts_on() {
    let cache = RowCache::new(1 << 20);
    commit(&cache, &[put("k", b"v1")], 10, 11);
    assert_eq!(cache.get(b"k", ts(10)), None, "a read below the commit must go to the engine");
    assert_eq!(cache.get(b"k", ts(11)), Some(Some(Bytes::from_static(b"v1"))));
    commit(&cache, &[put("k", b"v2")], 12, 13);
    assert_eq!(cache.get(b"k", ts(20)), Some(Some(Bytes::from_static(b"v2"))));
    assert_eq!(cache.stats().hits, 2);
}

#[test]
fn a_commit_applied_after_a_newer_one_drops_the_row() {
    let cache = RowCache::new(1 << 20);
    commit(&cache, &[put("k", b"short")], 20, 21);
    commit(&cache, &[put("k", &[b'x'; 100])], 10, 11);
    assert_eq!(cache.get(b"k", ts(30)), None, "the engine decides which version wins");
    commit(&cache, &[put("k", &[b'y'; 100])], 30, 31);
    assert_eq!(cache.get(b"k", ts(31)), Some(Some(Bytes::from(vec![b'y'; 100]))));
    commit(&cache, &[put("k", b"v")], 40, 41);
    assert_eq!(cache.get(b"k", ts(41)), Some(Some(Bytes::from_static(b"v"))));
    let one_row = RowCache::new(1 << 20);
    commit(&one_row, &[put("k", b"v")], 40, 41);
    assert_eq!(cache.stats().weight_bytes, one_row.stats().weight_bytes, "a replaced row is weighed anew");
}

#[test]
fn an_overwrite_of_the_same_length_reuses_the_buffer_unless_a_reader_holds_it() {
    let cache = RowCache::new(1 << 20);
    commit(&cache, &[put("k", &[1; 1000])], 10, 11);
    let weight = cache.stats().weight_bytes;
    let first = cache.get(b"k", ts(11)).flatten().expect("cached");
    let first_at = first.as_ptr();
    commit(&cache, &[put("k", &[2; 1000])], 12, 13);
    assert_eq!(first, Bytes::from(vec![1; 1000]), "a reader's value never changes under it");
    let second = cache.get(b"k", ts(13)).flatten().expect("cached");
    assert_eq!(second, Bytes::from(vec![2; 1000]));
    assert_eq!(cache.get(b"k", ts(12)), None, "the row is valid from the new commit only");
    let second_at = second.as_ptr();
    drop((first, second));
    commit(&cache, &[put("k", &[3; 1000])], 14, 15);
    let third = cache.get(b"k", ts(15)).flatten().expect("cached");
    assert_eq!(third, Bytes::from(vec![3; 1000]));
    assert_eq!(third.as_ptr(), second_at, "unshared, the buffer is written in place");
    assert_ne!(second_at, first_at);
    assert_eq!(cache.stats().weight_bytes, weight);
    commit(&cache, &[put("k", &[4; 10])], 16, 17);
    assert_eq!(cache.get(b"k", ts(17)), Some(Some(Bytes::from(vec![4; 10]))));
}

#[test]
fn an_older_commit_of_the_same_length_does_not_overwrite_a_newer_row() {
    let cache = RowCache::new(1 << 20);
    commit(&cache, &[put("k", &[2; 1000])], 20, 21);
    commit(&cache, &[put("k", &[1; 1000])], 10, 11);
    assert_eq!(cache.get(b"k", ts(30)), None, "the engine decides which version wins");
}

#[test]
fn large_values_come_from_the_default_cf_put_of_the_same_batch() {
    let cache = RowCache::new(1 << 20);
    let large = vec![7u8; 1000];
    commit(&cache, &[put("big", &large)], 10, 11);
    assert_eq!(cache.get(b"big", ts(11)), Some(Some(Bytes::from(large))));
}

#[test]
fn values_over_the_limit_drop_the_row() {
    let cache = RowCache::new(1 << 30);
    commit(&cache, &[put("k", b"small")], 10, 11);
    commit(&cache, &[put("k", &vec![1u8; MAX_CACHED_VALUE_BYTES + 1])], 12, 13);
    assert_eq!(cache.get(b"k", ts(20)), None);
}

#[test]
fn a_delete_record_caches_absence() {
    let cache = RowCache::new(1 << 20);
    commit(&cache, &[put("k", b"v")], 10, 11);
    commit(&cache, &[Mutation::Delete(Bytes::from_static(b"k"))], 12, 13);
    assert_eq!(cache.get(b"k", ts(13)), Some(None));
}

#[test]
fn lock_and_rollback_records_leave_the_row() {
    let cache = RowCache::new(1 << 20);
    commit(&cache, &[put("k", b"v")], 10, 11);
    commit(&cache, &[Mutation::Lock(Bytes::from_static(b"k"))], 12, 13);
    assert_eq!(cache.get(b"k", ts(14)), Some(Some(Bytes::from_static(b"v"))));
}

#[test]
fn a_lock_cf_change_or_an_engine_delete_drops_the_row() {
    let cache = RowCache::new(1 << 20);
    commit(&cache, &[put("a", b"1"), put("b", b"2")], 10, 11);
    let mut batch = WriteBatch::new();
    batch.put(
        Cf::Lock,
        keys::data_key(b"a"),
        Lock::new(LockType::Put, Bytes::from_static(b"a"), ts(20), 3000).encode(),
    );
    batch.delete(Cf::Write, keys::versioned_key(b"b", ts(11)));
    cache.observe(&batch);
    assert_eq!(cache.get(b"a", ts(30)), None);
    assert_eq!(cache.get(b"b", ts(30)), None);
}

#[test]
fn a_range_delete_drops_every_row() {
    let cache = RowCache::new(1 << 20);
    commit(&cache, &[put("a", b"1")], 10, 11);
    let mut batch = WriteBatch::new();
    batch.delete_range(Cf::Write, Bytes::from_static(b"\x00"), Bytes::from_static(b"\xff"));
    cache.observe(&batch);
    assert_eq!(cache.get(b"a", ts(30)), None);
    assert_eq!(cache.stats().rows, 0);
}

#[test]
fn a_fill_is_kept_only_when_nothing_was_applied_meanwhile() {
    let cache = RowCache::new(1 << 20);
    missed_before(&cache, b"k");
    let ticket = cache.ticket(ts(50));
    commit(&cache, &[put("other", b"x")], 40, 41);
    cache.fill(b"k", ticket, Some(Bytes::from_static(b"stale?")), false);
    assert_eq!(cache.get(b"k", ts(60)), None, "an apply ran during the read");

    let ticket = cache.ticket(ts(50));
    cache.fill(b"k", ticket, Some(Bytes::from_static(b"v")), false);
    assert_eq!(cache.get(b"k", ts(49)), None, "valid from the read's ts only");
    assert_eq!(cache.get(b"k", ts(50)), Some(Some(Bytes::from_static(b"v"))));
}

#[test]
fn a_read_below_an_applied_commit_is_not_kept() {
    let cache = RowCache::new(1 << 20);
    // Applied at 100 before its proposer advanced the TSO; a read at 96 reads the old value.
    commit(&cache, &[put("other", b"x")], 99, 100);
    missed_before(&cache, b"k");
    let ticket = cache.ticket(ts(96));
    cache.fill(b"k", ticket, Some(Bytes::from_static(b"old")), false);
    assert_eq!(cache.get(b"k", ts(200)), None);
}

#[test]
fn a_read_that_saw_a_lock_is_not_kept() {
    let cache = RowCache::new(1 << 20);
    missed_before(&cache, b"k");
    let ticket = cache.ticket(ts(10));
    cache.fill(b"k", ticket, None, true);
    assert_eq!(cache.get(b"k", ts(20)), None);
}

#[test]
fn a_fill_is_kept_while_there_is_room_and_then_from_a_keys_second_missed_read_on() {
    // One row per shard, and a key that shares the shard of "absent".
    let cache = RowCache::new(SHARDS as u64 * u64::from(ROW_FIXED_BYTES));
    let shard_of = |key: &[u8]| KeyHash::of(key).shard();
    let neighbour = (0..).map(|i| format!("k{i}")).find(|key| shard_of(key.as_bytes()) == shard_of(b"absent"));
    let neighbour = neighbour.expect("some key shares the shard").into_bytes();
    cache.fill(&neighbour, cache.ticket(ts(10)), None, false);
    assert_eq!(cache.get(&neighbour, ts(10)), Some(None), "a row that evicts nothing is kept at once");
    cache.fill(b"absent", cache.ticket(ts(10)), None, false);
    assert_eq!(cache.get(b"absent", ts(10)), None, "a key read once is not worth an eviction");
    assert_eq!(cache.get(&neighbour, ts(10)), Some(None));
    cache.fill(b"absent", cache.ticket(ts(11)), None, false);
    assert_eq!(cache.get(b"absent", ts(11)), Some(None), "a key read twice is");
    assert_eq!(cache.get(&neighbour, ts(11)), None, "and pushed the other row out");
}

#[test]
fn a_zero_capacity_cache_holds_nothing() {
    let cache = RowCache::new(0);
    commit(&cache, &[put("k", b"v")], 10, 11);
    missed_before(&cache, b"j");
    cache.fill(b"j", cache.ticket(ts(20)), None, false);
    assert_eq!(cache.get(b"k", ts(20)), None);
    assert_eq!(cache.get(b"j", ts(20)), None);
    assert_eq!(cache.stats().misses, 2);
}

#[test]
fn the_cache_stays_within_its_budget() {
    let cache = RowCache::new(64 * 1024);
    for i in 0..10_000u64 {
        commit(&cache, &[put(&format!("key{i}"), &[0u8; 100])], 2 * i + 10, 2 * i + 11);
    }
    assert!(cache.stats().weight_bytes <= 64 * 1024, "{:?}", cache.stats());
}

/// The ops of `batches` as one batch (a merged raft entry).
/// Encoded batches merged as raft merges proposals: laid end to end.
fn merged(batches: &[Vec<u8>]) -> WriteBatch {
    WriteBatch::decode(&batches.concat()).expect("decode")
}

#[test]
fn a_merged_batch_changes_rows_in_op_order_across_warm_windows() {
    let cache = RowCache::new(1 << 20);
    let many: Vec<Mutation> = (0..2 * WARM_WINDOW + 3).map(|i| put(&format!("k{i}"), b"first")).collect();
    let mut lock = WriteBatch::new();
    let lock_record = Lock::new(LockType::Put, Bytes::from_static(b"k1"), ts(12), 3000).encode();
    lock.put(Cf::Lock, keys::data_key(b"k1"), lock_record);
    let batch = merged(&[
        one_pc(&many, ts(10), ts(11)),
        lock.encode(),
        one_pc(&[put("k2", b"second"), put("k1", b"after the lock")], ts(13), ts(14)),
        one_pc(&[put("k2", b"third")], ts(15), ts(16)),
    ]);
    assert!(batch.len() > 2 * WARM_WINDOW + 3, "the batch spans several windows");
    cache.observe(&batch);
    assert_eq!(cache.get(b"k0", ts(20)), Some(Some(Bytes::from_static(b"first"))));
    assert_eq!(cache.get(b"k1", ts(20)), Some(Some(Bytes::from_static(b"after the lock"))));
    assert_eq!(cache.get(b"k2", ts(20)), Some(Some(Bytes::from_static(b"third"))));
    let last = format!("k{}", 2 * WARM_WINDOW + 2);
    assert_eq!(cache.get(last.as_bytes(), ts(20)), Some(Some(Bytes::from_static(b"first"))));
    assert_eq!(cache.stats().rows, 2 * WARM_WINDOW + 3);
}
