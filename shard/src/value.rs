//! How a Redis value is stored: one record per key in the MVCC store.
//!
//! ```text
//! +---------+------------------------------+-----------------+
//! | u8 type | u64 LE expire_at_ms (0: none) | payload ...     |
//! +---------+------------------------------+-----------------+
//! ```
//!
//! Only strings exist so far (`type = 1`, the payload is the string). Hashes, lists, sets and
//! sorted sets will follow DESIGN section 8: this record becomes their metadata record (type,
//! expiry, version, size) with sub-keys under `key | version | field`.

use std::sync::atomic::{AtomicU64, Ordering};

use bytes::{BufMut, Bytes, BytesMut};
use nokv_txn::mvcc::Value;

/// The Redis type of a stored value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    /// A string.
    String = 1,
}

impl ValueType {
    /// The name `TYPE` returns.
    pub fn name(self) -> &'static str {
        match self {
            ValueType::String => "string",
        }
    }
}

const HEADER_BYTES: usize = 9;

/// Records with an expiry this process has prepared for writing, on any core (see
/// [`expiring_records`]).
static EXPIRING_RECORDS: AtomicU64 = AtomicU64::new(0);

/// How many records with an expiry this process has prepared for writing so far: every write of
/// a key with a TTL prepares one ([`StoredValue::into_value`], or the record a key moved
/// between cores arrives as), on whichever core builds it. The expired-key sweeper compares it
/// between passes to learn whether a key with a TTL may have been written since its last pass
/// found none. A write that then fails still counts; an overcount only starts a pass early.
pub fn expiring_records() -> u64 {
    EXPIRING_RECORDS.load(Ordering::Relaxed)
}

/// Counts a record with an expiry that is about to be written (see [`expiring_records`]).
pub fn note_expiring_record() {
    EXPIRING_RECORDS.fetch_add(1, Ordering::Relaxed);
}

/// A decoded value record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredValue {
    /// The type.
    pub value_type: ValueType,
    /// Absolute expiry in Unix milliseconds; `None` when the key does not expire.
    pub expire_at_ms: Option<u64>,
    /// The payload (the string for strings).
    pub payload: Bytes,
}

impl StoredValue {
    /// A string without expiry.
    pub fn string(payload: Bytes) -> StoredValue {
        StoredValue { value_type: ValueType::String, expire_at_ms: None, payload }
    }

    /// Encodes the record.
    pub fn encode(&self) -> Bytes {
        let mut out = BytesMut::with_capacity(HEADER_BYTES + self.payload.len());
        out.put_slice(&self.header());
        out.put_slice(&self.payload);
        out.freeze()
    }

    /// The encoded record as a value to write: header and payload, not joined. A record with
    /// an expiry counts in [`expiring_records`].
    pub fn into_value(self) -> Value {
        if self.expire_at_ms.is_some() {
            note_expiring_record();
        }
        Value::with_head(&self.header(), self.payload)
    }

    fn header(&self) -> [u8; HEADER_BYTES] {
        let mut header = [0; HEADER_BYTES];
        header[0] = self.value_type as u8;
        header[1..].copy_from_slice(&self.expire_at_ms.unwrap_or(0).to_le_bytes());
        header
    }

    /// Decodes a record; `None` for bytes that are not a record this version knows.
    pub fn decode(bytes: &Bytes) -> Option<StoredValue> {
        if bytes.len() < HEADER_BYTES {
            return None;
        }
        let value_type = match bytes[0] {
            1 => ValueType::String,
            _ => return None,
        };
        let expire = u64::from_le_bytes(bytes[1..HEADER_BYTES].try_into().ok()?);
        let expire_at_ms = (expire != 0).then_some(expire);
        Some(StoredValue { value_type, expire_at_ms, payload: bytes.slice(HEADER_BYTES..) })
    }

    /// True when the key has expired at `now_ms`.
    pub fn is_expired(&self, now_ms: u64) -> bool {
        self.expire_at_ms.is_some_and(|at| at <= now_ms)
    }

    /// True when the key has expired by now; reads the clock only for a key with an expiry.
    pub fn is_expired_now(&self) -> bool {
        self.expire_at_ms.is_some_and(|at| at <= now_ms())
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_expires() {
        let value = StoredValue { expire_at_ms: Some(1000), ..StoredValue::string(Bytes::from_static(b"hello")) };
        let decoded = StoredValue::decode(&value.encode()).expect("decode");
        assert_eq!(decoded, value);
        assert!(decoded.is_expired(1000));
        assert!(!decoded.is_expired(999));
        assert_eq!(StoredValue::decode(&Bytes::from_static(b"\x09xxxxxxxxx")), None);
        assert_eq!(StoredValue::decode(&StoredValue::string(Bytes::new()).encode()).map(|v| v.payload.len()), Some(0));
    }

    #[test]
    fn writing_a_record_with_an_expiry_is_counted() {
        // Other tests may count too (the counter is the process's): only growth is checked.
        let before = expiring_records();
        let _ = StoredValue::string(Bytes::from_static(b"v")).into_value();
        let plain = expiring_records();
        let _ = StoredValue { expire_at_ms: Some(1), ..StoredValue::string(Bytes::from_static(b"v")) }.into_value();
        assert!(plain >= before);
        assert!(expiring_records() > plain, "a record with an expiry moves the counter");
    }
}
