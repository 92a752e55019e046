//! Replies: one [`Reply`] value covering RESP2 and RESP3, encoded for the connection's protocol.
//!
//! ```text
//! type          RESP3                       on a RESP2 connection
//! Simple        +OK\r\n                     same
//! Error         -ERR text\r\n               same
//! Integer       :42\r\n                     same
//! Bulk          $3\r\nfoo\r\n               same
//! Null          _\r\n                       $-1\r\n   (a missing bulk string: GET)
//! NullArray     _\r\n                       *-1\r\n   (a missing array: EXEC aborted, BLPOP)
//! Array         *2\r\n...                   same
//! Map           %1\r\n<k><v>                *2\r\n<k><v>  (flat key/value array)
//! Set           ~2\r\n...                   *2\r\n...
//! Double        ,3.14\r\n                   $4\r\n3.14\r\n
//! Boolean       #t\r\n / #f\r\n             :1\r\n / :0\r\n
//! BigNumber     (123...\r\n                 $N\r\n123...\r\n
//! Verbatim      =N\r\ntxt:text\r\n          $M\r\ntext\r\n
//! Push          >2\r\n...                   *2\r\n...
//! ```
//!
//! Invariant: a simple string or error never carries `\r` or `\n` on the wire; [`Reply::encode`]
//! replaces them by spaces, as Redis does for formatted errors.

use bytes::{BufMut, Bytes, BytesMut};

use crate::number::format_double;

/// The protocol version a connection speaks; `HELLO 3` switches to RESP3, `HELLO 2` back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Protocol {
    #[default]
    Resp2,
    Resp3,
}

/// One reply value.
#[derive(Clone, Debug, PartialEq)]
pub enum Reply {
    /// `+text`: a status such as `OK` or `PONG`.
    Simple(Bytes),
    /// `-CODE text`: the text without the leading `-`, starting with its code (`ERR`, `WRONGTYPE`).
    Error(Bytes),
    Integer(i64),
    Bulk(Bytes),
    /// A missing bulk string (`$-1` in RESP2).
    Null,
    /// A missing array (`*-1` in RESP2).
    NullArray,
    Array(Vec<Reply>),
    Map(Vec<(Reply, Reply)>),
    Set(Vec<Reply>),
    Double(f64),
    Boolean(bool),
    /// Decimal digits, optionally signed.
    BigNumber(Bytes),
    /// Text with a three-letter format such as `txt` or `mkd`.
    Verbatim {
        format: [u8; 3],
        text: Bytes,
    },
    /// Out-of-band data (pub/sub messages, tracking invalidations).
    Push(Vec<Reply>),
}

impl Reply {
    /// `+OK`.
    pub fn ok() -> Self {
        Self::Simple(Bytes::from_static(b"OK"))
    }

    /// A status reply with static text.
    pub fn simple(text: &'static str) -> Self {
        Self::Simple(Bytes::from_static(text.as_bytes()))
    }

    /// An error reply; `text` starts with the error code, e.g. `ERR syntax error`.
    pub fn error(text: impl Into<String>) -> Self {
        Self::Error(Bytes::from(text.into()))
    }

    /// An error reply with static text, e.g. `Reply::error_static(errors::SYNTAX)`.
    pub fn error_static(text: &'static str) -> Self {
        Self::Error(Bytes::from_static(text.as_bytes()))
    }

    /// A bulk string copied from `data`.
    pub fn bulk(data: impl AsRef<[u8]>) -> Self {
        Self::Bulk(Bytes::copy_from_slice(data.as_ref()))
    }

    /// A bulk string of static text (COMMAND DOCS, INFO field names).
    pub fn bulk_static(text: &'static str) -> Self {
        Self::Bulk(Bytes::from_static(text.as_bytes()))
    }

    /// Whether this is an error reply.
    pub fn is_error(&self) -> bool {
        matches!(self, Self::Error(_))
    }

    /// Appends this reply's bytes for `protocol` to `out`.
    pub fn encode(&self, protocol: Protocol, out: &mut BytesMut) {
        match self {
            Self::Simple(text) => encode_line(b'+', text, out),
            Self::Error(text) => encode_line(b'-', text, out),
            Self::Integer(value) => encode_header(b':', *value, out),
            Self::Bulk(data) => encode_bulk(data, out),
            Self::Null | Self::NullArray => encode_null(self, protocol, out),
            Self::Array(items) => encode_aggregate(b'*', items, protocol, out),
            Self::Map(entries) => encode_map(entries, protocol, out),
            Self::Set(items) => encode_aggregate(resp3_or(protocol, b'~', b'*'), items, protocol, out),
            Self::Push(items) => encode_aggregate(resp3_or(protocol, b'>', b'*'), items, protocol, out),
            Self::Double(value) => encode_double(*value, protocol, out),
            Self::Boolean(value) => encode_boolean(*value, protocol, out),
            Self::BigNumber(digits) => encode_big_number(digits, protocol, out),
            Self::Verbatim { format, text } => encode_verbatim(format, text, protocol, out),
        }
    }

    /// This reply's bytes for `protocol`, for tests and one-off writes.
    pub fn to_bytes(&self, protocol: Protocol) -> Bytes {
        let mut out = BytesMut::new();
        self.encode(protocol, &mut out);
        out.freeze()
    }
}

fn resp3_or(protocol: Protocol, resp3: u8, resp2: u8) -> u8 {
    match protocol {
        Protocol::Resp3 => resp3,
        Protocol::Resp2 => resp2,
    }
}

