//! The RESP wire protocol, byte by byte: what requests parse to, which malformed inputs are
//! refused with which Redis error text, and what every reply looks like on RESP2 and RESP3.
//! Expected error texts were checked against a Redis 7.0.15 server.

use bytes::{Bytes, BytesMut};
use nokv_net::Error;
use nokv_net::frame::{Check, ParseLimits, Parsed, Protocol, Reply, RequestParser};
use proptest::prelude::*;

fn parser() -> RequestParser {
    RequestParser::default()
}

fn args(words: &[&[u8]]) -> Vec<Bytes> {
    words.iter().map(|w| Bytes::copy_from_slice(w)).collect()
}

/// Parses every whole request in `input` and stops at the first incomplete one.
fn parse_all(parser: &RequestParser, input: &[u8]) -> Result<Vec<Vec<Bytes>>, Error> {
    let mut buf = BytesMut::from(input);
    let mut requests = Vec::new();
    while let Parsed::Request(request) = parser.parse(&mut buf)? {
        requests.push(request);
    }
    Ok(requests)
}

/// Feeds `input` in pieces cut at `cuts`, parsing after each piece, as a connection does.
fn parse_in_pieces(parser: &RequestParser, input: &[u8], cuts: &[usize]) -> Result<Vec<Vec<Bytes>>, Error> {
    let mut buf = BytesMut::new();
    let mut requests = Vec::new();
    let mut start = 0;
    for &end in cuts.iter().chain(std::iter::once(&input.len())) {
        buf.extend_from_slice(&input[start..end]);
        start = end;
        while let Parsed::Request(request) = parser.parse(&mut buf)? {
            requests.push(request);
        }
    }
    Ok(requests)
}

fn protocol_error(input: &[u8]) -> String {
    parse_all(&parser(), input).expect_err("input must be refused").reply_text()
}

