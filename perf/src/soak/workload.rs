//! The soak's request mix and who owns which key.
//!
//! The key space is bounded (so keys are overwritten, deleted and set again) and split into
//! three families ([`Family`]): values (SET, MSET, DEL, EXPIRE with a one-hour TTL, GET), INCR
//! counters (INCR and GET only) and short-TTL keys (SET ... PX of 0.3-3 s, DEL, GET). Keys are
//! partitioned over the client connections by index (`index % connections`): one connection
//! writes each key, so a key's writes have one order, the one they were sent in, and the model
//! can say exactly what each reply must be. The connections still run concurrently against
//! keys on every shard.
//!
//! MSET names 2 to 4 keys of the same connection, usually on different shards. A multi-key
//! write across regions is not atomic in NoKV yet, so after a crash each MSET key is checked
//! on its own (some of an in-flight MSET's keys may have landed and others not); the same holds
//! for a two-key DEL.

use rand::Rng;
use rand::seq::index::sample;

use super::model::{Effect, Family, KeyModel, ValueId, Write};
use super::values::Values;
use crate::loadgen::config::ValueSizes;
use crate::loadgen::keys::{KeyFamily, key_name_len, write_key_name};
use crate::loadgen::resp::{write_bulk, write_header};

/// The TTL EXPIRE sets: far beyond any soak, so the key must keep it across restarts.
pub const LONG_TTL_SECS: u64 = 3600;
/// The range of the short TTLs (SET ... PX), so keys expire during the soak and across restarts.
const SHORT_TTL_MS: std::ops::RangeInclusive<u64> = 300..=3000;
/// The most keys an MSET or DEL names.
pub const MULTI_KEYS_MAX: usize = 4;

/// A request type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpKind {
    Get,
    Set,
    SetPx,
    Mset,
    Del,
    Expire,
    Incr,
}

/// The mix: each kind's share in percent.
const MIX_PERCENT: [(OpKind, u32); 7] = [
    (OpKind::Get, 20),
    (OpKind::Set, 25),
    (OpKind::SetPx, 7),
    (OpKind::Mset, 8),
    (OpKind::Del, 10),
    (OpKind::Expire, 10),
    (OpKind::Incr, 20),
];

/// One request sent: its kind and the keys it names (indexes into the partition's keys).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub kind: OpKind,
    pub keys: Vec<usize>,
}

impl Request {
    /// Whether the request writes its keys.
    pub fn writes(&self) -> bool {
        self.kind != OpKind::Get
    }
}

/// The keys one connection owns, with their models.
#[derive(Clone, Debug)]
pub struct Partition {
    pub keys: Vec<KeyModel>,
    value_keys: Vec<usize>,
    counter_keys: Vec<usize>,
    ttl_keys: Vec<usize>,
    /// Write ids are `sequence * connections + connection`, unique over the whole soak.
    connection: u64,
    connections: u64,
    next_sequence: u64,
}

/// How many keys of each family the soak uses.
#[derive(Clone, Copy, Debug)]
pub struct KeySpace {
    pub value_keys: u64,
    pub counter_keys: u64,
    pub ttl_keys: u64,
}

/// Splits the key space over `connections` connections.
pub fn partitions(space: KeySpace, connections: usize) -> Vec<Partition> {
    (0..connections as u64)
        .map(|connection| {
            let mut partition = Partition {
                keys: Vec::new(),
                value_keys: Vec::new(),
                counter_keys: Vec::new(),
                ttl_keys: Vec::new(),
                connection,
                connections: connections as u64,
                next_sequence: 0,
            };
            partition.add_family(Family::Value, space.value_keys);
            partition.add_family(Family::Counter, space.counter_keys);
            partition.add_family(Family::ShortTtl, space.ttl_keys);
            partition
        })
        .collect()
}

fn key_name(family: Family, index: u64) -> Vec<u8> {
    let (prefix, key_family): (&[u8], KeyFamily) = match family {
        Family::Value => (b"soak:", KeyFamily::Value),
        Family::Counter => (b"soak:", KeyFamily::Counter),
        Family::ShortTtl => (b"soak:ttl:", KeyFamily::Value),
    };
    let mut name = Vec::with_capacity(key_name_len(prefix, key_family, index));
    write_key_name(&mut name, prefix, key_family, index);
    name
}

impl Partition {
    fn add_family(&mut self, family: Family, count: u64) {
        for index in (self.connection..count).step_by(self.connections as usize) {
            let position = self.keys.len();
            self.keys.push(KeyModel::new(key_name(family, index), family));
            match family {
                Family::Value => self.value_keys.push(position),
                Family::Counter => self.counter_keys.push(position),
                Family::ShortTtl => self.ttl_keys.push(position),
            }
        }
    }

    /// Appends the next request to `out`, records its writes as pending, and says what it was.
    pub fn next_request(
        &mut self,
        rng: &mut impl Rng,
        generator: &Generator<'_>,
        sent_ms: u64,
        out: &mut Vec<u8>,
    ) -> Request {
        let kind = pick_kind(rng.random_range(0..100));
        let keys = match kind {
            OpKind::Get => vec![self.any_key(rng)],
            OpKind::Set | OpKind::Expire => vec![pick(rng, &self.value_keys)],
            OpKind::SetPx => vec![pick(rng, &self.ttl_keys)],
            OpKind::Incr => vec![pick(rng, &self.counter_keys)],
            OpKind::Mset => self.distinct_value_keys(rng, 2),
            OpKind::Del => self.distinct_deletable_keys(rng),
        };
        let request = Request { kind, keys };
        self.encode(rng, generator, &request, sent_ms, out);
        request
    }

