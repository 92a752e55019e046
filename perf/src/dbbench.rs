//! What makes `engine_bench` comparable with RocksDB's `db_bench`: the same keys, values with the
//! same compressibility, and the same per-workload report lines (so one parser reads both).
//!
//! - Keys: the key number as a zero-padded decimal string of `key_size` bytes (`0000000000000042`).
//!   db_bench encodes the number big-endian; both sort in numeric order, which is what matters
//!   for fillseq (in-order inserts) and readseq.
//! - Values: db_bench's `RandomGenerator`: a ~1 MiB buffer of 100-byte pieces, each made of
//!   `100 * compression_ratio` random printable bytes repeated to fill the piece, and values are
//!   consecutive slices of that buffer. With ratio 0.5 lz4 halves them, as in db_bench.
//! - Report: `name : x micros/op y ops/sec z seconds n operations; m MB/s (message)` and a
//!   `Percentiles: P50: .. P99: ..` line in microseconds, measured per operation as db_bench does
//!   (from the end of one operation to the end of the next, so loop overhead is included).

use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use rand::Rng;

/// Piece length of db_bench's compressible data.
const PIECE_BYTES: usize = 100;
/// db_bench's generator buffer size.
const BUFFER_BYTES: usize = 1 << 20;
/// Longest per-operation latency the histogram tracks exactly (60 s).
const MAX_LATENCY_NS: u64 = 60_000_000_000;

/// The key of key number `n`: `n` in decimal, zero-padded to `key_size` bytes.
pub fn make_key(n: u64, key_size: usize) -> Vec<u8> {
    format!("{n:0key_size$}").into_bytes()
}

/// db_bench's value source: slices of a buffer with a fixed compression ratio.
#[derive(Debug)]
pub struct ValueGenerator {
    data: Vec<u8>,
    position: usize,
}

impl ValueGenerator {
    /// A buffer able to serve values of `value_size` bytes that lz4 compresses to about
    /// `compression_ratio` of their size.
    pub fn new(rng: &mut impl Rng, compression_ratio: f64, value_size: usize) -> ValueGenerator {
        let mut data = Vec::with_capacity(BUFFER_BYTES.max(value_size) + PIECE_BYTES);
        while data.len() < BUFFER_BYTES.max(value_size) {
            data.extend_from_slice(&compressible_piece(rng, compression_ratio, PIECE_BYTES));
        }
        ValueGenerator { data, position: 0 }
    }

    /// The next value of `len` bytes.
    pub fn next_value(&mut self, len: usize) -> &[u8] {
        if self.position + len > self.data.len() {
            self.position = 0;
        }
        self.position += len;
        &self.data[self.position - len..self.position]
    }
}

/// `len` bytes: `len * ratio` random printable bytes, repeated.
fn compressible_piece(rng: &mut impl Rng, ratio: f64, len: usize) -> Vec<u8> {
    let raw_len = ((len as f64 * ratio) as usize).max(1);
    let raw: Vec<u8> = (0..raw_len).map(|_| b' ' + rng.random_range(0..95u8)).collect();
    raw.iter().copied().cycle().take(len).collect()
}

/// Per-operation latencies and totals of one workload.
#[derive(Debug)]
pub struct Recorder {
    histogram: Histogram<u64>,
    started: Instant,
    last_op_end: Instant,
    ops: u64,
    bytes: u64,
}

impl Default for Recorder {
    fn default() -> Self {
        Recorder::new()
    }
}

impl Recorder {
    /// Starts the clock.
    pub fn new() -> Recorder {
        let histogram = Histogram::new_with_bounds(1, MAX_LATENCY_NS, 3).expect("static bounds are valid");
        let now = Instant::now();
        Recorder { histogram, started: now, last_op_end: now, ops: 0, bytes: 0 }
    }

    /// Records one finished operation that moved `bytes` of keys and values.
    pub fn op_done(&mut self, bytes: usize) {
        let now = Instant::now();
        let latency_ns = u64::try_from((now - self.last_op_end).as_nanos()).unwrap_or(u64::MAX);
        self.histogram.saturating_record(latency_ns.max(1));
        self.last_op_end = now;
        self.ops += 1;
        self.bytes += bytes as u64;
    }

