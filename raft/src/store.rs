//! The raft store of one core: every region the core owns, their shared journal, the state
//! machine, and the entry points the shard calls (propose, tick, read, compact). The ready
//! round itself lives in `crate::ready`.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::rc::Rc;

use nokv_engine::io::FileSystem;
use nokv_engine::journal::{Journal, JournalBatch};
use nokv_engine::sync::{LocalMutex, Notify};
use raft::StateRole;
use raft::eraftpb::Message;

use crate::config::RaftConfig;
use crate::error::{RaftError, Result};
use crate::logger::tracing_logger;
use crate::ready::StuckRound;
use crate::region::{Inbound, Region};
use crate::state_machine::StateMachine;
use crate::storage::{RegionStorage, TRUNCATED_STATE_KEY};
use crate::waiter;

/// A snapshot of one region's raft progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionStatus {
    /// The region.
    pub region_id: u64,
    /// This node's role in it.
    pub role: StateRole,
    /// The current term.
    pub term: u64,
    /// The leader this node knows of.
    pub leader_id: Option<u64>,
    /// Index of the first entry still in the log.
    pub first_index: u64,
    /// Index of the last entry.
    pub last_index: u64,
    /// The commit index.
    pub commit_index: u64,
    /// The highest index handed to the state machine.
    pub applied_index: u64,
    /// Entries held in memory (all unapplied ones; see `storage`).
    pub cached_entries: usize,
    /// Proposers waiting for their entries.
    pub waiting_proposals: usize,
}

/// The regions of a store by id.
pub(crate) type RegionMap<F, O> = BTreeMap<u64, Rc<Region<F, O>>>;

/// Counters since open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RaftStoreStats {
    /// Ready rounds run.
    pub rounds: u64,
    /// Journal appends issued by rounds (at most one per round).
    pub journal_writes: u64,
    /// Entries handed to the state machine.
    pub entries_applied: u64,
}

/// The Multi-Raft store of one core. See the crate doc for how to drive it.
pub struct RaftStore<F: FileSystem, S: StateMachine> {
    pub(crate) config: RaftConfig,
    pub(crate) journal: Rc<Journal<F>>,
    pub(crate) state_machine: S,
    pub(crate) regions: RefCell<RegionMap<F, S::Output>>,
    pub(crate) pending_ticks: Cell<u32>,
    /// Fired when a region got work (a proposal, a message, a tick).
    pub(crate) work: Notify,
    /// Fired after every round's apply (and on close).
    pub(crate) applied: Notify,
    /// Rounds never overlap.
    pub(crate) round_lock: LocalMutex,
    pub(crate) closed: Cell<bool>,
    /// Set while a round runs; still set at the start of a round if the last one was dropped.
    pub(crate) round_running: Cell<bool>,
    /// Messages for other nodes, in send order (empty while every group has one voter).
    pub(crate) outbox: RefCell<Vec<Message>>,
    pub(crate) stats: Cell<RaftStoreStats>,
    /// A round whose journal write failed, waiting to be persisted by a later round.
    pub(crate) stuck: RefCell<Option<StuckRound<F, S::Output>>>,
    /// Why the last journal write failed, while a round is stuck (proposals are refused).
    pub(crate) disk_error: RefCell<Option<String>>,
}

impl<F: FileSystem, S: StateMachine> fmt::Debug for RaftStore<F, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RaftStore")
            .field("node_id", &self.config.node_id)
            .field("regions", &self.regions.borrow().keys().collect::<Vec<_>>())
            .field("stats", &self.stats.get())
            .finish_non_exhaustive()
    }
}

