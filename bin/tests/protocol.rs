//! The protocol at the byte level against the real server: inline commands, pipelines split at
//! every byte, and malformed frames that close only their own connection.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

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
fn malformed_frame_closes_only_its_connection() {
    let server = TestServer::start();
    let mut good = connect(&server);
    let mut bad = connect(&server);
    bad.write_all(b"*2\r\n$-5\r\n").expect("write");
    let mut reply = Vec::new();
    let _ = bad.read_to_end(&mut reply);
    assert!(
        String::from_utf8_lossy(&reply).starts_with("-ERR Protocol error"),
        "{:?}",
        String::from_utf8_lossy(&reply)
    );
    let mut huge = connect(&server);
    huge.write_all(b"*2147483647\r\n").expect("write");
    let mut reply = Vec::new();
    let _ = huge.read_to_end(&mut reply);
    assert!(
        String::from_utf8_lossy(&reply).contains("invalid multibulk length"),
        "{:?}",
        String::from_utf8_lossy(&reply)
    );
    good.write_all(b"*1\r\n$4\r\nPING\r\n").expect("write");
    read_exactly(&mut good, b"+PONG\r\n");
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
