//! RESP framing: requests in, replies out.
//!
//! Requests are parsed zero-copy from the connection's `BytesMut` in two steps:
//! [`RequestParser::check`] says whether a whole request is buffered and how long it is, and
//! [`RequestParser::parse`] splits it off the buffer (`split_to(..).freeze()`) and returns its
//! arguments as slices of that one allocation. A request is either a multibulk array of bulk
//! strings (what every client library sends) or an inline line (`PING\r\n`, what telnet and
//! redis-benchmark's PING_INLINE send); the first byte decides, `*` meaning multibulk, as in
//! Redis's `processInputBuffer`.
//!
//! Waiting for more bytes is [`Parsed::Incomplete`], not an error. Every [`Error`] is a protocol
//! error after which the connection replies with [`Error::to_reply`] and closes; the parser keeps
//! no state between calls, so any split of the input gives the same requests.
//!
//! Replies are [`Reply`] values encoded for the connection's [`Protocol`] (see [`reply`]).
//!
//! Where NoKV differs from Redis 7 on purpose (each makes the outcome independent of how the
//! bytes were split into reads, or refuses input Redis would misread):
//! - the two bytes after a bulk's data and after a header's `\r` must be `\r\n` (Redis skips
//!   them unchecked);
//! - an inline or header line over `proto_inline_max_size` is refused even when its end has
//!   arrived (Redis refuses it only while the end is still missing);
//! - at most `proto_max_multibulk_len` (1024 * 1024) arguments, Redis 6's bound.
//!
//! Known cost: a request still incomplete after a read is walked again from its start on the
//! next read, so a request of N arguments arriving in R reads costs O(N x R) header scans.
//! Requests are small in practice; keep per-request progress if this ever shows in profiles.

mod inline;
pub mod reply;
mod request;

use bytes::{Bytes, BytesMut};

pub use self::reply::{Protocol, Reply};
use crate::error::{Error, Result};
use inline::InlineArg;
use request::ArgRanges;

/// Protocol limits, with Redis's names and defaults.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseLimits {
    /// `proto-max-bulk-len`: the longest argument, in bytes (Redis default 512 MB).
    pub proto_max_bulk_len: usize,
    /// The most arguments in one request. Redis 6 hard-coded 1024 * 1024; Redis 7 allows up to
    /// `INT_MAX`. NoKV keeps Redis 6's bound: no real command needs more, and it bounds memory.
    pub proto_max_multibulk_len: usize,
    /// `PROTO_INLINE_MAX_SIZE`: the longest inline request line and the longest header line,
    /// in bytes (64 KiB).
    pub proto_inline_max_size: usize,
    /// `client-query-buffer-limit`: the most unparsed bytes a connection may buffer (1 GB);
    /// enforced by the connection loop, which closes the connection past it, as Redis does.
    pub client_query_buffer_limit: usize,
}

impl Default for ParseLimits {
    fn default() -> Self {
        Self {
            proto_max_bulk_len: 512 * 1024 * 1024,
            proto_max_multibulk_len: 1024 * 1024,
            proto_inline_max_size: 64 * 1024,
            client_query_buffer_limit: 1024 * 1024 * 1024,
        }
    }
}

impl ParseLimits {
    /// Checks the limits against each other and Redis's minimums.
    pub fn validate(&self) -> Result<()> {
        // Redis refuses `proto-max-bulk-len` below 1 MB.
        if self.proto_max_bulk_len < 1024 * 1024 {
            return Err(invalid("proto_max_bulk_len", "must be at least 1 MB"));
        }
        if self.proto_max_multibulk_len == 0 {
            return Err(invalid("proto_max_multibulk_len", "must be at least 1"));
        }
        if self.proto_inline_max_size < 1024 {
            return Err(invalid("proto_inline_max_size", "must be at least 1 KiB"));
        }
        if self.client_query_buffer_limit < self.proto_max_bulk_len {
            return Err(invalid("client_query_buffer_limit", "must be at least proto_max_bulk_len"));
        }
        Ok(())
    }
}

