//! Column families, sequence numbers and the internal key format.
//!
//! Every entry in a memtable or SSTable is keyed by an *internal key*: the user key followed by
//! an 8-byte big-endian trailer `seq << 8 | kind`.
//!
//! ```text
//! +----------------------+-------------------------------+
//! | user key (n bytes)   | trailer: u64 BE (seq<<8|kind) |
//! +----------------------+-------------------------------+
//! ```
//!
//! Internal keys order by user key ascending, then by trailer *descending*, so the newest
//! version of a key comes first. This order is not bytewise (a user key may be a prefix of
//! another), so every sorted structure compares with [`compare_internal`].

use std::cmp::Ordering;

/// A sequence number: every applied write gets the next one. 56 bits.
pub type Seq = u64;

/// The largest sequence number; reading at it sees everything.
pub const MAX_SEQ: Seq = (1 << 56) - 1;

/// The column families. Each has its own memtable and SST levels; all share the core's journal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Cf {
    /// User values (and, under MVCC, large values keyed by start_ts). Separates large values.
    Default = 0,
    /// Percolator locks.
    Lock = 1,
    /// Percolator write (commit) records.
    Write = 2,
    /// Local metadata (raft state, region state, timestamps).
    Meta = 3,
}

impl Cf {
    /// Every column family, in id order.
    pub const ALL: [Cf; 4] = [Cf::Default, Cf::Lock, Cf::Write, Cf::Meta];

    /// The id stored on disk.
    pub fn id(self) -> u8 {
        self as u8
    }

    /// Parses an id read from disk.
    pub fn from_id(id: u8) -> Option<Cf> {
        Cf::ALL.get(usize::from(id)).copied()
    }

    /// The name used in file names, logs and statistics.
    pub fn name(self) -> &'static str {
        match self {
            Cf::Default => "default",
            Cf::Lock => "lock",
            Cf::Write => "write",
            Cf::Meta => "meta",
        }
    }

    /// Index into per-CF arrays.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// What an internal entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum ValueKind {
    /// A point tombstone: the key has no value at this sequence.
    Delete = 0,
    /// An inline value.
    Put = 1,
    /// The value lives in the value log; the entry's value is an encoded `vlog::ValuePointer`.
    Pointer = 2,
    /// A range tombstone: deletes every user key in `[this key, value)` older than this entry.
    RangeDelete = 3,
}

impl ValueKind {
    /// Parses the kind byte of a trailer.
    pub fn from_byte(byte: u8) -> Option<ValueKind> {
        match byte {
            0 => Some(ValueKind::Delete),
            1 => Some(ValueKind::Put),
            2 => Some(ValueKind::Pointer),
            3 => Some(ValueKind::RangeDelete),
            _ => None,
        }
    }
}

/// The kind byte used in seek targets: larger than any real kind, so that with descending
/// trailers a seek to `(key, seq)` lands on the newest entry at or below `seq`.
const SEEK_KIND: u8 = 0xff;

/// Length of the trailer after the user key.
pub const TRAILER_LEN: usize = 8;

/// Packs a sequence number and kind into a trailer.
pub fn trailer(seq: Seq, kind: ValueKind) -> u64 {
    debug_assert!(seq <= MAX_SEQ);
    (seq << 8) | u64::from(kind as u8)
}

/// Encodes an internal key.
pub fn encode_internal(user_key: &[u8], seq: Seq, kind: ValueKind) -> Vec<u8> {
    let mut out = Vec::with_capacity(user_key.len() + TRAILER_LEN);
    out.extend_from_slice(user_key);
    out.extend_from_slice(&trailer(seq, kind).to_be_bytes());
    out
}

/// The internal key that positions a forward seek on the newest version of `user_key` visible at
/// `seq`.
pub fn seek_key(user_key: &[u8], seq: Seq) -> Vec<u8> {
    let mut out = Vec::with_capacity(user_key.len() + TRAILER_LEN);
    out.extend_from_slice(user_key);
    out.extend_from_slice(&((seq << 8) | u64::from(SEEK_KIND)).to_be_bytes());
    out
}

/// The internal key positioned after every version of `user_key` (for reverse seeks: the last
/// entry `<=` it is the oldest version of `user_key`, or an earlier key).
pub fn last_key_of(user_key: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(user_key.len() + TRAILER_LEN);
    out.extend_from_slice(user_key);
    out.extend_from_slice(&0u64.to_be_bytes());
    out
}

/// A decoded view of an internal key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParsedKey<'a> {
    /// The user key.
    pub user_key: &'a [u8],
    /// The sequence number.
    pub seq: Seq,
    /// The entry kind.
    pub kind: ValueKind,
}

