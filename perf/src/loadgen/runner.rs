//! Running a load: one glommio executor per thread (pinned when `--cpus` is given), each
//! driving its share of the connections as tasks, and the main thread gathering the timeline.
//!
//! Start-up: every thread connects (and AUTHs) all its connections, tells the main thread it
//! is ready and waits; once all are ready the main thread sends the common start instant, so
//! connection set-up is outside the measurement and every thread's seconds line up.
//!
//! A connection loop: fill a batch of `--pipeline` requests, write it at once, read until every
//! reply is in; each reply's latency runs from the batch's write to the read that completed
//! it (redis-benchmark's definition with pipelining). A wrong or error reply counts an error.
//! An I/O error or timeout counts every unanswered request of the batch as lost and reconnects
//! (every 100 ms, each failed attempt an error) until the run's end, so the generator rides
//! through server restarts and reports exactly what failed.
//!
//! The run is bounded three ways: `--requests` per connection, the measured duration, and a
//! hard deadline in the main thread after which the process exits with status 2 whatever the
//! threads are doing.

use std::cell::RefCell;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::rc::Rc;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow};
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use glommio::net::TcpStream;
use glommio::{LocalExecutorBuilder, Placement};
use rand::SeedableRng;
use rand::rngs::SmallRng;

use super::config::{Args, OutputFormat};
use super::report::{Summary, Timeline, describe_run, format_second, timeline_header};
use super::resp::{ReplySummary, encode_request, parse_reply};
use super::stats::{Recorder, Tick, Totals, reply_error_kind};
use super::workload::{Sent, Workload};

/// How long all threads may take to connect before the run is abandoned.
const CONNECT_PHASE_LIMIT: Duration = Duration::from_secs(60);
/// Pause between reconnection attempts.
const RECONNECT_PAUSE: Duration = Duration::from_millis(100);
/// Slack after the planned end before the main thread gives up on the threads.
const HARD_DEADLINE_SLACK: Duration = Duration::from_secs(10);
/// The least free space offered to a read.
const MIN_READ_BYTES: usize = 64 * 1024;

/// Runs the load `args` describe, printing the timeline and summary; `Ok(true)` if it passed.
pub fn run(args: &Args) -> anyhow::Result<bool> {
    args.validate()?;
    let addr = (args.host.as_str(), args.port)
        .to_socket_addrs()
        .with_context(|| format!("resolving {}:{}", args.host, args.port))?
        .next()
        .ok_or_else(|| anyhow!("{} resolves to no address", args.host))?;
    let workload = Workload::new(args, &mut SmallRng::seed_from_u64(args.seed));
    let (tick_tx, tick_rx) = mpsc::channel();
    let (ready_tx, ready_rx) = mpsc::channel();
    let mut executors = Vec::new();
    let mut go_senders = Vec::new();
    for thread in 0..args.threads {
        let (go_tx, go_rx) = mpsc::channel();
        let plan = ThreadPlan::new(args, thread, addr, workload.clone());
        let channels = ThreadChannels { ticks: tick_tx.clone(), ready: ready_tx.clone(), go: go_rx };
        let placement = args.cpu_of_thread(thread).map_or(Placement::Unbound, Placement::Fixed);
        let mut builder = LocalExecutorBuilder::new(placement).name(&format!("loadgen-{thread}"));
        if args.spin_before_park_us > 0 {
            builder = builder.spin_before_park(Duration::from_micros(args.spin_before_park_us));
        }
        let executor = builder
            .spawn(move || thread_main(plan, channels))
            .map_err(|e| anyhow!("starting executor {thread}: {e}"))?;
        executors.push(executor);
        go_senders.push(go_tx);
    }
    drop((tick_tx, ready_tx));
    let start = start_together(args.threads, &ready_rx, &go_senders)?;
    let hard_deadline = start + args.measured_duration() + warmup(args) + reply_timeout(args) + HARD_DEADLINE_SLACK;
    print_timeline(args, &tick_rx, hard_deadline);
    let mut totals = Totals::default();
    for executor in executors {
        totals.merge(&executor.join().map_err(|e| anyhow!("load thread: {e}"))?);
    }
    Ok(print_summary(args, &totals, start))
}

fn warmup(args: &Args) -> Duration {
    Duration::from_secs(args.warmup_secs)
}

fn reply_timeout(args: &Args) -> Duration {
    Duration::from_secs(args.reply_timeout_secs)
}