/// A one-line reply; CR and LF would end the line early, so they become spaces.
fn encode_line(prefix: u8, text: &[u8], out: &mut BytesMut) {
    out.reserve(text.len() + 3);
    out.put_u8(prefix);
    if text.iter().any(|b| matches!(b, b'\r' | b'\n')) {
        out.extend(text.iter().map(|&b| if matches!(b, b'\r' | b'\n') { b' ' } else { b }));
    } else {
        out.put_slice(text);
    }
    out.put_slice(b"\r\n");
}

/// `<prefix><decimal>\r\n`: integers and the length headers of bulks and aggregates.
fn encode_header(prefix: u8, value: impl Into<i64>, out: &mut BytesMut) {
    let mut digits = [0u8; 20];
    let text = format_i64(value.into(), &mut digits);
    out.reserve(text.len() + 3);
    out.put_u8(prefix);
    out.put_slice(text);
    out.put_slice(b"\r\n");
}

/// Writes `value` in decimal into `buffer` without allocating and returns the used tail.
fn format_i64(value: i64, buffer: &mut [u8; 20]) -> &[u8] {
    let mut magnitude = value.unsigned_abs();
    let mut start = buffer.len();
    loop {
        start -= 1;
        buffer[start] = b'0' + (magnitude % 10) as u8;
        magnitude /= 10;
        if magnitude == 0 {
            break;
        }
    }
    if value < 0 {
        start -= 1;
        buffer[start] = b'-';
    }
    &buffer[start..]
}

fn len_header(len: usize) -> i64 {
    i64::try_from(len).expect("a reply never holds more than i64::MAX elements or bytes")
}

fn encode_bulk(data: &[u8], out: &mut BytesMut) {
    encode_header(b'$', len_header(data.len()), out);
    out.reserve(data.len() + 2);
    out.put_slice(data);
    out.put_slice(b"\r\n");
}

fn encode_null(reply: &Reply, protocol: Protocol, out: &mut BytesMut) {
    let bytes: &[u8] = match (protocol, reply) {
        (Protocol::Resp3, _) => b"_\r\n",
        (Protocol::Resp2, Reply::NullArray) => b"*-1\r\n",
        (Protocol::Resp2, _) => b"$-1\r\n",
    };
    out.put_slice(bytes);
}

fn encode_aggregate(prefix: u8, items: &[Reply], protocol: Protocol, out: &mut BytesMut) {
    encode_header(prefix, len_header(items.len()), out);
    for item in items {
        item.encode(protocol, out);
    }
}

fn encode_map(entries: &[(Reply, Reply)], protocol: Protocol, out: &mut BytesMut) {
    match protocol {
        Protocol::Resp3 => encode_header(b'%', len_header(entries.len()), out),
        Protocol::Resp2 => encode_header(b'*', len_header(entries.len() * 2), out),
    }
    for (key, value) in entries {
        key.encode(protocol, out);
        value.encode(protocol, out);
    }
}

fn encode_double(value: f64, protocol: Protocol, out: &mut BytesMut) {
    let text = format_double(value);
    match protocol {
        Protocol::Resp3 => encode_line(b',', text.as_bytes(), out),
        Protocol::Resp2 => encode_bulk(text.as_bytes(), out),
    }
}

fn encode_boolean(value: bool, protocol: Protocol, out: &mut BytesMut) {
    match protocol {
        Protocol::Resp3 => out.put_slice(if value { b"#t\r\n" } else { b"#f\r\n" }),
        Protocol::Resp2 => encode_header(b':', i64::from(value), out),
    }
}

fn encode_big_number(digits: &[u8], protocol: Protocol, out: &mut BytesMut) {
    match protocol {
        Protocol::Resp3 => encode_line(b'(', digits, out),
        Protocol::Resp2 => encode_bulk(digits, out),
    }
}

fn encode_verbatim(format: &[u8; 3], text: &[u8], protocol: Protocol, out: &mut BytesMut) {
    if protocol == Protocol::Resp2 {
        return encode_bulk(text, out);
    }
    encode_header(b'=', len_header(text.len() + 4), out);
    out.reserve(text.len() + 6);
    out.put_slice(format);
    out.put_u8(b':');
    out.put_slice(text);
    out.put_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn both(reply: &Reply) -> (Bytes, Bytes) {
        (reply.to_bytes(Protocol::Resp2), reply.to_bytes(Protocol::Resp3))
    }

    #[test]
    fn integers_cover_the_whole_range() {
        assert_eq!(Reply::Integer(0).to_bytes(Protocol::Resp2), &b":0\r\n"[..]);
        assert_eq!(Reply::Integer(-7).to_bytes(Protocol::Resp2), &b":-7\r\n"[..]);
        assert_eq!(Reply::Integer(i64::MIN).to_bytes(Protocol::Resp2), &b":-9223372036854775808\r\n"[..]);
        assert_eq!(Reply::Integer(i64::MAX).to_bytes(Protocol::Resp3), &b":9223372036854775807\r\n"[..]);
    }

    #[test]
    fn error_text_never_breaks_the_line() {
        let (resp2, _) = both(&Reply::error("ERR bad\r\nthing"));
        assert_eq!(resp2, &b"-ERR bad  thing\r\n"[..]);
    }

    #[test]
    fn nested_map_in_array_downgrades_recursively() {
        let reply = Reply::Array(vec![Reply::Map(vec![(Reply::bulk("k"), Reply::Boolean(true))])]);
        let (resp2, resp3) = both(&reply);
        assert_eq!(resp2, &b"*1\r\n*2\r\n$1\r\nk\r\n:1\r\n"[..]);
        assert_eq!(resp3, &b"*1\r\n%1\r\n$1\r\nk\r\n#t\r\n"[..]);
    }
}
