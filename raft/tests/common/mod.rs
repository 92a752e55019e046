//! Shared fixtures: a recording state machine and helpers to open stores on `MemFs`.

#![allow(dead_code)]

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::Path;
use std::rc::Rc;

use bytes::Bytes;
use futures_lite::future::block_on;
use nokv_engine::io::mem::MemFs;
use nokv_engine::journal::{Journal, JournalOptions};
use nokv_raft::{RaftConfig, RaftStore, StateMachine};

/// One `apply` call as the state machine saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub region_id: u64,
    pub index: u64,
    pub term: u64,
    pub data: Vec<u8>,
}

/// Records every apply; `durable` plays the engine's flushed watermark per region.
#[derive(Debug, Default)]
pub struct Recorder {
    pub applied: RefCell<Vec<Applied>>,
    pub durable: RefCell<BTreeMap<u64, u64>>,
}

impl Recorder {
    pub fn with_durable(durable: BTreeMap<u64, u64>) -> Rc<Recorder> {
        Rc::new(Recorder { applied: RefCell::default(), durable: RefCell::new(durable) })
    }

    /// Applied entries of one region, in apply order.
    pub fn region(&self, region_id: u64) -> Vec<Applied> {
        self.applied.borrow().iter().filter(|a| a.region_id == region_id).cloned().collect()
    }

    /// Applied non-empty payloads of one region, in apply order.
    pub fn payloads(&self, region_id: u64) -> Vec<Vec<u8>> {
        self.region(region_id).into_iter().filter(|a| !a.data.is_empty()).map(|a| a.data).collect()
    }

    /// Simulates a flush: everything applied so far in `region_id` becomes durable.
    pub fn flush(&self, region_id: u64) -> u64 {
        let last = self.region(region_id).last().map_or(0, |a| a.index);
        self.durable.borrow_mut().insert(region_id, last);
        last
    }
}

/// The state machine handed to the store.
#[derive(Debug, Clone)]
pub struct TestMachine(pub Rc<Recorder>);

impl StateMachine for TestMachine {
    /// (region, index, data): enough to check a proposer got its own entry back.
    type Output = (u64, u64, Vec<u8>);

    async fn apply(&self, region_id: u64, index: u64, term: u64, data: &Bytes) -> Self::Output {
        self.0.applied.borrow_mut().push(Applied { region_id, index, term, data: data.to_vec() });
        (region_id, index, data.to_vec())
    }

    fn applied_index(&self, region_id: u64) -> u64 {
        self.0.durable.borrow().get(&region_id).copied().unwrap_or(0)
    }
}

pub type Store = RaftStore<MemFs, TestMachine>;

pub fn open_journal(fs: &MemFs, options: JournalOptions) -> Rc<Journal<MemFs>> {
    Rc::new(block_on(Journal::open(fs.clone(), Path::new("/core0/journal"), options)).expect("journal opens"))
}

pub fn open_store(fs: &MemFs, recorder: &Rc<Recorder>, config: RaftConfig, regions: &[u64]) -> Store {
    open_store_with(fs, recorder, config, regions, JournalOptions::default())
}

pub fn open_store_with(
    fs: &MemFs,
    recorder: &Rc<Recorder>,
    config: RaftConfig,
    regions: &[u64],
    options: JournalOptions,
) -> Store {
    let journal = open_journal(fs, options);
    block_on(RaftStore::open(journal, TestMachine(recorder.clone()), config, regions)).expect("store opens")
}

/// Runs rounds until no region has work (bounded).
pub fn settle(store: &Store) {
    for _ in 0..10 {
        if !store.has_work() {
            return;
        }
        block_on(store.process_ready_round()).expect("round succeeds");
    }
    panic!("store did not settle within 10 rounds");
}
