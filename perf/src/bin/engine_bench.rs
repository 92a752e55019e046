//! `engine_bench`: RocksDB db_bench's workloads over NoKV's engine, for a side-by-side run with
//! `db_bench` (see `scripts/bench-engine`).
//!
//! One glommio executor pinned to one CPU runs everything, like one server shard: a single
//! writer/reader task that awaits each operation before issuing the next, and the engine's
//! flushes, compactions and journal purges in a low-share background task queue. The flags have
//! db_bench's names and meanings; `--sync=1` acknowledges each write after the journal's
//! fdatasync (`Durability::Sync`), `--sync=0` after its O_DIRECT write (`Durability::Written`).
//! Like db_bench, `fillseq` and `fillrandom` start from an empty database unless
//! `--use_existing_db=1`; the other workloads run on what the previous ones left.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, anyhow, bail};
use clap::Parser;
use glommio::{Latency, LocalExecutorBuilder, Placement, Shares, task::JoinHandle};
use nokv_engine::cache::CacheOptions;
use nokv_engine::io::dma::DmaFs;
use nokv_engine::sst::TableOptions;
use nokv_engine::{Cf, Db, Durability, EngineOptions, ReadOptions};
use nokv_perf::dbbench::{Recorder, Report, ValueGenerator, make_key};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const ALL_BENCHMARKS: &str = "fillseq,fillrandom,overwrite,readrandom,readseq";

/// db_bench-compatible flags (`--name=value`; booleans accept 0/1/true/false).
#[derive(Parser, Debug, Clone)]
#[command(rename_all = "snake_case", about = "db_bench workloads over the NoKV engine")]
struct Args {
    /// Comma-separated workloads, run in order: fillseq, fillrandom, overwrite, readrandom, readseq.
    #[arg(long, default_value = ALL_BENCHMARKS)]
    benchmarks: String,
    /// Number of keys (and of write operations).
    #[arg(long, default_value_t = 1_000_000)]
    num: u64,
    /// Read operations of readrandom/readseq (default: num).
    #[arg(long)]
    reads: Option<u64>,
    /// Value size in bytes.
    #[arg(long, default_value_t = 100)]
    value_size: usize,
    /// Key size in bytes.
    #[arg(long, default_value_t = 16)]
    key_size: usize,
    /// Values shrink to this fraction of their size when compressed.
    #[arg(long, default_value_t = 0.5)]
    compression_ratio: f64,
    /// 1: every write waits for fdatasync; 0: for the O_DIRECT journal write only.
    #[arg(long, value_parser = parse_flag, default_value = "0", num_args = 0..=1, default_missing_value = "1")]
    sync: bool,
    /// Database directory.
    #[arg(long, default_value = "/tmp/nokv-engine-bench")]
    db: PathBuf,
    /// Keep the existing database instead of starting fill workloads from an empty one.
    #[arg(long, value_parser = parse_flag, default_value = "0", num_args = 0..=1, default_missing_value = "1")]
    use_existing_db: bool,
    /// Random seed; 0 derives one from the clock (as db_bench does).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Accepted for db_bench compatibility; percentiles are always printed.
    #[arg(long, value_parser = parse_flag, default_value = "1", num_args = 0..=1, default_missing_value = "1")]
    histogram: bool,
    /// CPU the executor is pinned to.
    #[arg(long, default_value_t = 0)]
    cpu: usize,
    /// Block cache bytes.
    #[arg(long, default_value_t = 64 << 20)]
    cache_size: u64,
    /// Memtable bytes.
    #[arg(long, default_value_t = 64 << 20)]
    write_buffer_size: u64,
    /// Separated value bytes that freeze a memtable (`EngineOptions::max_unflushed_value_bytes`).
    #[arg(long, default_value_t = EngineOptions::default().max_unflushed_value_bytes)]
    max_unflushed_value_bytes: u64,
    /// Bloom filter bits per key (0: no filter).
    #[arg(long, default_value_t = 10)]
    bloom_bits: usize,
    /// `lz4` or `none`.
    #[arg(long, default_value = "lz4")]
    compression_type: String,
    /// Scheduler shares of the background (flush/compaction) task queue; the foreground has 1000.
    #[arg(long, default_value_t = 250)]
    background_shares: usize,
}

fn parse_flag(text: &str) -> Result<bool, String> {
    match text {
        "1" | "true" => Ok(true),
        "0" | "false" => Ok(false),
        other => Err(format!("expected 0/1/true/false, got {other:?}")),
    }
}

