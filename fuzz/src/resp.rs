//! A strict RESP2/RESP3 reply reader and the value a [`Reply`] should read back as.
//!
//! NoKV only writes replies; this reader exists to check [`Reply::encode`] against the
//! protocol: every encoding must read back, whole, as the value the reply means on that
//! protocol (RESP2 downgrades included).

use nokv_net::frame::{Protocol, Reply};

/// A reply as read off the wire.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Simple(Vec<u8>),
    Error(Vec<u8>),
    Integer(i64),
    Bulk(Vec<u8>),
    NullBulk,
    NullArray,
    Null,
    Array(Vec<Value>),
    Map(Vec<(Value, Value)>),
    Set(Vec<Value>),
    Push(Vec<Value>),
    /// Compared by bits (NaN by NaN-ness) so that `-0` and NaN are checked too.
    Double(f64),
    Boolean(bool),
    BigNumber(Vec<u8>),
    Verbatim([u8; 3], Vec<u8>),
}

/// Reads one value from the front of `input`; returns it and the bytes after it.
pub fn read(input: &[u8]) -> Result<(Value, &[u8]), String> {
    let (&kind, rest) = input.split_first().ok_or("empty input")?;
    let (line, rest) = split_line(rest)?;
    match kind {
        b'+' => Ok((Value::Simple(line.to_vec()), rest)),
        b'-' => Ok((Value::Error(line.to_vec()), rest)),
        b':' => Ok((Value::Integer(number(line)?), rest)),
        b'(' => Ok((Value::BigNumber(line.to_vec()), rest)),
        b',' => Ok((Value::Double(double(line)?), rest)),
        b'_' if line.is_empty() => Ok((Value::Null, rest)),
        b'#' => match line {
            b"t" => Ok((Value::Boolean(true), rest)),
            b"f" => Ok((Value::Boolean(false), rest)),
            _ => Err(format!("bad boolean {line:?}")),
        },
        b'$' => bulk(line, rest),
        b'=' => verbatim(line, rest),
        b'*' if line == b"-1" => Ok((Value::NullArray, rest)),
        b'*' => aggregate(line, rest).map(|(items, rest)| (Value::Array(items), rest)),
        b'~' => aggregate(line, rest).map(|(items, rest)| (Value::Set(items), rest)),
        b'>' => aggregate(line, rest).map(|(items, rest)| (Value::Push(items), rest)),
        b'%' => map(line, rest),
        other => Err(format!("unknown type byte {other:#x}")),
    }
}

fn split_line(input: &[u8]) -> Result<(&[u8], &[u8]), String> {
    let end = input.windows(2).position(|w| w == b"\r\n").ok_or("line without CRLF")?;
    let line = &input[..end];
    if line.iter().any(|&b| b == b'\r' || b == b'\n') {
        return Err("bare CR or LF inside a line".to_owned());
    }
    Ok((line, &input[end + 2..]))
}

fn number(line: &[u8]) -> Result<i64, String> {
    let text = std::str::from_utf8(line).map_err(|e| e.to_string())?;
    let value: i64 = text.parse().map_err(|e| format!("{text:?}: {e}"))?;
    if value.to_string() != text {
        return Err(format!("non-canonical integer {text:?}"));
    }
    Ok(value)
}

fn double(line: &[u8]) -> Result<f64, String> {
    let text = std::str::from_utf8(line).map_err(|e| e.to_string())?;
    text.parse().map_err(|e| format!("double {text:?}: {e}"))
}

fn length(line: &[u8]) -> Result<usize, String> {
    usize::try_from(number(line)?).map_err(|e| e.to_string())
}

fn counted<'a>(line: &[u8], rest: &'a [u8]) -> Result<(&'a [u8], &'a [u8]), String> {
    let len = length(line)?;
    let data = rest.get(..len).ok_or("bulk cut short")?;
    match rest.get(len..len + 2) {
        Some(b"\r\n") => Ok((data, &rest[len + 2..])),
        _ => Err("bulk not followed by CRLF".to_owned()),
    }
}

