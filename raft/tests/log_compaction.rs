//! Log compaction after the state machine's flushed watermark: the journal frees segments,
//! the region's log starts after the watermark, and a restart replays only what follows it.

mod common;

use std::collections::BTreeMap;
use std::rc::Rc;

use common::{Recorder, Store, open_store_with, settle};
use futures_lite::future::block_on;
use nokv_engine::io::mem::{CrashMode, MemFs};
use nokv_engine::journal::JournalOptions;
use nokv_raft::{RaftConfig, RaftError};

const REGIONS: [u64; 3] = [1, 2, 3];

/// Small segments so a few rounds span several of them.
fn small_segments() -> JournalOptions {
    JournalOptions { segment_size_bytes: 8192, ..JournalOptions::default() }
}

fn write_rounds(store: &Store, rounds: u8) {
    for n in 0..rounds {
        let proposals: Vec<_> =
            REGIONS.iter().map(|&r| store.propose(r, [vec![r as u8, n], vec![0; 510]].concat())).collect();
        block_on(store.process_ready_round()).expect("round");
        for proposal in proposals {
            block_on(proposal).expect("applied");
        }
    }
}

#[test]
fn compaction_after_a_watermark_frees_segments_and_survives_restart() {
    let fs = MemFs::new();
    let before = Rc::new(Recorder::default());
    let store = open_store_with(&fs, &before, RaftConfig::default(), &REGIONS, small_segments());
    settle(&store);
    write_rounds(&store, 12);
    let segments_before = store.journal().segment_ids().len();
    assert!(segments_before > 3, "the writes span several segments");

    let mut watermarks = BTreeMap::new();
    for region in REGIONS {
        let flushed = before.flush(region);
        block_on(store.compact_log(region, flushed)).expect("compacts");
        watermarks.insert(region, flushed);
        assert_eq!(store.status(region).expect("status").first_index, flushed + 1);
    }
    let segments_after = store.journal().segment_ids().len();
    assert!(segments_after < segments_before, "{segments_after} segments left of {segments_before}");

    write_rounds(&store, 2);
    let tail: BTreeMap<u64, Vec<_>> = REGIONS
        .iter()
        .map(|&r| (r, before.region(r).into_iter().filter(|a| a.index > watermarks[&r]).collect()))
        .collect();
    drop(store);
    fs.crash(CrashMode::PowerLoss);

    let after = Recorder::with_durable(watermarks.clone());
    let store = open_store_with(&fs, &after, RaftConfig::default(), &REGIONS, small_segments());
    settle(&store);
    for region in REGIONS {
        let replayed = after.region(region);
        assert_eq!(
            replayed[..tail[&region].len()],
            tail[&region][..],
            "region {region}: only entries after the watermark"
        );
        assert_eq!(store.status(region).expect("status").first_index, watermarks[&region] + 1);
    }
}

#[test]
fn compaction_beyond_the_applied_index_is_refused() {
    let fs = MemFs::new();
    let recorder = Rc::new(Recorder::default());
    let store = open_store_with(&fs, &recorder, RaftConfig::default(), &REGIONS, small_segments());
    settle(&store);
    let applied = store.status(1).expect("status").applied_index;
    assert!(matches!(block_on(store.compact_log(1, applied + 1)), Err(RaftError::InvalidArgument(_))));
    assert!(matches!(block_on(store.compact_log(9, 1)), Err(RaftError::RegionNotFound(9))));
    block_on(store.compact_log(1, applied)).expect("compacting everything applied is fine");
    block_on(store.compact_log(1, applied)).expect("and idempotent");
}
