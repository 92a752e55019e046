//! What a run measured: latency histograms per operation, the per-second timeline, and errors
//! by kind.
//!
//! Each thread owns a [`Recorder`] (shared by its connection tasks through a `RefCell`; the
//! thread is single-threaded). Every reply lands in the current second's interval histogram,
//! which the thread's ticker hands to the main thread as a [`Tick`] once a second; replies to
//! requests sent after the warm-up also land in the per-operation histograms of the final
//! [`Totals`]. Latencies are nanoseconds, 1 ns to 60 s at 3 significant digits. Errors are
//! never dropped: each error reply, unexpected reply, lost request and failed connect counts
//! once, warm-up included, and the first message of each kind is kept as a sample.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use super::workload::OpKind;

/// The largest latency recorded exactly; longer ones are recorded as this.
pub const LATENCY_MAX_NS: u64 = 60_000_000_000;

/// An empty latency histogram.
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, LATENCY_MAX_NS, 3).expect("1 ns..60 s at 3 digits are valid bounds")
}

/// Adds `source` into `target`; both come from [`new_histogram`], so the bounds match.
pub fn merge_histogram(target: &mut Histogram<u64>, source: &Histogram<u64>) {
    target.add(source).expect("histograms from new_histogram have the same bounds");
}

/// The count of one error kind and the first message seen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorKind {
    pub count: u64,
    pub sample: String,
}

/// Errors by kind (`set ERR`, `get unexpected reply`, `io: timed out`, ...).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ErrorCounts {
    by_kind: BTreeMap<String, ErrorKind>,
}

impl ErrorCounts {
    /// Counts `count` errors of `kind`, keeping `sample` if it is the kind's first.
    pub fn add(&mut self, kind: &str, sample: &str, count: u64) {
        match self.by_kind.get_mut(kind) {
            Some(entry) => entry.count += count,
            None => {
                self.by_kind.insert(kind.to_owned(), ErrorKind { count, sample: sample.to_owned() });
            }
        }
    }

    /// Adds all of `other`'s counts.
    pub fn merge(&mut self, other: &ErrorCounts) {
        for (kind, entry) in &other.by_kind {
            self.add(kind, &entry.sample, entry.count);
        }
    }

    /// All errors.
    pub fn total(&self) -> u64 {
        self.by_kind.values().map(|entry| entry.count).sum()
    }

    /// Kinds in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &ErrorKind)> {
        self.by_kind.iter().map(|(kind, entry)| (kind.as_str(), entry))
    }
}

/// The kind of an error reply to `op`: the op and the reply's first word (`set ERR`,
/// `incr WRONGTYPE`), as Redis's `errorstats` groups them.
pub fn reply_error_kind(op: OpKind, message: &str) -> String {
    let code = message.split_whitespace().next().unwrap_or("(empty)");
    format!("{} {code}", op.name())
}

/// A thread's results, handed back when it finishes.
#[derive(Clone, Debug)]
pub struct Totals {
    /// Measured latencies, indexed by [`OpKind::index`].
    pub per_op: Vec<Histogram<u64>>,
    pub errors: ErrorCounts,
    /// Every request answered or lost, warm-up included (the error ratio's denominator).
    pub requests: u64,
    pub finished_at: Option<Instant>,
}

impl Default for Totals {
    fn default() -> Self {
        let per_op = OpKind::ALL.iter().map(|_| new_histogram()).collect();
        Self { per_op, errors: ErrorCounts::default(), requests: 0, finished_at: None }
    }
}

impl Totals {
    /// Adds another thread's totals.
    pub fn merge(&mut self, other: &Totals) {
        for (target, source) in self.per_op.iter_mut().zip(&other.per_op) {
            merge_histogram(target, source);
        }
        self.errors.merge(&other.errors);
        self.requests += other.requests;
        self.finished_at = self.finished_at.max(other.finished_at);
    }

    /// All measured latencies in one histogram.
    pub fn all_ops(&self) -> Histogram<u64> {
        let mut all = new_histogram();
        self.per_op.iter().for_each(|histogram| merge_histogram(&mut all, histogram));
        all
    }
}

