//! The soak's course: start the server, then phases of load, each ended by a SIGKILL at a
//! random moment (uniform between the kill-interval bounds, from the seeded generator), a
//! restart on the same directory and port, and a check of every key of the model.
//!
//! The last phase (ending at `--duration-secs`, or the `--max-restarts`th) differs in one way:
//! its clients stop before the kill, so nothing is in flight and the final check is exact. The
//! run also stops after the first check that finds a violation, and when the server exits by
//! itself, does not answer within `--ready-timeout-secs` after a restart, or its data directory
//! outgrows `--max-data-mib`. A run therefore
//! lasts `--duration-secs` plus at most one restart and check.

use std::path::PathBuf;
use std::process::ExitStatus;
use std::thread::ScopedJoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, ensure};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use super::config::Args;
use super::model::Violation;
use super::now_ms;
use super::server::{Server, ServerSpec, dir_size_bytes, is_missing_or_empty};
use super::values::Values;
use super::verify::{VerifyReport, verify};
use super::worker::{self, WorkerPlan, WorkerReport, WorkerStats};
use super::workload::{Generator, Partition, partitions};

/// How long clients keep going past a planned kill before giving up on their own (they stop
/// when the kill closes their connections; this only bounds a kill that never comes).
const WORKER_GRACE: Duration = Duration::from_secs(30);
/// The most violations printed in full.
const VIOLATIONS_PRINTED_MAX: usize = 50;

/// Everything counted over the run.
#[derive(Debug, Default)]
struct Totals {
    restarts: u64,
    load: WorkerStats,
    keys_checked: u64,
    inflight_writes: u64,
    inflight_applied: u64,
    violations: u64,
    /// Failures that are not a wrong read: the server died by itself, did not come back,
    /// dropped a connection before the kill.
    failures: Vec<String>,
    restart_max: Duration,
    restart_total: Duration,
}

impl Totals {
    fn passed(&self) -> bool {
        self.violations == 0 && self.failures.is_empty()
    }
}

/// Runs the soak `args` describe; `Ok(true)` if it found nothing wrong.
pub fn run(args: &Args) -> anyhow::Result<bool> {
    args.validate()?;
    let seed = args.seed.unwrap_or_else(seed_from_clock);
    let (dir, temp) = data_dir(args)?;
    let binary = args.nokv_binary()?;
    ensure!(binary.is_file(), "no nokv binary at {} (build it, or pass --nokv)", binary.display());
    println!(
        "soak: seed {seed}, {} s, kill every {}-{} ms, {} connections x pipeline <= {}, {} shards, keys {}+{} counters+{} \
         short-TTL, data in {}",
        args.duration_secs,
        args.min_kill_interval_ms,
        args.max_kill_interval_ms,
        args.connections,
        args.pipeline,
        args.shards,
        args.keys,
        args.counters,
        args.ttl_keys,
        dir.display()
    );
    let spec = ServerSpec {
        binary,
        dir: dir.clone(),
        shards: args.shards,
        ready_timeout: ready_timeout(args),
        extra_args: args.server_arg.clone(),
    };
    let values = Values::new(seed, args.value_sizes.largest_bytes());
    let mut soak = Soak {
        args,
        generator: Generator { values: &values, sizes: &args.value_sizes },
        partitions: partitions(args.key_space(), args.connections),
        rng: SmallRng::seed_from_u64(seed),
        totals: Totals::default(),
        started: Instant::now(),
    };
    let mut server = Server::start(spec)?;
    if let Err(error) = soak.run_phases(&mut server) {
        soak.fail(format!("{error:#}"));
    }
    drop(server);
    let passed = soak.totals.passed();
    print_summary(seed, &soak.totals, soak.started.elapsed(), dir_size_bytes(&dir));
    finish_dir(temp, args.keep_dir || !passed);
    Ok(passed)
}

fn ready_timeout(args: &Args) -> Duration {
    Duration::from_secs(args.ready_timeout_secs)
}

fn seed_from_clock() -> u64 {
    let since_epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    since_epoch.as_nanos() as u64
}

