//! A core's store of one-voter regions: election, group commit across regions, proposals
//! matched to their own entries by (term, index).

mod common;

use std::pin::pin;
use std::rc::Rc;

use common::{Recorder, open_store, settle};
use futures_lite::future::{block_on, poll_once, zip};
use nokv_engine::io::mem::MemFs;
use nokv_raft::{RaftConfig, RaftError};
use raft::StateRole;
use raft::eraftpb::{Entry, HardState, Message, MessageType};

const REGIONS: [u64; 8] = [1, 2, 3, 4, 5, 6, 7, 8];

#[test]
fn bootstrapped_regions_lead_after_the_first_round() {
    let fs = MemFs::new();
    let recorder = Rc::new(Recorder::default());
    let store = open_store(&fs, &recorder, RaftConfig::default(), &REGIONS);
    assert_eq!(store.regions(), REGIONS);
    let syncs_before = fs.sync_count();
    block_on(store.process_ready_round()).expect("round");
    assert_eq!(fs.sync_count(), syncs_before + 1, "one sync for the no-ops of all regions");
    for region in REGIONS {
        assert!(store.is_leader(region));
        assert_eq!(store.leader(region), Some(1));
        let status = store.status(region).expect("status");
        assert_eq!((status.role, status.commit_index, status.applied_index), (StateRole::Leader, 1, 1));
        assert_eq!(status.cached_entries, 0, "applied entries leave the cache");
        assert_eq!(recorder.region(region).len(), 1, "the leader's no-op is applied");
    }
    assert!(!store.has_work());
    assert!(store.take_messages().is_empty(), "one voter sends nothing");
}

#[test]
fn proposals_in_many_regions_share_one_journal_sync() {
    let fs = MemFs::new();
    let recorder = Rc::new(Recorder::default());
    let store = open_store(&fs, &recorder, RaftConfig::default(), &REGIONS);
    settle(&store);
    // Interleave regions so a FIFO matcher would hand results to the wrong proposers.
    let mut proposals = Vec::new();
    for round in 0..3u8 {
        for region in REGIONS.iter().rev() {
            let data = vec![*region as u8, round];
            proposals.push((*region, data.clone(), store.propose(*region, data)));
        }
    }
    let (syncs_before, writes_before) = (fs.sync_count(), store.stats().journal_writes);
    block_on(store.process_ready_round()).expect("round");
    assert_eq!(fs.sync_count(), syncs_before + 1, "one fdatasync for 24 proposals in 8 regions");
    assert_eq!(store.stats().journal_writes, writes_before + 1);
    for (region, data, proposal) in proposals {
        let (applied_region, index, applied_data) = block_on(proposal).expect("committed");
        assert_eq!((applied_region, &applied_data), (region, &data));
        assert_eq!(index, 2 + u64::from(data[1]), "entries follow the no-op in proposal order");
    }
    for region in REGIONS {
        let indexes: Vec<u64> = recorder.region(region).iter().map(|a| a.index).collect();
        assert_eq!(indexes, [1, 2, 3, 4], "apply order is log order");
        let expected: Vec<Vec<u8>> = (0..3).map(|round| vec![region as u8, round]).collect();
        assert_eq!(recorder.payloads(region), expected);
    }
}

