//! The load generator's command line: flags, their parsers and their validation.
//!
//! Every flag has a default so `loadgen --port 6379` runs something sensible: 50 connections,
//! no pipelining, one executor, uniform keys over 1M keys, half GET half SET, 16-byte values,
//! 10 seconds. Parsing the small languages (`--key-dist zipfian:0.9`,
//! `--value-sizes 16:0.7,1024:0.3`) lives here so it is tested without a server.

use std::str::FromStr;
use std::time::Duration;

use anyhow::{Context, bail, ensure};
use clap::{Parser, ValueEnum};

/// The run length when neither `--duration-secs` nor `--requests` is given.
pub const DEFAULT_DURATION_SECS: u64 = 10;
/// YCSB's default skew.
pub const DEFAULT_ZIPFIAN_THETA: f64 = 0.99;
/// The largest value the generator sends, Redis's default `proto-max-bulk-len`.
const MAX_VALUE_SIZE_BYTES: usize = 512 * 1024 * 1024;
/// How far the weights of `--value-sizes` may sum from 1 (they are written by hand).
const WEIGHT_SUM_TOLERANCE: f64 = 1e-3;

/// `loadgen` flags.
#[derive(Parser, Debug, Clone)]
#[command(name = "loadgen", about = "Pipelined RESP load generator with HDR latency histograms")]
pub struct Args {
    /// Server address.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Server port.
    #[arg(long, short = 'p', default_value_t = 6379)]
    pub port: u16,
    /// Client connections, spread round-robin over the threads.
    #[arg(long, short = 'c', default_value_t = 50)]
    pub connections: usize,
    /// Requests each connection writes at once before reading their replies.
    #[arg(long, short = 'P', default_value_t = 1)]
    pub pipeline: usize,
    /// Threads, each a glommio executor running its share of the connections.
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// CPUs to pin the threads to, round-robin (`0,1`); empty: not pinned.
    #[arg(long, value_delimiter = ',')]
    pub cpus: Vec<usize>,
    /// Measured run length after the warm-up (default 10 s when --requests is not given).
    #[arg(long)]
    pub duration_secs: Option<u64>,
    /// Measured requests in total (spread over the connections); the run stops at whichever of
    /// --requests and --duration-secs comes first.
    #[arg(long)]
    pub requests: Option<u64>,
    /// Hard cap on the measured run length, whatever the other bounds say.
    #[arg(long, default_value_t = 600)]
    pub max_duration_secs: u64,
    /// Unmeasured seconds before the measured run (shown in the timeline, not in the summary).
    #[arg(long, default_value_t = 0)]
    pub warmup_secs: u64,
    /// Number of distinct keys.
    #[arg(long, default_value_t = 1_000_000)]
    pub keyspace: u64,
    /// `uniform`, `zipfian` (theta 0.99) or `zipfian:<theta>` with 0 < theta < 1.
    #[arg(long, default_value = "uniform")]
    pub key_dist: KeyDist,
    /// Prepended to every key (`{tag}` pins all keys to one cluster slot).
    #[arg(long, default_value = "")]
    pub key_prefix: String,
    /// Fraction of non-INCR requests that read (GET/MGET); the rest write (SET/MSET).
    #[arg(long, default_value_t = 0.5)]
    pub read_ratio: f64,
    /// Fraction of all requests that are INCR on counter keys.
    #[arg(long, default_value_t = 0.0)]
    pub incr_ratio: f64,
    /// Value size in bytes.
    #[arg(long, conflicts_with = "value_sizes")]
    pub value_size: Option<usize>,
    /// A mix of value sizes: `16:0.7,1024:0.2,65536:0.1` (size:weight, weights summing to 1).
    #[arg(long)]
    pub value_sizes: Option<ValueSizes>,
    /// Reads become MGET of this many keys (0: GET).
    #[arg(long, default_value_t = 0)]
    pub mget: usize,
    /// Writes become MSET of this many keys (0: SET).
    #[arg(long, default_value_t = 0)]
    pub mset: usize,
    /// Fraction of reads (writes) that use MGET (MSET) when --mget (--mset) is set; the rest
    /// stay GET (SET).
    #[arg(long, default_value_t = 1.0)]
    pub fanout_ratio: f64,
    /// Random seed; the same seed gives the same request stream per connection.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Password sent with AUTH on each connection.
    #[arg(long)]
    pub password: Option<String>,
    /// `text` (a table, and a line per second) or `json` (JSON lines).
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
    /// Exit non-zero when errors / requests exceeds this.
    #[arg(long, default_value_t = 0.0)]
    pub max_error_ratio: f64,
    /// Microseconds an idle executor polls before sleeping (glommio's spin_before_park);
    /// trades CPU for lower wake-up latency at low pipeline depths. 0: sleep at once.
    #[arg(long, default_value_t = 0)]
    pub spin_before_park_us: u64,
    /// Seconds a connection waits for a reply before counting a timeout and reconnecting.
    #[arg(long, default_value_t = 10)]
    pub reply_timeout_secs: u64,
}

