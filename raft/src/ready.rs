//! The ready round: one pass over every region of a core with one journal write for all.
//!
//! # Order (raft-rs's synchronous order, design-research 1.2, batched over regions)
//! ```text
//! 0. inbound    per region: queued entry fetches (journal reads), ticks, peer messages and
//!               proposals are fed to the RawNode; a proposal's waiter is keyed by the
//!               (term, index) raft gave its entry
//! 1. collect    per region with has_ready(): rd = ready()
//!                 a. rd.take_messages() -> outbox       (leader only: sent before persisting)
//!                 b. rd.snapshot() non-empty -> error   (snapshots come with multi-voter)
//!                 c. rd.take_committed_entries()        (kept, applied in step 4)
//!                 d. rd.entries() -> entry cache + batch; rd.hs() -> hard state (+ batch)
//!                    (a hard state that only moved the commit index is written lazily)
//!               then every region's dirty hard state / conf state joins a non-empty batch
//! 2. persist    ONE journal.append(batch, sync = sync_log && any rd.must_sync())
//! 3. advance    per region: rd.take_persisted_messages() -> outbox;
//!               light = advance_append(rd); light.commit_index() -> hard state (written
//!               with the next batch); light.take_messages() -> outbox;
//!               light.take_committed_entries() appended to 1c's
//! 4. apply      per region, in log order: StateMachine::apply, resolve the waiter of
//!               (term, index) (another term at that index: Dropped); conf changes go to
//!               RawNode::apply_conf_change; then advance_apply_to(applied) and evict
//!               applied entries from the cache
//! ```
//! Between steps 1 and 3 the round awaits the journal; meanwhile callers only queue work
//! (step 0 of the next round), so no RawNode is touched between its `ready()` and `advance`.
//! Rounds never overlap (a lock); a round must run to completion: dropping its future midway
//! closes the store at the next round.
//!
//! # A failed journal write (a full disk)
//! raft-rs cannot take back a ready, so a round whose journal write fails is kept as it is
//! (`StuckRound`: its batch and its readies, between steps 2 and 3) and the round returns
//! `DiskError`. Every waiting and queued proposal fails with `DiskError` (not acknowledged; the
//! entries of the stuck round may still commit once it is persisted), and `propose` refuses
//! with `DiskError` while the round is stuck. The journal rewinds over the failed write itself
//! (see `nokv_engine::journal`). The next round (the driver retries after a pause) first
//! writes the stuck batch again; once that succeeds it advances and applies the stuck readies
//! and clears the error, then runs as usual. No node is touched in between, and reads keep
//! working: the commit index does not move while the round is stuck.

use std::rc::Rc;

use nokv_engine::io::FileSystem;
use nokv_engine::journal::JournalBatch;
use raft::Ready;
use raft::eraftpb::{Entry, EntryType};

use crate::error::{RaftError, Result};
use crate::region::Region;
use crate::state_machine::StateMachine;
use crate::storage::{CONF_STATE_KEY, HARD_STATE_KEY, stage_entry};
use crate::store::RaftStore;

/// A region's ready between collect and advance.
struct PendingReady<F: FileSystem, O> {
    region: Rc<Region<F, O>>,
    ready: Ready,
    committed: Vec<Entry>,
}

/// What one region applies in step 4.
type ApplyWork<F, O> = (Rc<Region<F, O>>, Vec<Entry>);

/// A round between its collect and its advance: the journal batch to persist and the readies.
pub(crate) struct StuckRound<F: FileSystem, O> {
    batch: Rc<JournalBatch>,
    sync: bool,
    pending: Vec<PendingReady<F, O>>,
}