impl Args {
    fn durability(&self) -> Durability {
        if self.sync { Durability::Sync } else { Durability::Written }
    }

    fn reads(&self) -> u64 {
        self.reads.unwrap_or(self.num)
    }

    fn engine_options(&self) -> anyhow::Result<EngineOptions> {
        let compression = match self.compression_type.as_str() {
            "lz4" => true,
            "none" => false,
            other => bail!("--compression_type={other}: only lz4 and none are supported"),
        };
        let options = EngineOptions {
            memtable_size_bytes: self.write_buffer_size,
            max_unflushed_value_bytes: self.max_unflushed_value_bytes,
            cache: CacheOptions { block_cache_bytes: self.cache_size },
            table: TableOptions { bloom_bits_per_key: self.bloom_bits, compression, ..TableOptions::default() },
            ..EngineOptions::default()
        };
        options.validate()?;
        Ok(options)
    }
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    nokv_perf::init_tracing();
    let executor = LocalExecutorBuilder::new(Placement::Fixed(args.cpu))
        .name("engine-bench")
        .spawn(move || run(args))
        .map_err(|e| anyhow!("starting the glommio executor: {e}"))?;
    executor.join().map_err(|e| anyhow!("glommio executor: {e}"))?
}

async fn run(args: Args) -> anyhow::Result<()> {
    let seed = effective_seed(args.seed);
    let mut rng = StdRng::seed_from_u64(seed);
    let mut values = ValueGenerator::new(&mut rng, args.compression_ratio, args.value_size);
    print_header(&args, seed)?;
    let mut store = Some(Store::open(&args, !args.use_existing_db).await?);
    for name in args.benchmarks.split(',').map(str::trim).filter(|name| !name.is_empty()) {
        if (name == "fillseq" || name == "fillrandom") && !args.use_existing_db {
            store.take().expect("a store is open between workloads").close().await?;
            store = Some(Store::open(&args, true).await?);
        }
        let db = &store.as_ref().expect("a store is open between workloads").db;
        let report = run_workload(name, db, &args, &mut rng, &mut values).await?;
        println!("{}", report.summary_line());
        println!("{}", report.percentile_line());
    }
    let store = store.expect("a store is open after the workloads");
    print_stats(&store.db);
    store.close().await
}

fn effective_seed(seed: u64) -> u64 {
    if seed != 0 {
        return seed;
    }
    let derived = SystemTime::now().duration_since(UNIX_EPOCH).map_or(1, |d| d.as_micros() as u64);
    eprintln!("Set seed to {derived} because --seed was 0");
    derived
}

fn print_header(args: &Args, seed: u64) -> anyhow::Result<()> {
    let options = args.engine_options()?;
    println!("NoKV engine_bench (db_bench workloads), seed {seed}");
    println!("Keys:       {} bytes each", args.key_size);
    println!(
        "Values:     {} bytes each ({} bytes after compression)",
        args.value_size,
        (args.value_size as f64 * args.compression_ratio) as usize
    );
    println!("Entries:    {}", args.num);
    println!("Durability: {:?} (--sync={})", args.durability(), u8::from(args.sync));
    println!(
        "Memtable:   {} MiB, block cache {} MiB, bloom bits {}, compression {}",
        options.memtable_size_bytes >> 20,
        options.cache.block_cache_bytes >> 20,
        options.table.bloom_bits_per_key,
        args.compression_type
    );
    println!("Value log:  values of {} bytes and more are separated", options.value_threshold_bytes);
    println!("CPU:        executor pinned to cpu {}", args.cpu);
    println!("DB path:    [{}]", args.db.display());
    println!("------------------------------------------------");
    Ok(())
}

/// The open database and its background task.
struct Store {
    db: Db<DmaFs>,
    background: JoinHandle<nokv_engine::Result<()>>,
}

impl Store {
    async fn open(args: &Args, fresh: bool) -> anyhow::Result<Store> {
        if fresh {
            remove_dir(&args.db)?;
        }
        let fs = DmaFs::new(&args.db).await?;
        let db = Db::open(fs, &args.db, args.engine_options()?).await?;
        let queue = glommio::executor().create_task_queue(
            Shares::Static(args.background_shares),
            Latency::NotImportant,
            "background",
        );
        let background_db = db.clone();
        let background = glommio::spawn_local_into(async move { background_db.run_background().await }, queue)
            .map_err(|e| anyhow!("spawning the background task: {e}"))?
            .detach();
        Ok(Store { db, background })
    }