/// Waits until every thread has connected, then releases them all with one start instant.
fn start_together(threads: usize, ready: &Receiver<()>, go: &[Sender<Instant>]) -> anyhow::Result<Instant> {
    let limit = Instant::now() + CONNECT_PHASE_LIMIT;
    for _ in 0..threads {
        let left = limit.saturating_duration_since(Instant::now());
        ready.recv_timeout(left).map_err(|_| anyhow!("connections not set up within {CONNECT_PHASE_LIMIT:?}"))?;
    }
    let start = Instant::now();
    for sender in go {
        sender.send(start).map_err(|_| anyhow!("a load thread exited before the start"))?;
    }
    Ok(start)
}

/// Prints seconds as the threads report them, until every thread is done; exits the process
/// with status 2 if that takes past `hard_deadline`.
fn print_timeline(args: &Args, ticks: &Receiver<Tick>, hard_deadline: Instant) {
    let mut timeline = Timeline::new(args.threads);
    if args.output == OutputFormat::Text {
        println!("loadgen {}", describe_run(args));
        println!("{}", timeline_header());
    }
    let show = |second: &super::report::Second| {
        println!("{}", format_second(args.output, second, second.second <= args.warmup_secs));
    };
    loop {
        match ticks.recv_timeout(Duration::from_millis(200)) {
            Ok(tick) => timeline.add(tick).iter().for_each(show),
            Err(RecvTimeoutError::Disconnected) => break,
            Err(RecvTimeoutError::Timeout) if Instant::now() > hard_deadline => {
                eprintln!("loadgen: threads still running past the hard deadline; exiting");
                std::process::exit(2);
            }
            Err(RecvTimeoutError::Timeout) => {}
        }
    }
    timeline.flush().iter().for_each(show);
}

fn print_summary(args: &Args, totals: &Totals, start: Instant) -> bool {
    let measure_start = start + warmup(args);
    let finished_at = totals.finished_at.unwrap_or(measure_start);
    let measured_secs = finished_at.saturating_duration_since(measure_start).as_secs_f64().max(1e-3);
    let summary = Summary { totals, measured_secs, max_error_ratio: args.max_error_ratio };
    println!("{}", summary.render(args.output, &describe_run(args)));
    let passed = summary.passed();
    if !passed {
        eprintln!(
            "loadgen: FAILED (error ratio {:.6} > {}, or no measured replies)",
            summary.error_ratio(),
            args.max_error_ratio
        );
    }
    passed
}

/// What one thread needs.
struct ThreadPlan {
    thread: usize,
    addr: SocketAddr,
    password: Option<String>,
    pipeline: usize,
    workload: Workload,
    /// `(global connection index, measured requests it sends)`.
    connections: Vec<(usize, Option<u64>)>,
    seed: u64,
    warmup: Duration,
    measured: Duration,
    reply_timeout: Duration,
}

impl ThreadPlan {
    fn new(args: &Args, thread: usize, addr: SocketAddr, workload: Workload) -> Self {
        let connections = (thread..args.connections)
            .step_by(args.threads)
            .map(|index| (index, args.requests_of_connection(index)))
            .collect();
        Self {
            thread,
            addr,
            password: args.password.clone(),
            pipeline: args.pipeline,
            workload,
            connections,
            seed: args.seed,
            warmup: warmup(args),
            measured: args.measured_duration(),
            reply_timeout: reply_timeout(args),
        }
    }
}

struct ThreadChannels {
    ticks: Sender<Tick>,
    ready: Sender<()>,
    go: Receiver<Instant>,
}

/// What a thread's connection tasks share.
struct Shared {
    plan: ThreadPlan,
    recorder: RefCell<Recorder>,
    start: Instant,
    measure_start: Instant,
    deadline: Instant,
}

