//! Write batches: the unit of atomic change, and the payload of a journal entry.
//!
//! ```text
//! batch  = part+
//! part   = u8 version (1) | varint op count | op*
//! op     = u8 kind (0 put, 1 delete, 2 delete range) | u8 cf | key (varint len + bytes)
//!          | put: value (varint len + bytes) | delete range: end key (varint len + bytes)
//! ```
//!
//! `encode` writes one part. Encoded batches laid end to end decode as one batch holding all
//! their operations in order, so raft can merge proposals into one log entry by concatenating
//! their data (`RaftConfig::merge_proposals_up_to_bytes`) and the engine applies them at once.

use bytes::Bytes;

use crate::codec::{Reader, put_length_prefixed, put_varint};
use crate::error::{Error, Result};
use crate::key::Cf;

/// Write-batch format version.
pub const FORMAT_VERSION: u8 = 1;

/// Operation kinds.
const OP_PUT: u8 = 0;
const OP_DELETE: u8 = 1;
const OP_DELETE_RANGE: u8 = 2;

/// One operation of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteOp {
    /// Sets `key` to `value`.
    Put {
        /// Column family.
        cf: Cf,
        /// User key.
        key: Bytes,
        /// Value.
        value: Bytes,
    },
    /// Deletes `key`.
    Delete {
        /// Column family.
        cf: Cf,
        /// User key.
        key: Bytes,
    },
    /// Deletes every key in `[start, end)`.
    DeleteRange {
        /// Column family.
        cf: Cf,
        /// First key deleted.
        start: Bytes,
        /// First key kept.
        end: Bytes,
    },
}

/// An ordered list of operations applied atomically.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteBatch {
    ops: Vec<WriteOp>,
}

impl WriteBatch {
    /// An empty batch.
    pub fn new() -> WriteBatch {
        WriteBatch::default()
    }

    /// Adds a put.
    pub fn put(&mut self, cf: Cf, key: impl Into<Bytes>, value: impl Into<Bytes>) -> &mut Self {
        self.ops.push(WriteOp::Put { cf, key: key.into(), value: value.into() });
        self
    }

    /// Adds a delete.
    pub fn delete(&mut self, cf: Cf, key: impl Into<Bytes>) -> &mut Self {
        self.ops.push(WriteOp::Delete { cf, key: key.into() });
        self
    }

    /// Adds a range delete of `[start, end)`.
    pub fn delete_range(&mut self, cf: Cf, start: impl Into<Bytes>, end: impl Into<Bytes>) -> &mut Self {
        self.ops.push(WriteOp::DeleteRange { cf, start: start.into(), end: end.into() });
        self
    }

    /// The operations, in order.
    pub fn ops(&self) -> &[WriteOp] {
        &self.ops
    }

    /// Number of operations.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// True when there are no operations.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Encodes the batch.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = EncodedBatch::new(self.ops.len(), self.key_value_bytes());
        for op in &self.ops {
            match op {
                WriteOp::Put { cf, key, value } => out.op(OP_PUT, *cf, key, Some(value)),
                WriteOp::Delete { cf, key } => out.op(OP_DELETE, *cf, key, None),
                WriteOp::DeleteRange { cf, start, end } => out.op(OP_DELETE_RANGE, *cf, start, Some(end)),
            }
        }
        out.finish()
    }

    /// Bytes of the keys, values and range ends.
    fn key_value_bytes(&self) -> usize {
        self.ops.iter().fold(0, |sum, op| {
            sum + match op {
                WriteOp::Put { key, value, .. } => key.len() + value.len(),
                WriteOp::Delete { key, .. } => key.len(),
                WriteOp::DeleteRange { start, end, .. } => start.len() + end.len(),
            }
        })
    }

    /// The capacity `encode` allocates: an upper bound of the encoded size.
    #[cfg(test)]
    fn encoded_bound_bytes(&self) -> usize {
        bound_bytes(self.ops.len(), self.key_value_bytes())
    }

    /// Decodes a batch into copies of its keys and values; malformed input is `Corruption`.
    pub fn decode(input: &[u8]) -> Result<WriteBatch> {
        decode_with(input, Bytes::copy_from_slice)
    }

    /// Decodes a batch whose keys and values are slices of `input` (no copies; they keep
    /// `input`'s buffer alive); malformed input is `Corruption`.
    pub fn decode_shared(input: &Bytes) -> Result<WriteBatch> {
        decode_with(input, |part| input.slice_ref(part))
    }
}

