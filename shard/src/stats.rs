//! Per-core command statistics: call counts, time, failures and an HDR latency histogram per
//! command (`INFO commandstats`, `INFO latencystats`, `LATENCY HISTOGRAM`), and the slow log.
//!
//! Recording is one hash lookup and one histogram increment per command, on the core that
//! received the request; nothing is shared between cores. `CONFIG RESETSTAT` clears them.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use bytes::Bytes;
use hdrhistogram::Histogram;
use nokv_net::handler::ConnectionState;

/// Histogram range: 1 µs to 100 s, 2 significant digits (Redis uses the same precision).
const HISTOGRAM_MAX_US: u64 = 100_000_000;

/// An empty latency histogram in µs (per command; merged across cores for INFO and LATENCY).
pub fn latency_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, HISTOGRAM_MAX_US, 2).expect("static histogram bounds are valid")
}

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
        CommandStat { calls: 0, usec: 0, rejected_calls: 0, failed_calls: 0, latency_us: latency_histogram() }
    }
}

/// The statistics of every command on one core.
#[derive(Debug, Default)]
pub struct CommandStats {
    commands: BTreeMap<&'static str, CommandStat>,
    /// Commands processed.
    pub total_commands: u64,
    /// Key lookups that found the key (INFO `keyspace_hits`); command families count them.
    pub keyspace_hits: u64,
    /// Key lookups that did not (INFO `keyspace_misses`).
    pub keyspace_misses: u64,
    /// Keys deleted because they expired (INFO `expired_keys`).
    pub expired_keys: u64,
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

    /// Counts one key lookup of a read command (`keyspace_hits` / `keyspace_misses`).
    pub fn record_lookup(&mut self, hit: bool) {
        if hit {
            self.keyspace_hits += 1;
        } else {
            self.keyspace_misses += 1;
        }
    }

    /// Counts keys reclaimed because they expired.
    pub fn record_expired(&mut self, keys: u64) {
        self.expired_keys += keys;
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
    /// Unique, growing id (across the cores of the process).
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
}

/// Slow-log ids grow across every core of the process, so the merged log of the node is
/// ordered by id as Redis's is (and tools that remember the last id seen keep working).
static NEXT_SLOWLOG_ID: AtomicU64 = AtomicU64::new(0);

const SLOWLOG_MAX_ARGS: usize = 32;
const SLOWLOG_MAX_ARG_BYTES: usize = 128;

impl SlowLog {
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
            id: NEXT_SLOWLOG_ID.fetch_add(1, Ordering::Relaxed),
            timestamp_secs: crate::value::now_ms() / 1000,
            duration_us: elapsed_us,
            args: trim_args(args),
            client_addr: conn.peer_addr.map(|a| a.to_string()).unwrap_or_default(),
            client_name: conn.name.as_ref().map(|n| String::from_utf8_lossy(n).into_owned()).unwrap_or_default(),
        };
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

/// Microseconds since the Unix epoch.
pub fn unix_time_us() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_micros() as u64)
}

/// Samples per instantaneous metric (Redis's `STATS_METRIC_SAMPLES`).
const METRIC_SAMPLES: usize = 16;

/// A per-second rate averaged over the last [`METRIC_SAMPLES`] samples of a growing counter,
/// as Redis's `trackInstantaneousMetric` computes `instantaneous_ops_per_sec`.
#[derive(Debug, Default, Clone)]
pub struct InstantMetric {
    samples: [u64; METRIC_SAMPLES],
    next: usize,
    last: Option<(Instant, u64)>,
}

impl InstantMetric {
    /// Records the counter's value at `now`.
    pub fn track(&mut self, now: Instant, value: u64) {
        if let Some((at, previous)) = self.last {
            let elapsed_us = now.saturating_duration_since(at).as_micros().max(1) as u64;
            let per_sec = value.saturating_sub(previous).saturating_mul(1_000_000) / elapsed_us;
            self.samples[self.next] = per_sec;
            self.next = (self.next + 1) % METRIC_SAMPLES;
        }
        self.last = Some((now, value));
    }

    /// The average rate per second.
    pub fn per_sec(&self) -> u64 {
        self.samples.iter().sum::<u64>() / METRIC_SAMPLES as u64
    }
}

/// The instantaneous metrics of one core (`instantaneous_ops_per_sec`, `..._input_kbps`,
/// `..._output_kbps`), sampled every 100 ms by a task started with the first INFO.
#[derive(Debug, Default)]
pub struct InstantMetrics {
    /// Commands per second.
    pub ops: InstantMetric,
    /// Bytes read per second.
    pub input_bytes: InstantMetric,
    /// Bytes written per second.
    pub output_bytes: InstantMetric,
    /// The sampling task runs.
    pub sampling: bool,
}

impl InstantMetrics {
    /// Forgets the samples (CONFIG RESETSTAT), keeping the sampler.
    pub fn reset(&mut self) {
        *self = InstantMetrics { sampling: self.sampling, ..InstantMetrics::default() };
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
    fn instant_metric_averages_per_second_rates() {
        let mut metric = InstantMetric::default();
        let start = Instant::now();
        metric.track(start, 0);
        metric.track(start + std::time::Duration::from_millis(100), 160);
        assert_eq!(metric.per_sec(), 1600 / 16);
        for step in 2..=17u32 {
            metric.track(start + std::time::Duration::from_millis(100) * step, 160 * u64::from(step));
        }
        assert_eq!(metric.per_sec(), 1600);
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