async fn thread_main(plan: ThreadPlan, channels: ThreadChannels) -> Totals {
    let recorder = RefCell::new(Recorder::new(plan.thread));
    let mut streams = Vec::new();
    for _ in &plan.connections {
        streams.push(connect(&plan).await);
    }
    // Blocking the executor is fine here: its connections are idle until the start.
    let ready = channels.ready.send(()).is_ok();
    let Some(start) = ready.then(|| channels.go.recv().ok()).flatten() else {
        return recorder.into_inner().finish(Instant::now());
    };
    let measure_start = start + plan.warmup;
    let deadline = measure_start + plan.measured;
    let shared = Rc::new(Shared { plan, recorder, start, measure_start, deadline });
    let ticker = glommio::spawn_local(tick_every_second(shared.clone(), channels.ticks.clone()));
    let tasks: Vec<_> = streams
        .into_iter()
        .zip(shared.plan.connections.clone())
        .map(|(stream, (index, requests))| glommio::spawn_local(drive(shared.clone(), stream, index, requests)))
        .collect();
    for task in tasks {
        task.await;
    }
    drop(ticker);
    let finished_at = Instant::now();
    send_last_tick(&shared, &channels.ticks, finished_at);
    // The cancelled ticker may still hold the shared state, so take the recorder out of it.
    shared.recorder.replace(Recorder::new(shared.plan.thread)).finish(finished_at)
}

async fn tick_every_second(shared: Rc<Shared>, ticks: Sender<Tick>) {
    for second in 1u64.. {
        let due = shared.start + Duration::from_secs(second);
        glommio::timer::sleep(due.saturating_duration_since(Instant::now())).await;
        let tick = shared.recorder.borrow_mut().take_tick(1.0, false);
        if ticks.send(tick).is_err() {
            return;
        }
    }
}

fn send_last_tick(shared: &Shared, ticks: &Sender<Tick>, finished_at: Instant) {
    let mut recorder = shared.recorder.borrow_mut();
    let tick_start = shared.start + Duration::from_secs(recorder.ticks_sent());
    let interval_secs = finished_at.saturating_duration_since(tick_start).as_secs_f64();
    // The main thread may have stopped listening only if it is exiting anyway.
    let _ = ticks.send(recorder.take_tick(interval_secs, true));
}

/// One connection's request loop, until its requests are sent or the deadline passes.
async fn drive(shared: Rc<Shared>, first: Result<Connection, String>, index: usize, requests: Option<u64>) {
    let mut connection = match first {
        Ok(connection) => connection,
        Err(message) => {
            // A connection that cannot even start would fail the same way again; stop it.
            shared.recorder.borrow_mut().failure("connect", &message, 1);
            return;
        }
    };
    let mut rng =
        SmallRng::seed_from_u64(shared.plan.seed.wrapping_add((index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)));
    let mut batch = Batch::default();
    let mut remaining = requests;
    loop {
        let now = Instant::now();
        let measured = now >= shared.measure_start;
        if now >= shared.deadline || (measured && remaining == Some(0)) {
            return;
        }
        let size = match remaining {
            Some(left) if measured => shared.plan.pipeline.min(left as usize),
            _ => shared.plan.pipeline,
        };
        batch.fill(&shared.plan.workload, &mut rng, size);
        if let Err(failure) = connection.exchange(&batch, &shared.recorder, measured).await {
            let lost = batch.sent.len() - failure.answered;
            shared.recorder.borrow_mut().failure(&failure.kind, &failure.message, lost as u64);
            let Some(fresh) = reconnect(&shared).await else { return };
            connection = fresh;
        }
        if let Some(left) = remaining.as_mut().filter(|_| measured) {
            *left -= size as u64;
        }
    }
}

/// Connects again after a failure, until the deadline.
async fn reconnect(shared: &Shared) -> Option<Connection> {
    loop {
        glommio::timer::sleep(RECONNECT_PAUSE).await;
        if Instant::now() >= shared.deadline {
            return None;
        }
        match connect(&shared.plan).await {
            Ok(connection) => return Some(connection),
            Err(message) => shared.recorder.borrow_mut().failure("connect", &message, 1),
        }
    }
}

/// Opens a connection, sets its options and authenticates.
async fn connect(plan: &ThreadPlan) -> Result<Connection, String> {
    let stream = TcpStream::connect_timeout(plan.addr, plan.reply_timeout)
        .await
        .map_err(|e| format!("connecting to {}: {e}", plan.addr))?;
    let configure = || -> glommio::Result<(), ()> {
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(plan.reply_timeout))?;
        stream.set_write_timeout(Some(plan.reply_timeout))
    };
    configure().map_err(|e| format!("socket options: {e}"))?;
    let mut connection = Connection { stream, input: Vec::new(), filled: 0 };
    if let Some(password) = &plan.password {
        connection.authenticate(password).await?;
    }
    Ok(connection)
}

/// The requests of one pipeline round, encoded.
#[derive(Default)]
struct Batch {
    out: Vec<u8>,
    sent: Vec<Sent>,
}

