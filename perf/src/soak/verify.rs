//! The check after each restart: every key of the model is read (GET, and PTTL for the keys
//! that can carry a TTL, pipelined in batches on one connection) and compared with the states
//! the model allows after the kill ([`KeyModel::resolve`]). No client writes meanwhile, so what
//! is read is what survived; it becomes the model's settled state for the next phase.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, bail};

use super::client::Client;
use super::model::{Family, KeyModel, Observed, Violation};
use super::now_ms;
use super::values::Values;
use super::workload::Partition;
use crate::loadgen::resp::{ReplyValue, encode_request};

/// Keys read per pipelined batch.
const BATCH_KEYS: usize = 64;

/// What one verification found.
#[derive(Clone, Debug, Default)]
pub struct VerifyReport {
    pub keys_checked: u64,
    /// Writes sent but not acknowledged when the server was killed.
    pub inflight_writes: u64,
    /// How many of those the server had applied.
    pub inflight_applied: u64,
    pub violations: Vec<Violation>,
}

/// Reads every key of `partitions` and resolves the model against what the server holds.
pub fn verify(
    addr: SocketAddr,
    partitions: &mut [Partition],
    killed_ms: u64,
    values: &Values,
    timeout: Duration,
    label: &str,
) -> anyhow::Result<VerifyReport> {
    let mut client = Client::connect(addr, timeout).context("connecting to verify")?;
    let mut report = VerifyReport::default();
    for partition in partitions.iter_mut() {
        for batch in partition.keys.chunks_mut(BATCH_KEYS) {
            let observed = read_batch(&mut client, batch)?;
            for (key, observed) in batch.iter_mut().zip(observed) {
                check_key(key, &observed, killed_ms, values, label, &mut report);
            }
        }
    }
    Ok(report)
}

fn check_key(
    key: &mut KeyModel,
    observed: &Observed,
    killed_ms: u64,
    values: &Values,
    label: &str,
    report: &mut VerifyReport,
) {
    report.keys_checked += 1;
    report.inflight_writes += key.pending.len() as u64;
    match key.resolve(observed, killed_ms, values) {
        Some(applied) => report.inflight_applied += applied as u64,
        None => report.violations.push(Violation {
            key: key.display_name(),
            when: format!("{label}, {} write(s) in flight at the kill", key.pending.len()),
            expected: key.candidates(killed_ms).iter().map(|state| state.describe()).collect(),
            read: observed.describe(),
        }),
    }
}

/// GET (and PTTL) of each key, in one pipelined exchange.
fn read_batch(client: &mut Client, keys: &[KeyModel]) -> anyhow::Result<Vec<Observed>> {
    let mut out = Vec::new();
    let mut count = 0;
    for key in keys {
        encode_request(&mut out, &[b"GET", &key.name]);
        count += 1;
        if key.family != Family::Counter {
            encode_request(&mut out, &[b"PTTL", &key.name]);
            count += 1;
        }
    }
    let from_ms = now_ms();
    let exchange = client.exchange(&out, count);
    let to_ms = now_ms();
    if let Some(error) = exchange.error {
        bail!("reading keys back: {error}");
    }
    let mut replies = exchange.replies.into_iter().map(|(reply, _)| reply);
    let mut observed = Vec::with_capacity(keys.len());
    for key in keys {
        let value = match replies.next() {
            Some(ReplyValue::Bulk(bytes)) => Some(bytes),
            Some(ReplyValue::Null) => None,
            other => bail!("GET {} answered {other:?}", key.display_name()),
        };
        let pttl_ms = match key.family {
            Family::Counter => None,
            _ => match replies.next() {
                Some(ReplyValue::Integer(pttl_ms)) => Some(pttl_ms),
                other => bail!("PTTL {} answered {other:?}", key.display_name()),
            },
        };
        observed.push(Observed { value, pttl_ms, from_ms, to_ms });
    }
    Ok(observed)
}