/// The data directory, and the temporary directory holding it when none was given.
fn data_dir(args: &Args) -> anyhow::Result<(PathBuf, Option<tempfile::TempDir>)> {
    if let Some(dir) = &args.dir {
        ensure!(
            is_missing_or_empty(dir),
            "--dir {} is not empty: the soak starts from an empty database",
            dir.display()
        );
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        return Ok((dir.clone(), None));
    }
    let temp = tempfile::Builder::new().prefix("nokv-soak-").tempdir().context("creating a temporary directory")?;
    Ok((temp.path().join("data"), Some(temp)))
}

/// Removes the temporary directory, or keeps it (and says where) when asked to or on failure.
fn finish_dir(temp: Option<tempfile::TempDir>, keep: bool) {
    if let Some(temp) = temp.filter(|_| keep) {
        println!("soak: data and server log kept in {}", temp.keep().display());
    }
}

struct Soak<'a> {
    args: &'a Args,
    generator: Generator<'a>,
    partitions: Vec<Partition>,
    rng: SmallRng,
    totals: Totals,
    started: Instant,
}

/// How a load phase ended.
struct PhaseEnd {
    reports: Vec<WorkerReport>,
    /// The server's status if it had exited before the kill.
    exited_by_itself: Option<ExitStatus>,
    kill_sent: Instant,
    killed_ms: u64,
}

