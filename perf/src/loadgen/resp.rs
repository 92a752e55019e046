//! The client side of RESP: requests out as multibulk arrays, replies in as summaries or values.
//!
//! `nokv_net::frame` parses requests and encodes replies (the server's directions); a client
//! needs the opposite pair, so this is a small pipelined codec of its own. Requests are
//! written straight into the connection's output buffer without intermediate allocations.
//! [`parse_reply`] checks that a whole reply is buffered, walks it (nested arrays included) and
//! returns its [`ReplySummary`] and length without materialising it, which is all the load
//! generator checks; [`parse_reply_value`] walks the same way but keeps the data
//! ([`ReplyValue`]), for the crash soak, which compares what it reads. RESP2 and the RESP3 types
//! are all accepted; the parser keeps no state, so an incomplete reply is walked again after
//! the next read, and it never panics on any input.

use std::fmt;
use std::marker::PhantomData;

/// The deepest nesting of aggregates accepted in a reply (MGET needs 1).
const MAX_DEPTH: usize = 16;

/// Appends the multibulk encoding of a request with `args` to `out`.
pub fn encode_request(out: &mut Vec<u8>, args: &[&[u8]]) {
    write_header(out, b'*', args.len());
    for arg in args {
        write_bulk(out, arg);
    }
}

/// Appends `*<count>\r\n` (or another type byte's header).
pub fn write_header(out: &mut Vec<u8>, kind: u8, count: usize) {
    out.push(kind);
    write_decimal(out, count as u64);
    out.extend_from_slice(b"\r\n");
}

/// Appends `$<len>\r\n<bytes>\r\n`.
pub fn write_bulk(out: &mut Vec<u8>, bytes: &[u8]) {
    write_header(out, b'$', bytes.len());
    out.extend_from_slice(bytes);
    out.extend_from_slice(b"\r\n");
}

fn write_decimal(out: &mut Vec<u8>, value: u64) {
    let mut digits = [0u8; 20];
    let mut rest = value;
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[start..]);
}

/// What a reply was, without its data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReplySummary {
    /// `+<text>`; `ok` says whether the text is `OK`.
    Simple { ok: bool },
    /// `-<message>` or a RESP3 blob error.
    Error(String),
    /// `:<n>`.
    Integer(i64),
    /// A bulk or verbatim string of this many bytes.
    Bulk { len_bytes: usize },
    /// `$-1`, `*-1` or `_`.
    Null,
    /// An array, set or push of `len` elements, `errors` of them error replies.
    Array { len: usize, errors: usize },
    /// Any other RESP3 type (double, boolean, big number, map, attribute).
    Other,
}

/// A reply that is not RESP.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProtocolError(pub String);

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "protocol error: {}", self.0)
    }
}

impl std::error::Error for ProtocolError {}

/// The reply at the start of `buf` and its length, or `None` when it is not all buffered.
pub fn parse_reply(buf: &[u8]) -> Result<Option<(ReplySummary, usize)>, ProtocolError> {
    walk::<Summarise>(buf)
}

/// A reply with its data, for clients that check what they read (the crash soak).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReplyValue {
    /// `+<text>`.
    Simple(Vec<u8>),
    /// `-<message>` or a RESP3 blob error.
    Error(String),
    /// `:<n>`.
    Integer(i64),
    /// A bulk or verbatim string.
    Bulk(Vec<u8>),
    /// `$-1`, `*-1` or `_`.
    Null,
    /// An array, set or push.
    Array(Vec<ReplyValue>),
    /// Any other RESP3 type (double, boolean, big number, map, attribute), data dropped.
    Other,
}

/// Like [`parse_reply`], but keeping the reply's data.
pub fn parse_reply_value(buf: &[u8]) -> Result<Option<(ReplyValue, usize)>, ProtocolError> {
    walk::<Keep>(buf)
}

fn walk<B: Build>(buf: &[u8]) -> Result<Option<(B::Value, usize)>, ProtocolError> {
    let mut cursor = Cursor::<B> { buf, pos: 0, build: PhantomData };
    Ok(cursor.value(0)?.map(|value| (value, cursor.pos)))
}

