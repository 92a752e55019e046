//! The request mix: which operation comes next, on which keys, with which values, and what a
//! correct reply to it looks like.
//!
//! A draw first decides INCR (`incr_ratio` of all requests), then read or write (`read_ratio`
//! of the rest), then whether a read is GET or MGET (a write SET or MSET) by `fanout_ratio`
//! when `--mget`/`--mset` is set. Keys come from one [`KeyChooser`] (zipfian draws are
//! independent per key, so an MGET of a hot key set reads several hot keys). Values are slices of
//! one random alphanumeric buffer at random offsets, so they cost no allocation and do not
//! compress to nothing.

use rand::Rng;

use super::config::{Args, ValueSizes};
use super::keys::{KeyChooser, KeyFamily, key_name_len, write_key_name};
use super::resp::{ReplySummary, write_bulk, write_header};

/// How many distinct value start offsets the payload buffer offers.
const VALUE_OFFSETS: usize = 4096;

/// An operation type, as the summary reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpKind {
    Get,
    Set,
    Incr,
    Mget,
    Mset,
}

impl OpKind {
    /// Every kind, in report order.
    pub const ALL: [OpKind; 5] = [OpKind::Get, OpKind::Set, OpKind::Incr, OpKind::Mget, OpKind::Mset];

    /// The position in [`OpKind::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// The command name, lower case.
    pub fn name(self) -> &'static str {
        match self {
            OpKind::Get => "get",
            OpKind::Set => "set",
            OpKind::Incr => "incr",
            OpKind::Mget => "mget",
            OpKind::Mset => "mset",
        }
    }
}

/// One request written to the output buffer, awaiting its reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sent {
    pub kind: OpKind,
    /// Keys in the request (the array length MGET must reply with).
    pub keys: usize,
}

impl Sent {
    /// Whether `reply` is what a working server answers to this request; a `-ERR` reply never is.
    pub fn accepts(&self, reply: &ReplySummary) -> bool {
        match (self.kind, reply) {
            (OpKind::Get, ReplySummary::Bulk { .. } | ReplySummary::Null) => true,
            (OpKind::Set | OpKind::Mset, ReplySummary::Simple { ok }) => *ok,
            (OpKind::Incr, ReplySummary::Integer(_)) => true,
            (OpKind::Mget, ReplySummary::Array { len, errors }) => *len == self.keys && *errors == 0,
            _ => false,
        }
    }
}

/// Generates requests; cloned into every thread (the zipfian set-up is done once).
#[derive(Clone, Debug)]
pub struct Workload {
    keys: KeyChooser,
    key_prefix: Vec<u8>,
    value_sizes: ValueSizes,
    read_ratio: f64,
    incr_ratio: f64,
    fanout_ratio: f64,
    mget_keys: usize,
    mset_keys: usize,
    payload: Vec<u8>,
}

impl Workload {
    /// The workload `args` describe (validated), its random payload drawn from `rng`.
    pub fn new(args: &Args, rng: &mut impl Rng) -> Self {
        let value_sizes = args.value_mix();
        let payload_len_bytes = value_sizes.largest_bytes() + VALUE_OFFSETS;
        let payload = (0..payload_len_bytes).map(|_| rng.sample(rand::distr::Alphanumeric)).collect();
        Self {
            keys: KeyChooser::new(args.key_dist, args.keyspace),
            key_prefix: args.key_prefix.as_bytes().to_vec(),
            value_sizes,
            read_ratio: args.read_ratio,
            incr_ratio: args.incr_ratio,
            fanout_ratio: args.fanout_ratio,
            mget_keys: args.mget,
            mset_keys: args.mset,
            payload,
        }
    }

    /// Appends the next request to `out` and says what was sent.
    pub fn next_request(&self, rng: &mut impl Rng, out: &mut Vec<u8>) -> Sent {
        let kind = self.next_kind(rng);
        match kind {
            OpKind::Get => self.write_reads(rng, out, b"GET", 1),
            OpKind::Mget => self.write_reads(rng, out, b"MGET", self.mget_keys),
            OpKind::Set => self.write_writes(rng, out, b"SET", 1),
            OpKind::Mset => self.write_writes(rng, out, b"MSET", self.mset_keys),
            OpKind::Incr => self.write_incr(rng, out),
        }
        let keys = match kind {
            OpKind::Mget => self.mget_keys,
            OpKind::Mset => self.mset_keys,
            _ => 1,
        };
        Sent { kind, keys }
    }

    fn next_kind(&self, rng: &mut impl Rng) -> OpKind {
        if self.incr_ratio > 0.0 && rng.random::<f64>() < self.incr_ratio {
            return OpKind::Incr;
        }
        let read = rng.random::<f64>() < self.read_ratio;
        let fanout_keys = if read { self.mget_keys } else { self.mset_keys };
        let fanout = fanout_keys > 0 && rng.random::<f64>() < self.fanout_ratio;
        match (read, fanout) {
            (true, false) => OpKind::Get,
            (true, true) => OpKind::Mget,
            (false, false) => OpKind::Set,
            (false, true) => OpKind::Mset,
        }
    }

    fn write_reads(&self, rng: &mut impl Rng, out: &mut Vec<u8>, command: &[u8], keys: usize) {
        write_header(out, b'*', 1 + keys);
        write_bulk(out, command);
        for _ in 0..keys {
            self.write_key(rng, out, KeyFamily::Value);
        }
    }