    async fn close(self) -> anyhow::Result<()> {
        self.db.close().await?;
        match self.background.await {
            Some(result) => result.context("engine background work"),
            None => Ok(()),
        }
    }
}

fn remove_dir(dir: &Path) -> anyhow::Result<()> {
    match std::fs::remove_dir_all(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("removing {}", dir.display()))
        }
        _ => Ok(()),
    }
}

async fn run_workload(
    name: &str,
    db: &Db<DmaFs>,
    args: &Args,
    rng: &mut StdRng,
    values: &mut ValueGenerator,
) -> anyhow::Result<Report> {
    match name {
        "fillseq" => write_keys(name, db, args, KeyOrder::Sequential, rng, values).await,
        "fillrandom" | "overwrite" => write_keys(name, db, args, KeyOrder::Random, rng, values).await,
        "readrandom" => read_random(db, args, rng).await,
        "readseq" => read_sequential(db, args).await,
        other => bail!("unknown benchmark {other:?} (supported: {ALL_BENCHMARKS})"),
    }
}

#[derive(Debug, Clone, Copy)]
enum KeyOrder {
    Sequential,
    Random,
}

/// `num` single-key writes, each awaited before the next (one writer).
async fn write_keys(
    name: &str,
    db: &Db<DmaFs>,
    args: &Args,
    order: KeyOrder,
    rng: &mut StdRng,
    values: &mut ValueGenerator,
) -> anyhow::Result<Report> {
    let durability = args.durability();
    let mut recorder = Recorder::new();
    for i in 0..args.num {
        let key_number = match order {
            KeyOrder::Sequential => i,
            KeyOrder::Random => rng.random_range(0..args.num),
        };
        let key = make_key(key_number, args.key_size);
        let value = values.next_value(args.value_size);
        db.put(&key, value, durability).await?;
        recorder.op_done(key.len() + value.len());
        // Lets the background queue run when it is due, as a server's request loop would.
        glommio::yield_if_needed().await;
    }
    Ok(recorder.finish(name, String::new()))
}

/// `reads` point reads of uniformly random keys in `[0, num)`.
async fn read_random(db: &Db<DmaFs>, args: &Args, rng: &mut StdRng) -> anyhow::Result<Report> {
    let mut recorder = Recorder::new();
    let mut found = 0u64;
    for _ in 0..args.reads() {
        let key = make_key(rng.random_range(0..args.num), args.key_size);
        let bytes = match db.get(&key).await? {
            Some(value) => {
                found += 1;
                key.len() + value.len()
            }
            None => 0,
        };
        recorder.op_done(bytes);
        glommio::yield_if_needed().await;
    }
    Ok(recorder.finish("readrandom", format!("({found} of {} found)", args.reads())))
}

/// A forward scan from the first key, `reads` entries at most.
async fn read_sequential(db: &Db<DmaFs>, args: &Args) -> anyhow::Result<Report> {
    let mut recorder = Recorder::new();
    let mut iter = db.iter(Cf::Default, &ReadOptions::new());
    iter.seek_to_first().await?;
    let mut remaining = args.reads();
    while iter.is_valid() && remaining > 0 {
        let bytes = iter.key().len() + iter.value().len();
        iter.next().await?;
        recorder.op_done(bytes);
        remaining -= 1;
        glommio::yield_if_needed().await;
    }
    Ok(recorder.finish("readseq", String::new()))
}

fn print_stats(db: &Db<DmaFs>) {
    let engine = db.engine();
    println!("STATS engine:  {:?}", engine.stats());
    println!("STATS cache:   {:?}", engine.cache_stats());
    println!("STATS journal: {:?}", db.journal().stats());
    println!(
        "STATS memtables {:.1} MiB, value log {:.1} MiB",
        mib(engine.memtable_bytes()),
        mib(engine.value_log_bytes())
    );
    for (cf, levels) in engine.level_summary() {
        let used: Vec<String> = levels
            .iter()
            .enumerate()
            .filter(|(_, (files, _))| *files > 0)
            .map(|(level, (files, bytes))| format!("L{level}: {files} files {:.1} MiB", mib(*bytes)))
            .collect();
        if !used.is_empty() {
            println!("STATS levels {cf:?}: {}", used.join(", "));
        }
    }
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / 1_048_576.0
}