/// One reply that is not an aggregate, borrowed from the buffer.
enum Scalar<'a> {
    Simple(&'a [u8]),
    Error(&'a [u8]),
    Integer(i64),
    Bulk(&'a [u8]),
    Null,
    Other,
}

/// What a walk makes of the replies: [`Summarise`] drops the data, [`Keep`] copies it.
trait Build {
    type Value;
    type Aggregate;
    fn scalar(scalar: Scalar<'_>) -> Self::Value;
    /// An empty aggregate of `len` entries (an untrusted length: reserve little).
    fn start(len: usize) -> Self::Aggregate;
    fn push(aggregate: &mut Self::Aggregate, value: Self::Value);
    /// The aggregate's value; `width` is 1 for arrays, 2 for maps.
    fn finish(aggregate: Self::Aggregate, width: usize) -> Self::Value;
}

struct Summarise;

impl Build for Summarise {
    type Value = ReplySummary;
    /// `(entries, error entries)`.
    type Aggregate = (usize, usize);

    fn scalar(scalar: Scalar<'_>) -> ReplySummary {
        match scalar {
            Scalar::Simple(text) => ReplySummary::Simple { ok: text == b"OK" },
            Scalar::Error(text) => ReplySummary::Error(String::from_utf8_lossy(text).into_owned()),
            Scalar::Integer(value) => ReplySummary::Integer(value),
            Scalar::Bulk(data) => ReplySummary::Bulk { len_bytes: data.len() },
            Scalar::Null => ReplySummary::Null,
            Scalar::Other => ReplySummary::Other,
        }
    }

    fn start(len: usize) -> (usize, usize) {
        (len, 0)
    }

    fn push(aggregate: &mut (usize, usize), value: ReplySummary) {
        if matches!(value, ReplySummary::Error(_)) {
            aggregate.1 += 1;
        }
    }

    fn finish((len, errors): (usize, usize), width: usize) -> ReplySummary {
        if width == 1 { ReplySummary::Array { len, errors } } else { ReplySummary::Other }
    }
}

struct Keep;

/// The most entries reserved up front for an aggregate whose length the server declared.
const RESERVE_ENTRIES_MAX: usize = 1024;

impl Build for Keep {
    type Value = ReplyValue;
    type Aggregate = Vec<ReplyValue>;

    fn scalar(scalar: Scalar<'_>) -> ReplyValue {
        match scalar {
            Scalar::Simple(text) => ReplyValue::Simple(text.to_vec()),
            Scalar::Error(text) => ReplyValue::Error(String::from_utf8_lossy(text).into_owned()),
            Scalar::Integer(value) => ReplyValue::Integer(value),
            Scalar::Bulk(data) => ReplyValue::Bulk(data.to_vec()),
            Scalar::Null => ReplyValue::Null,
            Scalar::Other => ReplyValue::Other,
        }
    }

    fn start(len: usize) -> Vec<ReplyValue> {
        Vec::with_capacity(len.min(RESERVE_ENTRIES_MAX))
    }

    fn push(aggregate: &mut Vec<ReplyValue>, value: ReplyValue) {
        aggregate.push(value);
    }

    fn finish(aggregate: Vec<ReplyValue>, width: usize) -> ReplyValue {
        if width == 1 { ReplyValue::Array(aggregate) } else { ReplyValue::Other }
    }
}

struct Cursor<'a, B> {
    buf: &'a [u8],
    pos: usize,
    build: PhantomData<B>,
}

type Step<T> = Result<Option<T>, ProtocolError>;

impl<'a, B: Build> Cursor<'a, B> {
    /// Walks one value; `None` if the buffer ends first.
    fn value(&mut self, depth: usize) -> Step<B::Value> {
        if depth > MAX_DEPTH {
            return Err(ProtocolError(format!("replies nested deeper than {MAX_DEPTH}")));
        }
        let Some(&kind) = self.buf.get(self.pos) else { return Ok(None) };
        self.pos += 1;
        let Some(line) = self.line() else { return Ok(None) };
        let scalar = match kind {
            b'+' => Scalar::Simple(line),
            b'-' => Scalar::Error(line),
            b':' => Scalar::Integer(parse_integer(line)?),
            b'_' => Scalar::Null,
            b',' | b'#' | b'(' => Scalar::Other,
            b'$' | b'=' => return self.bulk(parse_integer(line)?),
            b'!' => return self.blob_error(parse_integer(line)?),
            b'*' | b'~' | b'>' => return self.aggregate(parse_integer(line)?, 1, depth),
            b'%' | b'|' => return self.aggregate(parse_integer(line)?, 2, depth),
            other => return Err(ProtocolError(format!("unknown reply type byte {other:#04x}"))),
        };
        Ok(Some(B::scalar(scalar)))
    }

    /// The rest of the current line (without `\r\n`), the cursor moved past it.
    fn line(&mut self) -> Option<&'a [u8]> {
        let rest = &self.buf[self.pos..];
        let end = rest.windows(2).position(|pair| pair == b"\r\n")?;
        self.pos += end + 2;
        Some(&rest[..end])
    }

    /// Skips `len` bytes of data and their `\r\n`, returning the data.
    fn data(&mut self, len: i64) -> Step<&'a [u8]> {
        let len = usize::try_from(len).map_err(|_| ProtocolError(format!("bad length {len}")))?;
        let start = self.pos;
        let end = start.checked_add(len).ok_or_else(|| ProtocolError("length overflows".into()))?;
        if self.buf.len() < end.saturating_add(2) {
            return Ok(None);
        }
        if &self.buf[end..end + 2] != b"\r\n" {
            return Err(ProtocolError("bulk data not followed by CRLF".into()));
        }
        self.pos = end + 2;
        Ok(Some(&self.buf[start..end]))
    }

    fn bulk(&mut self, len: i64) -> Step<B::Value> {
        if len == -1 {
            return Ok(Some(B::scalar(Scalar::Null)));
        }
        Ok(self.data(len)?.map(|data| B::scalar(Scalar::Bulk(data))))
    }

    fn blob_error(&mut self, len: i64) -> Step<B::Value> {
        Ok(self.data(len)?.map(|data| B::scalar(Scalar::Error(data))))
    }

    /// An aggregate of `count` entries of `width` values each.
    fn aggregate(&mut self, count: i64, width: usize, depth: usize) -> Step<B::Value> {
        if count == -1 {
            return Ok(Some(B::scalar(Scalar::Null)));
        }
        let len = usize::try_from(count).map_err(|_| ProtocolError(format!("bad aggregate length {count}")))?;
        let mut aggregate = B::start(len);
        for _ in 0..len.saturating_mul(width) {
            match self.value(depth + 1)? {
                None => return Ok(None),
                Some(value) => B::push(&mut aggregate, value),
            }
        }
        Ok(Some(B::finish(aggregate, width)))
    }
}

