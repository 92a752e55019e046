//! [`ServerStats`]: one core's connection counters, read by INFO (`clients` and `stats`
//! sections). Each core keeps its own; `shard` sums their [`StatsSnapshot`]s.

use std::cell::Cell;

/// Counters of one core's server. Single-threaded: plain `Cell`s.
#[derive(Debug, Default)]
pub struct ServerStats {
    connections_received: Cell<u64>,
    rejected_connections: Cell<u64>,
    commands_processed: Cell<u64>,
    error_replies: Cell<u64>,
    net_input_bytes: Cell<u64>,
    net_output_bytes: Cell<u64>,
    reads_processed: Cell<u64>,
    writes_processed: Cell<u64>,
    connected_clients: Cell<u64>,
    output_buffer_limit_disconnections: Cell<u64>,
}

/// A copy of the counters, `Send` so it can cross cores for INFO.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StatsSnapshot {
    /// `total_connections_received`.
    pub connections_received: u64,
    /// `rejected_connections` (maxclients).
    pub rejected_connections: u64,
    /// `total_commands_processed`: requests run by the handler (QUIT included, rejected ones not).
    pub commands_processed: u64,
    /// `total_error_replies`: error replies sent, rejections included.
    pub error_replies: u64,
    /// `total_net_input_bytes`.
    pub net_input_bytes: u64,
    /// `total_net_output_bytes`.
    pub net_output_bytes: u64,
    /// `total_reads_processed`: socket reads that returned bytes.
    pub reads_processed: u64,
    /// `total_writes_processed`: reply writes (one per read that produced replies).
    pub writes_processed: u64,
    /// `connected_clients` on this core.
    pub connected_clients: u64,
    /// `client_output_buffer_limit_disconnections`: clients closed for going over
    /// `client-output-buffer-limit`.
    pub output_buffer_limit_disconnections: u64,
}

fn add(cell: &Cell<u64>, amount: u64) {
    cell.set(cell.get().saturating_add(amount));
}

impl ServerStats {
    /// The counters' current values.
    pub fn snapshot(&self) -> StatsSnapshot {
        StatsSnapshot {
            connections_received: self.connections_received.get(),
            rejected_connections: self.rejected_connections.get(),
            commands_processed: self.commands_processed.get(),
            error_replies: self.error_replies.get(),
            net_input_bytes: self.net_input_bytes.get(),
            net_output_bytes: self.net_output_bytes.get(),
            reads_processed: self.reads_processed.get(),
            writes_processed: self.writes_processed.get(),
            connected_clients: self.connected_clients.get(),
            output_buffer_limit_disconnections: self.output_buffer_limit_disconnections.get(),
        }
    }

    /// CONFIG RESETSTAT: zero every counter except the connected clients.
    pub fn reset(&self) {
        for counter in [
            &self.connections_received,
            &self.rejected_connections,
            &self.commands_processed,
            &self.error_replies,
            &self.net_input_bytes,
            &self.net_output_bytes,
            &self.reads_processed,
            &self.writes_processed,
            &self.output_buffer_limit_disconnections,
        ] {
            counter.set(0);
        }
    }

    pub(crate) fn connection_accepted(&self) {
        add(&self.connections_received, 1);
        add(&self.connected_clients, 1);
    }

    pub(crate) fn connection_closed(&self) {
        self.connected_clients.set(self.connected_clients.get().saturating_sub(1));
    }

    pub(crate) fn connection_rejected(&self) {
        add(&self.rejected_connections, 1);
    }

    pub(crate) fn output_buffer_limit_disconnection(&self) {
        add(&self.output_buffer_limit_disconnections, 1);
    }

    pub(crate) fn commands(&self, count: usize) {
        add(&self.commands_processed, count as u64);
    }

    pub(crate) fn error_reply(&self) {
        add(&self.error_replies, 1);
    }

    pub(crate) fn input(&self, bytes: usize) {
        add(&self.reads_processed, 1);
        add(&self.net_input_bytes, bytes as u64);
    }

    pub(crate) fn output(&self, bytes: usize) {
        add(&self.writes_processed, 1);
        add(&self.net_output_bytes, bytes as u64);
    }
}
