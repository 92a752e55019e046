//! `net::Handler` for the node: executes a connection's batch, records statistics.
//!
//! A pipeline's requests run in order, except that a run of requests that each touch keys of a
//! single core and are all reads, or all writes with no key in common, runs side by side: the
//! writes of a pipeline then share raft rounds and fsyncs instead of waiting for one each. A
//! write takes its key latches before its first await, in request order, and proposals of one
//! core reach its raft log in that order, so the writes still apply in request order.

use std::collections::HashSet;
use std::hash::BuildHasher;
use std::rc::Rc;
use std::time::Instant;

use bytes::Bytes;
use futures_lite::future;
use nokv_engine::sync::join_all;
use nokv_net::command::CommandSpec;
use nokv_net::frame::Reply;
use nokv_net::handler::{ConnectionState, Handler, Request};

use crate::cmd;
use crate::core::Core;
use crate::dispatch::{KeyedRequest, Routed, execute_alone, route};

/// The handler of one core's connections.
pub struct NodeHandler {
    core: Rc<Core>,
}

/// Which requests may share a run.
#[derive(Clone, Copy, PartialEq, Eq)]
enum RunKind {
    Reads,
    Writes,
}

impl NodeHandler {
    /// Serves connections of `core`.
    pub fn new(core: Rc<Core>) -> NodeHandler {
        NodeHandler { core }
    }

    /// Runs one request alone, with the connection (`positions`: its key positions).
    async fn call_one(
        &self,
        conn: &mut ConnectionState,
        spec: &'static CommandSpec,
        args: Vec<Bytes>,
        positions: &[usize],
    ) -> Reply {
        let started = Instant::now();
        let args_for_log = self.slowlog_on().then(|| args.clone());
        let reply = execute_alone(&self.core, conn, spec, args, positions).await;
        self.record(conn, spec, args_for_log, elapsed_us(started), &reply);
        reply
    }

    /// Runs keyed requests side by side; replies in request order.
    async fn call_run(&self, conn: &ConnectionState, mut run: Vec<KeyedRequest>) -> Vec<Reply> {
        let started = Instant::now();
        if run.len() == 1 {
            // A request alone (every request of a -P1 client): none of the run machinery.
            let request = run.pop().expect("one request");
            let (spec, args) = (request.spec, self.slowlog_on().then(|| request.args.clone()));
            let reply = request.execute(&self.core).await;
            self.record(conn, spec, args, elapsed_us(started), &reply);
            return vec![reply];
        }
        // GETs the row cache answers are served at once; plain SETs commit together; the rest
        // run side by side, beside the SETs.
        let mut replies = cmd::strings::cached_gets(&self.core, &run).await;
        let set_indices = cmd::strings::plain_set_indices(&self.core, &run);
        let mut sets = Vec::with_capacity(set_indices.len());
        let mut rest = Vec::new();
        let mut next_set = set_indices.iter().copied().peekable();
        // The slow log's copy of each request's arguments: an answered request's own (it has
        // run), a SET's own once the SETs have run (they only read theirs), a copy of the
        // others' (they are consumed by running).
        let slowlog = self.slowlog_on();
        let mut logged = Vec::with_capacity(run.len());
        for (index, request) in run.into_iter().enumerate() {
            if replies[index].is_some() {
                logged.push((request.spec, slowlog.then_some(request.args)));
            } else if next_set.next_if_eq(&index).is_some() {
                logged.push((request.spec, None));
                sets.push(request);
            } else {
                logged.push((request.spec, slowlog.then(|| request.args.clone())));
                rest.push((index, request));
            }
        }
        let core = &self.core;
        let rest =
            join_all(rest.into_iter().map(|(index, request)| async move { (index, request.execute(core).await) }));
        let (set_replies, rest_replies) = future::zip(cmd::strings::plain_sets(core, &sets), rest).await;
        if slowlog {
            for (&index, set) in set_indices.iter().zip(sets) {
                logged[index].1 = Some(set.args);
            }
        }
        for (index, reply) in set_indices.into_iter().zip(set_replies).chain(rest_replies) {
            replies[index] = Some(reply);
        }
        let replies: Vec<Reply> =
            replies.into_iter().map(|reply| reply.expect("a reply for every request of the run")).collect();
        // The run's requests ran side by side: each took the run's time (one clock read).
        let elapsed_us = elapsed_us(started);
        for ((spec, args), reply) in logged.into_iter().zip(&replies) {
            self.record(conn, spec, args, elapsed_us, reply);
        }
        replies
    }

