//! Restarts: committed entries after the state machine's durable applied index are applied
//! again exactly once and in order; what `sync_log` promises survives a power loss.

mod common;

use std::collections::BTreeMap;
use std::rc::Rc;

use common::{Recorder, Store, open_store, settle};
use futures_lite::future::block_on;
use nokv_engine::io::mem::{CrashMode, MemFs};
use nokv_raft::RaftConfig;

const REGIONS: [u64; 4] = [10, 20, 30, 40];

/// Proposes `count` payloads `[region, n]` per region, one round each, all acknowledged.
fn write_acknowledged(store: &Store, start: u8, count: u8) {
    for n in start..start + count {
        let proposals: Vec<_> = REGIONS.iter().map(|&region| store.propose(region, vec![region as u8, n])).collect();
        block_on(store.process_ready_round()).expect("round");
        for proposal in proposals {
            block_on(proposal).expect("acknowledged");
        }
    }
}

fn expected_payloads(region: u64, range: std::ops::Range<u8>) -> Vec<Vec<u8>> {
    range.map(|n| vec![region as u8, n]).collect()
}

#[test]
fn committed_entries_after_the_applied_index_are_reapplied_once_in_order() {
    let fs = MemFs::new();
    let before = Rc::new(Recorder::default());
    let store = open_store(&fs, &before, RaftConfig::default(), &REGIONS);
    settle(&store);
    write_acknowledged(&store, 0, 3);
    // The state machine flushed region 10 and 20 here; 30 and 40 never flushed.
    let flushed: BTreeMap<u64, u64> = [(10, before.flush(10)), (20, before.flush(20))].into();
    write_acknowledged(&store, 3, 4);
    let applied_before: BTreeMap<u64, Vec<_>> = REGIONS.iter().map(|&r| (r, before.region(r))).collect();
    drop(store);
    fs.crash(CrashMode::PowerLoss);

    let after = Recorder::with_durable(flushed.clone());
    let store = open_store(&fs, &after, RaftConfig::default(), &REGIONS);
    settle(&store);
    for region in REGIONS {
        let durable = flushed.get(&region).copied().unwrap_or(0);
        let old: Vec<_> = applied_before[&region].iter().filter(|a| a.index > durable).cloned().collect();
        let replayed = after.region(region);
        assert!(replayed.len() > old.len(), "region {region}: the replay plus the new leader's no-op");
        assert_eq!(replayed[..old.len()], old[..], "region {region}: exactly the unflushed entries, in order");
        let noop = &replayed[old.len()];
        assert!(noop.data.is_empty() && noop.term > old.last().map_or(0, |a| a.term), "then a new term");
        assert_eq!(replayed.len(), old.len() + 1, "region {region}: nothing applied twice");
        assert!(store.is_leader(region));
    }
    // The log continues after the replay.
    let next = block_on(async {
        let proposal = store.propose(10, b"after restart".to_vec());
        store.process_ready_round().await.expect("round");
        proposal.await
    })
    .expect("applied");
    assert_eq!(next.1, after.region(10).last().expect("applied").index);
}

#[test]
fn with_sync_log_every_acknowledged_write_survives_power_loss() {
    let fs = MemFs::new();
    let before = Rc::new(Recorder::default());
    let store = open_store(&fs, &before, RaftConfig::default(), &REGIONS);
    settle(&store);
    write_acknowledged(&store, 0, 5);
    drop(store);
    fs.crash(CrashMode::PowerLoss);

    let after = Rc::new(Recorder::default());
    let store = open_store(&fs, &after, RaftConfig::default(), &REGIONS);
    settle(&store);
    for region in REGIONS {
        assert_eq!(after.payloads(region), expected_payloads(region, 0..5), "region {region}");
    }
}

#[test]
fn without_sync_log_unsynced_entries_are_lost_and_the_log_stays_usable() {
    let fs = MemFs::new();
    let config = RaftConfig { sync_log: false, ..RaftConfig::default() };
    let before = Rc::new(Recorder::default());
    let store = open_store(&fs, &before, config.clone(), &REGIONS);
    let syncs = fs.sync_count();
    settle(&store);
    write_acknowledged(&store, 0, 3);
    assert_eq!(fs.sync_count(), syncs, "sync_log off: rounds never sync");
    // Region 10's state machine flushed entries the journal never synced.
    let flushed: BTreeMap<u64, u64> = [(10, before.flush(10))].into();
    drop(store);
    fs.crash(CrashMode::PowerLoss);

    let after = Recorder::with_durable(flushed.clone());
    let store = open_store(&fs, &after, config, &REGIONS);
    settle(&store);
    for region in REGIONS {
        assert!(after.payloads(region).is_empty(), "region {region}: unsynced entries are gone");
        let status = store.status(region).expect("status");
        assert!(status.role == raft::StateRole::Leader);
        assert_eq!(status.applied_index, status.commit_index);
    }
    assert!(store.status(10).expect("status").first_index > flushed[&10], "region 10 restarts after its watermark");
    let (_, index, _) = block_on(async {
        let proposal = store.propose(10, b"new".to_vec());
        store.process_ready_round().await.expect("round");
        proposal.await
    })
    .expect("applied");
    assert!(index > flushed[&10] + 1, "new entries never reuse flushed indexes");
}

#[test]
fn a_torn_tail_loses_only_unacknowledged_writes() {
    let fs = MemFs::new();
    let before = Rc::new(Recorder::default());
    let store = open_store(&fs, &before, RaftConfig::default(), &REGIONS);
    settle(&store);
    write_acknowledged(&store, 0, 2);
    // Queued but never processed: not acknowledged, not in the journal.
    let unacknowledged = store.propose(10, b"pending".to_vec());
    drop(store);
    assert!(block_on(unacknowledged).is_err(), "the store went away");
    fs.crash(CrashMode::TornWrite { seed: 7 });

    let after = Rc::new(Recorder::default());
    let store = open_store(&fs, &after, RaftConfig::default(), &REGIONS);
    settle(&store);
    for region in REGIONS {
        assert_eq!(after.payloads(region), expected_payloads(region, 0..2));
    }
}
