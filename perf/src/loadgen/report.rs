//! Turning measurements into output: the per-second timeline (gathered from every thread's
//! ticks) and the final summary, as text or as JSON lines.
//!
//! JSON output is one object per line: `{"type":"second",...}` per second of the run, then one
//! `{"type":"summary",...}`. Latencies are microseconds with three decimals in both formats.

use std::fmt::Write as _;

use hdrhistogram::Histogram;

use super::config::{Args, KeyDist, OutputFormat};
use super::stats::{Tick, Totals, merge_histogram, new_histogram};
use super::workload::OpKind;

/// One second of the run, all threads together.
#[derive(Clone, Debug)]
pub struct Second {
    pub second: u64,
    pub interval_secs: f64,
    pub histogram: Histogram<u64>,
    pub errors: u64,
}

impl Second {
    /// Replies per second in this interval.
    pub fn ops_per_sec(&self) -> f64 {
        self.histogram.len() as f64 / self.interval_secs.max(1e-9)
    }
}

/// Gathers threads' ticks into whole seconds, releasing a second once every thread still
/// running has reported it.
#[derive(Debug)]
pub struct Timeline {
    reported_through: Vec<u64>,
    finished: Vec<bool>,
    pending: Vec<Second>,
    emitted_through: u64,
}

impl Timeline {
    /// A timeline for `threads` threads.
    pub fn new(threads: usize) -> Self {
        Self {
            reported_through: vec![0; threads],
            finished: vec![false; threads],
            pending: Vec::new(),
            emitted_through: 0,
        }
    }

    /// Adds a tick; returns the seconds it completes, in order.
    pub fn add(&mut self, tick: Tick) -> Vec<Second> {
        self.reported_through[tick.thread] = tick.second;
        self.finished[tick.thread] |= tick.last;
        let Some(index) = tick.second.checked_sub(self.emitted_through + 1) else {
            return Vec::new();
        };
        while self.pending.len() <= index as usize {
            let second = self.emitted_through + 1 + self.pending.len() as u64;
            self.pending.push(Second { second, interval_secs: 0.0, histogram: new_histogram(), errors: 0 });
        }
        let slot = &mut self.pending[index as usize];
        merge_histogram(&mut slot.histogram, &tick.histogram);
        slot.errors += tick.errors;
        slot.interval_secs = slot.interval_secs.max(tick.interval_secs);
        self.release(false)
    }

    /// Every second still held (when all threads are done).
    pub fn flush(&mut self) -> Vec<Second> {
        self.release(true)
    }

    fn release(&mut self, everything: bool) -> Vec<Second> {
        let mut ready = Vec::new();
        while !self.pending.is_empty() && (everything || self.is_complete(self.emitted_through + 1)) {
            ready.push(self.pending.remove(0));
            self.emitted_through += 1;
        }
        ready
    }

    fn is_complete(&self, second: u64) -> bool {
        self.reported_through.iter().zip(&self.finished).all(|(&through, &finished)| finished || through >= second)
    }
}

/// Microseconds (three decimals, as the nanoseconds are whole).
fn micros(nanos: u64) -> f64 {
    nanos as f64 / 1000.0
}

/// A timeline line.
pub fn format_second(format: OutputFormat, second: &Second, warmup: bool) -> String {
    let ops_per_sec = second.ops_per_sec();
    let p99_us = micros(second.histogram.value_at_quantile(0.99));
    match format {
        OutputFormat::Text => {
            let tag = if warmup { "  (warm-up)" } else { "" };
            format!("{:>6} {:>12.0} {:>12.3} {:>8}{tag}", second.second, ops_per_sec, p99_us, second.errors)
        }
        OutputFormat::Json => format!(
            "{{\"type\":\"second\",\"second\":{},\"warmup\":{warmup},\"ops_per_sec\":{ops_per_sec:.1},\"p99_us\":{p99_us},\"errors\":{}}}",
            second.second, second.errors
        ),
    }
}

/// The text timeline's column header.
pub fn timeline_header() -> String {
    format!("{:>6} {:>12} {:>12} {:>8}", "second", "ops/s", "p99_us", "errors")
}