#[test]
fn proposals_queued_together_merge_into_entries_up_to_the_limit() {
    let fs = MemFs::new();
    let recorder = Rc::new(Recorder::default());
    let config = RaftConfig { merge_proposals_up_to_bytes: 10, ..RaftConfig::default() };
    let store = open_store(&fs, &recorder, config, &[1, 2]);
    settle(&store);
    let payloads: [&[u8]; 7] = [b"aaaa", b"bbbb", b"cccc", b"big proposal alone", b"dd", b"ee", b"ffffff"];
    let mut proposals: Vec<_> = payloads.iter().map(|data| store.propose(1, data.to_vec())).collect();
    let other = store.propose(2, b"other region".to_vec());
    let entries_before = store.stats().entries_applied;
    block_on(store.process_ready_round()).expect("round");
    // Merged while the sum fits in 10 bytes; a proposal over the limit gets its own entry.
    let expected: [(u64, &[u8]); 5] =
        [(2, b"aaaabbbb"), (3, b"cccc"), (4, b"big proposal alone"), (5, b"ddeeffffff"), (2, b"other region")];
    assert_eq!(store.stats().entries_applied, entries_before + 5, "five entries for eight proposals");
    let proposers_of = [0, 0, 1, 2, 3, 3, 3];
    for (proposal, entry) in proposals.drain(..).zip(proposers_of) {
        let (index, data) = expected[entry];
        assert_eq!(block_on(proposal).expect("applied"), (1, index, data.to_vec()), "every proposer learns its entry");
    }
    assert_eq!(block_on(other).expect("applied"), (2, 2, b"other region".to_vec()), "regions never merge");
    let applied: Vec<Vec<u8>> = expected[..4].iter().map(|(_, data)| data.to_vec()).collect();
    assert_eq!(recorder.payloads(1), applied, "one apply per entry, in proposal order");
}

#[test]
fn every_proposer_of_a_merged_entry_sees_its_failure() {
    let fs = MemFs::new();
    let recorder = Rc::new(Recorder::default());
    let config = RaftConfig { merge_proposals_up_to_bytes: 64, ..RaftConfig::default() };
    let store = open_store(&fs, &recorder, config, &[1]);
    settle(&store);
    let term = store.status(1).expect("status").term;
    let mine: Vec<_> = (0..3u8).map(|n| store.propose(1, vec![n])).collect();
    store.step(1, append_from_new_leader(term + 1, 1, term, b"theirs")).expect("queued");
    block_on(store.process_ready_round()).expect("round");
    for proposal in mine {
        assert!(matches!(block_on(proposal), Err(RaftError::Dropped { region_id: 1 })));
    }
    assert_eq!(store.status(1).expect("status").waiting_proposals, 0);
    assert_eq!(recorder.payloads(1), [b"theirs".to_vec()], "the merged entry was never applied");
}

#[test]
fn drive_once_waits_for_work_and_serves_proposals() {
    let fs = MemFs::new();
    let recorder = Rc::new(Recorder::default());
    let store = open_store(&fs, &recorder, RaftConfig::default(), &[1]);
    block_on(store.drive_once()).expect("the election is work");
    let mut idle = pin!(store.drive_once());
    assert!(block_on(poll_once(idle.as_mut())).is_none(), "no work: drive_once waits");
    let proposal = store.propose(1, b"set".to_vec());
    let (round, result) = block_on(zip(idle, proposal));
    round.expect("round");
    assert_eq!(result.expect("applied"), (1, 2, b"set".to_vec()));
    store.tick();
    assert!(store.has_work(), "a tick is work");
    block_on(store.drive_once()).expect("tick round");
}

#[test]
fn read_index_waits_until_the_leader_committed_in_its_term() {
    let fs = MemFs::new();
    let recorder = Rc::new(Recorder::default());
    let store = open_store(&fs, &recorder, RaftConfig::default(), &[1]);
    let mut read = pin!(store.read_index(1));
    assert!(block_on(poll_once(read.as_mut())).is_none(), "the no-op of the new term is not committed yet");
    block_on(store.process_ready_round()).expect("round");
    block_on(read).expect("readable after the no-op applied");
    assert!(matches!(block_on(store.read_index(9)), Err(RaftError::RegionNotFound(9))));
}

#[test]
fn unknown_regions_and_closed_stores_are_errors() {
    let fs = MemFs::new();
    let recorder = Rc::new(Recorder::default());
    let store = open_store(&fs, &recorder, RaftConfig::default(), &[1]);
    assert!(matches!(block_on(store.propose(42, b"x".to_vec())), Err(RaftError::RegionNotFound(42))));
    settle(&store);
    let pending = store.propose(1, b"queued".to_vec());
    store.close();
    assert!(matches!(block_on(pending), Err(RaftError::Closed)));
    assert!(matches!(block_on(store.propose(1, b"x".to_vec())), Err(RaftError::Closed)));
    assert!(matches!(block_on(store.process_ready_round()), Err(RaftError::Closed)));
}

