//! Storage keys: how a user key and a timestamp become an engine key, and back.
//!
//! ```text
//! Lock CF:             | slot: u16 BE | memcomparable(user key) |
//! Write / Default CF:  | slot: u16 BE | memcomparable(user key) | !ts: u64 BE |
//!                      '------------- data key -----------------'
//! ```
//!
//! - The slot (Redis Cluster's `CRC16(key or {hash tag}) mod 16384`) comes first, so a region (a
//!   slot range) is one contiguous key range in every column family.
//! - `memcomparable` is TiKV's / MySQL's byte encoding: 8-byte groups, each followed by a marker
//!   `0xFF - padding`; the last group is zero-padded (a full last group is followed by an empty
//!   padded group). Encoded keys order bytewise as the user keys do and no encoded key is a
//!   prefix of another, so appending a timestamp never reorders keys.
//! - The timestamp suffix is `!ts` big-endian, so a key's newest version sorts first and a seek to
//!   `data_key | !read_ts` lands on the newest version at or below `read_ts`.

use crate::error::{Result, TxnError};
use crate::timestamp::TimeStamp;

/// Number of Redis Cluster hash slots.
pub const SLOT_COUNT: u16 = 16384;

/// Bytes of the slot prefix.
pub const SLOT_LEN: usize = 2;

/// Bytes of the timestamp suffix.
pub const TS_LEN: usize = 8;

const GROUP_LEN: usize = 8;
const MARKER: u8 = 0xFF;

/// CRC16-CCITT (XMODEM: polynomial 0x1021, initial value 0), the Redis Cluster key hash.
///
/// Eight bytes a step by slicing (every key of a command is hashed at least once on its way,
/// and byte at a time each step waits for the last table load): `CRC16_TABLES[k][b]` is the
/// CRC of byte `b` followed by `k` zero bytes, so a step's eight lookups are independent and
/// only the first two depend on the running CRC. The tail goes byte at a time.
pub fn crc16(data: &[u8]) -> u16 {
    let [t0, t1, t2, t3, t4, t5, t6, t7] = &CRC16_TABLES;
    let mut chunks = data.chunks_exact(8);
    let mut crc = 0u16;
    for chunk in chunks.by_ref() {
        let [high, low] = crc.to_be_bytes();
        crc = t7[usize::from(chunk[0] ^ high)]
            ^ t6[usize::from(chunk[1] ^ low)]
            ^ t5[usize::from(chunk[2])]
            ^ t4[usize::from(chunk[3])]
            ^ t3[usize::from(chunk[4])]
            ^ t2[usize::from(chunk[5])]
            ^ t1[usize::from(chunk[6])]
            ^ t0[usize::from(chunk[7])];
    }
    chunks.remainder().iter().fold(crc, |crc, &byte| crc16_byte(crc, byte))
}

fn crc16_byte(crc: u16, byte: u8) -> u16 {
    (crc << 8) ^ CRC16_TABLES[0][usize::from((crc >> 8) as u8 ^ byte)]
}

const CRC16_TABLES: [[u16; 256]; 8] = crc16_tables();

const fn crc16_tables() -> [[u16; 256]; 8] {
    let mut tables = [[0u16; 256]; 8];
    let mut index = 0;
    while index < 256 {
        let mut crc = (index as u16) << 8;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 0x8000 != 0 { (crc << 1) ^ 0x1021 } else { crc << 1 };
            bit += 1;
        }
        tables[0][index] = crc;
        index += 1;
    }
    let mut zeros = 1;
    while zeros < 8 {
        let mut index = 0;
        while index < 256 {
            // One more zero byte after the CRC of `tables[zeros - 1][index]`.
            let previous = tables[zeros - 1][index];
            tables[zeros][index] = (previous << 8) ^ tables[0][(previous >> 8) as usize];
            index += 1;
        }
        zeros += 1;
    }
    tables
}

