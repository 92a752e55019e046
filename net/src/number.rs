//! Redis's number syntax: strict integer parsing (`string2ll`) and double formatting.
//!
//! Integers in the protocol and in command arguments accept exactly what Redis's `string2ll`
//! accepts: an optional `-`, no `+`, no leading zeros, no spaces, at most 20 characters, and the
//! value must fit an `i64`. Doubles are written the way Redis 7.2+ writes them: the shortest text
//! that reads back as the same `f64`, in `%.17g` layout (exponent form below 1e-4 and from 1e17),
//! and `inf`, `-inf`, `nan`.

/// Longest integer text `string2ll` accepts (Redis's `LONG_STR_SIZE` - 1).
const MAX_INTEGER_TEXT_BYTES: usize = 20;

/// Parses `text` as Redis's `string2ll` does; `None` for anything it rejects.
pub fn parse_i64(text: &[u8]) -> Option<i64> {
    if text.is_empty() || text.len() > MAX_INTEGER_TEXT_BYTES {
        return None;
    }
    if text == b"0" {
        return Some(0);
    }
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    accumulate_digits(digits, negative)
}

/// Accumulates decimal digits towards the sign so that `i64::MIN` parses without overflow.
fn accumulate_digits(digits: &[u8], negative: bool) -> Option<i64> {
    let mut value: i64 = 0;
    for &digit in digits {
        if !digit.is_ascii_digit() {
            return None;
        }
        let digit = i64::from(digit - b'0');
        value = value.checked_mul(10)?;
        value = if negative { value.checked_sub(digit)? } else { value.checked_add(digit)? };
    }
    Some(value)
}

/// Formats `value` as Redis writes a double reply.
pub fn format_double(value: f64) -> String {
    if value.is_nan() {
        return "nan".to_owned();
    }
    if value.is_infinite() {
        return if value > 0.0 { "inf" } else { "-inf" }.to_owned();
    }
    if value == 0.0 {
        return if value.is_sign_negative() { "-0" } else { "0" }.to_owned();
    }
    // Rust's `{:e}` prints the shortest round-trip digits as `d.ddde<exp>`.
    let scientific = format!("{value:e}");
    let (mantissa, exponent) = scientific.split_once('e').expect("`{:e}` always has an exponent");
    let exponent: i32 = exponent.parse().expect("`{:e}` exponent is an integer");
    let (sign, mantissa) = mantissa.strip_prefix('-').map_or(("", mantissa), |m| ("-", m));
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    if !(-4..17).contains(&exponent) {
        return format_exponent_form(sign, &digits, exponent);
    }
    format!("{sign}{}", place_decimal_point(&digits, exponent))
}

/// `%g`'s exponent form: `d.ddde+XX`, at least two exponent digits.
fn format_exponent_form(sign: &str, digits: &str, exponent: i32) -> String {
    let (first, rest) = digits.split_at(1);
    let fraction = if rest.is_empty() { String::new() } else { format!(".{rest}") };
    let exponent_sign = if exponent < 0 { '-' } else { '+' };
    format!("{sign}{first}{fraction}e{exponent_sign}{:02}", exponent.abs())
}

/// Plain decimal form of `0.digits * 10^(exponent + 1)`.
fn place_decimal_point(digits: &str, exponent: i32) -> String {
    if exponent < 0 {
        let zeros = "0".repeat((-exponent - 1) as usize);
        return format!("0.{zeros}{digits}");
    }
    let integer_len = exponent as usize + 1;
    if digits.len() <= integer_len {
        return format!("{digits}{}", "0".repeat(integer_len - digits.len()));
    }
    format!("{}.{}", &digits[..integer_len], &digits[integer_len..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_i64_accepts_exactly_what_string2ll_accepts() {
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"42"), Some(42));
        assert_eq!(parse_i64(b"-42"), Some(-42));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        for rejected in [
            &b""[..],
            b"-",
            b"+1",
            b"01",
            b"-0",
            b"1 ",
            b" 1",
            b"1a",
            b"9223372036854775808",
            b"-9223372036854775809",
            b"1.0",
        ] {
            assert_eq!(parse_i64(rejected), None, "{:?}", String::from_utf8_lossy(rejected));
        }
    }

    #[test]
    fn doubles_use_the_shortest_round_trip_text_in_g_layout() {
        assert_eq!(format_double(2.25), "2.25");
        assert_eq!(format_double(1.0), "1");
        assert_eq!(format_double(-2.5), "-2.5");
        assert_eq!(format_double(100.0), "100");
        assert_eq!(format_double(0.0001), "0.0001");
        assert_eq!(format_double(0.00001), "1e-05");
        assert_eq!(format_double(1e16), "10000000000000000");
        assert_eq!(format_double(1e17), "1e+17");
        assert_eq!(format_double(1.5e300), "1.5e+300");
        assert_eq!(format_double(f64::INFINITY), "inf");
        assert_eq!(format_double(f64::NEG_INFINITY), "-inf");
        assert_eq!(format_double(f64::NAN), "nan");
        assert_eq!(format_double(0.0), "0");
        assert_eq!(format_double(0.1 + 0.2), "0.30000000000000004");
    }
}