/// The run's parameters, one line.
pub fn describe_run(args: &Args) -> String {
    let dist = match args.key_dist {
        KeyDist::Uniform => "uniform".to_owned(),
        KeyDist::Zipfian { theta } => format!("zipfian:{theta}"),
    };
    let sizes: Vec<String> =
        args.value_mix().weights().iter().map(|(size, weight)| format!("{size}:{weight:.3}")).collect();
    format!(
        "{}:{} connections={} pipeline={} threads={} cpus={:?} keyspace={} key_dist={dist} read_ratio={} incr_ratio={} value_sizes={} mget={} mset={} fanout_ratio={} warmup_secs={} duration_secs={} requests={:?} seed={}",
        args.host,
        args.port,
        args.connections,
        args.pipeline,
        args.threads,
        args.cpus,
        args.keyspace,
        args.read_ratio,
        args.incr_ratio,
        sizes.join(","),
        args.mget,
        args.mset,
        args.fanout_ratio,
        args.warmup_secs,
        args.measured_duration().as_secs(),
        args.requests,
        args.seed,
    )
}

/// The final measurements.
#[derive(Debug)]
pub struct Summary<'a> {
    pub totals: &'a Totals,
    pub measured_secs: f64,
    pub max_error_ratio: f64,
}

impl Summary<'_> {
    /// Errors over requests (warm-up included on both sides).
    pub fn error_ratio(&self) -> f64 {
        self.totals.errors.total() as f64 / self.totals.requests.max(1) as f64
    }

    /// Whether the run passes: errors within the allowed ratio and at least one measured reply.
    pub fn passed(&self) -> bool {
        self.error_ratio() <= self.max_error_ratio && !self.totals.all_ops().is_empty()
    }

    /// The summary in `format`.
    pub fn render(&self, format: OutputFormat, run: &str) -> String {
        match format {
            OutputFormat::Text => self.render_text(),
            OutputFormat::Json => self.render_json(run),
        }
    }

    fn rows(&self) -> Vec<(&'static str, Histogram<u64>)> {
        let ops = OpKind::ALL.iter().map(|op| (op.name(), self.totals.per_op[op.index()].clone()));
        let mut rows: Vec<_> = ops.filter(|(_, histogram)| !histogram.is_empty()).collect();
        rows.push(("total", self.totals.all_ops()));
        rows
    }

    fn render_text(&self) -> String {
        let mut out = format!(
            "\n{:<6} {:>10} {:>12} {:>10} {:>10} {:>10} {:>10}\n",
            "op", "count", "ops/s", "p50_us", "p99_us", "p99.9_us", "max_us"
        );
        for (name, histogram) in self.rows() {
            let [p50, p99, p999, max] = percentiles(&histogram);
            let ops_per_sec = histogram.len() as f64 / self.measured_secs;
            let _ = writeln!(
                out,
                "{name:<6} {:>10} {ops_per_sec:>12.0} {p50:>10.3} {p99:>10.3} {p999:>10.3} {max:>10.3}",
                histogram.len()
            );
        }
        let _ =
            writeln!(out, "measured {:.3} s; requests (warm-up included) {}", self.measured_secs, self.totals.requests);
        let errors = &self.totals.errors;
        let _ = writeln!(
            out,
            "errors {} (ratio {:.6}, allowed {})",
            errors.total(),
            self.error_ratio(),
            self.max_error_ratio
        );
        for (kind, entry) in errors.iter() {
            let _ = writeln!(out, "  {kind}: {} (first: {})", entry.count, entry.sample);
        }
        out
    }

    fn render_json(&self, run: &str) -> String {
        let mut ops = Vec::new();
        for (name, histogram) in self.rows() {
            let [p50, p99, p999, max] = percentiles(&histogram);
            let ops_per_sec = histogram.len() as f64 / self.measured_secs;
            ops.push(format!(
                "\"{name}\":{{\"count\":{},\"ops_per_sec\":{ops_per_sec:.1},\"p50_us\":{p50},\"p99_us\":{p99},\"p99_9_us\":{p999},\"max_us\":{max}}}",
                histogram.len()
            ));
        }
        let errors: Vec<String> = self
            .totals
            .errors
            .iter()
            .map(|(kind, entry)| {
                format!("{}:{{\"count\":{},\"sample\":{}}}", json_string(kind), entry.count, json_string(&entry.sample))
            })
            .collect();
        format!(
            "{{\"type\":\"summary\",\"run\":{},\"measured_secs\":{:.3},\"requests\":{},\"ops\":{{{}}},\"errors\":{{{}}},\"error_count\":{},\"error_ratio\":{},\"passed\":{}}}",
            json_string(run),
            self.measured_secs,
            self.totals.requests,
            ops.join(","),
            errors.join(","),
            self.totals.errors.total(),
            self.error_ratio(),
            self.passed()
        )
    }
}