/// The part of a key Redis Cluster hashes: the text between the first `{` and the next `}` when
/// that is non-empty, else the whole key.
pub fn hash_tag(user_key: &[u8]) -> &[u8] {
    let Some(open) = user_key.iter().position(|&b| b == b'{') else { return user_key };
    let rest = &user_key[open + 1..];
    match rest.iter().position(|&b| b == b'}') {
        Some(close) if close > 0 => &rest[..close],
        _ => user_key,
    }
}

/// The key's hash slot.
pub fn slot_of(user_key: &[u8]) -> u16 {
    crc16(hash_tag(user_key)) % SLOT_COUNT
}

/// Appends the memcomparable encoding of `data`.
pub fn encode_memcomparable(out: &mut Vec<u8>, data: &[u8]) {
    out.reserve(encoded_len(data.len()));
    let mut chunks = data.chunks_exact(GROUP_LEN);
    for group in chunks.by_ref() {
        out.extend_from_slice(group);
        out.push(MARKER);
    }
    let tail = chunks.remainder();
    let padding = GROUP_LEN - tail.len();
    out.extend_from_slice(tail);
    out.extend(std::iter::repeat_n(0, padding));
    out.push(MARKER - padding as u8);
}

/// Length of the memcomparable encoding of `len` bytes.
pub fn encoded_len(len: usize) -> usize {
    (len / GROUP_LEN + 1) * (GROUP_LEN + 1)
}

/// Decodes a memcomparable prefix of `input`; returns the bytes and the rest of the input.
pub fn decode_memcomparable(input: &[u8]) -> Result<(Vec<u8>, &[u8])> {
    let mut out = Vec::with_capacity(input.len());
    let rest = decode_memcomparable_into(input, &mut out)?;
    Ok((out, rest))
}

/// [`decode_memcomparable`] appending the decoded bytes to `out`; on an error `out` may hold
/// part of them.
pub fn decode_memcomparable_into<'a>(input: &'a [u8], out: &mut Vec<u8>) -> Result<&'a [u8]> {
    let corrupt = |detail: &str| TxnError::corruption("memcomparable key", detail);
    let mut rest = input;
    loop {
        if rest.len() < GROUP_LEN + 1 {
            return Err(corrupt("truncated group"));
        }
        let (group, tail) = rest.split_at(GROUP_LEN + 1);
        rest = tail;
        let padding = usize::from(MARKER - group[GROUP_LEN]);
        if padding == 0 {
            out.extend_from_slice(&group[..GROUP_LEN]);
            continue;
        }
        if padding > GROUP_LEN {
            return Err(corrupt("bad marker"));
        }
        let (data, pad) = group[..GROUP_LEN].split_at(GROUP_LEN - padding);
        if pad.iter().any(|&b| b != 0) {
            return Err(corrupt("non-zero padding"));
        }
        out.extend_from_slice(data);
        return Ok(rest);
    }
}

/// The data key of `user_key`: `slot BE | memcomparable(user_key)`. The Lock CF key.
pub fn data_key(user_key: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(versioned_key_len(user_key.len()));
    put_data_key(&mut out, slot_of(user_key), user_key);
    out
}

/// Appends the data key of `user_key`, whose slot is `slot`.
fn put_data_key(out: &mut Vec<u8>, slot: u16, user_key: &[u8]) {
    out.extend_from_slice(&slot.to_be_bytes());
    encode_memcomparable(out, user_key);
}

/// `data_key | !ts`: the Write CF key at a commit_ts, the Default CF key at a start_ts.
pub fn versioned_key(user_key: &[u8], ts: TimeStamp) -> Vec<u8> {
    let mut out = Vec::with_capacity(versioned_key_len(user_key.len()));
    put_versioned_key(&mut out, slot_of(user_key), user_key, ts);
    out
}

/// Length of the versioned key of a user key of `user_key_len` bytes.
pub fn versioned_key_len(user_key_len: usize) -> usize {
    SLOT_LEN + encoded_len(user_key_len) + TS_LEN
}

/// Appends the versioned key of `user_key` (whose slot is `slot`) at `ts`.
pub fn put_versioned_key(out: &mut Vec<u8>, slot: u16, user_key: &[u8], ts: TimeStamp) {
    put_data_key(out, slot, user_key);
    append_ts(out, ts);
}

