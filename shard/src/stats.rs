//! Per-core command statistics: call counts, time, failures and an HDR latency histogram per
//! command (`INFO commandstats`, `INFO latencystats`, `LATENCY HISTOGRAM`), and the slow log.
//!
//! Recording is one hash lookup and one histogram increment per command, on the core that
//! received the request; nothing is shared between cores. `CONFIG RESETSTAT` clears them.

use std::collections::{BTreeMap, VecDeque};

use bytes::Bytes;
use hdrhistogram::Histogram;
use nokv_net::handler::ConnectionState;

/// Histogram range: 1 µs to 100 s, 2 significant digits (Redis uses the same precision).
const HISTOGRAM_MAX_US: u64 = 100_000_000;

/// Statistics of one command on one core.
#[derive(Debug, Clone)]
pub struct CommandStat {
    /// Calls.
    pub calls: u64,
    /// Total time in µs.
    pub usec: u64,
    /// Calls rejected before execution (not counted yet: the server answers those).
    pub rejected_calls: u64,
    /// Calls that replied with an error.
    pub failed_calls: u64,
    /// Latency in µs.
    pub latency_us: Histogram<u64>,
}

impl CommandStat {
    fn new() -> CommandStat {
        CommandStat {
            calls: 0,
            usec: 0,
            rejected_calls: 0,
            failed_calls: 0,
            latency_us: Histogram::new_with_bounds(1, HISTOGRAM_MAX_US, 2).expect("static histogram bounds are valid"),
        }
    }
}

/// The statistics of every command on one core.
#[derive(Debug, Default)]
pub struct CommandStats {
    commands: BTreeMap<&'static str, CommandStat>,
    /// Commands processed.
    pub total_commands: u64,
}

impl CommandStats {
    /// Records one call of `name` (the full name, `client|list` for subcommands).
    pub fn record(&mut self, name: &'static str, elapsed_us: u64, failed: bool) {
        let stat = self.commands.entry(name).or_insert_with(CommandStat::new);
        stat.calls += 1;
        stat.usec += elapsed_us;
        stat.failed_calls += u64::from(failed);
        stat.latency_us.saturating_record(elapsed_us.max(1));
        self.total_commands += 1;
    }

    /// Every command's statistics, by name.
    pub fn commands(&self) -> &BTreeMap<&'static str, CommandStat> {
        &self.commands
    }

    /// Clears everything.
    pub fn reset(&mut self) {
        *self = CommandStats::default();
    }
}

/// One slow-log entry.
#[derive(Debug, Clone)]
pub struct SlowLogEntry {
    /// Unique, growing id.
    pub id: u64,
    /// Unix time in seconds when the command ran.
    pub timestamp_secs: u64,
    /// Duration in µs.
    pub duration_us: u64,
    /// The arguments (at most 32, each at most 128 bytes, as Redis trims them).
    pub args: Vec<Bytes>,
    /// Client address.
    pub client_addr: String,
    /// Client name.
    pub client_name: String,
}

/// The slow log of one core.
#[derive(Debug, Default)]
pub struct SlowLog {
    entries: VecDeque<SlowLogEntry>,
    next_id: u64,
}

const SLOWLOG_MAX_ARGS: usize = 32;
const SLOWLOG_MAX_ARG_BYTES: usize = 128;

impl SlowLog {
    /// True when the next command's arguments must be kept for a possible entry.
    pub fn wants_args(&self) -> bool {
        true
    }

    /// Logs the command if it was slower than `threshold_us` (negative: never; 0: always).
    pub fn maybe_log(
        &mut self,
        args: &[Bytes],
        elapsed_us: u64,
        threshold_us: i64,
        max_len: u64,
        conn: &ConnectionState,
    ) {
        if threshold_us < 0 || elapsed_us < threshold_us as u64 {
            return;
        }
        let entry = SlowLogEntry {
            id: self.next_id,
            timestamp_secs: crate::value::now_ms() / 1000,
            duration_us: elapsed_us,
            args: trim_args(args),
            client_addr: conn.peer_addr.map(|a| a.to_string()).unwrap_or_default(),
            client_name: conn.name.as_ref().map(|n| String::from_utf8_lossy(n).into_owned()).unwrap_or_default(),
        };
        self.next_id += 1;
        self.entries.push_front(entry);
        self.entries.truncate(max_len as usize);
    }

    /// The newest `count` entries, newest first.
    pub fn newest(&self, count: usize) -> Vec<SlowLogEntry> {
        self.entries.iter().take(count).cloned().collect()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Clears the log.
    pub fn reset(&mut self) {
        self.entries.clear();
    }
}

fn trim_args(args: &[Bytes]) -> Vec<Bytes> {
    let mut trimmed: Vec<Bytes> = args
        .iter()
        .take(SLOWLOG_MAX_ARGS)
        .map(|arg| {
            if arg.len() <= SLOWLOG_MAX_ARG_BYTES {
                return arg.clone();
            }
            let more = arg.len() - SLOWLOG_MAX_ARG_BYTES;
            let mut text = arg[..SLOWLOG_MAX_ARG_BYTES].to_vec();
            text.extend_from_slice(format!("... ({more} more bytes)").as_bytes());
            Bytes::from(text)
        })
        .collect();
    if args.len() > SLOWLOG_MAX_ARGS {
        let more = args.len() - SLOWLOG_MAX_ARGS + 1;
        trimmed[SLOWLOG_MAX_ARGS - 1] = Bytes::from(format!("... ({more} more arguments)"));
    }
    trimmed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_and_resets() {
        let mut stats = CommandStats::default();
        stats.record("get", 10, false);
        stats.record("get", 30, true);
        let get = &stats.commands()["get"];
        assert_eq!((get.calls, get.usec, get.failed_calls), (2, 40, 1));
        assert_eq!(get.latency_us.len(), 2);
        stats.reset();
        assert!(stats.commands().is_empty());
    }

    #[test]
    fn slowlog_keeps_newest_and_trims() {
        let mut log = SlowLog::default();
        let conn = ConnectionState::default();
        let long = Bytes::from(vec![b'x'; 200]);
        log.maybe_log(&[Bytes::from_static(b"set"), long], 50, 10, 2, &conn);
        log.maybe_log(&[Bytes::from_static(b"get")], 5, 10, 2, &conn);
        log.maybe_log(&[Bytes::from_static(b"del")], 20, 10, 2, &conn);
        log.maybe_log(&[Bytes::from_static(b"ping")], 20, 10, 2, &conn);
        assert_eq!(log.len(), 2);
        assert_eq!(log.newest(1)[0].args[0], Bytes::from_static(b"ping"));
        log.maybe_log(&[Bytes::from_static(b"x"), Bytes::from(vec![b'y'; 200])], 20, 0, 2, &conn);
        assert!(log.newest(1)[0].args[1].ends_with(b"(72 more bytes)"));
    }
}