impl Args {
    /// Checks the flags against each other.
    pub fn validate(&self) -> anyhow::Result<()> {
        ensure!(self.connections >= 1, "--connections must be at least 1");
        ensure!(self.pipeline >= 1, "--pipeline must be at least 1");
        ensure!(self.threads >= 1, "--threads must be at least 1");
        ensure!(self.threads <= self.connections, "--threads must not exceed --connections");
        ensure!(self.keyspace >= 1, "--keyspace must be at least 1");
        ensure!(self.max_duration_secs >= 1, "--max-duration-secs must be at least 1");
        ensure!(self.reply_timeout_secs >= 1, "--reply-timeout-secs must be at least 1");
        ensure!(self.requests != Some(0), "--requests must be at least 1");
        ensure!(self.duration_secs != Some(0), "--duration-secs must be at least 1");
        for (name, ratio) in [
            ("--read-ratio", self.read_ratio),
            ("--incr-ratio", self.incr_ratio),
            ("--fanout-ratio", self.fanout_ratio),
            ("--max-error-ratio", self.max_error_ratio),
        ] {
            ensure!((0.0..=1.0).contains(&ratio), "{name} must be within 0.0..=1.0, not {ratio}");
        }
        ensure!(self.mget <= self.keyspace as usize, "--mget must not exceed --keyspace");
        ensure!(self.mset <= self.keyspace as usize, "--mset must not exceed --keyspace");
        let largest = self.value_mix().largest_bytes();
        ensure!(largest <= MAX_VALUE_SIZE_BYTES, "values of {largest} bytes exceed 512 MiB");
        Ok(())
    }

    /// The value sizes to draw from: `--value-sizes`, else `--value-size`, else 16 bytes.
    pub fn value_mix(&self) -> ValueSizes {
        match (&self.value_sizes, self.value_size) {
            (Some(mix), _) => mix.clone(),
            (None, Some(size_bytes)) => ValueSizes::single(size_bytes),
            (None, None) => ValueSizes::single(16),
        }
    }

    /// The measured run's length bound: the duration asked for (10 s if no bound at all),
    /// never more than the hard cap.
    pub fn measured_duration(&self) -> Duration {
        let cap_secs = self.max_duration_secs;
        let secs = match (self.duration_secs, self.requests) {
            (Some(secs), _) => secs.min(cap_secs),
            (None, Some(_)) => cap_secs,
            (None, None) => DEFAULT_DURATION_SECS.min(cap_secs),
        };
        Duration::from_secs(secs)
    }

    /// The measured requests connection `index` sends: an even share of `--requests`.
    pub fn requests_of_connection(&self, index: usize) -> Option<u64> {
        let total = self.requests?;
        let connections = self.connections as u64;
        let extra = u64::from((index as u64) < total % connections);
        Some(total / connections + extra)
    }

    /// The CPU thread `index` is pinned to, if any.
    pub fn cpu_of_thread(&self, index: usize) -> Option<usize> {
        (!self.cpus.is_empty()).then(|| self.cpus[index % self.cpus.len()])
    }
}

/// Output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
}

/// How keys are drawn from the key space.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum KeyDist {
    Uniform,
    /// YCSB's zipfian with skew `theta`, the hottest keys scattered over the key space.
    Zipfian {
        theta: f64,
    },
}

impl FromStr for KeyDist {
    type Err = anyhow::Error;

    fn from_str(text: &str) -> anyhow::Result<Self> {
        let (name, theta) = match text.split_once(':') {
            Some((name, theta)) => (name, Some(theta)),
            None => (text, None),
        };
        match (name, theta) {
            ("uniform", None) => Ok(KeyDist::Uniform),
            ("zipfian", None) => Ok(KeyDist::Zipfian { theta: DEFAULT_ZIPFIAN_THETA }),
            ("zipfian", Some(theta)) => {
                let theta: f64 = theta.parse().with_context(|| format!("zipfian theta '{theta}'"))?;
                // theta = 1 divides by zero in the generator; theta > 1 is a different formula.
                ensure!(theta > 0.0 && theta < 1.0, "zipfian theta must be in (0, 1), not {theta}");
                Ok(KeyDist::Zipfian { theta })
            }
            _ => bail!("unknown key distribution '{text}' (uniform, zipfian, zipfian:<theta>)"),
        }
    }
}