fn multibulk(request: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", request.len()).into_bytes();
    for arg in request {
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Well-formed requests

#[test]
fn multibulk_request_parses_to_its_arguments() {
    let requests = parse_all(&parser(), b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nvalue\r\n").unwrap();
    assert_eq!(requests, vec![args(&[b"SET", b"k", b"value"])]);
}

#[test]
fn bulk_arguments_are_binary_safe() {
    let payload: &[u8] = b"a\r\nb\0c\r\n*1\r\n$";
    let requests = parse_all(&parser(), &multibulk(&[b"SET", b"k\r\n", payload, b""])).unwrap();
    assert_eq!(requests, vec![args(&[b"SET", b"k\r\n", payload, b""])]);
}

#[test]
fn pipelined_requests_in_one_buffer_parse_in_order() {
    let mut input = multibulk(&[b"GET", b"a"]);
    input.extend_from_slice(b"PING\r\n");
    input.extend_from_slice(&multibulk(&[b"ECHO", b"x"]));
    input.extend_from_slice(b"*2\r\n$3\r\nGET"); // an incomplete tail stays in the buffer
    let mut buf = BytesMut::from(&input[..]);
    let parser = parser();
    assert_eq!(parser.parse(&mut buf).unwrap(), Parsed::Request(args(&[b"GET", b"a"])));
    assert_eq!(parser.parse(&mut buf).unwrap(), Parsed::Request(args(&[b"PING"])));
    assert_eq!(parser.parse(&mut buf).unwrap(), Parsed::Request(args(&[b"ECHO", b"x"])));
    assert_eq!(parser.parse(&mut buf).unwrap(), Parsed::Incomplete);
    assert_eq!(&buf[..], b"*2\r\n$3\r\nGET");
}

#[test]
fn arguments_are_slices_of_the_read_buffer_not_copies() {
    let mut buf = BytesMut::from(&multibulk(&[b"SET", b"key", b"value"])[..]);
    let region = buf.as_ptr() as usize..buf.as_ptr() as usize + buf.len();
    let Parsed::Request(request) = parser().parse(&mut buf).unwrap() else { panic!("request expected") };
    for arg in &request {
        assert!(region.contains(&(arg.as_ptr() as usize)), "argument {arg:?} was copied");
    }
}

#[test]
fn check_reports_the_frame_length_without_consuming() {
    let frame = multibulk(&[b"GET", b"k"]);
    let mut input = frame.clone();
    input.extend_from_slice(b"PING\r\n");
    assert_eq!(parser().check(&input).unwrap(), Check::Complete { frame_len_bytes: frame.len() });
    assert_eq!(parser().check(b"PING\r\n").unwrap(), Check::Complete { frame_len_bytes: 6 });
    assert_eq!(parser().check(b"").unwrap(), Check::Incomplete);
}

#[test]
fn empty_requests_are_skipped_as_redis_does() {
    // `*0`, `*-1` (any negative count) and blank inline lines are consumed without a request.
    let requests = parse_all(&parser(), b"*0\r\n*-1\r\n*-7\r\n\r\n\n   \r\nPING\r\n").unwrap();
    assert_eq!(requests, vec![args(&[b"PING"])]);
    let mut buf = BytesMut::from(&b"*-1\r\n\r\n"[..]);
    assert_eq!(parser().parse(&mut buf).unwrap(), Parsed::Incomplete);
    assert!(buf.is_empty(), "skipped requests are consumed");
}

#[test]
fn inline_requests_split_like_sdssplitargs() {
    let cases: &[(&[u8], &[&[u8]])] = &[
        (b"PING\r\n", &[b"PING"]),
        (b"PING\n", &[b"PING"]),
        (b"  set   k  v \r\n", &[b"set", b"k", b"v"]),
        (b"set k \"hello world\"\r\n", &[b"set", b"k", b"hello world"]),
        (b"set k \"a\\r\\n\\x00\\\"b\"\r\n", &[b"set", b"k", b"a\r\n\0\"b"]),
        (b"set k 'it\\'s'\r\n", &[b"set", b"k", b"it's"]),
        (b"set k \"\"\r\n", &[b"set", b"k", b""]),
    ];
    for (input, expected) in cases {
        let requests = parse_all(&parser(), input).unwrap();
        assert_eq!(requests, vec![args(expected)], "{:?}", String::from_utf8_lossy(input));
    }
}

// ---------------------------------------------------------------------------------------------
// Split reads

const SPLIT_CORPUS: &[&[u8]] = &[
    b"*3\r\n$3\r\nSET\r\n$3\r\nk\r\n\r\n$0\r\n\r\n",
    b"*1\r\n$4\r\nPING\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n",
    b"set k \"a b\" 'c d'\r\nget k\n",
    b"*0\r\n*-1\r\n\r\nPING\r\n",
    b"*2\r\n$3\r\nGET\r\n$10\r\n0123456789\r\n",
];

#[test]
fn every_split_point_yields_incomplete_then_the_same_requests() {
    for input in SPLIT_CORPUS {
        let whole = parse_all(&parser(), input).unwrap();
        for cut in 0..=input.len() {
            let pieces = parse_in_pieces(&parser(), input, &[cut]).unwrap();
            assert_eq!(pieces, whole, "cut at {cut} of {:?}", String::from_utf8_lossy(input));
        }
        let byte_by_byte: Vec<usize> = (1..input.len()).collect();
        assert_eq!(parse_in_pieces(&parser(), input, &byte_by_byte).unwrap(), whole);
    }
}

#[test]
fn every_proper_prefix_of_a_frame_is_incomplete() {
    let frame = multibulk(&[b"MSET", b"a\r\n", b"1", b"b", b"22"]);
    for len in 0..frame.len() {
        let mut buf = BytesMut::from(&frame[..len]);
        assert_eq!(parser().check(&buf).unwrap(), Check::Incomplete, "prefix of {len} bytes");
        assert_eq!(parser().parse(&mut buf).unwrap(), Parsed::Incomplete);
        assert_eq!(buf.len(), len, "an incomplete frame is left in place");
    }
    assert_eq!(parser().check(&frame).unwrap(), Check::Complete { frame_len_bytes: frame.len() });
}

fn arb_request() -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40), 1..6)
}