/// Splits an internal key; `None` if it is too short or the kind byte is unknown.
pub fn parse_internal(key: &[u8]) -> Option<ParsedKey<'_>> {
    let split = key.len().checked_sub(TRAILER_LEN)?;
    let (user_key, tail) = key.split_at(split);
    let trailer = u64::from_be_bytes(tail.try_into().ok()?);
    let kind = ValueKind::from_byte((trailer & 0xff) as u8)?;
    Some(ParsedKey { user_key, seq: trailer >> 8, kind })
}

/// The user-key part of an internal key (the whole slice if it is too short to have a trailer).
pub fn user_key(key: &[u8]) -> &[u8] {
    &key[..key.len().saturating_sub(TRAILER_LEN)]
}

fn trailer_of(key: &[u8]) -> u64 {
    let split = key.len().saturating_sub(TRAILER_LEN);
    let mut bytes = [0u8; 8];
    let tail = &key[split..];
    bytes[8 - tail.len()..].copy_from_slice(tail);
    u64::from_be_bytes(bytes)
}

/// The internal-key order: user key ascending, trailer (sequence, then kind) descending.
pub fn compare_internal(a: &[u8], b: &[u8]) -> Ordering {
    user_key(a).cmp(user_key(b)).then_with(|| trailer_of(b).cmp(&trailer_of(a)))
}

/// An owned internal key whose `Ord` is [`compare_internal`]; the memtable's map key.
///
/// - Keys of up to [`INLINE_KEY_BYTES`] bytes (the Write and Default CF keys of Redis keys of
///   up to 23 bytes: slot, memcomparable key, timestamp, trailer) live inside the value itself, so a tree node holds its keys' bytes: a descent
///   compares them without following a pointer per key (each a likely cache miss in a large
///   memtable), and inserting one allocates nothing. Longer keys are shared `Bytes`.
/// - It also carries the first 8 bytes of its user key (zero-padded) as a big-endian integer:
///   when two heads differ, their order is the user keys' order (a zero pad sorts like the end
///   of a shorter key), so most comparisons of a descent are one integer compare.
#[derive(Debug, Clone)]
pub struct InternalKey {
    head: u64,
    repr: KeyRepr,
}

/// The longest internal key kept inline in an [`InternalKey`].
pub const INLINE_KEY_BYTES: usize = 46;

// The memtable's per-entry overhead assumes this size.
const _: () = assert!(std::mem::size_of::<InternalKey>() == 56);

#[derive(Debug, Clone)]
enum KeyRepr {
    Inline { len: u8, bytes: [u8; INLINE_KEY_BYTES] },
    Shared(bytes::Bytes),
}

impl InternalKey {
    /// Wraps an encoded internal key (copied inline when it is short).
    pub fn new(key: bytes::Bytes) -> InternalKey {
        if key.len() <= INLINE_KEY_BYTES {
            return InternalKey::from_slice(&key);
        }
        InternalKey { head: head_of(user_key(&key)), repr: KeyRepr::Shared(key) }
    }

    /// An internal key from its encoded bytes.
    pub fn from_slice(key: &[u8]) -> InternalKey {
        if key.len() > INLINE_KEY_BYTES {
            return InternalKey::new(bytes::Bytes::copy_from_slice(key));
        }
        let mut bytes = [0u8; INLINE_KEY_BYTES];
        bytes[..key.len()].copy_from_slice(key);
        InternalKey { head: head_of(user_key(key)), repr: KeyRepr::Inline { len: key.len() as u8, bytes } }
    }

    /// Encodes `user_key` with the trailer of `seq` and `kind` (see [`encode_internal`]),
    /// without a heap allocation when the key fits inline.
    pub fn encode(user_key: &[u8], seq: Seq, kind: ValueKind) -> InternalKey {
        InternalKey::with_trailer(user_key, trailer(seq, kind))
    }

    /// The seek target of `user_key` at `seq` (see [`seek_key`]).
    pub fn seek(user_key: &[u8], seq: Seq) -> InternalKey {
        InternalKey::with_trailer(user_key, (seq << 8) | u64::from(SEEK_KIND))
    }

    fn with_trailer(user_key: &[u8], trailer: u64) -> InternalKey {
        let len = user_key.len() + TRAILER_LEN;
        if len > INLINE_KEY_BYTES {
            let mut out = Vec::with_capacity(len);
            out.extend_from_slice(user_key);
            out.extend_from_slice(&trailer.to_be_bytes());
            return InternalKey::new(out.into());
        }
        let mut bytes = [0u8; INLINE_KEY_BYTES];
        bytes[..user_key.len()].copy_from_slice(user_key);
        bytes[user_key.len()..len].copy_from_slice(&trailer.to_be_bytes());
        InternalKey { head: head_of(user_key), repr: KeyRepr::Inline { len: len as u8, bytes } }
    }

    /// The encoded internal key.
    pub fn as_slice(&self) -> &[u8] {
        match &self.repr {
            KeyRepr::Inline { len, bytes } => &bytes[..usize::from(*len)],
            KeyRepr::Shared(key) => key,
        }
    }