/// A weighted mix of value sizes, weights normalised to sum to 1.
#[derive(Clone, Debug, PartialEq)]
pub struct ValueSizes {
    /// `(size_bytes, cumulative weight)`, the last cumulative weight being 1.
    cumulative: Vec<(usize, f64)>,
}

impl ValueSizes {
    /// Every value `size_bytes` long.
    pub fn single(size_bytes: usize) -> Self {
        Self { cumulative: vec![(size_bytes, 1.0)] }
    }

    /// The size for a uniform draw `unit` in `[0, 1)`.
    pub fn pick(&self, unit: f64) -> usize {
        let index = self.cumulative.partition_point(|&(_, cumulative)| cumulative <= unit);
        let last = self.cumulative.len() - 1;
        self.cumulative[index.min(last)].0
    }

    /// The largest size in the mix.
    pub fn largest_bytes(&self) -> usize {
        self.cumulative.iter().map(|&(size_bytes, _)| size_bytes).max().unwrap_or(0)
    }

    /// `(size_bytes, weight)` pairs, as given.
    pub fn weights(&self) -> Vec<(usize, f64)> {
        let mut previous = 0.0;
        let weight = |&(size_bytes, cumulative): &(usize, f64)| {
            let pair = (size_bytes, cumulative - previous);
            previous = cumulative;
            pair
        };
        self.cumulative.iter().map(weight).collect()
    }
}

impl FromStr for ValueSizes {
    type Err = anyhow::Error;

    fn from_str(text: &str) -> anyhow::Result<Self> {
        let mut pairs = Vec::new();
        for item in text.split(',').map(str::trim) {
            pairs.push(parse_size_weight(item)?);
        }
        let sum: f64 = pairs.iter().map(|&(_, weight)| weight).sum();
        ensure!((sum - 1.0).abs() <= WEIGHT_SUM_TOLERANCE, "value size weights sum to {sum}, not 1");
        let mut running = 0.0;
        let mut cumulative: Vec<(usize, f64)> = pairs
            .into_iter()
            .map(|(size_bytes, weight)| {
                running += weight / sum;
                (size_bytes, running)
            })
            .collect();
        cumulative.last_mut().expect("split yields at least one item").1 = 1.0;
        Ok(Self { cumulative })
    }
}