/// One thread's replies in one second of the run (or the part of a second before it ended).
#[derive(Clone, Debug)]
pub struct Tick {
    pub thread: usize,
    /// 1 for the run's first second.
    pub second: u64,
    /// The interval's length: 1 s, or less for a thread's last tick.
    pub interval_secs: f64,
    pub histogram: Histogram<u64>,
    pub errors: u64,
    /// The thread sends no more ticks after this one.
    pub last: bool,
}

/// A thread's recorder.
#[derive(Debug)]
pub struct Recorder {
    thread: usize,
    totals: Totals,
    interval: Histogram<u64>,
    interval_errors: u64,
    ticks_sent: u64,
}

impl Recorder {
    /// An empty recorder for thread `thread`.
    pub fn new(thread: usize) -> Self {
        Self { thread, totals: Totals::default(), interval: new_histogram(), interval_errors: 0, ticks_sent: 0 }
    }

    /// A correct reply to `op` after `latency`; `measured` if sent after the warm-up.
    pub fn success(&mut self, op: OpKind, latency: Duration, measured: bool) {
        let latency_ns = u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX).max(1);
        self.interval.saturating_record(latency_ns);
        if measured {
            self.totals.per_op[op.index()].saturating_record(latency_ns);
        }
        self.totals.requests += 1;
    }

    /// `count` requests that failed with `kind`.
    pub fn failure(&mut self, kind: &str, sample: &str, count: u64) {
        self.totals.errors.add(kind, sample, count);
        self.interval_errors += count;
        self.totals.requests += count;
    }

    /// The interval since the last tick, as tick `ticks_sent + 1` lasting `interval_secs`.
    pub fn take_tick(&mut self, interval_secs: f64, last: bool) -> Tick {
        self.ticks_sent += 1;
        Tick {
            thread: self.thread,
            second: self.ticks_sent,
            interval_secs,
            histogram: std::mem::replace(&mut self.interval, new_histogram()),
            errors: std::mem::take(&mut self.interval_errors),
            last,
        }
    }

    /// Ticks taken so far.
    pub fn ticks_sent(&self) -> u64 {
        self.ticks_sent
    }

    /// The thread's totals, stamped with its finishing time.
    pub fn finish(self, finished_at: Instant) -> Totals {
        Totals { finished_at: Some(finished_at), ..self.totals }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warmup_replies_reach_the_timeline_but_not_the_totals() {
        let mut recorder = Recorder::new(0);
        recorder.success(OpKind::Get, Duration::from_micros(10), false);
        recorder.success(OpKind::Get, Duration::from_micros(20), true);
        let tick = recorder.take_tick(1.0, false);
        assert_eq!((tick.second, tick.histogram.len()), (1, 2));
        let totals = recorder.finish(Instant::now());
        assert_eq!(totals.per_op[OpKind::Get.index()].len(), 1);
        assert_eq!(totals.requests, 2);
    }

    #[test]
    fn errors_are_counted_by_kind_with_their_first_message() {
        let mut recorder = Recorder::new(0);
        recorder.failure(&reply_error_kind(OpKind::Set, "ERR out of memory"), "ERR out of memory", 1);
        recorder.failure(&reply_error_kind(OpKind::Set, "ERR other"), "ERR other", 1);
        recorder.failure("io: connection reset", "reset by peer", 16);
        let tick = recorder.take_tick(1.0, false);
        assert_eq!(tick.errors, 18);
        assert_eq!(recorder.take_tick(0.5, true).errors, 0, "ticks start empty");
        let totals = recorder.finish(Instant::now());
        let kinds: Vec<_> = totals.errors.iter().map(|(kind, e)| (kind, e.count, e.sample.as_str())).collect();
        assert_eq!(kinds, [("io: connection reset", 16, "reset by peer"), ("set ERR", 2, "ERR out of memory")]);
        assert_eq!((totals.errors.total(), totals.requests), (18, 18));
    }

    #[test]
    fn thread_totals_merge() {
        let mut first = Recorder::new(0);
        first.success(OpKind::Set, Duration::from_micros(5), true);
        let mut second = Recorder::new(1);
        second.success(OpKind::Set, Duration::from_micros(7), true);
        second.failure("get ERR", "ERR x", 1);
        let mut totals = first.finish(Instant::now());
        totals.merge(&second.finish(Instant::now()));
        assert_eq!(totals.per_op[OpKind::Set.index()].len(), 2);
        assert_eq!((totals.all_ops().len(), totals.requests, totals.errors.total()), (2, 3, 1));
    }
}
