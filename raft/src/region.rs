//! One region (raft group) on its owner core: its `RawNode`, its log view, the proposals
//! queued for the next ready round and the proposers waiting for their entries.
//!
//! Nothing here awaits: the ready round (`crate::ready`) and the store call these short
//! synchronous steps, so no `RefCell` borrow is ever held across an await.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;

use nokv_engine::io::FileSystem;
use raft::eraftpb::{ConfChange, ConfChangeV2, Entry, EntryType, Message};
use raft::{RawNode, StateRole};

use crate::config::RaftConfig;
use crate::error::{RaftError, Result};
use crate::storage::{Loaded, RegionStorage, decode_message};
use crate::waiter::Sender;

/// Work handed to a region between rounds, applied to its `RawNode` at the start of the next
/// round (raft-rs forbids touching a node between `ready()` and `advance`).
pub enum Inbound<O> {
    /// A client proposal and where its outcome goes.
    Propose { data: Vec<u8>, sender: Sender<O> },
    /// A raft message from a peer.
    Step(Box<Message>),
}

/// A proposer waiting for the entry it was given: `(term, index)` in the log.
struct Waiter<O> {
    term: u64,
    sender: Sender<O>,
}

/// One raft group. See the module doc.
pub struct Region<F: FileSystem, O> {
    pub id: u64,
    pub node: RefCell<RawNode<RegionStorage<F>>>,
    pub storage: RegionStorage<F>,
    pub inbox: RefCell<Vec<Inbound<O>>>,
    /// Proposers by log index; each index holds at most one.
    waiters: RefCell<BTreeMap<u64, Waiter<O>>>,
    /// Highest index handed to the state machine.
    pub applied_index: Cell<u64>,
    /// The in-memory hard state differs from the journal's.
    pub hard_state_dirty: Cell<bool>,
    /// The in-memory membership differs from the journal's.
    pub conf_state_dirty: Cell<bool>,
}

impl<F: FileSystem, O> Region<F, O> {
    /// Builds the region's `RawNode` over its loaded storage.
    pub fn new(id: u64, loaded: Loaded<F>, config: &RaftConfig, logger: &slog::Logger) -> Result<Self> {
        let raft_config = config.raft_config(loaded.applied_index);
        let logger = logger.new(slog::o!("region_id" => id));
        let node = RawNode::new(&raft_config, loaded.storage.clone(), &logger)?;
        Ok(Region {
            id,
            node: RefCell::new(node),
            storage: loaded.storage,
            inbox: RefCell::new(Vec::new()),
            waiters: RefCell::new(BTreeMap::new()),
            applied_index: Cell::new(loaded.applied_index),
            hard_state_dirty: Cell::new(false),
            conf_state_dirty: Cell::new(false),
        })
    }

    /// A group whose only voter is this node elects itself at once instead of waiting for an
    /// election timeout.
    pub fn campaign_if_sole_voter(&self, node_id: u64) -> Result<()> {
        let conf_state = self.storage.conf_state();
        if conf_state.voters == [node_id] && conf_state.learners.is_empty() {
            self.node.borrow_mut().campaign()?;
        }
        Ok(())
    }

    /// The leader this node knows of.
    pub fn leader(&self) -> Option<u64> {
        let leader_id = self.node.borrow().raft.leader_id;
        (leader_id != raft::INVALID_ID).then_some(leader_id)
    }

    /// True when this node leads the region.
    pub fn is_leader(&self) -> bool {
        self.node.borrow().raft.state == StateRole::Leader
    }

    /// `NotLeader` with the known leader as hint.
    pub fn not_leader(&self) -> RaftError {
        RaftError::NotLeader { region_id: self.id, leader_hint: self.leader() }
    }

    /// True when the next round has something to do for this region.
    pub fn has_work(&self) -> bool {
        !self.inbox.borrow().is_empty() || self.node.borrow().has_ready()
    }