    fn any_key(&self, rng: &mut impl Rng) -> usize {
        rng.random_range(0..self.keys.len())
    }

    /// `least..=MULTI_KEYS_MAX` distinct value keys.
    fn distinct_value_keys(&self, rng: &mut impl Rng, least: usize) -> Vec<usize> {
        let count = rng.random_range(least..=MULTI_KEYS_MAX).min(self.value_keys.len());
        sample(rng, self.value_keys.len(), count).into_iter().map(|i| self.value_keys[i]).collect()
    }

    /// One or two distinct keys of the value and short-TTL families.
    fn distinct_deletable_keys(&self, rng: &mut impl Rng) -> Vec<usize> {
        let deletable = self.value_keys.len() + self.ttl_keys.len();
        let count = rng.random_range(1..=2).min(deletable);
        let position = |i: usize| {
            if i < self.value_keys.len() { self.value_keys[i] } else { self.ttl_keys[i - self.value_keys.len()] }
        };
        sample(rng, deletable, count).into_iter().map(position).collect()
    }

    fn encode(
        &mut self,
        rng: &mut impl Rng,
        generator: &Generator<'_>,
        request: &Request,
        sent_ms: u64,
        out: &mut Vec<u8>,
    ) {
        let (command, per_key_args, trailer) = match request.kind {
            OpKind::Get => (&b"GET"[..], 1, 0),
            OpKind::Set => (&b"SET"[..], 2, 0),
            OpKind::SetPx => (&b"SET"[..], 2, 2),
            OpKind::Mset => (&b"MSET"[..], 2, 0),
            OpKind::Del => (&b"DEL"[..], 1, 0),
            OpKind::Expire => (&b"EXPIRE"[..], 1, 1),
            OpKind::Incr => (&b"INCR"[..], 1, 0),
        };
        write_header(out, b'*', 1 + per_key_args * request.keys.len() + trailer);
        write_bulk(out, command);
        let ttl_ms = (request.kind == OpKind::SetPx).then(|| rng.random_range(SHORT_TTL_MS));
        for &key in &request.keys {
            write_bulk(out, &self.keys[key].name);
            let effect = match request.kind {
                OpKind::Get => continue,
                OpKind::Set | OpKind::SetPx | OpKind::Mset => {
                    let value = ValueId { write: self.next_write_id(), len_bytes: generator.sizes.pick(rng.random()) };
                    write_value(generator.values, value, out);
                    Effect::Set { value, ttl_ms }
                }
                OpKind::Del => Effect::Delete,
                OpKind::Expire => Effect::Expire { ttl_ms: LONG_TTL_SECS * 1000 },
                OpKind::Incr => Effect::Incr,
            };
            self.keys[key].pending.push_back(Write { effect, sent_ms });
        }
        if let Some(ttl_ms) = ttl_ms {
            write_bulk(out, b"PX");
            write_bulk(out, ttl_ms.to_string().as_bytes());
        }
        if request.kind == OpKind::Expire {
            write_bulk(out, LONG_TTL_SECS.to_string().as_bytes());
        }
    }

    fn next_write_id(&mut self) -> u64 {
        let id = self.next_sequence * self.connections + self.connection;
        self.next_sequence += 1;
        id
    }
}

/// What requests are made of: the value bytes and the size mix.
#[derive(Clone, Copy, Debug)]
pub struct Generator<'a> {
    pub values: &'a Values,
    pub sizes: &'a ValueSizes,
}

fn write_value(values: &Values, value: ValueId, out: &mut Vec<u8>) {
    write_header(out, b'$', value.len_bytes);
    values.write_to(value, out);
    out.extend_from_slice(b"\r\n");
}

fn pick(rng: &mut impl Rng, keys: &[usize]) -> usize {
    keys[rng.random_range(0..keys.len())]
}

fn pick_kind(percent: u32) -> OpKind {
    let mut below = 0;
    for (kind, share) in MIX_PERCENT {
        below += share;
        if percent < below {
            return kind;
        }
    }
    unreachable!("the mix sums to 100")
}

#[cfg(test)]
mod tests {
    use bytes::BytesMut;
    use nokv_net::frame::{Parsed, RequestParser};
    use rand::SeedableRng;
    use rand::rngs::SmallRng;

    use super::*;

    #[test]
    fn mix_sums_to_one_hundred_percent() {
        assert_eq!(MIX_PERCENT.iter().map(|&(_, share)| share).sum::<u32>(), 100);
    }

    #[test]
    fn keys_are_split_without_overlap_and_requests_parse() {
        let space = KeySpace { value_keys: 40, counter_keys: 8, ttl_keys: 8 };
        let mut parts = partitions(space, 4);
        let mut names: Vec<Vec<u8>> = parts.iter().flat_map(|p| p.keys.iter().map(|k| k.name.clone())).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), 56, "every key is in exactly one partition");
        let values = Values::new(1, 65536);
        let sizes: ValueSizes = "10:0.5,65536:0.5".parse().expect("sizes");
        let generator = Generator { values: &values, sizes: &sizes };
        let mut rng = SmallRng::seed_from_u64(3);
        let partition = &mut parts[1];
        for _ in 0..500 {
            let mut out = Vec::new();
            let request = partition.next_request(&mut rng, &generator, 0, &mut out);
            let mut buf = BytesMut::from(&out[..]);
            let Parsed::Request(args) = RequestParser::default().parse(&mut buf).expect("valid") else {
                panic!("incomplete")
            };
            assert!(buf.is_empty());
            assert_eq!(args[1], partition.keys[request.keys[0]].name);
        }
        let pending: usize = partition.keys.iter().map(|key| key.pending.len()).sum();
        assert!(pending > 300, "writes are recorded as pending until their replies: {pending}");
    }
}
