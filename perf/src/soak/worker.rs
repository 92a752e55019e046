//! One client connection's load between two kills: pipelined batches of requests on the keys it
//! owns, every reply checked against the model as it arrives, every acknowledged write folded
//! into the model.
//!
//! Live checks: a reply is compared with the key's settled state, which is exact at that moment
//! (the key's earlier writes are all acknowledged; its later ones come after it). GET must read
//! the settled value (a short-TTL key near its deadline may read either), INCR the next
//! counter value, DEL the number of live keys, EXPIRE 1 exactly when the key is live, SET and
//! MSET `OK`. An error reply or any other answer is a violation.
//!
//! The phase ends at `deadline` or when the connection fails (the kill); whatever was not
//! acknowledged stays pending in the model for the verification after the restart.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use super::client::Client;
use super::model::{KeyState, Observed, Violation};
use super::now_ms;
use super::workload::{Generator, OpKind, Partition, Request};
use crate::loadgen::resp::ReplyValue;

/// What one connection does in a phase.
#[derive(Clone, Copy, Debug)]
pub struct WorkerPlan {
    pub addr: SocketAddr,
    pub deadline: Instant,
    pub seed: u64,
    pub pipeline: usize,
    pub timeout: Duration,
}

/// Counts of one phase of one connection.
#[derive(Clone, Copy, Debug, Default)]
pub struct WorkerStats {
    pub requests_answered: u64,
    /// Acknowledged writes, one per key written (an MSET of 3 keys is 3).
    pub writes_acked: u64,
}

impl WorkerStats {
    pub fn add(&mut self, other: WorkerStats) {
        self.requests_answered += other.requests_answered;
        self.writes_acked += other.writes_acked;
    }
}

/// How a phase ended for one connection.
pub struct WorkerReport {
    pub partition: Partition,
    pub stats: WorkerStats,
    pub violations: Vec<Violation>,
    /// The connection error that ended the phase, and when (none if the deadline did).
    pub ended_by: Option<(String, Instant)>,
}

/// Runs the load until the deadline or a connection error.
pub fn run(mut partition: Partition, plan: WorkerPlan, generator: Generator<'_>) -> WorkerReport {
    let mut report_stats = WorkerStats::default();
    let mut violations = Vec::new();
    let mut client = match Client::connect(plan.addr, plan.timeout) {
        Ok(client) => client,
        Err(error) => {
            let ended_by = Some((format!("connect: {error}"), Instant::now()));
            return WorkerReport { partition, stats: report_stats, violations, ended_by };
        }
    };
    let mut rng = SmallRng::seed_from_u64(plan.seed);
    let mut out = Vec::new();
    let mut requests = Vec::with_capacity(plan.pipeline);
    let mut ended_by = None;
    // Bounded by the deadline; each batch is bounded by the socket timeouts.
    while Instant::now() < plan.deadline && violations.is_empty() {
        out.clear();
        requests.clear();
        let sent_ms = now_ms();
        for _ in 0..rng.random_range(1..=plan.pipeline) {
            requests.push(partition.next_request(&mut rng, &generator, sent_ms, &mut out));
        }
        let exchange = client.exchange(&out, requests.len());
        for ((reply, reply_ms), request) in exchange.replies.iter().zip(&requests) {
            if let Err(violation) = check_reply(&partition, request, reply, sent_ms, *reply_ms, &generator) {
                violations.push(violation);
            }
            report_stats.writes_acked += settle(&mut partition, request, *reply_ms);
            report_stats.requests_answered += 1;
        }
        if let Some(error) = exchange.error {
            ended_by = Some((error.to_string(), Instant::now()));
            break;
        }
    }
    WorkerReport { partition, stats: report_stats, violations, ended_by }
}

/// Folds the request's writes into its keys' settled states; returns how many there were.
fn settle(partition: &mut Partition, request: &Request, reply_ms: u64) -> u64 {
    if !request.writes() {
        return 0;
    }
    for &key in &request.keys {
        partition.keys[key].settle_oldest(reply_ms);
    }
    request.keys.len() as u64
}

/// Checks one reply against the keys' settled states (before the request's own writes).
fn check_reply(
    partition: &Partition,
    request: &Request,
    reply: &ReplyValue,
    sent_ms: u64,
    reply_ms: u64,
    generator: &Generator<'_>,
) -> Result<(), Violation> {
    let key = &partition.keys[request.keys[0]];
    let admitted = match (request.kind, reply) {
        (OpKind::Get, ReplyValue::Bulk(bytes)) => {
            let observed = Observed { value: Some(bytes.clone()), pttl_ms: None, from_ms: sent_ms, to_ms: reply_ms };
            key.settled.admits(&observed, generator.values)
        }
        (OpKind::Get, ReplyValue::Null) => {
            let observed = Observed { value: None, pttl_ms: None, from_ms: sent_ms, to_ms: reply_ms };
            key.settled.admits(&observed, generator.values)
        }
        (OpKind::Set | OpKind::SetPx | OpKind::Mset, ReplyValue::Simple(text)) => text == b"OK",
        (OpKind::Incr, ReplyValue::Integer(count)) => match key.settled {
            KeyState::Counter(before) => *count == before + 1,
            _ => *count == 1,
        },
        (OpKind::Del | OpKind::Expire, ReplyValue::Integer(count)) => {
            let (least, most) = live_count_range(partition, &request.keys, sent_ms, reply_ms);
            (least..=most).contains(count)
        }
        _ => false,
    };
    if admitted {
        return Ok(());
    }
    let expected = request.keys.iter().map(|&k| partition.keys[k].settled.describe()).collect();
    Err(Violation {
        key: key.display_name(),
        when: format!("live reply to {:?} of {} key(s)", request.kind, request.keys.len()),
        expected,
        read: format!("{reply:?}").chars().take(200).collect(),
    })
}

/// The fewest and most of `keys` that may be live between `from_ms` and `to_ms`.
fn live_count_range(partition: &Partition, keys: &[usize], from_ms: u64, to_ms: u64) -> (i64, i64) {
    keys.iter().fold((0, 0), |(least, most), &key| match partition.keys[key].settled.live_between(from_ms, to_ms) {
        Some(true) => (least + 1, most + 1),
        Some(false) => (least, most),
        None => (least, most + 1),
    })
}
