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

/// The proposers waiting for the entry they were given: `(term, index)` in the log. One entry
/// holds several proposals when they were merged (`RaftConfig::merge_proposals_up_to_bytes`).
struct Waiter<O> {
    term: u64,
    senders: Senders<O>,
}

/// The proposers of one entry: nearly always one, so the first is kept inline.
struct Senders<O> {
    first: Sender<O>,
    more: Vec<Sender<O>>,
}

impl<O> Senders<O> {
    fn one(first: Sender<O>) -> Self {
        Senders { first, more: Vec::new() }
    }

    /// Sends every proposer its own copy of `output`.
    fn send(self, output: O)
    where
        O: Clone,
    {
        for sender in self.more {
            sender.send(Ok(output.clone()));
        }
        self.first.send(Ok(output));
    }

    /// Fails every proposer with a fresh `error()`.
    fn fail(self, error: impl Fn() -> RaftError) {
        for sender in self.more {
            sender.send(Err(error()));
        }
        self.first.send(Err(error()));
    }
}

/// One entry's worth of proposals (see `Region::merge_following`).
struct Proposal<O> {
    data: Vec<u8>,
    senders: Senders<O>,
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
    /// See `RaftConfig::merge_proposals_up_to_bytes`.
    merge_up_to_bytes: usize,
    /// The in-memory hard state differs from the journal's.
    pub hard_state_dirty: Cell<bool>,
    /// The in-memory membership differs from the journal's.
    pub conf_state_dirty: Cell<bool>,
}

impl<F: FileSystem, O: Clone> Region<F, O> {
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
            merge_up_to_bytes: config.merge_proposals_up_to_bytes,
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

    /// Feeds queued ticks, messages and proposals to the node; proposals in a row are merged
    /// into one entry of up to `merge_up_to_bytes`.
    pub fn handle_inbound(&self, ticks: u32) {
        let mut node = self.node.borrow_mut();
        for _ in 0..ticks {
            node.tick();
        }
        let mut taken = std::mem::take(&mut *self.inbox.borrow_mut());
        let mut items = taken.drain(..);
        while let Some(item) = items.next() {
            match item {
                Inbound::Propose { data, sender } => {
                    let proposal = self.merge_following(data, sender, &mut items);
                    self.propose(&mut node, proposal);
                }
                Inbound::Step(message) => {
                    if let Err(error) = node.step(*message) {
                        tracing::debug!(region_id = self.id, %error, "raft message rejected");
                    }
                }
            }
        }
        drop(items);
        // The emptied queue goes back, so the next round's proposals do not grow a new one
        // from nothing (at -P16, 50 clients: a reallocation per doubling, every round).
        let mut inbox = self.inbox.borrow_mut();
        if inbox.is_empty() {
            *inbox = taken;
        }
    }

    /// A proposal of `data`, merged with the proposals that follow it in `items` while the
    /// merged data fits in `merge_up_to_bytes`. The buffer is allocated at its final size: the
    /// entry's buffer lives as long as any value sliced from it.
    fn merge_following(
        &self,
        data: Vec<u8>,
        sender: Sender<O>,
        items: &mut std::vec::Drain<'_, Inbound<O>>,
    ) -> Proposal<O> {
        let mut merged_bytes = data.len();
        let mut count = 0;
        for next in items.as_slice() {
            match next {
                Inbound::Propose { data, .. } if merged_bytes + data.len() <= self.merge_up_to_bytes => {
                    merged_bytes += data.len();
                    count += 1;
                }
                _ => break,
            }
        }
        let mut senders = Senders::one(sender);
        if count == 0 {
            return Proposal { data, senders };
        }
        let mut merged = Vec::with_capacity(merged_bytes);
        merged.extend_from_slice(&data);
        senders.more.reserve_exact(count);
        for next in items.take(count) {
            if let Inbound::Propose { data, sender } = next {
                merged.extend_from_slice(&data);
                senders.more.push(sender);
            }
        }
        Proposal { data: merged, senders }
    }

    /// Proposes to raft and remembers the proposers by the `(term, index)` raft gave the entry.
    fn propose(&self, node: &mut RawNode<RegionStorage<F>>, proposal: Proposal<O>) {
        let Proposal { data, senders } = proposal;
        if let Err(error) = node.propose(Vec::new(), data) {
            let leads = node.raft.state == StateRole::Leader;
            if !leads {
                tracing::trace!(region_id = self.id, %error, "proposal to a non-leader");
            }
            let leader_hint = (node.raft.leader_id != raft::INVALID_ID).then_some(node.raft.leader_id);
            senders.fail(|| match leads {
                true => RaftError::Dropped { region_id: self.id },
                false => RaftError::NotLeader { region_id: self.id, leader_hint },
            });
            return;
        }
        let index = node.raft.raft_log.last_index();
        let term = node.raft.term;
        let replaced = self.waiters.borrow_mut().insert(index, Waiter { term, senders });
        if let Some(stale) = replaced {
            // The older proposals' entry was overwritten before it was applied.
            stale.senders.fail(|| RaftError::Dropped { region_id: self.id });
        }
    }

    /// Hands the state machine's output to the proposer of `(term, index)`, if any; a proposer
    /// waiting at `index` for another term lost its entry.
    pub fn resolve(&self, index: u64, term: u64, output: O) {
        let Some(waiter) = self.waiters.borrow_mut().remove(&index) else { return };
        if waiter.term == term {
            waiter.senders.send(output);
        } else {
            waiter.senders.fail(|| RaftError::Dropped { region_id: self.id });
        }
    }

    /// Fails the proposer waiting at `index`, if any (its slot holds a non-normal entry).
    pub fn drop_waiter(&self, index: u64) {
        if let Some(waiter) = self.waiters.borrow_mut().remove(&index) {
            waiter.senders.fail(|| RaftError::Dropped { region_id: self.id });
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
            waiter.senders.fail(&error);
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
        self.waiters.borrow().values().map(|waiter| 1 + waiter.senders.more.len()).sum()
    }
}
