//! What one core asks another: the requests and responses of the core mesh.

use bytes::Bytes;
use nokv_net::frame::Reply;

/// A request to another core.
#[derive(Debug)]
pub enum CoreCall {
    /// Run a command all of whose keys the destination core owns.
    Command(Vec<Bytes>),
    /// The destination core's part of a node-wide operation.
    Fanout(Fanout),
}

/// Node-wide operations every core does its part of.
#[derive(Debug, Clone)]
pub enum Fanout {
    /// Count the live keys.
    DbSize,
    /// Live keys matching a glob pattern (`KEYS`).
    Keys(Bytes),
    /// Delete every key (`FLUSHDB`, `FLUSHALL`).
    Flush,
    /// One step of `SCAN` over the core's slots, starting at a cursor.
    Scan {
        /// The cursor as the client sent it.
        cursor: u64,
        /// The COUNT hint.
        count: usize,
        /// MATCH pattern.
        pattern: Option<Bytes>,
        /// TYPE filter.
        type_name: Option<Bytes>,
    },
    /// A random live key, if the core has any.
    RandomKey,
    /// The core's statistics for INFO (one `key:value` line per field, sections by name).
    Info,
    /// The core's `CLIENT LIST` lines, filtered by the arguments after `CLIENT LIST`.
    ClientList(Vec<Bytes>),
    /// Kill clients matching the filter arguments after `CLIENT KILL`; replies the count.
    ClientKill(Vec<Bytes>),
    /// `CONFIG RESETSTAT` on this core.
    ResetStats,
    /// The core's latency histograms for `LATENCY HISTOGRAM` (command names; empty: all).
    LatencyHistogram(Vec<Bytes>),
    /// The core's slow log entries.
    SlowlogGet(usize),
    /// The core's slow log length.
    SlowlogLen,
    /// Clear the core's slow log.
    SlowlogReset,
}

/// The answer of a core.
pub type CoreReply = Reply;