    /// The encoded internal key as `Bytes` (a copy when it is inline).
    pub fn to_bytes(&self) -> bytes::Bytes {
        match &self.repr {
            KeyRepr::Inline { .. } => bytes::Bytes::copy_from_slice(self.as_slice()),
            KeyRepr::Shared(key) => key.clone(),
        }
    }

    /// The first 14 bits of the user key (zero-padded): keys order by it first (see the
    /// memtable's `EntryMap`).
    pub fn bucket(&self) -> u16 {
        (self.head >> 50) as u16
    }

    /// Heap bytes this key holds beyond its own size (0 when inline).
    pub fn heap_bytes(&self) -> usize {
        match &self.repr {
            KeyRepr::Inline { .. } => 0,
            KeyRepr::Shared(key) => key.len(),
        }
    }
}

/// The first 8 bytes of a user key, zero-padded, as a big-endian integer.
fn head_of(user_key: &[u8]) -> u64 {
    let mut head = [0u8; 8];
    let len = user_key.len().min(8);
    head[..len].copy_from_slice(&user_key[..len]);
    u64::from_be_bytes(head)
}

impl PartialEq for InternalKey {
    fn eq(&self, other: &Self) -> bool {
        self.head == other.head && self.as_slice() == other.as_slice()
    }
}

impl Eq for InternalKey {}

impl Ord for InternalKey {
    fn cmp(&self, other: &Self) -> Ordering {
        self.head.cmp(&other.head).then_with(|| compare_internal(self.as_slice(), other.as_slice()))
    }
}

impl PartialOrd for InternalKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    #[test]
    fn internal_key_order_with_heads_is_compare_internal() {
        // Around the inline limit too: 38 + 8 bytes fit, 39 + 8 do not.
        let long = |len: usize, last: u8| [vec![b'a'; len - 1], vec![last]].concat();
        let user_keys: Vec<Vec<u8>> =
            [&b""[..], b"a", b"a\0", b"a\0\0\0\0\0\0\0\0", b"abcdefgh", b"abcdefgh\0", b"abcdefghi", b"abcdefgi", b"b"]
                .iter()
                .map(|key| key.to_vec())
                .chain([long(38, b'a'), long(38, b'b'), long(39, b'a'), long(39, b'b'), long(50, b'a')])
                .collect();
        let mut keys = Vec::new();
        for user_key in &user_keys {
            for seq in [1, 7] {
                keys.push(encode_internal(user_key, seq, ValueKind::Put));
            }
        }
        for a in &keys {
            for b in &keys {
                let wrapped = InternalKey::new(Bytes::from(a.clone())).cmp(&InternalKey::from_slice(b));
                assert_eq!(wrapped, compare_internal(a, b), "{a:?} vs {b:?}");
            }
        }
        for user_key in &user_keys {
            let encoded = InternalKey::encode(user_key, 9, ValueKind::Delete);
            assert_eq!(encoded.as_slice(), encode_internal(user_key, 9, ValueKind::Delete));
            assert_eq!(encoded.to_bytes(), encode_internal(user_key, 9, ValueKind::Delete));
            assert_eq!(InternalKey::seek(user_key, 9).as_slice(), seek_key(user_key, 9));
            assert_eq!(encoded.heap_bytes() == 0, user_key.len() + TRAILER_LEN <= INLINE_KEY_BYTES);
        }
    }

    #[test]
    fn newer_versions_sort_first() {
        let old = encode_internal(b"k", 1, ValueKind::Put);
        let new = encode_internal(b"k", 2, ValueKind::Put);
        assert_eq!(compare_internal(&new, &old), Ordering::Less);
    }

    #[test]
    fn prefix_user_keys_sort_by_user_key_first() {
        let short = encode_internal(b"a", 1, ValueKind::Put);
        let long = encode_internal(b"ab", 9, ValueKind::Put);
        assert_eq!(compare_internal(&short, &long), Ordering::Less);
    }

    #[test]
    fn seek_key_lands_on_newest_visible() {
        let target = seek_key(b"k", 5);
        assert_eq!(compare_internal(&target, &encode_internal(b"k", 5, ValueKind::RangeDelete)), Ordering::Less);
        assert_eq!(compare_internal(&target, &encode_internal(b"k", 6, ValueKind::Delete)), Ordering::Greater);
        assert_eq!(compare_internal(&last_key_of(b"k"), &encode_internal(b"k", 0, ValueKind::Delete)), Ordering::Equal);
    }

    #[test]
    fn parse_round_trips() {
        let key = encode_internal(b"user", 42, ValueKind::Pointer);
        let parsed = parse_internal(&key).expect("valid key");
        assert_eq!(parsed, ParsedKey { user_key: b"user", seq: 42, kind: ValueKind::Pointer });
        assert!(parse_internal(b"short").is_none());
    }
}