/// A leader of a higher term (node 2) overwrites the slot this node's proposal got: the
/// proposer must see `Dropped`, not the other entry's result.
#[test]
fn a_proposal_whose_slot_is_taken_by_another_term_is_dropped() {
    let fs = MemFs::new();
    let recorder = Rc::new(Recorder::default());
    let store = open_store(&fs, &recorder, RaftConfig::default(), &[1]);
    settle(&store);
    let term = store.status(1).expect("status").term;
    let mine = store.propose(1, b"mine".to_vec());
    store.step(1, append_from_new_leader(term + 1, 1, term, b"theirs")).expect("queued");
    block_on(store.process_ready_round()).expect("round");
    assert!(matches!(block_on(mine), Err(RaftError::Dropped { region_id: 1 })));
    let last = recorder.region(1).last().cloned().expect("applied");
    assert_eq!((last.index, last.term, last.data.as_slice()), (2, term + 1, b"theirs".as_slice()));
    assert!(!store.is_leader(1));
    assert!(matches!(
        block_on(store.propose(1, b"again".to_vec())),
        Err(RaftError::NotLeader { region_id: 1, leader_hint: Some(2) })
    ));
    let replies = store.take_messages();
    assert!(replies.iter().any(|m| m.get_msg_type() == MessageType::MsgAppendResponse && m.to == 2));
}

/// MsgAppend from node 2 at `term`: one entry at `prev_index + 1`, committed.
fn append_from_new_leader(term: u64, prev_index: u64, prev_term: u64, data: &[u8]) -> Message {
    let entry = Entry { term, index: prev_index + 1, data: data.to_vec().into(), ..Entry::default() };
    let mut message = Message {
        from: 2,
        to: 1,
        term,
        index: prev_index,
        log_term: prev_term,
        commit: prev_index + 1,
        entries: vec![entry].into(),
        ..Message::default()
    };
    message.set_msg_type(MessageType::MsgAppend);
    message
}

/// A vote is durable before the vote response leaves, even with no entry to write.
#[test]
fn a_vote_alone_is_synced_before_its_response_is_sent() {
    let fs = MemFs::new();
    let recorder = Rc::new(Recorder::default());
    let config = RaftConfig { check_quorum: false, ..RaftConfig::default() };
    let store = open_store(&fs, &recorder, config, &[1]);
    settle(&store);
    let status = store.status(1).expect("status");
    let mut request = Message {
        from: 2,
        to: 1,
        term: status.term + 1,
        index: status.last_index,
        log_term: status.term,
        ..Message::default()
    };
    request.set_msg_type(MessageType::MsgRequestVote);
    store.step(1, request).expect("queued");
    let syncs = fs.sync_count();
    block_on(store.process_ready_round()).expect("round");
    assert_eq!(fs.sync_count(), syncs + 1, "the vote was synced");
    let granted = store.take_messages();
    assert!(granted.iter().any(|m| m.get_msg_type() == MessageType::MsgRequestVoteResponse && !m.reject));
    let stored = store.journal().state(1, nokv_raft::storage::HARD_STATE_KEY).expect("hard state");
    let hard_state: HardState = nokv_raft::storage::decode_message(&stored, "test").expect("decodes");
    assert_eq!((hard_state.term, hard_state.vote), (status.term + 1, 2));
}

/// A round dropped between a ready and its advance leaves raft's durability unknown.
#[test]
fn a_round_cancelled_midway_closes_the_store() {
    let fs = MemFs::new();
    let recorder = Rc::new(Recorder::default());
    let store = open_store(&fs, &recorder, RaftConfig::default(), &[1]);
    settle(&store);
    let proposal = store.propose(1, b"x".to_vec());
    {
        let mut round = pin!(store.process_ready_round());
        assert!(block_on(poll_once(round.as_mut())).is_none(), "suspended in the journal write");
    }
    assert!(matches!(block_on(store.process_ready_round()), Err(RaftError::Closed)));
    assert!(matches!(block_on(proposal), Err(RaftError::Closed)));
}