fn parse_integer(line: &[u8]) -> Result<i64, ProtocolError> {
    std::str::from_utf8(line)
        .ok()
        .and_then(|text| text.parse().ok())
        .ok_or_else(|| ProtocolError(format!("bad integer '{}'", String::from_utf8_lossy(line))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_whole(bytes: &[u8]) -> ReplySummary {
        let (summary, len) = parse_reply(bytes).expect("valid").expect("complete");
        assert_eq!(len, bytes.len(), "the whole reply is consumed");
        summary
    }

    #[test]
    fn requests_are_multibulk_arrays() {
        let mut out = Vec::new();
        encode_request(&mut out, &[b"SET", b"key:1", b""]);
        assert_eq!(out, b"*3\r\n$3\r\nSET\r\n$5\r\nkey:1\r\n$0\r\n\r\n");
    }

    #[test]
    fn encoded_requests_parse_with_the_servers_parser() {
        use bytes::BytesMut;
        use nokv_net::frame::{Parsed, RequestParser};
        let mut out = Vec::new();
        encode_request(&mut out, &[b"MSET", b"a", b"1", b"b", &[0u8; 300]]);
        let mut buf = BytesMut::from(&out[..]);
        let Parsed::Request(args) = RequestParser::default().parse(&mut buf).expect("valid") else {
            panic!("incomplete")
        };
        assert_eq!(args.len(), 5);
        assert_eq!(args[4].len(), 300);
        assert!(buf.is_empty());
    }

    #[test]
    fn every_resp2_reply_type_is_summarised() {
        assert_eq!(parse_whole(b"+OK\r\n"), ReplySummary::Simple { ok: true });
        assert_eq!(parse_whole(b"+QUEUED\r\n"), ReplySummary::Simple { ok: false });
        assert_eq!(parse_whole(b"-ERR no\r\n"), ReplySummary::Error("ERR no".into()));
        assert_eq!(parse_whole(b":-12\r\n"), ReplySummary::Integer(-12));
        assert_eq!(parse_whole(b"$3\r\nabc\r\n"), ReplySummary::Bulk { len_bytes: 3 });
        assert_eq!(parse_whole(b"$-1\r\n"), ReplySummary::Null);
        assert_eq!(parse_whole(b"*-1\r\n"), ReplySummary::Null);
        assert_eq!(parse_whole(b"*3\r\n$1\r\na\r\n$-1\r\n-ERR x\r\n"), ReplySummary::Array { len: 3, errors: 1 });
    }

    #[test]
    fn resp3_replies_are_walked() {
        assert_eq!(parse_whole(b"_\r\n"), ReplySummary::Null);
        assert_eq!(parse_whole(b"%1\r\n+a\r\n:1\r\n"), ReplySummary::Other);
        assert_eq!(parse_whole(b"~2\r\n#t\r\n,1.5\r\n"), ReplySummary::Array { len: 2, errors: 0 });
        assert_eq!(parse_whole(b"!5\r\nERR x\r\n"), ReplySummary::Error("ERR x".into()));
        assert_eq!(parse_whole(b"=7\r\ntxt:abc\r\n"), ReplySummary::Bulk { len_bytes: 7 });
    }

    #[test]
    fn every_prefix_of_a_reply_is_incomplete() {
        let reply = b"*2\r\n$5\r\nhello\r\n*1\r\n:7\r\n+OK\r\n";
        let first_len = reply.len() - 5;
        for cut in 0..first_len {
            assert_eq!(parse_reply(&reply[..cut]), Ok(None), "cut at {cut}");
        }
        let (summary, len) = parse_reply(reply).expect("valid").expect("complete");
        assert_eq!((summary, len), (ReplySummary::Array { len: 2, errors: 0 }, first_len));
        assert_eq!(parse_reply(&reply[len..]), Ok(Some((ReplySummary::Simple { ok: true }, 5))));
    }

    #[test]
    fn malformed_replies_are_protocol_errors_not_panics() {
        for bad in
            [&b"?x\r\n"[..], b":abc\r\n", b"$-5\r\n", b"$2\r\nabcd\r\n", b"*-3\r\n", b"$99999999999999999999\r\n"]
        {
            assert!(parse_reply(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
        let deep = b"*1\r\n".repeat(MAX_DEPTH + 2);
        assert!(parse_reply(&deep).is_err());
    }

    #[test]
    fn huge_declared_lengths_wait_for_data_instead_of_allocating() {
        assert_eq!(parse_reply(b"$1000000000\r\nab"), Ok(None));
        assert_eq!(parse_reply(b"*1000000000\r\n:1\r\n"), Ok(None));
        assert_eq!(parse_reply_value(b"*1000000000\r\n:1\r\n"), Ok(None));
    }

    #[test]
    fn values_keep_the_data_and_the_same_length() {
        let reply = b"*4\r\n$5\r\nhello\r\n$-1\r\n:7\r\n-ERR x\r\n+PONG\r\n";
        let (value, len) = parse_reply_value(reply).expect("valid").expect("complete");
        let expected = ReplyValue::Array(vec![
            ReplyValue::Bulk(b"hello".to_vec()),
            ReplyValue::Null,
            ReplyValue::Integer(7),
            ReplyValue::Error("ERR x".into()),
        ]);
        assert_eq!(value, expected);
        assert_eq!(Some(len), parse_reply(reply).expect("valid").map(|(_, len)| len));
        assert_eq!(parse_reply_value(&reply[len..]), Ok(Some((ReplyValue::Simple(b"PONG".to_vec()), 7))));
        for cut in 0..len {
            assert_eq!(parse_reply_value(&reply[..cut]), Ok(None), "cut at {cut}");
        }
    }
}
