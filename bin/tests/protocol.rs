//! The protocol at the byte level against the real server: inline commands, pipelines split at
//! every byte, and bad input (malformed frames, huge announced lengths, deep nesting, garbage,
//! a client trickling bytes) that costs only its own connection, with Redis 7.0's error texts.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use common::TestServer;

fn connect(server: &TestServer) -> TcpStream {
    let stream = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    stream
}

fn read_exactly(stream: &mut TcpStream, expected: &[u8]) {
    let mut buffer = vec![0u8; expected.len()];
    stream.read_exact(&mut buffer).expect("read reply");
    assert_eq!(String::from_utf8_lossy(&buffer), String::from_utf8_lossy(expected));
}

#[test]
fn inline_and_split_frames() {
    let server = TestServer::start();
    let mut stream = connect(&server);
    stream.write_all(b"PING\r\n").expect("write");
    read_exactly(&mut stream, b"+PONG\r\n");
    let frame = b"*3\r\n$3\r\nSET\r\n$1\r\na\r\n$2\r\nv1\r\n*2\r\n$3\r\nGET\r\n$1\r\na\r\n";
    for &byte in frame.iter() {
        stream.write_all(&[byte]).expect("write one byte");
    }
    read_exactly(&mut stream, b"+OK\r\n$2\r\nv1\r\n");
}

#[test]
fn unknown_command_and_arity_errors_match_redis() {
    let server = TestServer::start();
    let mut stream = connect(&server);
    stream.write_all(b"*2\r\n$6\r\nFOOBAR\r\n$1\r\nx\r\n").expect("write");
    read_exactly(&mut stream, b"-ERR unknown command 'FOOBAR', with args beginning with: 'x' \r\n");
    stream.write_all(b"*1\r\n$3\r\nGET\r\n").expect("write");
    read_exactly(&mut stream, b"-ERR wrong number of arguments for 'get' command\r\n");
}

/// Sends `input`, expects exactly `reply` and then the server closing the connection, and
/// checks that `good` is still served.
fn assert_refused(server: &TestServer, good: &mut TcpStream, input: &[u8], reply: &str) {
    let mut bad = connect(server);
    bad.write_all(input).expect("write");
    let mut received = Vec::new();
    let _ = bad.read_to_end(&mut received);
    assert_eq!(
        String::from_utf8_lossy(&received),
        reply,
        "for {:?}",
        String::from_utf8_lossy(&input[..input.len().min(40)])
    );
    good.write_all(b"PING\r\n").expect("write");
    read_exactly(good, b"+PONG\r\n");
}

#[test]
fn bad_frames_get_redis_protocol_errors_and_lose_only_their_connection() {
    let server = TestServer::start();
    let mut good = connect(&server);
    let error = |text: &str| format!("-ERR Protocol error: {text}\r\n");
    assert_refused(&server, &mut good, b"*1\r\n$-5\r\n", &error("invalid bulk length"));
    // Over proto-max-bulk-len (512 MB): refused before any of it is read.
    assert_refused(&server, &mut good, b"*1\r\n$2147483648\r\n", &error("invalid bulk length"));
    assert_refused(&server, &mut good, &b"*1\r\n".repeat(10_000), &error("expected '$', got '*'"));
    assert_refused(&server, &mut good, b"*2\r\n$4\r\nECHO\r\n:1\r\n", &error("expected '$', got ':'"));
    // Redis 7.0 accepts counts up to INT_MAX and waits for the elements; NoKV caps a request at
    // 1048576 arguments and answers with Redis's text for a bad count.
    assert_refused(&server, &mut good, b"*2147483647\r\n", &error("invalid multibulk length"));
}

#[test]
fn garbage_bytes_are_an_unknown_inline_command_as_in_redis() {
    let server = TestServer::start();
    let mut stream = connect(&server);
    stream.write_all(b"\xff\xfe garbage\r\n$-5\r\nPING\r\n").expect("write");
    let mut expected = b"-ERR unknown command '\xff\xfe', with args beginning with: 'garbage' \r\n".to_vec();
    expected.extend_from_slice(b"-ERR unknown command '$-5', with args beginning with: \r\n+PONG\r\n");
    let mut reply = vec![0u8; expected.len()];
    stream.read_exact(&mut reply).expect("replies");
    assert_eq!(String::from_utf8_lossy(&reply), String::from_utf8_lossy(&expected));
}

#[test]
fn a_client_trickling_one_byte_every_100_ms_is_served_and_holds_nobody_up() {
    let server = TestServer::start();
    let mut slow = connect(&server);
    let mut fast = connect(&server);
    let request = b"*2\r\n$4\r\nECHO\r\n$5\r\nhello\r\n";
    let trickle = thread::spawn(move || {
        for byte in request {
            slow.write_all(&[*byte]).expect("write one byte");
            thread::sleep(Duration::from_millis(100));
        }
        read_exactly(&mut slow, b"$5\r\nhello\r\n");
    });
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(2) {
        let asked = Instant::now();
        fast.write_all(b"PING\r\n").expect("write");
        read_exactly(&mut fast, b"+PONG\r\n");
        assert!(asked.elapsed() < Duration::from_secs(1), "a PING waited {:?}", asked.elapsed());
    }
    trickle.join().expect("the slow client is answered");
}

#[test]
fn a_huge_announced_bulk_trickled_in_does_not_grow_the_server() {
    let server = TestServer::start();
    let mut good = connect(&server);
    let rss_before = server.rss_bytes();
    let mut greedy = connect(&server);
    // 512 MB announced (proto-max-bulk-len), 8 MiB sent over about two seconds.
    greedy.write_all(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$536870912\r\n").expect("header");
    let chunk = vec![b'x'; 256 * 1024];
    let mut peak = 0;
    for _ in 0..32 {
        greedy.write_all(&chunk).expect("chunk");
        peak = peak.max(server.rss_bytes());
        thread::sleep(Duration::from_millis(60));
    }
    eprintln!("huge bulk trickle: RSS before {rss_before} B, peak {peak} B");
    assert!(peak < rss_before + (64 << 20), "RSS went from {rss_before} to {peak} bytes");
    good.write_all(b"PING\r\n").expect("write");
    read_exactly(&mut good, b"+PONG\r\n");
}
