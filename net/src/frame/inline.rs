//! Inline requests (`PING\r\n`, `SET k "a b"\n`): one line split into arguments the way Redis's
//! `sdssplitargs` splits it.
//!
//! Rules (from `sds.c`): blanks (`isspace`) separate tokens; a token may contain `"..."` with the
//! escapes `\xHH`, `\n`, `\r`, `\t`, `\b`, `\a` and `\<any>`, or `'...'` where only `\'` is an
//! escape; a closing quote must be followed by a blank or the end of the line; an unterminated
//! quote fails the whole line. The line ends at its first NUL byte, because Redis splits a C
//! string. Unquoted tokens are returned as ranges of the line so they can be sliced without
//! copying; quoted ones are built byte by byte.

use std::ops::Range;

/// One inline argument: a range of the line, or the bytes a quoted token decoded to.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum InlineArg {
    Span(Range<usize>),
    Owned(Vec<u8>),
}

/// Splits `line` (without its line terminator) into arguments; `None` for unbalanced quotes.
pub(crate) fn split_args(line: &[u8]) -> Option<Vec<InlineArg>> {
    let line = match line.iter().position(|&b| b == 0) {
        Some(nul) => &line[..nul],
        None => line,
    };
    let mut args = Vec::new();
    let mut pos = 0;
    loop {
        while pos < line.len() && is_c_space(line[pos]) {
            pos += 1;
        }
        if pos == line.len() {
            return Some(args);
        }
        let (arg, next) = split_token(line, pos)?;
        args.push(arg);
        pos = next;
    }
}