/// `size:weight`, or a bare `size` meaning weight 1.
fn parse_size_weight(item: &str) -> anyhow::Result<(usize, f64)> {
    let (size, weight) = item.split_once(':').unwrap_or((item, "1"));
    let size_bytes: usize = size.trim().parse().with_context(|| format!("value size '{size}'"))?;
    let weight: f64 = weight.trim().parse().with_context(|| format!("value size weight '{weight}'"))?;
    ensure!(weight > 0.0 && weight.is_finite(), "value size weight must be positive, not {weight}");
    Ok((size_bytes, weight))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(flags: &[&str]) -> Args {
        Args::try_parse_from(std::iter::once("loadgen").chain(flags.iter().copied())).expect("flags parse")
    }

    #[test]
    fn defaults_describe_a_ten_second_uniform_half_read_run() {
        let args = args(&[]);
        args.validate().expect("defaults are valid");
        assert_eq!((args.host.as_str(), args.port), ("127.0.0.1", 6379));
        assert_eq!((args.connections, args.pipeline, args.threads), (50, 1, 1));
        assert_eq!(args.key_dist, KeyDist::Uniform);
        assert_eq!(args.value_mix(), ValueSizes::single(16));
        assert_eq!(args.measured_duration(), Duration::from_secs(10));
        assert_eq!(args.output, OutputFormat::Text);
        assert_eq!(args.cpu_of_thread(0), None);
    }

    #[test]
    fn every_flag_parses() {
        let args = args(&[
            "--host",
            "10.0.0.1",
            "--port",
            "7000",
            "--connections",
            "200",
            "--pipeline",
            "16",
            "--threads",
            "2",
            "--cpus",
            "0,1",
            "--duration-secs",
            "20",
            "--requests",
            "1000",
            "--keyspace",
            "5000",
            "--key-dist",
            "zipfian:0.8",
            "--read-ratio",
            "0.9",
            "--value-sizes",
            "16:0.7,1024:0.2,65536:0.1",
            "--mget",
            "8",
            "--mset",
            "4",
            "--incr-ratio",
            "0.1",
            "--warmup-secs",
            "2",
            "--seed",
            "7",
            "--password",
            "secret",
            "--output",
            "json",
            "--max-error-ratio",
            "0.01",
        ]);
        args.validate().expect("valid");
        assert_eq!(args.key_dist, KeyDist::Zipfian { theta: 0.8 });
        assert_eq!((args.cpu_of_thread(0), args.cpu_of_thread(1), args.cpu_of_thread(2)), (Some(0), Some(1), Some(0)));
        assert_eq!((args.mget, args.mset, args.seed), (8, 4, 7));
        assert_eq!(args.password.as_deref(), Some("secret"));
        assert_eq!(args.output, OutputFormat::Json);
        assert_eq!(args.measured_duration(), Duration::from_secs(20));
        assert_eq!(args.value_mix().weights().len(), 3);
    }

    #[test]
    fn zipfian_without_theta_is_ycsbs_default() {
        assert_eq!("zipfian".parse::<KeyDist>().expect("parses"), KeyDist::Zipfian { theta: 0.99 });
        assert!("zipfian:1".parse::<KeyDist>().is_err());
        assert!("zipfian:0".parse::<KeyDist>().is_err());
        assert!("zipfian:x".parse::<KeyDist>().is_err());
        assert!("gaussian".parse::<KeyDist>().is_err());
        assert!("uniform:0.5".parse::<KeyDist>().is_err());
    }

    #[test]
    fn value_size_and_value_sizes_conflict() {
        let parsed = Args::try_parse_from(["loadgen", "--value-size", "16", "--value-sizes", "16:1"]);
        assert!(parsed.is_err());
        assert_eq!(args(&["--value-size", "100"]).value_mix(), ValueSizes::single(100));
    }

    #[test]
    fn value_size_mix_picks_by_cumulative_weight() {
        let mix: ValueSizes = "16:0.7,1024:0.2,65536:0.1".parse().expect("parses");
        assert_eq!(mix.pick(0.0), 16);
        assert_eq!(mix.pick(0.69), 16);
        assert_eq!(mix.pick(0.71), 1024);
        assert_eq!(mix.pick(0.89), 1024);
        assert_eq!(mix.pick(0.91), 65536);
        assert_eq!(mix.pick(0.999_999), 65536);
        assert_eq!(mix.largest_bytes(), 65536);
        let weights = mix.weights();
        assert_eq!(weights.iter().map(|&(size, _)| size).collect::<Vec<_>>(), [16, 1024, 65536]);
        assert!(weights.iter().zip([0.7, 0.2, 0.1]).all(|(&(_, got), want)| (got - want).abs() < 1e-9));
    }

    #[test]
    fn value_size_mix_draws_match_weights() {
        let mix: ValueSizes = "16:0.7,1024:0.2,65536:0.1".parse().expect("parses");
        let draws = 100_000;
        let small = (0..draws).filter(|i| mix.pick(*i as f64 / draws as f64) == 16).count();
        assert!(small.abs_diff(70_000) <= 1, "{small} of {draws} draws are 16 bytes");
    }

    #[test]
    fn value_size_mix_rejects_bad_weights() {
        assert!("16:0.5,1024:0.2".parse::<ValueSizes>().is_err(), "weights must sum to 1");
        assert!("16:1.2,1024:-0.2".parse::<ValueSizes>().is_err(), "weights must be positive");
        assert!("abc:1".parse::<ValueSizes>().is_err());
        assert_eq!("100".parse::<ValueSizes>().expect("bare size"), ValueSizes::single(100));
    }

    #[test]
    fn validation_rejects_inconsistent_flags() {
        for flags in [
            &["--connections", "0"][..],
            &["--pipeline", "0"],
            &["--threads", "3", "--connections", "2"],
            &["--read-ratio", "1.5"],
            &["--incr-ratio=-0.1"],
            &["--keyspace", "0"],
            &["--mget", "10", "--keyspace", "5"],
            &["--requests", "0"],
            &["--value-size", "1000000000"],
        ] {
            assert!(args(flags).validate().is_err(), "{flags:?} should be rejected");
        }
    }

    #[test]
    fn requests_spread_evenly_and_duration_is_capped() {
        let args = args(&["--requests", "10", "--connections", "4", "--max-duration-secs", "30"]);
        let shares: Vec<_> = (0..4).map(|i| args.requests_of_connection(i).expect("bounded")).collect();
        assert_eq!(shares, [3, 3, 2, 2]);
        assert_eq!(args.measured_duration(), Duration::from_secs(30), "requests alone run up to the cap");
        let capped = super::tests::args(&["--duration-secs", "100", "--max-duration-secs", "5"]);
        assert_eq!(capped.measured_duration(), Duration::from_secs(5));
    }
}