/// A batch written straight into its encoding. [`WriteBatch::encode`] fills one from its
/// operations; a writer that hands the encoding on without reading the operations back (a 1PC
/// commit) adds its puts part by part ([`EncodedBatch::put_with`]), so that each key and value
/// is written once, where a [`WriteBatch`] holds each in its own allocation and `encode` copies
/// it again.
#[derive(Debug)]
pub struct EncodedBatch {
    out: Vec<u8>,
    /// Operations declared but not yet added.
    remaining: usize,
}

impl EncodedBatch {
    /// A batch of exactly `ops` operations, with room for `bytes` bytes of keys and values.
    pub fn new(ops: usize, bytes: usize) -> EncodedBatch {
        let mut out = Vec::with_capacity(bound_bytes(ops, bytes));
        out.push(FORMAT_VERSION);
        put_varint(&mut out, ops as u64);
        EncodedBatch { out, remaining: ops }
    }

    /// Adds a put whose key (`key_len` bytes) and value (`value_len` bytes) `write_key` and
    /// `write_value` append. Panics when a part's length is not the one declared, or on an
    /// operation beyond those declared.
    pub fn put_with(
        &mut self,
        cf: Cf,
        key_len: usize,
        write_key: impl FnOnce(&mut Vec<u8>),
        value_len: usize,
        write_value: impl FnOnce(&mut Vec<u8>),
    ) {
        self.start_op(OP_PUT, cf);
        put_part(&mut self.out, key_len, write_key);
        put_part(&mut self.out, value_len, write_value);
    }

    /// The encoded batch. Panics when fewer operations were added than declared.
    pub fn finish(self) -> Vec<u8> {
        assert_eq!(self.remaining, 0, "as many operations as declared");
        self.out
    }

    /// Adds an operation of `kind` on `key`, with its value or range end.
    fn op(&mut self, kind: u8, cf: Cf, key: &[u8], second: Option<&[u8]>) {
        self.start_op(kind, cf);
        put_length_prefixed(&mut self.out, key);
        if let Some(second) = second {
            put_length_prefixed(&mut self.out, second);
        }
    }

    fn start_op(&mut self, kind: u8, cf: Cf) {
        self.remaining = self.remaining.checked_sub(1).expect("no more operations than declared");
        self.out.push(kind);
        self.out.push(cf.id());
    }
}

/// An upper bound of the encoded size of `ops` operations holding `bytes` bytes of keys and
/// values: version + count, and per op kind + cf + two varint lengths of at most 10 bytes each.
fn bound_bytes(ops: usize, bytes: usize) -> usize {
    1 + 10 + ops * 22 + bytes
}

/// Appends a varint length and the `len` bytes `write` appends.
fn put_part(out: &mut Vec<u8>, len: usize, write: impl FnOnce(&mut Vec<u8>)) {
    put_varint(out, len as u64);
    let start = out.len();
    write(out);
    assert_eq!(out.len() - start, len, "a part is as long as declared");
}

/// Decodes a batch, turning each key and value of `input` into `Bytes` with `to_bytes`.
fn decode_with(input: &[u8], to_bytes: impl Fn(&[u8]) -> Bytes) -> Result<WriteBatch> {
    let corrupt = |detail: &str| Error::corruption("write batch", detail);
    let mut reader = Reader::new(input);
    let mut ops = Vec::new();
    loop {
        if reader.u8() != Some(FORMAT_VERSION) {
            return Err(corrupt("unknown version"));
        }
        let count = reader.varint().ok_or_else(|| corrupt("truncated count"))?;
        ops.reserve(count.min(1024) as usize);
        for _ in 0..count {
            ops.push(decode_op(&mut reader, &to_bytes).ok_or_else(|| corrupt("truncated or unknown operation"))?);
        }
        if reader.is_empty() {
            return Ok(WriteBatch { ops });
        }
        if ops.len() == count as usize {
            // After the first of several parts (raft merged proposals alike), room for as
            // many operations per byte in the rest: one allocation instead of a doubling per
            // few parts. An op takes at least 4 bytes, which bounds what garbage can ask for.
            let rest = reader.remaining().len();
            let expected = ops.len().saturating_mul(rest) / (input.len() - rest).max(1);
            ops.reserve(expected.min(rest / 4));
        }
    }
}