impl Soak<'_> {
    fn run_phases(&mut self, server: &mut Server) -> anyhow::Result<()> {
        let end = self.started + self.args.duration();
        // A restart that overran the end leaves no time for a load phase: the last check stands.
        while self.totals.restarts < self.args.max_restarts && Instant::now() < end {
            let phase_started = Instant::now();
            let (kill_at, last) = self.next_kill(phase_started, end);
            let phase = self.load_phase(server, kill_at, last)?;
            let killed_ms = phase.killed_ms;
            let load_time = phase.kill_sent.saturating_duration_since(phase_started);
            let (load, healthy) = self.absorb_phase(phase, server);
            let restart = server.restart().context("restarting after the kill")?;
            self.totals.restarts += 1;
            self.totals.restart_max = self.totals.restart_max.max(restart);
            self.totals.restart_total += restart;
            let label = format!("check after restart {}", self.totals.restarts);
            let values = self.generator.values;
            // The first reads after a restart may wait for recovery, so they get the start-up bound.
            let timeout = ready_timeout(self.args);
            let report = verify(server.addr(), &mut self.partitions, killed_ms, values, timeout, &label)?;
            let data_bytes = dir_size_bytes(server.data_dir());
            self.print_restart(load_time, load, restart, &report, data_bytes);
            let clean = report.violations.is_empty();
            self.absorb_check(report);
            let within_size = self.check_data_size(data_bytes);
            if !healthy || !clean || !within_size || last {
                return Ok(());
            }
        }
        Ok(())
    }

    /// When the next kill comes, and whether it ends the run.
    fn next_kill(&mut self, now: Instant, end: Instant) -> (Instant, bool) {
        let interval = Duration::from_millis(
            self.rng.random_range(self.args.min_kill_interval_ms..=self.args.max_kill_interval_ms),
        );
        let kill_at = (now + interval).min(end);
        (kill_at, kill_at == end || self.totals.restarts + 1 >= self.args.max_restarts)
    }

    /// Runs the clients until `kill_at`, SIGKILLs the server then, and collects the clients.
    /// In the last phase the clients stop at `kill_at` before the kill.
    fn load_phase(&mut self, server: &mut Server, kill_at: Instant, last: bool) -> anyhow::Result<PhaseEnd> {
        let deadline = if last { kill_at } else { kill_at + WORKER_GRACE };
        let plans: Vec<WorkerPlan> = (0..self.partitions.len())
            .map(|_| WorkerPlan {
                addr: server.addr(),
                deadline,
                seed: self.rng.random(),
                pipeline: self.args.pipeline,
                timeout: self.args.reply_timeout(),
            })
            .collect();
        let partitions = std::mem::take(&mut self.partitions);
        let generator = self.generator;
        std::thread::scope(|scope| {
            let mut handles: Vec<_> = partitions
                .into_iter()
                .zip(plans)
                .map(|(partition, plan)| scope.spawn(move || worker::run(partition, plan, generator)))
                .collect();
            let mut reports = Vec::with_capacity(handles.len());
            if last {
                reports = join_all(std::mem::take(&mut handles))?;
            }
            std::thread::sleep(kill_at.saturating_duration_since(Instant::now()));
            let kill_sent = Instant::now();
            let exited_by_itself = server.kill9()?;
            let killed_ms = now_ms();
            reports.extend(join_all(handles)?);
            Ok(PhaseEnd { reports, exited_by_itself, kill_sent, killed_ms })
        })
    }

    /// Takes the clients' partitions back and counts what they saw; false if the phase failed.
    fn absorb_phase(&mut self, phase: PhaseEnd, server: &Server) -> (WorkerStats, bool) {
        let mut load = WorkerStats::default();
        let mut healthy = true;
        if let Some(status) = phase.exited_by_itself {
            self.fail(format!("nokv exited by itself with {status} before the kill\n{}", server.log_tail()));
            healthy = false;
        }
        for (connection, report) in phase.reports.into_iter().enumerate() {
            load.add(report.stats);
            healthy &= report.violations.is_empty();
            self.report_violations(&report.violations);
            if let Some((message, at)) = report.ended_by.filter(|(_, at)| *at < phase.kill_sent) {
                let before_ms = phase.kill_sent.duration_since(at).as_millis();
                self.fail(format!("connection {connection} failed {before_ms} ms before the kill: {message}"));
                healthy = false;
            }
            self.partitions.push(report.partition);
        }
        self.totals.load.add(load);
        (load, healthy)
    }

    /// False (a failure) when the data directory outgrew `--max-data-mib`.
    fn check_data_size(&mut self, data_bytes: u64) -> bool {
        let limit_mib = self.args.max_data_mib;
        if data_bytes >> 20 <= limit_mib {
            return true;
        }
        self.fail(format!("the data directory grew to {} MiB, past --max-data-mib {limit_mib}", data_bytes >> 20));
        false
    }

    fn absorb_check(&mut self, report: VerifyReport) {
        self.totals.keys_checked += report.keys_checked;
        self.totals.inflight_writes += report.inflight_writes;
        self.totals.inflight_applied += report.inflight_applied;
        self.report_violations(&report.violations);
    }

    fn report_violations(&mut self, violations: &[Violation]) {
        for violation in violations {
            if self.totals.violations < VIOLATIONS_PRINTED_MAX as u64 {
                println!("{violation}");
            }
            self.totals.violations += 1;
        }
    }

    fn fail(&mut self, message: String) {
        println!("FAILURE: {message}");
        self.totals.failures.push(message);
    }

    fn print_restart(
        &self,
        load_time: Duration,
        load: WorkerStats,
        restart: Duration,
        report: &VerifyReport,
        data_bytes: u64,
    ) {
        println!(
            "restart {:>4} at {:>7.1} s: load {:>4.1} s, {:>6} requests, {:>6} acked writes | back in {:>5} ms | \
             {} keys checked, {} in flight ({} applied), {} violations | data {} MiB",
            self.totals.restarts,
            self.started.elapsed().as_secs_f64(),
            load_time.as_secs_f64(),
            load.requests_answered,
            load.writes_acked,
            restart.as_millis(),
            report.keys_checked,
            report.inflight_writes,
            report.inflight_applied,
            report.violations.len(),
            data_bytes >> 20
        );
    }
}

fn join_all(handles: Vec<ScopedJoinHandle<'_, WorkerReport>>) -> anyhow::Result<Vec<WorkerReport>> {
    handles.into_iter().map(|handle| handle.join().map_err(|_| anyhow!("a client thread panicked"))).collect()
}

fn print_summary(seed: u64, totals: &Totals, elapsed: Duration, data_bytes: u64) {
    let restart_mean_ms = totals.restart_total.as_millis() / u128::from(totals.restarts.max(1));
    println!(
        "soak summary: seed={seed} elapsed_secs={:.0} restarts={} requests={} acked_writes={} keys_verified={} \
         inflight_at_kill={} inflight_applied={} violations={} failures={} restart_mean_ms={restart_mean_ms} \
         restart_max_ms={} data_bytes={data_bytes} result={}",
        elapsed.as_secs_f64(),
        totals.restarts,
        totals.load.requests_answered,
        totals.load.writes_acked,
        totals.keys_checked,
        totals.inflight_writes,
        totals.inflight_applied,
        totals.violations,
        totals.failures.len(),
        totals.restart_max.as_millis(),
        if totals.passed() { "PASS" } else { "FAIL" }
    );
}