    fn slowlog_on(&self) -> bool {
        self.core.node.config.slowlog_log_slower_than_us() >= 0
    }

    fn record(
        &self,
        conn: &ConnectionState,
        spec: &'static CommandSpec,
        args: Option<Vec<Bytes>>,
        elapsed_us: u64,
        reply: &Reply,
    ) {
        let failed = matches!(reply, Reply::Error(_));
        self.core.stats.borrow_mut().record(spec.full_name(), elapsed_us, failed);
        if let Some(args) = args {
            let threshold = self.core.node.config.slowlog_log_slower_than_us();
            let max_len = self.core.node.config.slowlog_max_len();
            self.core.slowlog.borrow_mut().maybe_log(&args, elapsed_us, threshold, max_len, conn);
        }
    }
}

fn elapsed_us(started: Instant) -> u64 {
    started.elapsed().as_micros() as u64
}

fn run_kind(request: &KeyedRequest) -> Option<RunKind> {
    if request.spec.is_write() {
        Some(RunKind::Writes)
    } else if request.spec.is_readonly() {
        Some(RunKind::Reads)
    } else {
        None
    }
}

/// Keyed requests collected into a run, with the keys the run's writes touch.
struct Run {
    kind: RunKind,
    requests: Vec<KeyedRequest>,
    /// The 64-bit hashes (by the set's own hasher) of a run of writes' keys: no key copies. Two
    /// keys whose hashes collide only end the run early. foldhash (seeded per process) and
    /// sized for the rest of the pipeline: with SipHash over `Bytes` keys and growth from empty,
    /// this set was 2% of SET 16 B -P16's samples.
    keys: HashSet<u64, foldhash::fast::RandomState>,
}

impl Run {
    /// A run that starts with `request`, with room for `capacity` write keys.
    fn new(kind: RunKind, request: KeyedRequest, capacity: usize) -> Run {
        let mut run = Run { kind, requests: Vec::new(), keys: HashSet::default() };
        if kind == RunKind::Writes {
            run.keys.reserve(capacity);
            run.note_keys(&request);
        }
        run.requests.push(request);
        run
    }

    /// Adds `request` if it may run beside the others; gives it back otherwise.
    fn offer(&mut self, request: KeyedRequest) -> Result<(), KeyedRequest> {
        if run_kind(&request) != Some(self.kind) {
            return Err(request);
        }
        if self.kind == RunKind::Writes {
            let hasher = self.keys.hasher();
            if request.keys().any(|key| self.keys.contains(&hasher.hash_one(key))) {
                return Err(request);
            }
            self.note_keys(&request);
        }
        self.requests.push(request);
        Ok(())
    }

    fn note_keys(&mut self, request: &KeyedRequest) {
        for key in request.keys() {
            let hash = self.keys.hasher().hash_one(key);
            self.keys.insert(hash);
        }
    }
}

impl Handler for NodeHandler {
    async fn call_batch(&self, conn: &mut ConnectionState, requests: Vec<Request>) -> Vec<Reply> {
        let mut replies = Vec::with_capacity(requests.len());
        let mut run: Option<Run> = None;
        let total = requests.len();
        for (index, request) in requests.into_iter().enumerate() {
            let keyed = match route(&self.core, request.spec, request.args) {
                Routed::Keyed(keyed) => keyed,
                Routed::Alone { spec, args, positions } => {
                    if let Some(run) = run.take() {
                        replies.extend(self.call_run(conn, run.requests).await);
                    }
                    replies.push(self.call_one(conn, spec, args, &positions).await);
                    continue;
                }
            };
            let keyed = match run.as_mut() {
                None => keyed,
                Some(open) => match open.offer(keyed) {
                    Ok(()) => continue,
                    Err(keyed) => {
                        let full = run.take().expect("a run is open");
                        replies.extend(self.call_run(conn, full.requests).await);
                        keyed
                    }
                },
            };
            match run_kind(&keyed) {
                Some(kind) => run = Some(Run::new(kind, keyed, total - index)),
                None => replies.extend(self.call_run(conn, vec![keyed]).await),
            }
        }
        if let Some(run) = run.take() {
            replies.extend(self.call_run(conn, run.requests).await);
        }
        replies
    }

    fn requires_auth(&self) -> bool {
        self.core.node.config.requires_auth()
    }
}
