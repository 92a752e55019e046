//! Multibulk requests: `*<count>\r\n` then `count` times `$<len>\r\n<len bytes>\r\n`.
//!
//! ```text
//! *2\r\n $3\r\n GET\r\n $1\r\n k\r\n
//! ^count  ^len   ^arg     ^len  ^arg
//! ```
//!
//! One walk over the buffer validates every header against the [`ParseLimits`] in Redis's order
//! (so the first bad header decides the error, whatever arrives later) and reports each
//! argument's byte range; nothing is copied. A count of zero or less is an empty request that
//! Redis skips. Stricter than Redis in one place: Redis skips the two bytes after a bulk's data
//! and after a header's `\r` without looking at them; this parser requires them to be `\r\n`
//! (a client that gets them wrong has lost framing, and answering its next "command" would act
//! on garbage).

use std::ops::Range;

use smallvec::SmallVec;

use super::{Check, ParseLimits};
use crate::error::{Error, Result};
use crate::number::parse_i64;

/// Above this many arguments an unauthenticated client is refused (Redis: `ll > 10`).
const UNAUTHENTICATED_MAX_MULTIBULK_LEN: i64 = 10;
/// Above this many bytes per argument an unauthenticated client is refused.
const UNAUTHENTICATED_MAX_BULK_LEN: i64 = 16384;
/// Argument vectors never preallocate more than this, whatever count a client announces.
const MAX_PREALLOCATED_ARGS: usize = 1024;

/// Which header line is being read; it decides the error texts.
#[derive(Clone, Copy)]
enum Header {
    Count,
    Bulk,
}

impl Header {
    fn too_big(self) -> Error {
        match self {
            Self::Count => Error::protocol("too big mbulk count string"),
            Self::Bulk => Error::protocol("too big bulk count string"),
        }
    }

    fn invalid(self) -> Error {
        match self {
            Self::Count => Error::protocol("invalid multibulk length"),
            Self::Bulk => Error::protocol("invalid bulk length"),
        }
    }
}

/// A request's argument ranges: inline up to 4 (GET, SET with a value and an option), so a
/// typical request's parse allocates only its argument list (a `Vec` here was an allocation
/// per request, 1.3% of SET 16 B -P16).
pub(crate) type ArgRanges = SmallVec<[Range<usize>; 4]>;

/// Walks one multibulk frame at the start of `buf`, pushing argument ranges into `args`.
pub(crate) fn walk(buf: &[u8], limits: &ParseLimits, auth_required: bool, args: &mut ArgRanges) -> Result<Check> {
    let Some((count, mut pos)) = read_count(buf, limits, auth_required)? else {
        return Ok(Check::Incomplete);
    };
    args.reserve(count.min(MAX_PREALLOCATED_ARGS));
    for _ in 0..count {
        let Some((len, data_start)) = read_bulk_header(buf, pos, limits, auth_required)? else {
            return Ok(Check::Incomplete);
        };
        let data_end = data_start + len;
        let Some(trailer) = buf.get(data_end..data_end + 2) else {
            return Ok(Check::Incomplete);
        };
        if trailer != b"\r\n" {
            return Err(Error::protocol("expected '\\r\\n' after bulk data"));
        }
        args.push(data_start..data_end);
        pos = data_end + 2;
    }
    Ok(Check::Complete { frame_len_bytes: pos })
}

/// Reads `*<count>\r\n`; a count of zero or less reads as zero arguments.
fn read_count(buf: &[u8], limits: &ParseLimits, auth_required: bool) -> Result<Option<(usize, usize)>> {
    let Some((digits, next)) = read_line(buf, 0, limits, Header::Count)? else {
        return Ok(None);
    };
    let count = parse_i64(digits).ok_or_else(|| Header::Count.invalid())?;
    if count > limits.proto_max_multibulk_len as i64 {
        return Err(Header::Count.invalid());
    }
    if count > UNAUTHENTICATED_MAX_MULTIBULK_LEN && auth_required {
        return Err(Error::protocol("unauthenticated multibulk length"));
    }
    let count = usize::try_from(count.max(0)).expect("a non-negative count bounded by a usize limit fits usize");
    Ok(Some((count, next)))
}

/// Reads `$<len>\r\n` at `pos`; returns the length and where the data starts.
fn read_bulk_header(
    buf: &[u8],
    pos: usize,
    limits: &ParseLimits,
    auth_required: bool,
) -> Result<Option<(usize, usize)>> {
    let Some((digits, next)) = read_line(buf, pos, limits, Header::Bulk)? else {
        return Ok(None);
    };
    let len = parse_i64(digits).ok_or_else(|| Header::Bulk.invalid())?;
    if len < 0 || len > limits.proto_max_bulk_len as i64 {
        return Err(Header::Bulk.invalid());
    }
    if len > UNAUTHENTICATED_MAX_BULK_LEN && auth_required {
        return Err(Error::protocol("unauthenticated bulk length"));
    }
    let len = usize::try_from(len).expect("a non-negative length bounded by a usize limit fits usize");
    Ok(Some((len, next)))
}

/// Reads the header line at `pos` (its type byte, digits, `\r\n`); returns the digits and the
/// position after the line. A line longer than the inline limit is an error even when its end
/// has arrived, so the outcome never depends on how the bytes were split into reads.
fn read_line<'a>(buf: &'a [u8], pos: usize, limits: &ParseLimits, header: Header) -> Result<Option<(&'a [u8], usize)>> {
    let rest = &buf[pos..];
    let Some(cr) = rest.iter().position(|&b| b == b'\r') else {
        if rest.len() > limits.proto_inline_max_size {
            return Err(header.too_big());
        }
        return Ok(None);
    };
    if cr > limits.proto_inline_max_size {
        return Err(header.too_big());
    }
    check_type_byte(rest[0], header)?;
    match rest.get(cr + 1) {
        None => Ok(None),
        Some(b'\n') => Ok(Some((&rest[1..cr], pos + cr + 2))),
        Some(_) => Err(header.invalid()),
    }
}

fn check_type_byte(byte: u8, header: Header) -> Result<()> {
    match header {
        Header::Count => {
            debug_assert_eq!(byte, b'*', "multibulk parsing starts only at '*'");
            Ok(())
        }
        Header::Bulk if byte == b'$' => Ok(()),
        Header::Bulk => Err(Error::protocol(format!("expected '$', got '{}'", char::from(byte)))),
    }
}