/// Appends the descending timestamp suffix.
pub fn append_ts(out: &mut Vec<u8>, ts: TimeStamp) {
    out.extend_from_slice(&(!ts.into_inner()).to_be_bytes());
}

/// `data_key | !ts` from an already encoded data key.
pub fn with_ts(data_key: &[u8], ts: TimeStamp) -> Vec<u8> {
    let mut out = Vec::with_capacity(data_key.len() + TS_LEN);
    out.extend_from_slice(data_key);
    append_ts(&mut out, ts);
    out
}

/// A key greater than every version of `data_key` and smaller than every later data key: the
/// seek target that skips the rest of a key's versions.
pub fn after_versions(data_key: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data_key.len() + TS_LEN + 1);
    out.extend_from_slice(data_key);
    out.extend_from_slice(&[0xFF; TS_LEN + 1]);
    out
}

/// Splits a versioned key into its data key and timestamp.
pub fn split_ts(key: &[u8]) -> Result<(&[u8], TimeStamp)> {
    let Some(split) = key.len().checked_sub(TS_LEN).filter(|&at| at > SLOT_LEN) else {
        return Err(TxnError::corruption("versioned key", "too short"));
    };
    let (data_key, suffix) = key.split_at(split);
    let inverted = u64::from_be_bytes(suffix.try_into().expect("suffix is TS_LEN bytes"));
    Ok((data_key, TimeStamp::new(!inverted)))
}

/// Decodes a data key into its slot and user key; the whole input must be consumed and the slot
/// must match the key.
pub fn decode_data_key(data_key: &[u8]) -> Result<(u16, Vec<u8>)> {
    let corrupt = |detail: &str| TxnError::corruption("data key", detail);
    let Some((slot_bytes, encoded)) = data_key.split_first_chunk::<SLOT_LEN>() else {
        return Err(corrupt("too short"));
    };
    let slot = u16::from_be_bytes(*slot_bytes);
    let (user_key, rest) = decode_memcomparable(encoded)?;
    if !rest.is_empty() {
        return Err(corrupt("trailing bytes"));
    }
    if slot_of(&user_key) != slot {
        return Err(corrupt("slot does not match the key"));
    }
    Ok((slot, user_key))
}

/// Decodes a versioned key into its user key and timestamp.
pub fn decode_versioned_key(key: &[u8]) -> Result<(Vec<u8>, TimeStamp)> {
    let (data_key, ts) = split_ts(key)?;
    let (_, user_key) = decode_data_key(data_key)?;
    Ok((user_key, ts))
}

/// The start of slot `slot`'s key range (valid for every CF; `slot == SLOT_COUNT` is the end of
/// the keyspace).
pub fn slot_start_key(slot: u16) -> Vec<u8> {
    debug_assert!(slot <= SLOT_COUNT);
    slot.to_be_bytes().to_vec()
}