/// p50, p99, p99.9 and max, in microseconds.
fn percentiles(histogram: &Histogram<u64>) -> [f64; 4] {
    let at = |quantile| micros(histogram.value_at_quantile(quantile));
    [at(0.5), at(0.99), at(0.999), micros(histogram.max())]
}

/// `text` as a JSON string literal.
pub fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;
    use crate::loadgen::stats::Recorder;

    fn tick(thread: usize, second: u64, replies: u64, last: bool) -> Tick {
        let mut histogram = new_histogram();
        histogram.saturating_record_n(1000, replies);
        Tick { thread, second, interval_secs: 1.0, histogram, errors: 0, last }
    }

    #[test]
    fn a_second_is_released_when_every_running_thread_reported_it() {
        let mut timeline = Timeline::new(2);
        assert!(timeline.add(tick(0, 1, 10, false)).is_empty());
        assert!(timeline.add(tick(0, 2, 10, false)).is_empty());
        let released = timeline.add(tick(1, 1, 5, false));
        assert_eq!(released.iter().map(|s| (s.second, s.histogram.len())).collect::<Vec<_>>(), [(1, 15)]);
        // Thread 1 finishes during second 2: second 2 and later need only thread 0.
        let released = timeline.add(tick(1, 2, 1, true));
        assert_eq!(released.iter().map(|s| (s.second, s.histogram.len())).collect::<Vec<_>>(), [(2, 11)]);
        let released = timeline.add(tick(0, 3, 7, false));
        assert_eq!(released.len(), 1);
        assert!(timeline.flush().is_empty());
    }

    #[test]
    fn flush_releases_partial_seconds() {
        let mut timeline = Timeline::new(2);
        timeline.add(tick(0, 1, 3, false));
        assert_eq!(timeline.flush().len(), 1);
    }

    #[test]
    fn json_strings_are_escaped() {
        assert_eq!(json_string("a\"b\\c\n\u{1}"), "\"a\\\"b\\\\c\\n\\u0001\"");
    }

    #[test]
    fn summary_fails_on_errors_beyond_the_allowed_ratio_and_on_no_replies() {
        let mut recorder = Recorder::new(0);
        recorder.success(OpKind::Get, Duration::from_micros(50), true);
        recorder.failure("get ERR", "ERR \"quoted\"", 1);
        let totals = recorder.finish(Instant::now());
        let strict = Summary { totals: &totals, measured_secs: 1.0, max_error_ratio: 0.0 };
        assert!(!strict.passed());
        assert_eq!(strict.error_ratio(), 0.5);
        assert!(Summary { totals: &totals, measured_secs: 1.0, max_error_ratio: 0.5 }.passed());
        let json = strict.render(OutputFormat::Json, "run");
        assert!(json.contains("\"get ERR\":{\"count\":1,\"sample\":\"ERR \\\"quoted\\\"\"}"), "{json}");
        assert!(json.contains("\"get\":{\"count\":1,"), "{json}");
        assert!(strict.render(OutputFormat::Text, "run").contains("get ERR: 1"));
        let empty = Totals::default();
        assert!(!Summary { totals: &empty, measured_secs: 1.0, max_error_ratio: 1.0 }.passed());
    }
}