impl<F: FileSystem, S: StateMachine> RaftStore<F, S>
where
    S::Output: 'static,
{
    /// Opens the store: restarts every region in `region_ids` from the journal, bootstraps
    /// the ones the journal does not know as one-voter groups of `config.node_id` (persisting
    /// their membership), and lets one-voter groups campaign, so they lead after the first
    /// round. Committed entries after the state machine's `applied_index` are re-applied by
    /// the first rounds.
    pub async fn open(
        journal: Rc<Journal<F>>,
        state_machine: S,
        config: RaftConfig,
        region_ids: &[u64],
    ) -> Result<RaftStore<F, S>> {
        config.validate()?;
        let logger = tracing_logger().new(slog::o!("node_id" => config.node_id));
        let mut regions = BTreeMap::new();
        let mut batch = JournalBatch::new();
        for &region_id in region_ids {
            let applied = state_machine.applied_index(region_id);
            let loaded = RegionStorage::load(journal.clone(), region_id, config.node_id, applied).await?;
            for (key, value) in &loaded.states_to_write {
                batch.put_state(region_id, *key, value.clone());
            }
            let region = Region::new(region_id, loaded, &config, &logger)?;
            if regions.insert(region_id, Rc::new(region)).is_some() {
                return Err(RaftError::InvalidArgument(format!("region {region_id} listed twice")));
            }
        }
        if !batch.is_empty() {
            journal.append(batch, true).await?;
        }
        for region in regions.values() {
            region.campaign_if_sole_voter(config.node_id)?;
        }
        Ok(RaftStore {
            config,
            journal,
            state_machine,
            regions: RefCell::new(regions),
            pending_ticks: Cell::new(0),
            work: Notify::new(),
            applied: Notify::new(),
            round_lock: LocalMutex::new(),
            closed: Cell::new(false),
            round_running: Cell::new(false),
            outbox: RefCell::new(Vec::new()),
            stats: Cell::new(RaftStoreStats::default()),
            stuck: RefCell::new(None),
            disk_error: RefCell::new(None),
        })
    }

    /// Proposes `data` to a region. The proposal is queued when this is called (so proposals
    /// made in a row enter the log in that order); the future resolves with what
    /// `StateMachine::apply` returned for the entry, once it is committed and applied, and
    /// does not borrow the store. Errors: `NotLeader`, `Dropped` (retry), `RegionNotFound`,
    /// `Closed`.
    pub fn propose(&self, region_id: u64, data: Vec<u8>) -> impl Future<Output = Result<S::Output>> + use<F, S> {
        let queued = self.queue_proposal(region_id, data);
        async move { queued?.await }
    }

    fn queue_proposal(&self, region_id: u64, data: Vec<u8>) -> Result<waiter::Receiver<S::Output>> {
        let region = self.region(region_id)?;
        if let Some(reason) = self.disk_error() {
            return Err(RaftError::DiskError { reason });
        }
        if !region.is_leader() {
            return Err(region.not_leader());
        }
        let (sender, receiver) = waiter::channel();
        region.inbox.borrow_mut().push(Inbound::Propose { data, sender });
        self.work.notify_all();
        Ok(receiver)
    }

    /// Queues a raft message from a peer for the next round.
    pub fn step(&self, region_id: u64, message: Message) -> Result<()> {
        let region = self.region(region_id)?;
        region.inbox.borrow_mut().push(Inbound::Step(Box::new(message)));
        self.work.notify_all();
        Ok(())
    }

    /// Takes the messages rounds produced for other nodes, in send order (for the transport).
    pub fn take_messages(&self) -> Vec<Message> {
        std::mem::take(&mut *self.outbox.borrow_mut())
    }

    /// Advances every region's logical clock by one tick; call it every `tick_interval_ms`.
    /// The ticks are fed to the nodes by the next round.
    pub fn tick(&self) {
        self.pending_ticks.set(self.pending_ticks.get().saturating_add(1));
        self.work.notify_all();
    }

    /// The signal fired whenever a region gets work; see `drive_once`.
    pub fn work_signal(&self) -> &Notify {
        &self.work
    }

    /// True when a round would have something to do.
    pub fn has_work(&self) -> bool {
        self.closed.get()
            || self.stuck.borrow().is_some()
            || self.pending_ticks.get() > 0
            || self.region_list().iter().any(|region| region.has_work())
    }

    /// Why the journal refuses writes, while a round is stuck on a failed journal write
    /// (`None` once a retry succeeded). Proposals fail with `DiskError` meanwhile; reads work.
    pub fn disk_error(&self) -> Option<String> {
        self.disk_error.borrow().clone()
    }

    /// Waits until some region has work, then runs one ready round. The shard spawns one
    /// task per core on its raft task queue:
    /// `loop { if let Err(e) = store.drive_once().await { /* Closed: stop; DiskError: sleep
    /// (backoff up to a second), then drive again, which retries the stuck write */ } }`,
    /// plus a timer task calling `tick()` every `tick_interval_ms`.
    pub async fn drive_once(&self) -> Result<()> {
        loop {
            // Subscribe before checking, so work queued in between is not missed.
            let notified = self.work.notified();
            if self.has_work() {
                break;
            }
            notified.await;
        }
        self.process_ready_round().await
    }

    /// Resolves once a read of `region_id` may be served from the state machine: this node
    /// leads the region, its leader has committed an entry of its term (so the commit index
    /// covers every write acknowledged by any earlier leader), and the state machine has
    /// applied up to the commit index seen at that point.
    ///
    /// One voter: leadership cannot be lost to another node, so this is linearizable as is.
    /// With more voters (next phase) the commit index must first be confirmed: a valid leader
    /// lease (an `Instant` comparison; lease < election timeout, renewed by heartbeats and
    /// commits that reached a quorum, TiKV-style) serves at once, otherwise raft-rs's
    /// `read_index` (Safe mode) confirms leadership with a heartbeat round, retried when raft
    /// drops it before the leader committed in its term.
    pub async fn read_index(&self, region_id: u64) -> Result<()> {
        let region = self.region(region_id)?;
        let target = loop {
            let notified = self.applied.notified();
            if let Some(commit) = self.read_target(&region)? {
                break commit;
            }
            notified.await;
        };
        loop {
            let notified = self.applied.notified();
            if region.applied_index.get() >= target {
                return Ok(());
            }
            if self.closed.get() {
                return Err(RaftError::Closed);
            }
            notified.await;
        }
    }

    fn read_target(&self, region: &Region<F, S::Output>) -> Result<Option<u64>> {
        if self.closed.get() {
            return Err(RaftError::Closed);
        }
        let node = region.node.borrow();
        if node.raft.state != StateRole::Leader {
            return Err(region.not_leader());
        }
        Ok(node.raft.commit_to_current_term().then_some(node.raft.raft_log.committed))
    }

    /// Drops a region's log up to and including `index` (the caller's state machine made
    /// everything up to it durable: the engine's flushed watermark), records the truncation
    /// durably, then lets the journal delete segments no region needs any more.
    pub async fn compact_log(&self, region_id: u64, index: u64) -> Result<()> {
        let region = self.region(region_id)?;
        let applied = region.applied_index.get();
        if index > applied {
            return Err(RaftError::InvalidArgument(format!(
                "region {region_id}: cannot compact to {index}, only {applied} is applied"
            )));
        }
        let truncated_state = region.storage.compact_to(index)?;
        let mut batch = JournalBatch::new();
        batch.put_state(region_id, TRUNCATED_STATE_KEY, truncated_state);
        // The truncation is durable before the journal may forget the entries.
        self.journal.append(batch, true).await?;
        self.journal.compact_to(region_id, index + 1);
        self.journal.purge().await?;
        Ok(())
    }

    /// True when this node leads `region_id` (false for an unknown region).
    pub fn is_leader(&self, region_id: u64) -> bool {
        self.region(region_id).is_ok_and(|region| region.is_leader())
    }

    /// The leader of `region_id` this node knows of.
    pub fn leader(&self, region_id: u64) -> Option<u64> {
        self.region(region_id).ok().and_then(|region| region.leader())
    }

    /// The regions of this store, ascending.
    pub fn regions(&self) -> Vec<u64> {
        self.regions.borrow().keys().copied().collect()
    }

    /// A region's raft progress.
    pub fn status(&self, region_id: u64) -> Result<RegionStatus> {
        let region = self.region(region_id)?;
        let node = region.node.borrow();
        Ok(RegionStatus {
            region_id,
            role: node.raft.state,
            term: node.raft.term,
            leader_id: region.leader(),
            first_index: region.storage.first_index(),
            last_index: node.raft.raft_log.last_index(),
            commit_index: node.raft.raft_log.committed,
            applied_index: region.applied_index.get(),
            cached_entries: region.storage.cached_entries(),
            waiting_proposals: region.waiting_proposals(),
        })
    }

    /// Counters since open.
    pub fn stats(&self) -> RaftStoreStats {
        self.stats.get()
    }

    /// The state machine.
    pub fn state_machine(&self) -> &S {
        &self.state_machine
    }

    /// The core's journal.
    pub fn journal(&self) -> &Rc<Journal<F>> {
        &self.journal
    }

    /// Stops the store: every waiting and queued proposal fails with `Closed`, later calls
    /// fail with `Closed`.
    pub fn close(&self) {
        self.closed.set(true);
        for region in self.region_list() {
            region.close();
        }
        self.applied.notify_all();
        self.work.notify_all();
    }

    pub(crate) fn region(&self, region_id: u64) -> Result<Rc<Region<F, S::Output>>> {
        if self.closed.get() {
            return Err(RaftError::Closed);
        }
        self.regions.borrow().get(&region_id).cloned().ok_or(RaftError::RegionNotFound(region_id))
    }

    /// The regions, cloned out so no borrow of the map outlives a step.
    pub(crate) fn region_list(&self) -> Vec<Rc<Region<F, S::Output>>> {
        self.regions.borrow().values().cloned().collect()
    }

    pub(crate) fn update_stats(&self, update: impl FnOnce(&mut RaftStoreStats)) {
        let mut stats = self.stats.get();
        update(&mut stats);
        self.stats.set(stats);
    }
}