/// The key range `[start, end)` of the slots `[first_slot, end_slot)`.
pub fn slot_range(first_slot: u16, end_slot: u16) -> (Vec<u8>, Vec<u8>) {
    (slot_start_key(first_slot), slot_start_key(end_slot))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn crc16_matches_the_redis_cluster_spec() {
        assert_eq!(crc16(b"123456789"), 0x31C3);
        assert_eq!(crc16(b""), 0);
    }

    proptest! {
        #[test]
        fn crc16_by_eight_bytes_matches_byte_at_a_time(data in proptest::collection::vec(any::<u8>(), 0..80)) {
            let bytewise = data.iter().fold(0u16, |crc, &byte| crc16_byte(crc, byte));
            prop_assert_eq!(crc16(&data), bytewise);
        }
    }

    #[test]
    fn hash_tags_follow_redis_cluster_rules() {
        assert_eq!(hash_tag(b"{user1000}.following"), b"user1000");
        assert_eq!(hash_tag(b"foo{}{bar}"), b"foo{}{bar}");
        assert_eq!(hash_tag(b"foo{{bar}}zap"), b"{bar");
        assert_eq!(hash_tag(b"foo{bar}{zap}"), b"bar");
        assert_eq!(hash_tag(b"nobraces"), b"nobraces");
        assert_eq!(slot_of(b"{user1000}.following"), slot_of(b"{user1000}.followers"));
        // Known Redis slots (CLUSTER KEYSLOT).
        assert_eq!(slot_of(b"foo"), 12182);
        assert_eq!(slot_of(b"bar"), 5061);
    }

    #[test]
    fn memcomparable_matches_tikv_examples() {
        let mut out = Vec::new();
        encode_memcomparable(&mut out, b"abc");
        assert_eq!(out, [0x61, 0x62, 0x63, 0, 0, 0, 0, 0, 0xFA]);
        out.clear();
        encode_memcomparable(&mut out, b"12345678");
        assert_eq!(out, [b'1', b'2', b'3', b'4', b'5', b'6', b'7', b'8', 0xFF, 0, 0, 0, 0, 0, 0, 0, 0, 0xF7]);
        out.clear();
        encode_memcomparable(&mut out, b"");
        assert_eq!(out, [0, 0, 0, 0, 0, 0, 0, 0, 0xF7]);
    }

    #[test]
    fn decoders_reject_garbage() {
        assert!(decode_memcomparable(b"abc").is_err());
        assert!(decode_memcomparable(&[1, 0, 0, 0, 0, 0, 0, 0, 0x10]).is_err());
        assert!(decode_memcomparable(&[1, 2, 0, 0, 0, 0, 0, 0, 0xF8]).is_err(), "padding must be zero");
        assert!(decode_data_key(&[0]).is_err());
        let mut key = data_key(b"k");
        key[1] ^= 1;
        assert!(decode_data_key(&key).is_err(), "slot must match");
        assert!(split_ts(&[0; 10]).is_err());
    }

    #[test]
    fn after_versions_sits_between_keys() {
        let a = data_key(b"{t}a");
        let b = data_key(b"{t}ab");
        let skip = after_versions(&a);
        assert!(with_ts(&a, TimeStamp::ZERO) < skip);
        assert!(skip < with_ts(&b, TimeStamp::MAX));
    }

    proptest! {
        #[test]
        fn memcomparable_preserves_order_and_round_trips(a in proptest::collection::vec(any::<u8>(), 0..40),
                                                         b in proptest::collection::vec(any::<u8>(), 0..40)) {
            let (mut ea, mut eb) = (Vec::new(), Vec::new());
            encode_memcomparable(&mut ea, &a);
            encode_memcomparable(&mut eb, &b);
            prop_assert_eq!(a.cmp(&b), ea.cmp(&eb));
            prop_assert_eq!(ea.len(), encoded_len(a.len()));
            if a != b {
                prop_assert!(!ea.starts_with(&eb) && !eb.starts_with(&ea));
            }
            let (decoded, rest) = decode_memcomparable(&ea).expect("decode");
            prop_assert_eq!(decoded, a);
            prop_assert!(rest.is_empty());
        }

        #[test]
        fn versioned_keys_round_trip_and_order_newest_first(key in proptest::collection::vec(any::<u8>(), 0..30),
                                                             t1 in any::<u64>(), t2 in any::<u64>()) {
            let (k1, k2) = (versioned_key(&key, TimeStamp::new(t1)), versioned_key(&key, TimeStamp::new(t2)));
            prop_assert_eq!(t1.cmp(&t2).reverse(), k1.cmp(&k2));
            let (user_key, ts) = decode_versioned_key(&k1).expect("decode");
            prop_assert_eq!(user_key, key.clone());
            prop_assert_eq!(ts, TimeStamp::new(t1));
            let (slot_start, slot_end) = slot_range(slot_of(&key), slot_of(&key) + 1);
            prop_assert!(slot_start.as_slice() <= k1.as_slice() && k1.as_slice() < slot_end.as_slice());
        }

        #[test]
        fn decoding_garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = decode_data_key(&bytes);
            let _ = decode_versioned_key(&bytes);
        }
    }
}