proptest! {
    #[test]
    fn random_pipelines_survive_random_splits(
        requests in prop::collection::vec(arb_request(), 1..5),
        cut_seeds in prop::collection::vec(any::<prop::sample::Index>(), 0..8),
    ) {
        let mut input = Vec::new();
        for request in &requests {
            let words: Vec<&[u8]> = request.iter().map(|a| &a[..]).collect();
            input.extend_from_slice(&multibulk(&words));
        }
        let mut cuts: Vec<usize> = cut_seeds.iter().map(|seed| seed.index(input.len() + 1)).collect();
        cuts.sort_unstable();
        let parsed = parse_in_pieces(&parser(), &input, &cuts).unwrap();
        let expected: Vec<Vec<Bytes>> =
            requests.iter().map(|r| r.iter().map(|a| Bytes::copy_from_slice(a)).collect()).collect();
        prop_assert_eq!(parsed, expected);
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_parser(input in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = parse_all(&parser(), &input);
    }
}

// ---------------------------------------------------------------------------------------------
// Malformed and over-limit requests

#[test]
fn malformed_frames_get_redis_error_texts() {
    let cases: &[(&[u8], &str)] = &[
        (b"*abc\r\n", "ERR Protocol error: invalid multibulk length"),
        (b"*\r\n", "ERR Protocol error: invalid multibulk length"),
        (b"*01\r\n", "ERR Protocol error: invalid multibulk length"),
        (b"*+1\r\n", "ERR Protocol error: invalid multibulk length"),
        (b"*2\r\n$x\r\n", "ERR Protocol error: invalid bulk length"),
        (b"*1\r\n$01\r\n", "ERR Protocol error: invalid bulk length"),
        (b"*1\r\nx3\r\nabc\r\n", "ERR Protocol error: expected '$', got 'x'"),
        (b"*2\r\n$4\r\nPING\r\n:1\r\n", "ERR Protocol error: expected '$', got ':'"),
        (b"SET \"a\r\n", "ERR Protocol error: unbalanced quotes in request"),
        (b"SET 'a\r\n", "ERR Protocol error: unbalanced quotes in request"),
        (b"SET \"a\"b\r\n", "ERR Protocol error: unbalanced quotes in request"),
    ];
    for (input, expected) in cases {
        assert_eq!(protocol_error(input), *expected, "{:?}", String::from_utf8_lossy(input));
    }
}

#[test]
fn negative_bulk_lengths_are_refused() {
    assert_eq!(protocol_error(b"*1\r\n$-5\r\n"), "ERR Protocol error: invalid bulk length");
    assert_eq!(protocol_error(b"*2\r\n$4\r\nPING\r\n$-1\r\n"), "ERR Protocol error: invalid bulk length");
}

#[test]
fn bulk_data_must_end_with_crlf() {
    // Redis skips these two bytes unchecked; NoKV treats anything else as lost framing.
    let expected = "ERR Protocol error: expected '\\r\\n' after bulk data";
    assert_eq!(protocol_error(b"*1\r\n$3\r\nfooXXPING\r\n"), expected);
    assert_eq!(protocol_error(b"*1\r\n$3\r\nfoo\n\r"), expected);
}

#[test]
fn header_lines_must_end_with_crlf() {
    assert_eq!(protocol_error(b"*3\rX$3\r\nfoo\r\n"), "ERR Protocol error: invalid multibulk length");
    assert_eq!(protocol_error(b"*1\r\n$3\rXfoo\r\n"), "ERR Protocol error: invalid bulk length");
}

#[test]
fn bulk_length_over_proto_max_bulk_len_is_refused() {
    let limit = ParseLimits::default().proto_max_bulk_len;
    let at_limit = format!("*1\r\n${limit}\r\n");
    assert_eq!(parser().check(at_limit.as_bytes()).unwrap(), Check::Incomplete);
    let over = format!("*1\r\n${}\r\n", limit + 1);
    assert_eq!(protocol_error(over.as_bytes()), "ERR Protocol error: invalid bulk length");
    assert_eq!(protocol_error(b"*1\r\n$99999999999999999999\r\n"), "ERR Protocol error: invalid bulk length");
}

#[test]
fn configured_limits_apply() {
    let limits = ParseLimits { proto_max_bulk_len: 1024 * 1024, proto_max_multibulk_len: 4, ..ParseLimits::default() };
    limits.validate().unwrap();
    let parser = RequestParser::new(limits);
    assert!(parse_all(&parser, &multibulk(&[b"a", b"b", b"c", b"d"])).is_ok());
    let too_many = parse_all(&parser, &multibulk(&[b"a", b"b", b"c", b"d", b"e"])).unwrap_err();
    assert_eq!(too_many.reply_text(), "ERR Protocol error: invalid multibulk length");
    let too_long = parse_all(&parser, b"*1\r\n$1048577\r\n").unwrap_err();
    assert_eq!(too_long.reply_text(), "ERR Protocol error: invalid bulk length");
}

#[test]
fn multibulk_count_over_the_default_limit_is_refused() {
    assert_eq!(parser().check(b"*1048576\r\n").unwrap(), Check::Incomplete);
    assert_eq!(protocol_error(b"*1048577\r\n"), "ERR Protocol error: invalid multibulk length");
    assert_eq!(protocol_error(b"*9223372036854775808\r\n"), "ERR Protocol error: invalid multibulk length");
}

#[test]
fn unauthenticated_clients_get_small_limits() {
    let parser = RequestParser { auth_required: true, ..RequestParser::default() };
    let eleven: Vec<&[u8]> = vec![b"x"; 11];
    let error = parse_all(&parser, &multibulk(&eleven)).unwrap_err();
    assert_eq!(error.reply_text(), "ERR Protocol error: unauthenticated multibulk length");
    let big = vec![b'v'; 16385];
    let error = parse_all(&parser, &multibulk(&[b"AUTH", &big])).unwrap_err();
    assert_eq!(error.reply_text(), "ERR Protocol error: unauthenticated bulk length");
    assert!(parse_all(&parser, &multibulk(&[b"AUTH", &big[..16384]])).is_ok());
}

#[test]
fn overlong_lines_are_refused() {
    let limit = ParseLimits::default().proto_inline_max_size;
    let long_inline = vec![b'a'; limit + 2];
    assert_eq!(protocol_error(&long_inline), "ERR Protocol error: too big inline request");
    let mut complete_but_long = vec![b'a'; limit + 1];
    complete_but_long.extend_from_slice(b"\r\n");
    assert_eq!(protocol_error(&complete_but_long), "ERR Protocol error: too big inline request");
    let mut at_limit = vec![b'a'; limit];
    at_limit.extend_from_slice(b"\r\n");
    assert_eq!(parse_all(&parser(), &at_limit).unwrap().len(), 1);

    let mut count = b"*".to_vec();
    count.extend(std::iter::repeat_n(b'1', limit + 1));
    assert_eq!(protocol_error(&count), "ERR Protocol error: too big mbulk count string");
    let mut bulk = b"*1\r\n$".to_vec();
    bulk.extend(std::iter::repeat_n(b'1', limit + 1));
    assert_eq!(protocol_error(&bulk), "ERR Protocol error: too big bulk count string");
}

#[test]
fn limits_validate() {
    assert!(ParseLimits::default().validate().is_ok());
    let bad = ParseLimits { proto_max_bulk_len: 10, ..ParseLimits::default() };
    assert!(matches!(bad.validate(), Err(Error::InvalidOption { name: "proto_max_bulk_len", .. })));
    let bad = ParseLimits { client_query_buffer_limit: 2 * 1024 * 1024, ..ParseLimits::default() };
    assert!(bad.validate().is_err());
}

#[test]
fn protocol_errors_become_error_replies() {
    let error = parse_all(&parser(), b"*x\r\n").unwrap_err();
    assert_eq!(&error.to_reply().to_bytes(Protocol::Resp2)[..], b"-ERR Protocol error: invalid multibulk length\r\n");
}

// ---------------------------------------------------------------------------------------------
// Replies

fn assert_encodes(reply: Reply, resp2: &[u8], resp3: &[u8]) {
    assert_eq!(&reply.to_bytes(Protocol::Resp2)[..], resp2, "RESP2 of {reply:?}");
    assert_eq!(&reply.to_bytes(Protocol::Resp3)[..], resp3, "RESP3 of {reply:?}");
}

#[test]
fn scalar_replies_encode_byte_exact() {
    assert_encodes(Reply::ok(), b"+OK\r\n", b"+OK\r\n");
    assert_encodes(Reply::error("ERR syntax error"), b"-ERR syntax error\r\n", b"-ERR syntax error\r\n");
    assert_encodes(Reply::Integer(-12), b":-12\r\n", b":-12\r\n");
    assert_encodes(Reply::bulk("a\r\nb"), b"$4\r\na\r\nb\r\n", b"$4\r\na\r\nb\r\n");
    assert_encodes(Reply::bulk(""), b"$0\r\n\r\n", b"$0\r\n\r\n");
    assert_encodes(Reply::Null, b"$-1\r\n", b"_\r\n");
    assert_encodes(Reply::NullArray, b"*-1\r\n", b"_\r\n");
    assert_encodes(Reply::Double(1.5), b"$3\r\n1.5\r\n", b",1.5\r\n");
    assert_encodes(Reply::Double(f64::INFINITY), b"$3\r\ninf\r\n", b",inf\r\n");
    assert_encodes(Reply::Double(f64::NEG_INFINITY), b"$4\r\n-inf\r\n", b",-inf\r\n");
    assert_encodes(Reply::Boolean(true), b":1\r\n", b"#t\r\n");
    assert_encodes(Reply::Boolean(false), b":0\r\n", b"#f\r\n");
    assert_encodes(
        Reply::BigNumber(Bytes::from_static(b"3492890328409238509324850943850943825024385")),
        b"$43\r\n3492890328409238509324850943850943825024385\r\n",
        b"(3492890328409238509324850943850943825024385\r\n",
    );
    assert_encodes(
        Reply::Verbatim { format: *b"txt", text: Bytes::from_static(b"Some string") },
        b"$11\r\nSome string\r\n",
        b"=15\r\ntxt:Some string\r\n",
    );
}

#[test]
fn aggregate_replies_encode_byte_exact() {
    assert_encodes(
        Reply::Array(vec![Reply::Integer(1), Reply::Null, Reply::bulk("x")]),
        b"*3\r\n:1\r\n$-1\r\n$1\r\nx\r\n",
        b"*3\r\n:1\r\n_\r\n$1\r\nx\r\n",
    );
    assert_encodes(Reply::Array(vec![]), b"*0\r\n", b"*0\r\n");
    assert_encodes(
        Reply::Map(vec![(Reply::bulk("server"), Reply::bulk("nokv")), (Reply::bulk("proto"), Reply::Integer(3))]),
        b"*4\r\n$6\r\nserver\r\n$4\r\nnokv\r\n$5\r\nproto\r\n:3\r\n",
        b"%2\r\n$6\r\nserver\r\n$4\r\nnokv\r\n$5\r\nproto\r\n:3\r\n",
    );
    assert_encodes(Reply::Set(vec![Reply::simple("a")]), b"*1\r\n+a\r\n", b"~1\r\n+a\r\n");
    assert_encodes(
        Reply::Push(vec![Reply::bulk("message"), Reply::Double(0.5)]),
        b"*2\r\n$7\r\nmessage\r\n$3\r\n0.5\r\n",
        b">2\r\n$7\r\nmessage\r\n,0.5\r\n",
    );
}

#[test]
fn replies_append_to_the_output_buffer() {
    let mut out = BytesMut::from(&b"+PONG\r\n"[..]);
    Reply::Integer(1).encode(Protocol::Resp2, &mut out);
    assert_eq!(&out[..], b"+PONG\r\n:1\r\n");
}