fn decode_op(reader: &mut Reader<'_>, to_bytes: impl Fn(&[u8]) -> Bytes) -> Option<WriteOp> {
    let kind = reader.u8()?;
    let cf = Cf::from_id(reader.u8()?)?;
    let key = to_bytes(reader.length_prefixed()?);
    match kind {
        OP_PUT => Some(WriteOp::Put { cf, key, value: to_bytes(reader.length_prefixed()?) }),
        OP_DELETE => Some(WriteOp::Delete { cf, key }),
        OP_DELETE_RANGE => Some(WriteOp::DeleteRange { cf, start: key, end: to_bytes(reader.length_prefixed()?) }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_garbage() {
        let mut batch = WriteBatch::new();
        batch.put(Cf::Default, "k", "v").delete(Cf::Lock, "x").delete_range(Cf::Write, "a", "b");
        assert_eq!(WriteBatch::decode(&batch.encode()).expect("decode"), batch);
        let encoded = batch.encode();
        for cut in 0..encoded.len() {
            assert!(WriteBatch::decode(&encoded[..cut]).is_err());
        }
        assert!(WriteBatch::decode(&[1, 1, 9, 0, 0]).is_err());
    }

    #[test]
    fn encoded_batch_encodes_as_a_write_batch_does() {
        let value = vec![7u8; 300];
        let mut batch = WriteBatch::new();
        batch.put(Cf::Default, "k1", value.clone()).put(Cf::Write, "key two", "");
        let mut encoded = EncodedBatch::new(2, 0);
        encoded.put_with(Cf::Default, 2, |out| out.extend_from_slice(b"k1"), 300, |out| out.extend_from_slice(&value));
        encoded.put_with(Cf::Write, 7, |out| out.extend_from_slice(b"key two"), 0, |_| {});
        assert_eq!(encoded.finish(), batch.encode());
        assert_eq!(EncodedBatch::new(0, 0).finish(), WriteBatch::new().encode());
    }

    #[test]
    #[should_panic(expected = "a part is as long as declared")]
    fn encoded_batch_refuses_a_part_of_another_length() {
        EncodedBatch::new(1, 0).put_with(Cf::Lock, 3, |out| out.push(1), 0, |_| {});
    }

    #[test]
    #[should_panic(expected = "as many operations as declared")]
    fn encoded_batch_refuses_missing_puts() {
        EncodedBatch::new(1, 0).finish();
    }

    #[test]
    fn shared_decode_slices_the_input_instead_of_copying() {
        let mut batch = WriteBatch::new();
        batch.put(Cf::Write, "key", vec![7u8; 300]).delete(Cf::Lock, "key").delete_range(Cf::Default, "a", "z");
        let encoded = Bytes::from(batch.encode());
        let decoded = WriteBatch::decode_shared(&encoded).expect("decode");
        assert_eq!(decoded, batch);
        let WriteOp::Put { value, .. } = &decoded.ops()[0] else { panic!("first op is a put") };
        let inside = encoded.as_ptr_range();
        assert!(inside.contains(&value.as_ptr()), "the value points into the encoded buffer");
        for cut in 0..encoded.len() {
            assert!(WriteBatch::decode_shared(&encoded.slice(..cut)).is_err());
        }
    }

    #[test]
    fn concatenated_batches_decode_as_one_in_order() {
        let mut first = WriteBatch::new();
        first.put(Cf::Write, "a", "1").delete(Cf::Default, "b");
        let mut second = WriteBatch::new();
        second.put(Cf::Write, "a", "2");
        let mut joined = first.encode();
        joined.extend_from_slice(&second.encode());
        joined.extend_from_slice(&WriteBatch::new().encode());
        let mut expected = first.clone();
        expected.put(Cf::Write, "a", "2");
        assert_eq!(WriteBatch::decode(&joined).expect("decode"), expected);
        assert_eq!(WriteBatch::decode_shared(&Bytes::from(joined.clone())).expect("decode"), expected);
        // A torn second part is an error, not the first part alone.
        let first_len = first.encode().len();
        for cut in first_len + 1..joined.len() - 2 {
            assert!(WriteBatch::decode(&joined[..cut]).is_err(), "cut at {cut}");
        }
        assert!(WriteBatch::decode(&[]).is_err(), "an empty input holds no part");
    }

    #[test]
    fn encoding_fits_its_bound_whatever_the_lengths() {
        let mut batch = WriteBatch::new();
        batch.put(Cf::Default, vec![1u8; 200], vec![2u8; 70_000]).delete(Cf::Write, vec![3u8; 130]);
        batch.delete_range(Cf::Lock, vec![4u8; 128], vec![5u8; 20_000]);
        let encoded = batch.encode();
        assert!(encoded.len() <= batch.encoded_bound_bytes());
        assert_eq!(encoded.capacity(), batch.encoded_bound_bytes(), "one allocation, never grown");
    }
}