    /// Feeds queued ticks, messages and proposals to the node.
    pub fn handle_inbound(&self, ticks: u32) {
        let mut node = self.node.borrow_mut();
        for _ in 0..ticks {
            node.tick();
        }
        let inbound = std::mem::take(&mut *self.inbox.borrow_mut());
        for item in inbound {
            match item {
                Inbound::Propose { data, sender } => self.propose(&mut node, data, sender),
                Inbound::Step(message) => {
                    if let Err(error) = node.step(*message) {
                        tracing::debug!(region_id = self.id, %error, "raft message rejected");
                    }
                }
            }
        }
    }

    /// Proposes to raft and remembers the proposer by the `(term, index)` raft gave the entry.
    fn propose(&self, node: &mut RawNode<RegionStorage<F>>, data: Vec<u8>, sender: Sender<O>) {
        if let Err(error) = node.propose(Vec::new(), data) {
            let refusal = if node.raft.state == StateRole::Leader {
                RaftError::Dropped { region_id: self.id }
            } else {
                tracing::trace!(region_id = self.id, %error, "proposal to a non-leader");
                RaftError::NotLeader {
                    region_id: self.id,
                    leader_hint: (node.raft.leader_id != raft::INVALID_ID).then_some(node.raft.leader_id),
                }
            };
            sender.send(Err(refusal));
            return;
        }
        let index = node.raft.raft_log.last_index();
        let term = node.raft.term;
        let replaced = self.waiters.borrow_mut().insert(index, Waiter { term, sender });
        if let Some(stale) = replaced {
            // The older proposal's entry was overwritten before it was applied.
            stale.sender.send(Err(RaftError::Dropped { region_id: self.id }));
        }
    }

    /// Hands the state machine's output to the proposer of `(term, index)`, if any; a proposer
    /// waiting at `index` for another term lost its entry.
    pub fn resolve(&self, index: u64, term: u64, output: O) {
        let Some(waiter) = self.waiters.borrow_mut().remove(&index) else { return };
        if waiter.term == term {
            waiter.sender.send(Ok(output));
        } else {
            waiter.sender.send(Err(RaftError::Dropped { region_id: self.id }));
        }
    }

    /// Fails the proposer waiting at `index`, if any (its slot holds a non-normal entry).
    pub fn drop_waiter(&self, index: u64) {
        if let Some(waiter) = self.waiters.borrow_mut().remove(&index) {
            waiter.sender.send(Err(RaftError::Dropped { region_id: self.id }));
        }
    }

    /// Applies a committed membership change to raft and the log view.
    pub fn apply_conf_change(&self, entry: &Entry) -> Result<()> {
        let conf_state = match entry.get_entry_type() {
            EntryType::EntryConfChange => {
                let change: ConfChange = decode_message(entry.get_data(), "conf change")?;
                self.node.borrow_mut().apply_conf_change(&change)?
            }
            _ => {
                let change: ConfChangeV2 = decode_message(entry.get_data(), "conf change v2")?;
                self.node.borrow_mut().apply_conf_change(&change)?
            }
        };
        self.storage.set_conf_state(conf_state);
        self.conf_state_dirty.set(true);
        Ok(())
    }

    /// Fails every waiting and queued proposal with `error` (kept: queued peer messages).
    pub fn fail_proposals(&self, error: impl Fn() -> RaftError) {
        for (_, waiter) in std::mem::take(&mut *self.waiters.borrow_mut()) {
            waiter.sender.send(Err(error()));
        }
        let mut inbox = self.inbox.borrow_mut();
        for item in std::mem::take(&mut *inbox) {
            match item {
                Inbound::Propose { sender, .. } => sender.send(Err(error())),
                step @ Inbound::Step(_) => inbox.push(step),
            }
        }
    }

    /// Drops every waiter and queued proposal; their proposers see `Closed`.
    pub fn close(&self) {
        self.waiters.borrow_mut().clear();
        self.inbox.borrow_mut().clear();
    }

    /// Number of proposers waiting for their entry.
    pub fn waiting_proposals(&self) -> usize {
        self.waiters.borrow().len()
    }
}