/// C's `isspace` in the "C" locale.
fn is_c_space(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Quote {
    None,
    Double,
    Single,
}

/// Reads one token starting at `start`; returns it and the position after its separator.
fn split_token(line: &[u8], start: usize) -> Option<(InlineArg, usize)> {
    let mut current = Vec::new();
    let mut quote = Quote::None;
    let mut ever_quoted = false;
    let mut pos = start;
    loop {
        let step = match quote {
            Quote::Double => double_quoted_step(line, pos, &mut current)?,
            Quote::Single => single_quoted_step(line, pos, &mut current)?,
            Quote::None => unquoted_step(line, pos, &mut current),
        };
        match step {
            Step::Advance(next) => pos = next,
            Step::Open(kind) => {
                quote = kind;
                ever_quoted = true;
                pos += 1;
            }
            Step::Close(next) => return Some((InlineArg::Owned(current), next)),
            Step::End(token_end, next) => {
                let arg = if ever_quoted { InlineArg::Owned(current) } else { InlineArg::Span(start..token_end) };
                return Some((arg, next));
            }
        }
    }
}

/// What one byte (or escape) of a token did.
enum Step {
    /// Consumed input; continue at this position.
    Advance(usize),
    /// Opened a quote at the current position.
    Open(Quote),
    /// Closed a quote; the token ends, continue at this position.
    Close(usize),
    /// An unquoted separator or the end of the line: the token ends at the first position,
    /// scanning continues at the second.
    End(usize, usize),
}

fn unquoted_step(line: &[u8], pos: usize, current: &mut Vec<u8>) -> Step {
    match line.get(pos) {
        None => Step::End(pos, pos),
        Some(b' ' | b'\n' | b'\r' | b'\t') => Step::End(pos, pos + 1),
        Some(b'"') => Step::Open(Quote::Double),
        Some(b'\'') => Step::Open(Quote::Single),
        Some(&byte) => {
            current.push(byte);
            Step::Advance(pos + 1)
        }
    }
}

fn double_quoted_step(line: &[u8], pos: usize, current: &mut Vec<u8>) -> Option<Step> {
    let byte = *line.get(pos)?;
    if byte == b'\\' {
        if let Some(value) = hex_escape(line, pos) {
            current.push(value);
            return Some(Step::Advance(pos + 4));
        }
        if let Some(&escaped) = line.get(pos + 1) {
            current.push(unescape(escaped));
            return Some(Step::Advance(pos + 2));
        }
    }
    if byte == b'"' {
        return closing_quote(line, pos);
    }
    current.push(byte);
    Some(Step::Advance(pos + 1))
}

fn single_quoted_step(line: &[u8], pos: usize, current: &mut Vec<u8>) -> Option<Step> {
    let byte = *line.get(pos)?;
    if byte == b'\\' && line.get(pos + 1) == Some(&b'\'') {
        current.push(b'\'');
        return Some(Step::Advance(pos + 2));
    }
    if byte == b'\'' {
        return closing_quote(line, pos);
    }
    current.push(byte);
    Some(Step::Advance(pos + 1))
}

/// A closing quote must be followed by a blank or the end of the line.
fn closing_quote(line: &[u8], pos: usize) -> Option<Step> {
    match line.get(pos + 1) {
        Some(&next) if !is_c_space(next) => None,
        _ => Some(Step::Close(pos + 1)),
    }
}

/// `\xHH` at `pos`, if both digits are hexadecimal.
fn hex_escape(line: &[u8], pos: usize) -> Option<u8> {
    if line.get(pos + 1) != Some(&b'x') {
        return None;
    }
    let high = hex_value(*line.get(pos + 2)?)?;
    let low = hex_value(*line.get(pos + 3)?)?;
    Some(high * 16 + low)
}

fn hex_value(digit: u8) -> Option<u8> {
    char::from(digit).to_digit(16).map(|value| value as u8)
}

fn unescape(escaped: u8) -> u8 {
    match escaped {
        b'n' => b'\n',
        b'r' => b'\r',
        b't' => b'\t',
        b'b' => 0x08,
        b'a' => 0x07,
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(line: &str) -> Option<Vec<Vec<u8>>> {
        let args = split_args(line.as_bytes())?;
        let bytes = args.into_iter().map(|arg| match arg {
            InlineArg::Span(range) => line.as_bytes()[range].to_vec(),
            InlineArg::Owned(bytes) => bytes,
        });
        Some(bytes.collect())
    }

    fn strs(args: &[&str]) -> Option<Vec<Vec<u8>>> {
        Some(args.iter().map(|a| a.as_bytes().to_vec()).collect())
    }

    #[test]
    fn blanks_separate_plain_tokens() {
        assert_eq!(split("set  key\tvalue "), strs(&["set", "key", "value"]));
        assert_eq!(split("   "), strs(&[]));
        assert_eq!(split(""), strs(&[]));
    }

    #[test]
    fn plain_tokens_are_spans_of_the_line() {
        assert_eq!(split_args(b"get k"), Some(vec![InlineArg::Span(0..3), InlineArg::Span(4..5)]));
    }

    #[test]
    fn double_quotes_take_escapes() {
        assert_eq!(split(r#"set k "a b\n\x41\"""#), strs(&["set", "k", "a b\nA\""]));
        assert_eq!(split(r#""\xZZ""#), strs(&["xZZ"]));
        assert_eq!(split(r#""""#), strs(&[""]));
    }

    #[test]
    fn single_quotes_only_escape_the_quote() {
        assert_eq!(split(r"'a\'b\n'"), strs(&["a'b\\n"]));
    }

    #[test]
    fn a_quote_may_open_inside_a_token() {
        assert_eq!(split(r#"foo"bar baz" x"#), strs(&["foobar baz", "x"]));
    }

    #[test]
    fn unbalanced_or_glued_quotes_fail() {
        assert_eq!(split(r#"set "abc"#), None);
        assert_eq!(split("set 'abc"), None);
        assert_eq!(split(r#""abc"def"#), None);
        assert_eq!(split(r#""abc\"#), None);
    }

    #[test]
    fn the_line_ends_at_nul() {
        assert_eq!(split("ping\0 ignored"), strs(&["ping"]));
    }
}