impl<F: FileSystem, S: StateMachine> RaftStore<F, S>
where
    S::Output: 'static,
{
    /// Runs one ready round over every region with work (see the module doc for the order).
    pub async fn process_ready_round(&self) -> Result<()> {
        let _round = self.round_lock.lock().await;
        if self.closed.get() {
            return Err(RaftError::Closed);
        }
        if self.round_running.replace(true) {
            // The previous round's future was dropped between a ready and its advance: raft's
            // idea of what is durable is unknown, exactly as after a failed journal write.
            tracing::error!("a raft ready round was cancelled midway; closing the raft store");
            self.close();
            return Err(RaftError::Closed);
        }
        let result = self.run_round().await;
        self.round_running.set(false);
        match &result {
            Ok(()) | Err(RaftError::DiskError { .. }) => {}
            Err(error) => {
                tracing::error!(%error, "raft ready round failed; closing the raft store");
                self.close();
            }
        }
        self.update_stats(|stats| stats.rounds += 1);
        result
    }

    async fn run_round(&self) -> Result<()> {
        let stuck = self.stuck.borrow_mut().take();
        if let Some(stuck) = stuck {
            self.persist_and_apply(stuck).await?;
        }
        let regions = self.region_list();
        self.feed_inbound(&regions).await?;
        let mut batch = JournalBatch::new();
        let mut must_sync = false;
        let mut pending = Vec::new();
        for region in &regions {
            if let Some(ready) = self.collect_ready(region, &mut batch, &mut must_sync)? {
                pending.push(ready);
            }
        }
        if !batch.is_empty() {
            add_dirty_states(&regions, &mut batch);
        }
        let batch = Rc::new(batch);
        self.persist_and_apply(StuckRound { batch, sync: self.config.sync_log && must_sync, pending }).await
    }

    /// Steps 2 to 4. A failed journal write keeps the round for a retry (see the module doc).
    async fn persist_and_apply(&self, round: StuckRound<F, S::Output>) -> Result<()> {
        if !round.batch.is_empty() {
            // Shared, not copied: a failed write keeps the round's batch for the retry.
            if let Err(error) = self.journal.append(round.batch.clone(), round.sync).await {
                return Err(self.keep_stuck(round, &error));
            }
            self.update_stats(|stats| stats.journal_writes += 1);
            if self.disk_error.borrow_mut().take().is_some() {
                tracing::info!("raft: the journal write succeeded again; accepting writes");
            }
        }
        let work: Vec<ApplyWork<F, S::Output>> = round.pending.into_iter().map(|ready| self.advance(ready)).collect();
        for (region, entries) in work {
            self.apply_entries(&region, entries).await?;
        }
        self.applied.notify_all();
        Ok(())
    }

    /// Keeps a round whose journal write failed, fails every waiting proposal, and refuses new
    /// ones until a retry succeeds.
    fn keep_stuck(&self, round: StuckRound<F, S::Output>, error: &nokv_engine::Error) -> RaftError {
        let reason = error.reason();
        if self.disk_error.replace(Some(reason.clone())).is_none() {
            tracing::error!(%error, "raft: journal write failed; refusing writes until a retry succeeds");
        }
        for region in self.region_list() {
            region.fail_proposals(|| RaftError::DiskError { reason: reason.clone() });
        }
        *self.stuck.borrow_mut() = Some(round);
        RaftError::DiskError { reason }
    }

    /// Step 0: entry fetches raft agreed to wait for, then ticks, messages, proposals.
    async fn feed_inbound(&self, regions: &[Rc<Region<F, S::Output>>]) -> Result<()> {
        for region in regions {
            for request in region.storage.take_fetch_requests() {
                region.storage.prefetch(request.low).await?;
                region.node.borrow_mut().on_entries_fetched(request.context);
            }
        }
        let ticks = self.pending_ticks.replace(0);
        for region in regions {
            region.handle_inbound(ticks);
        }
        Ok(())
    }

    /// Step 1 for one region.
    fn collect_ready(
        &self,
        region: &Rc<Region<F, S::Output>>,
        batch: &mut JournalBatch,
        must_sync: &mut bool,
    ) -> Result<Option<PendingReady<F, S::Output>>> {
        let mut node = region.node.borrow_mut();
        if !node.has_ready() {
            return Ok(None);
        }
        let mut ready = node.ready();
        drop(node);
        self.outbox.borrow_mut().extend(ready.take_messages());
        if !ready.snapshot().is_empty() {
            return Err(RaftError::Unsupported("installing a raft snapshot"));
        }
        let committed = ready.take_committed_entries();
        if !ready.entries().is_empty() {
            region.storage.append(ready.entries());
            ready.entries().iter().for_each(|entry| stage_entry(batch, region.id, entry));
        }
        if let Some(hard_state) = ready.hs() {
            region.storage.set_hard_state(hard_state);
            if ready.must_sync() {
                // A new term or vote must be durable before any message that depends on it.
                batch.put_state(region.id, HARD_STATE_KEY, region.storage.encoded_hard_state());
                region.hard_state_dirty.set(false);
            } else {
                // Only the commit index moved: it may lag on disk (see `storage`).
                region.hard_state_dirty.set(true);
            }
        }
        *must_sync |= ready.must_sync();
        Ok(Some(PendingReady { region: region.clone(), ready, committed }))
    }

    /// Step 3 for one region.
    fn advance(&self, pending: PendingReady<F, S::Output>) -> ApplyWork<F, S::Output> {
        let PendingReady { region, mut ready, mut committed } = pending;
        self.outbox.borrow_mut().extend(ready.take_persisted_messages());
        let mut light = region.node.borrow_mut().advance_append(ready);
        if let Some(commit) = light.commit_index() {
            region.storage.set_commit(commit);
            region.hard_state_dirty.set(true);
        }
        self.outbox.borrow_mut().extend(light.take_messages());
        committed.extend(light.take_committed_entries());
        (region, committed)
    }

    /// Step 4 for one region.
    async fn apply_entries(&self, region: &Region<F, S::Output>, entries: Vec<Entry>) -> Result<()> {
        let Some(last) = entries.last().map(|entry| entry.index) else { return Ok(()) };
        for entry in &entries {
            assert_eq!(entry.index, region.applied_index.get() + 1, "region {}: entries apply in order", region.id);
            match entry.get_entry_type() {
                EntryType::EntryNormal => {
                    let output = self.state_machine.apply(region.id, entry.index, entry.term, &entry.data).await;
                    region.resolve(entry.index, entry.term, output);
                }
                EntryType::EntryConfChange | EntryType::EntryConfChangeV2 => {
                    region.apply_conf_change(entry)?;
                    region.drop_waiter(entry.index);
                }
            }
            region.applied_index.set(entry.index);
        }
        region.node.borrow_mut().advance_apply_to(last);
        region.storage.evict_applied(last);
        self.update_stats(|stats| stats.entries_applied += entries.len() as u64);
        Ok(())
    }
}

/// Hard states changed by earlier light readies and applied conf changes ride along with a
/// batch that is written anyway; they never cause a write of their own (see `storage`).
fn add_dirty_states<F: FileSystem, O>(regions: &[Rc<Region<F, O>>], batch: &mut JournalBatch) {
    for region in regions {
        if region.hard_state_dirty.replace(false) {
            batch.put_state(region.id, HARD_STATE_KEY, region.storage.encoded_hard_state());
        }
        if region.conf_state_dirty.replace(false) {
            batch.put_state(region.id, CONF_STATE_KEY, region.storage.encoded_conf_state());
        }
    }
}
