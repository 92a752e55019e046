//! Options of a raft store (one per core) and their translation to raft-rs's `Config`.

use crate::error::{RaftError, Result};

/// Options of a [`crate::RaftStore`].
///
/// Times are in ticks of `tick_interval_ms`; the caller calls `RaftStore::tick` at that
/// interval. Defaults suit a latency-oriented server: 100 ms ticks, a heartbeat every 200 ms,
/// an election timeout of 1 s to 2 s (raft-rs randomises it in `[election, 2 x election)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RaftConfig {
    /// This node's id; it is also its peer id in every region (one peer per node per region).
    pub node_id: u64,
    /// Ticks without a leader before a follower campaigns.
    pub election_tick: usize,
    /// Ticks between a leader's heartbeats.
    pub heartbeat_tick: usize,
    /// How often the caller ticks the store.
    pub tick_interval_ms: u64,
    /// Append messages in flight per follower.
    pub max_inflight_msgs: usize,
    /// Byte budget of one append message.
    pub max_size_per_msg_bytes: u64,
    /// Proposals are refused (`Dropped`) while a region has this many uncommitted bytes.
    pub max_uncommitted_size_bytes: u64,
    /// A leader steps down when it has not heard from a quorum for an election timeout.
    pub check_quorum: bool,
    /// Pre-vote before campaigning, so a rejoining partitioned node does not disrupt.
    pub pre_vote: bool,
    /// fdatasync the journal in each ready round that persists entries or votes
    /// (`appendfsync always`). Off, writes reach the journal but are synced by the caller
    /// (`everysec`) or by nobody (`no`).
    pub sync_log: bool,
    /// Proposals queued for the same round are merged into one log entry whose data is their
    /// concatenation, up to this many bytes per entry (0: every proposal is its own entry).
    /// Only for a state machine that reads concatenated data as the sequence of its parts and
    /// whose output for the merged entry is every part's outcome (all succeed or all fail):
    /// each merged proposer receives a clone of that output. A proposal larger than the limit
    /// gets an entry of its own. It saves the per-entry work of raft and the journal (one
    /// entry, one waiter key, one apply) when many proposals arrive together.
    pub merge_proposals_up_to_bytes: usize,
}

impl Default for RaftConfig {
    fn default() -> Self {
        RaftConfig {
            node_id: 1,
            election_tick: 10,
            heartbeat_tick: 2,
            tick_interval_ms: 100,
            max_inflight_msgs: 256,
            max_size_per_msg_bytes: 1 << 20,
            max_uncommitted_size_bytes: 64 << 20,
            check_quorum: true,
            pre_vote: true,
            sync_log: true,
            merge_proposals_up_to_bytes: 0,
        }
    }
}

impl RaftConfig {
    /// Checks the options.
    pub fn validate(&self) -> Result<()> {
        let invalid = |name, reason: String| Err(RaftError::InvalidConfig { name, reason });
        if self.node_id == 0 {
            return invalid("node_id", "0 is reserved by raft for \"no node\"".into());
        }
        if self.heartbeat_tick == 0 {
            return invalid("heartbeat_tick", "must be at least 1".into());
        }
        if self.election_tick <= self.heartbeat_tick {
            return invalid("election_tick", format!("must exceed heartbeat_tick ({})", self.heartbeat_tick));
        }
        if self.tick_interval_ms == 0 {
            return invalid("tick_interval_ms", "must be at least 1".into());
        }
        if self.max_inflight_msgs == 0 {
            return invalid("max_inflight_msgs", "must be at least 1".into());
        }
        if self.max_uncommitted_size_bytes == 0 {
            return invalid("max_uncommitted_size_bytes", "must be at least 1".into());
        }
        self.raft_config(0)
            .validate()
            .map_err(|error| RaftError::InvalidConfig { name: "raft", reason: error.to_string() })
    }

    /// raft-rs's config for one region whose state machine has applied up to `applied`.
    pub(crate) fn raft_config(&self, applied: u64) -> raft::Config {
        raft::Config {
            id: self.node_id,
            election_tick: self.election_tick,
            heartbeat_tick: self.heartbeat_tick,
            applied,
            max_size_per_msg: self.max_size_per_msg_bytes,
            max_inflight_msgs: self.max_inflight_msgs,
            check_quorum: self.check_quorum,
            pre_vote: self.pre_vote,
            // Leases are NoKV's own (see `RaftStore::read_index`); raft stays in Safe mode.
            read_only_option: raft::ReadOnlyOption::Safe,
            skip_bcast_commit: true,
            max_uncommitted_size: self.max_uncommitted_size_bytes,
            ..raft::Config::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid() {
        RaftConfig::default().validate().expect("defaults validate");
    }

    #[test]
    fn rejects_out_of_range_values() {
        let bad = [
            RaftConfig { node_id: 0, ..RaftConfig::default() },
            RaftConfig { heartbeat_tick: 0, ..RaftConfig::default() },
            RaftConfig { election_tick: 2, heartbeat_tick: 2, ..RaftConfig::default() },
            RaftConfig { tick_interval_ms: 0, ..RaftConfig::default() },
            RaftConfig { max_inflight_msgs: 0, ..RaftConfig::default() },
        ];
        for config in bad {
            assert!(matches!(config.validate(), Err(RaftError::InvalidConfig { .. })), "{config:?}");
        }
    }
}