fn bulk<'a>(line: &[u8], rest: &'a [u8]) -> Result<(Value, &'a [u8]), String> {
    if line == b"-1" {
        return Ok((Value::NullBulk, rest));
    }
    counted(line, rest).map(|(data, rest)| (Value::Bulk(data.to_vec()), rest))
}

fn verbatim<'a>(line: &[u8], rest: &'a [u8]) -> Result<(Value, &'a [u8]), String> {
    let (data, rest) = counted(line, rest)?;
    if data.len() < 4 || data[3] != b':' {
        return Err("verbatim without a format".to_owned());
    }
    let format = data[..3].try_into().expect("length checked");
    Ok((Value::Verbatim(format, data[4..].to_vec()), rest))
}

fn aggregate<'a>(line: &[u8], mut rest: &'a [u8]) -> Result<(Vec<Value>, &'a [u8]), String> {
    let count = length(line)?;
    let mut items = Vec::new();
    for _ in 0..count {
        let (item, after) = read(rest)?;
        items.push(item);
        rest = after;
    }
    Ok((items, rest))
}

fn map<'a>(line: &[u8], mut rest: &'a [u8]) -> Result<(Value, &'a [u8]), String> {
    let count = length(line)?;
    let mut entries = Vec::new();
    for _ in 0..count {
        let (key, after) = read(rest)?;
        let (value, after) = read(after)?;
        entries.push((key, value));
        rest = after;
    }
    Ok((Value::Map(entries), rest))
}

fn one_line(text: &[u8]) -> Vec<u8> {
    text.iter().map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b }).collect()
}

fn all(items: &[Reply], protocol: Protocol) -> Vec<Value> {
    items.iter().map(|item| expected(item, protocol)).collect()
}

/// What `reply` must read back as on `protocol`.
pub fn expected(reply: &Reply, protocol: Protocol) -> Value {
    let resp3 = protocol == Protocol::Resp3;
    match reply {
        Reply::Simple(text) => Value::Simple(one_line(text)),
        Reply::Error(text) => Value::Error(one_line(text)),
        Reply::Integer(value) => Value::Integer(*value),
        Reply::Bulk(data) => Value::Bulk(data.to_vec()),
        Reply::Null if resp3 => Value::Null,
        Reply::NullArray if resp3 => Value::Null,
        Reply::Null => Value::NullBulk,
        Reply::NullArray => Value::NullArray,
        Reply::Array(items) => Value::Array(all(items, protocol)),
        Reply::Set(items) if resp3 => Value::Set(all(items, protocol)),
        Reply::Push(items) if resp3 => Value::Push(all(items, protocol)),
        Reply::Set(items) | Reply::Push(items) => Value::Array(all(items, protocol)),
        Reply::Map(entries) if resp3 => {
            Value::Map(entries.iter().map(|(k, v)| (expected(k, protocol), expected(v, protocol))).collect())
        }
        Reply::Map(entries) => {
            Value::Array(entries.iter().flat_map(|(k, v)| [expected(k, protocol), expected(v, protocol)]).collect())
        }
        Reply::Double(value) if resp3 => Value::Double(*value),
        Reply::Double(value) => Value::Bulk(nokv_net::number::format_double(*value).into_bytes()),
        Reply::Boolean(value) if resp3 => Value::Boolean(*value),
        Reply::Boolean(value) => Value::Integer(i64::from(*value)),
        Reply::BigNumber(digits) if resp3 => Value::BigNumber(one_line(digits)),
        Reply::BigNumber(digits) => Value::Bulk(digits.to_vec()),
        Reply::Verbatim { format, text } if resp3 => Value::Verbatim(*format, text.to_vec()),
        Reply::Verbatim { text, .. } => Value::Bulk(text.to_vec()),
    }
}

/// Equality with doubles compared exactly: same bits, or both NaN.
pub fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Double(x), Value::Double(y)) => x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()),
        (Value::Array(x), Value::Array(y)) | (Value::Set(x), Value::Set(y)) | (Value::Push(x), Value::Push(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|((ka, va), (kb, vb))| same(ka, kb) && same(va, vb))
        }
        _ => a == b,
    }
}
