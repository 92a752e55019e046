//! RESP request parser (multibulk and inline): never panics, and feeding the same bytes in
//! arbitrary chunks (one byte at a time included) yields exactly the requests and the outcome
//! of parsing them in one go. Requests that parse re-encode as a multibulk that parses back
//! to the same arguments.
#![no_main]
use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use nokv_net::frame::{Check, ParseLimits, Parsed, Protocol, Reply, RequestParser};

/// How a feed ended: the bytes left unparsed, or the protocol error.
#[derive(Debug, PartialEq)]
enum End {
    Incomplete(Vec<u8>),
    Error(String),
}

/// Parses everything `buf` holds; appends requests, returns `Some` on a protocol error.
fn drain(parser: &RequestParser, buf: &mut BytesMut, out: &mut Vec<Vec<bytes::Bytes>>) -> Option<String> {
    loop {
        let before = buf.len();
        let check = parser.check(buf);
        match parser.parse(buf) {
            Ok(Parsed::Request(args)) => {
                assert!(!args.is_empty(), "a request is never empty");
                let Ok(Check::Complete { frame_len_bytes }) = check else {
                    panic!("parse returned a request where check said {check:?}");
                };
                assert!(before - buf.len() >= frame_len_bytes, "parse consumed less than check's frame");
                out.push(args);
            }
            Ok(Parsed::Incomplete) => return None,
            Err(error) => return Some(error.to_string()),
        }
    }
}

fn feed(parser: &RequestParser, data: &[u8], chunks: &mut dyn Iterator<Item = usize>) -> (Vec<Vec<bytes::Bytes>>, End) {
    let mut buf = BytesMut::new();
    let mut requests = Vec::new();
    let mut pos = 0;
    while pos < data.len() {
        let len = chunks.next().unwrap_or(usize::MAX).clamp(1, data.len() - pos);
        buf.extend_from_slice(&data[pos..pos + len]);
        pos += len;
        if let Some(error) = drain(parser, &mut buf, &mut requests) {
            return (requests, End::Error(error));
        }
    }
    (requests, End::Incomplete(buf.to_vec()))
}

/// A small xorshift stream of chunk lengths seeded by the input.
fn chunk_lengths(seed: u64, max: usize) -> impl Iterator<Item = usize> {
    let mut state = seed | 1;
    std::iter::from_fn(move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        Some(1 + (state as usize) % max)
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, data)) = data.split_first() else { return };
    // Small limits (Redis's minimums) so the limit checks are reachable by small inputs.
    let limits = ParseLimits { proto_inline_max_size: 1024, proto_max_bulk_len: 1 << 20, ..ParseLimits::default() };
    let parser = RequestParser { limits, auth_required: mode & 1 == 1 };
    let whole = feed(&parser, data, &mut std::iter::empty());
    let seed = data.iter().fold(u64::from(mode), |h, &b| h.wrapping_mul(0x100000001b3).wrapping_add(u64::from(b)));
    let max_chunk = 1 + usize::from(mode >> 1) % 64;
    let split = feed(&parser, data, &mut chunk_lengths(seed, max_chunk));
    assert_eq!(whole, split, "chunked feeding (max chunk {max_chunk}) differs from one-shot parsing");
    if data.len() <= 512 {
        let bytewise = feed(&parser, data, &mut std::iter::repeat(1));
        assert_eq!(whole, bytewise, "byte-at-a-time feeding differs from one-shot parsing");
    }
    for args in &whole.0 {
        let encoded = Reply::Array(args.iter().map(|a| Reply::Bulk(a.clone())).collect()).to_bytes(Protocol::Resp2);
        let mut buf = BytesMut::from(&encoded[..]);
        let again = RequestParser::default().parse(&mut buf).expect("a re-encoded request parses");
        assert_eq!(again, Parsed::Request(args.clone()));
        assert!(buf.is_empty());
    }
});