impl Batch {
    fn fill(&mut self, workload: &Workload, rng: &mut SmallRng, size: usize) {
        self.out.clear();
        self.sent.clear();
        for _ in 0..size {
            self.sent.push(workload.next_request(rng, &mut self.out));
        }
    }
}

/// Why a batch could not be completed, and how far it got.
struct Failure {
    kind: String,
    message: String,
    answered: usize,
}

impl Failure {
    fn io(error: &io::Error, answered: usize) -> Self {
        let kind = match error.kind() {
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => "io: timed out".to_owned(),
            io::ErrorKind::UnexpectedEof => "io: closed by server".to_owned(),
            other => format!("io: {other}"),
        };
        Self { kind, message: error.to_string(), answered }
    }
}

struct Connection {
    stream: TcpStream,
    input: Vec<u8>,
    filled: usize,
}

impl Connection {
    /// Writes `batch` and reads all its replies, recording each.
    async fn exchange(&mut self, batch: &Batch, recorder: &RefCell<Recorder>, measured: bool) -> Result<(), Failure> {
        let sent_at = Instant::now();
        self.stream.write_all(&batch.out).await.map_err(|e| Failure::io(&e, 0))?;
        let mut answered = 0;
        loop {
            let latency = sent_at.elapsed();
            answered += self.take_replies(&batch.sent[answered..], recorder, latency, measured, answered)?;
            if answered == batch.sent.len() {
                return Ok(());
            }
            self.read_more().await.map_err(|e| Failure::io(&e, answered))?;
        }
    }

    /// Records every buffered reply to `waiting` (in order); returns how many there were.
    fn take_replies(
        &mut self,
        waiting: &[Sent],
        recorder: &RefCell<Recorder>,
        latency: Duration,
        measured: bool,
        answered_before: usize,
    ) -> Result<usize, Failure> {
        let mut consumed = 0;
        let mut answered = 0;
        let mut recorder = recorder.borrow_mut();
        while answered < waiting.len() {
            let parsed = parse_reply(&self.input[consumed..self.filled]).map_err(|e| Failure {
                kind: "protocol".to_owned(),
                message: e.to_string(),
                answered: answered_before + answered,
            })?;
            let Some((reply, len_bytes)) = parsed else { break };
            record_reply(&mut recorder, waiting[answered], &reply, latency, measured);
            consumed += len_bytes;
            answered += 1;
        }
        self.input.copy_within(consumed..self.filled, 0);
        self.filled -= consumed;
        Ok(answered)
    }

    async fn read_more(&mut self) -> io::Result<()> {
        if self.input.len() - self.filled < MIN_READ_BYTES {
            let grown = (self.input.len() * 2).max(self.filled + MIN_READ_BYTES);
            self.input.resize(grown, 0);
        }
        let read_bytes = self.stream.read(&mut self.input[self.filled..]).await?;
        if read_bytes == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "connection closed by the server"));
        }
        self.filled += read_bytes;
        Ok(())
    }

    async fn authenticate(&mut self, password: &str) -> Result<(), String> {
        let mut request = Vec::new();
        encode_request(&mut request, &[b"AUTH", password.as_bytes()]);
        self.stream.write_all(&request).await.map_err(|e| format!("AUTH: {e}"))?;
        loop {
            match parse_reply(&self.input[..self.filled]).map_err(|e| format!("AUTH: {e}"))? {
                Some((ReplySummary::Simple { ok: true }, len_bytes)) => {
                    self.input.copy_within(len_bytes..self.filled, 0);
                    self.filled -= len_bytes;
                    return Ok(());
                }
                Some((reply, _)) => return Err(format!("AUTH refused: {reply:?}")),
                None => self.read_more().await.map_err(|e| format!("AUTH: {e}"))?,
            }
        }
    }
}

fn record_reply(recorder: &mut Recorder, sent: Sent, reply: &ReplySummary, latency: Duration, measured: bool) {
    if sent.accepts(reply) {
        recorder.success(sent.kind, latency, measured);
        return;
    }
    match reply {
        ReplySummary::Error(message) => recorder.failure(&reply_error_kind(sent.kind, message), message, 1),
        other => {
            let kind = format!("{} unexpected reply", sent.kind.name());
            recorder.failure(&kind, &format!("{other:?} to {} of {} keys", sent.kind.name(), sent.keys), 1);
        }
    }
}