fn invalid(name: &'static str, reason: &str) -> Error {
    Error::InvalidOption { name, reason: reason.to_owned() }
}

/// Whether a whole request is at the start of a buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    /// More bytes are needed.
    Incomplete,
    /// The first `frame_len_bytes` bytes are one request (possibly an empty one Redis skips).
    Complete { frame_len_bytes: usize },
}

/// The outcome of [`RequestParser::parse`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Parsed {
    /// A request's arguments, the command name first; never empty.
    Request(Vec<Bytes>),
    /// No whole request is buffered; the buffer keeps what there is.
    Incomplete,
}

/// Parses requests for one connection.
#[derive(Clone, Debug, Default)]
pub struct RequestParser {
    pub limits: ParseLimits,
    /// Before AUTH on a server with a password, Redis refuses requests of more than 10
    /// arguments or with arguments over 16 KiB, so an unauthenticated client cannot make the
    /// server buffer much; the connection clears this after a successful AUTH or HELLO AUTH.
    pub auth_required: bool,
}

impl RequestParser {
    /// A parser with `limits`, for a connection that needs no authentication.
    pub fn new(limits: ParseLimits) -> Self {
        Self { limits, auth_required: false }
    }

    /// Whether `buf` starts with a whole request, and its length.
    pub fn check(&self, buf: &[u8]) -> Result<Check> {
        self.locate(buf, &mut ArgRanges::new())
    }

    /// Takes the next non-empty request off the front of `buf`. Empty requests (a blank inline
    /// line, `*0`, `*-1`) are consumed and skipped, as Redis does.
    pub fn parse(&self, buf: &mut BytesMut) -> Result<Parsed> {
        loop {
            let mut ranges = ArgRanges::new();
            let Check::Complete { frame_len_bytes } = self.locate(buf, &mut ranges)? else {
                return Ok(Parsed::Incomplete);
            };
            let frame = buf.split_to(frame_len_bytes).freeze();
            let args = if frame[0] == b'*' {
                ranges.into_iter().map(|range| frame.slice(range)).collect()
            } else {
                inline_args(&frame)?
            };
            if !args.is_empty() {
                return Ok(Parsed::Request(args));
            }
        }
    }

    /// Finds the request at the front of `buf`; multibulk argument ranges go into `ranges`.
    fn locate(&self, buf: &[u8], ranges: &mut ArgRanges) -> Result<Check> {
        match buf.first() {
            None => Ok(Check::Incomplete),
            Some(b'*') => request::walk(buf, &self.limits, self.auth_required, ranges),
            Some(_) => self.locate_inline(buf),
        }
    }

    /// An inline request ends at `\n`. A line over the limit is refused even if its end has
    /// arrived (Redis refuses it only while its end is missing, which depends on read sizes).
    fn locate_inline(&self, buf: &[u8]) -> Result<Check> {
        let limit = self.limits.proto_inline_max_size;
        let too_big = || Error::protocol("too big inline request");
        match buf.iter().position(|&b| b == b'\n') {
            Some(newline) => {
                let line_len = if newline > 0 && buf[newline - 1] == b'\r' { newline - 1 } else { newline };
                if line_len > limit {
                    return Err(too_big());
                }
                Ok(Check::Complete { frame_len_bytes: newline + 1 })
            }
            // One byte of slack for a '\r' whose '\n' has not arrived yet.
            None if buf.len() > limit + 1 => Err(too_big()),
            None => Ok(Check::Incomplete),
        }
    }
}

/// Splits a whole inline frame (including its `\n` or `\r\n`) into arguments.
fn inline_args(frame: &Bytes) -> Result<Vec<Bytes>> {
    let line_end = if frame.ends_with(b"\r\n") { frame.len() - 2 } else { frame.len() - 1 };
    let line = frame.slice(..line_end);
    let args = inline::split_args(&line).ok_or_else(|| Error::protocol("unbalanced quotes in request"))?;
    let args = args.into_iter().map(|arg| match arg {
        InlineArg::Span(range) => line.slice(range),
        InlineArg::Owned(bytes) => Bytes::from(bytes),
    });
    Ok(args.collect())
}