    /// Stops the clock.
    pub fn finish(self, name: &str, message: String) -> Report {
        Report {
            name: name.to_string(),
            elapsed: self.last_op_end - self.started,
            ops: self.ops,
            bytes: self.bytes,
            histogram: self.histogram,
            message,
        }
    }
}

/// The outcome of one workload.
#[derive(Debug)]
pub struct Report {
    /// Workload name (`fillseq`, ...).
    pub name: String,
    /// Wall time of the workload.
    pub elapsed: Duration,
    /// Operations done.
    pub ops: u64,
    /// Key and value bytes moved.
    pub bytes: u64,
    /// Per-operation latency in nanoseconds.
    pub histogram: Histogram<u64>,
    /// Extra text (`(632120 of 1000000 found)`).
    pub message: String,
}

impl Report {
    /// db_bench's summary line.
    pub fn summary_line(&self) -> String {
        let seconds = self.elapsed.as_secs_f64().max(1e-9);
        let ops = self.ops.max(1) as f64;
        let mut extra = String::new();
        if self.bytes > 0 {
            extra = format!("{:6.1} MB/s", self.bytes as f64 / 1_048_576.0 / seconds);
        }
        if !self.message.is_empty() {
            extra = if extra.is_empty() { self.message.clone() } else { format!("{extra} {}", self.message) };
        }
        let space = if extra.is_empty() { "" } else { " " };
        format!(
            "{:<12} : {:>11.3} micros/op {} ops/sec {seconds:.3} seconds {} operations;{space}{extra}",
            self.name,
            seconds * 1e6 / ops,
            (ops / seconds) as u64,
            self.ops,
        )
    }

    /// db_bench's percentile line, in microseconds.
    pub fn percentile_line(&self) -> String {
        let micros = |quantile: f64| self.histogram.value_at_quantile(quantile) as f64 / 1000.0;
        format!(
            "Percentiles: P50: {:.2} P75: {:.2} P99: {:.2} P99.9: {:.2} P99.99: {:.2}",
            micros(0.5),
            micros(0.75),
            micros(0.99),
            micros(0.999),
            micros(0.9999)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn keys_are_zero_padded_decimal_of_key_size_bytes() {
        assert_eq!(make_key(42, 16), b"0000000000000042");
        assert_eq!(make_key(7, 4), b"0007");
        assert!(make_key(9, 16) < make_key(10, 16), "keys sort in numeric order");
    }

    #[test]
    fn values_compress_to_about_the_requested_ratio() {
        let mut rng = StdRng::seed_from_u64(1);
        let mut values = ValueGenerator::new(&mut rng, 0.5, 4096);
        let value = values.next_value(4096).to_vec();
        let halves = value.chunks(50).count();
        let distinct: std::collections::HashSet<&[u8]> = value.chunks(50).collect();
        assert_eq!(value.len(), 4096);
        assert!(distinct.len() >= halves / 2, "pieces differ from each other: {} of {halves}", distinct.len());
        assert_eq!(&value[..50], &value[50..100], "each 100-byte piece is 50 random bytes twice");
    }

    #[test]
    fn values_wrap_around_the_buffer() {
        let mut rng = StdRng::seed_from_u64(2);
        let mut values = ValueGenerator::new(&mut rng, 0.5, 100);
        for _ in 0..(3 * BUFFER_BYTES / 100) {
            assert_eq!(values.next_value(100).len(), 100);
        }
    }

    #[test]
    fn report_lines_use_db_bench_format() {
        let mut recorder = Recorder::new();
        for _ in 0..10 {
            recorder.op_done(116);
        }
        let report = recorder.finish("readrandom", "(6 of 10 found)".into());
        let line = report.summary_line();
        assert!(line.starts_with("readrandom   :"), "{line}");
        assert!(line.contains(" micros/op ") && line.contains(" ops/sec ") && line.contains(" 10 operations; "));
        assert!(line.ends_with(" MB/s (6 of 10 found)"), "{line}");
        assert!(report.percentile_line().starts_with("Percentiles: P50: "));
    }
}