    fn write_writes(&self, rng: &mut impl Rng, out: &mut Vec<u8>, command: &[u8], keys: usize) {
        write_header(out, b'*', 1 + 2 * keys);
        write_bulk(out, command);
        for _ in 0..keys {
            self.write_key(rng, out, KeyFamily::Value);
            write_bulk(out, self.value(rng));
        }
    }

    fn write_incr(&self, rng: &mut impl Rng, out: &mut Vec<u8>) {
        write_header(out, b'*', 2);
        write_bulk(out, b"INCR");
        self.write_key(rng, out, KeyFamily::Counter);
    }

    /// Appends the next key as a bulk string.
    fn write_key(&self, rng: &mut impl Rng, out: &mut Vec<u8>, family: KeyFamily) {
        let index = self.keys.next_index(rng);
        write_header(out, b'$', key_name_len(&self.key_prefix, family, index));
        write_key_name(out, &self.key_prefix, family, index);
        out.extend_from_slice(b"\r\n");
    }

    fn value(&self, rng: &mut impl Rng) -> &[u8] {
        let size_bytes = self.value_sizes.pick(rng.random());
        let offset = rng.random_range(0..VALUE_OFFSETS);
        &self.payload[offset..offset + size_bytes]
    }
}

#[cfg(test)]
mod tests {
    use bytes::BytesMut;
    use clap::Parser;
    use nokv_net::frame::{Parsed, RequestParser};
    use rand::SeedableRng;
    use rand::rngs::SmallRng;

    use super::*;

    fn workload(flags: &[&str]) -> Workload {
        let args = Args::try_parse_from(std::iter::once("loadgen").chain(flags.iter().copied())).expect("parse");
        args.validate().expect("valid");
        Workload::new(&args, &mut SmallRng::seed_from_u64(0))
    }

    /// Generates `count` requests and parses them back with the server's request parser.
    fn generate(workload: &Workload, count: usize) -> Vec<(Sent, Vec<bytes::Bytes>)> {
        let mut rng = SmallRng::seed_from_u64(9);
        let parser = RequestParser::default();
        (0..count)
            .map(|_| {
                let mut out = Vec::new();
                let sent = workload.next_request(&mut rng, &mut out);
                let mut buf = BytesMut::from(&out[..]);
                let Parsed::Request(args) = parser.parse(&mut buf).expect("valid RESP") else { panic!("incomplete") };
                assert!(buf.is_empty(), "exactly one request");
                (sent, args)
            })
            .collect()
    }

    #[test]
    fn plain_mix_is_get_and_set_at_the_read_ratio() {
        let requests = generate(&workload(&["--read-ratio", "0.8", "--value-size", "100"]), 10_000);
        let gets = requests.iter().filter(|(sent, _)| sent.kind == OpKind::Get).count();
        assert!((7_700..8_300).contains(&gets), "{gets} GETs of 10000");
        for (sent, args) in &requests {
            match sent.kind {
                OpKind::Get => assert_eq!((args.len(), &args[0][..]), (2, &b"GET"[..])),
                OpKind::Set => assert_eq!((args.len(), &args[0][..], args[2].len()), (3, &b"SET"[..], 100)),
                other => panic!("unexpected {other:?}"),
            }
            assert!(args[1].starts_with(b"key:"));
        }
    }

    #[test]
    fn fanout_sends_mget_and_mset_with_n_keys() {
        let requests = generate(&workload(&["--mget", "5", "--mset", "3"]), 1000);
        for (sent, args) in &requests {
            match sent.kind {
                OpKind::Mget => assert_eq!((args.len(), sent.keys), (6, 5)),
                OpKind::Mset => assert_eq!((args.len(), sent.keys), (7, 3)),
                other => panic!("fan-out ratio 1 sends only MGET/MSET, got {other:?}"),
            }
        }
    }

    #[test]
    fn incr_uses_counter_keys() {
        let requests = generate(&workload(&["--incr-ratio", "1"]), 100);
        assert!(requests.iter().all(|(sent, args)| sent.kind == OpKind::Incr && args[1].starts_with(b"counter:")));
    }

    #[test]
    fn value_sizes_follow_the_mix() {
        let requests = generate(&workload(&["--read-ratio", "0", "--value-sizes", "10:0.5,20:0.5"]), 4000);
        let small = requests.iter().filter(|(_, args)| args[2].len() == 10).count();
        assert!((1_800..2_200).contains(&small), "{small} of 4000 values are 10 bytes");
        assert!(requests.iter().all(|(_, args)| args[2].len() == 10 || args[2].len() == 20));
    }

    #[test]
    fn replies_are_checked_against_the_request() {
        let get = Sent { kind: OpKind::Get, keys: 1 };
        let mget = Sent { kind: OpKind::Mget, keys: 2 };
        let set = Sent { kind: OpKind::Set, keys: 1 };
        assert!(get.accepts(&ReplySummary::Null) && get.accepts(&ReplySummary::Bulk { len_bytes: 3 }));
        assert!(!get.accepts(&ReplySummary::Error("ERR".into())));
        assert!(mget.accepts(&ReplySummary::Array { len: 2, errors: 0 }));
        assert!(!mget.accepts(&ReplySummary::Array { len: 1, errors: 0 }));
        assert!(set.accepts(&ReplySummary::Simple { ok: true }) && !set.accepts(&ReplySummary::Simple { ok: false }));
        assert!(!Sent { kind: OpKind::Incr, keys: 1 }.accepts(&ReplySummary::Bulk { len_bytes: 1 }));
    }
}
