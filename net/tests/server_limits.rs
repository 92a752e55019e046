//! Misbehaving and surplus clients lose only their own connection: protocol errors, the query
//! buffer limit, slow senders, maxclients, the idle timeout (both changeable at run time) and
//! the output buffer limit.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use common::{Client, TIMEOUT, TestServer, start};
use nokv_net::frame::ParseLimits;
use nokv_net::server::{OutputBufferLimit, ServerConfig};

#[test]
fn a_protocol_error_closes_only_that_connection() {
    let server = start(ServerConfig::default(), None);
    let mut good = server.connect();
    let mut bad = server.connect();
    assert_eq!(good.call(&["SET", "k", "v"]), "+OK\r\n");
    bad.send("*1\r\n$4\r\nPING\r\n*1\r\n$-5\r\n");
    assert_eq!(bad.read_reply(), "+PONG\r\n");
    assert_eq!(bad.read_reply(), "-ERR Protocol error: invalid bulk length\r\n");
    assert!(bad.is_closed_by_server());
    assert_eq!(good.call(&["GET", "k"]), "$1\r\nv\r\n");
}

#[test]
fn a_query_buffer_over_the_limit_closes_the_connection() {
    let limit_bytes = 1024 * 1024;
    let limits = ParseLimits {
        proto_max_bulk_len: limit_bytes,
        client_query_buffer_limit: limit_bytes,
        ..ParseLimits::default()
    };
    let server = start(ServerConfig { parse_limits: limits, ..ServerConfig::default() }, None);
    let mut good = server.connect();
    let mut greedy = server.connect();
    greedy.send(format!("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n${limit_bytes}\r\n"));
    let chunk = vec![b'x'; 64 * 1024];
    for _ in 0..limit_bytes / chunk.len() {
        // The server may close the socket while we are still sending; that is the point.
        if greedy.stream.write_all(&chunk).is_err() {
            break;
        }
    }
    assert!(greedy.is_closed_by_server());
    assert_eq!(good.call(&["PING"]), "+PONG\r\n");
}

#[test]
fn a_client_sending_a_byte_at_a_time_does_not_slow_the_others() {
    let server = start(ServerConfig::default(), None);
    let mut slow = server.connect();
    let mut fast = server.connect();
    let dribble = thread::spawn(move || {
        for byte in b"*2\r\n$4\r\nECHO\r\n$20\r\n0123456789".iter().cycle().take(60) {
            if slow.stream.write_all(&[*byte]).is_err() {
                break;
            }
            thread::sleep(Duration::from_millis(10));
        }
        slow
    });
    let started = Instant::now();
    for i in 0..200 {
        assert_eq!(fast.call(&["ECHO", &i.to_string()]), format!("${}\r\n{i}\r\n", i.to_string().len()));
    }
    assert!(started.elapsed() < Duration::from_secs(5), "fast client was held up: {:?}", started.elapsed());
    dribble.join().expect("dribbler");
}

#[test]
fn maxclients_turns_away_the_client_over_the_limit_with_redis_error() {
    let server = start(ServerConfig { maxclients: 2, ..ServerConfig::default() }, None);
    let mut first = server.connect();
    let mut second = server.connect();
    assert_eq!(first.call(&["PING"]), "+PONG\r\n");
    assert_eq!(second.call(&["PING"]), "+PONG\r\n");
    let mut third = server.connect();
    assert_eq!(third.read_reply(), "-ERR max number of clients reached\r\n");
    assert!(third.is_closed_by_server());
    drop(first);
    // The slot frees once the server has noticed the close.
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let mut next = server.connect();
        next.send_command(&["PING"]);
        if next.read_reply() == "+PONG\r\n" {
            break;
        }
        assert!(Instant::now() < deadline, "the slot of a closed client was never freed");
        thread::sleep(Duration::from_millis(20));
    }
    drop((second, third));
    let stats = server.stop();
    assert!(stats.rejected_connections >= 1, "{stats:?}");
}

#[test]
fn idle_clients_are_closed_after_timeout_and_active_ones_are_not() {
    let server = start(ServerConfig { timeout_secs: 1, ..ServerConfig::default() }, None);
    let mut idle = server.connect();
    let mut active = server.connect();
    assert_eq!(idle.call(&["PING"]), "+PONG\r\n");
    let started = Instant::now();
    while started.elapsed() < Duration::from_millis(1600) {
        assert_eq!(active.call(&["PING"]), "+PONG\r\n");
        thread::sleep(Duration::from_millis(200));
    }
    assert!(idle.is_closed_by_server());
    assert!(started.elapsed() < Duration::from_secs(4));
}

#[test]
fn maxclients_changed_at_run_time_applies_to_the_next_client() {
    let server = start(ServerConfig::default(), None);
    let mut first = server.connect();
    let mut second = server.connect();
    assert_eq!(first.call(&["PING"]), "+PONG\r\n");
    assert_eq!(second.call(&["PING"]), "+PONG\r\n");
    server.settings.set_maxclients(2);
    let mut third = server.connect();
    assert_eq!(third.read_reply(), "-ERR max number of clients reached\r\n");
    assert_eq!(first.call(&["PING"]), "+PONG\r\n", "clients already connected stay");
}

#[test]
fn a_timeout_set_at_run_time_closes_clients_already_idle() {
    let server = start(ServerConfig::default(), None);
    let mut idle = server.connect();
    let mut active = server.connect();
    assert_eq!(idle.call(&["PING"]), "+PONG\r\n");
    server.settings.set_timeout_secs(1);
    let started = Instant::now();
    while started.elapsed() < Duration::from_millis(2500) {
        assert_eq!(active.call(&["PING"]), "+PONG\r\n");
        thread::sleep(Duration::from_millis(200));
    }
    assert!(idle.is_closed_by_server());
}

/// Sends `count` pipelined GETs of `key` from a thread that gives up once the server stops
/// reading for a while; the caller never reads the replies.
/// A server holding a 512 KiB value `big`, a client to it, and a second client that pipelines
/// 400 GETs of it without reading the replies (the sender thread hands its stream back).
fn with_a_non_reading_client(config: ServerConfig) -> (TestServer, Client, thread::JoinHandle<TcpStream>) {
    let server = start(config, None);
    let mut writer = server.connect();
    let value = "v".repeat(512 * 1024);
    assert_eq!(writer.call(&["SET", "big", &value]), "+OK\r\n");
    let reader = TcpStream::connect(server.addr).expect("connect");
    reader.set_read_timeout(Some(TIMEOUT)).expect("read timeout");
    let sender = pipeline_gets_without_reading(reader, "big", 400);
    (server, writer, sender)
}

fn pipeline_gets_without_reading(mut stream: TcpStream, key: &str, count: usize) -> thread::JoinHandle<TcpStream> {
    let request = common::encode(&["GET", key]);
    thread::spawn(move || {
        stream.set_write_timeout(Some(Duration::from_secs(2))).expect("write timeout");
        for _ in 0..count {
            if stream.write_all(&request).is_err() {
                break;
            }
        }
        stream
    })
}

/// Reads and discards until the server closes the stream; false if it is still open after
/// the timeout or `max_bytes`.
fn drain_until_closed(stream: &mut TcpStream, max_bytes: usize) -> bool {
    let mut buffer = vec![0u8; 1 << 20];
    let mut total = 0;
    let deadline = Instant::now() + TIMEOUT;
    while total <= max_bytes && Instant::now() < deadline {
        match stream.read(&mut buffer) {
            Ok(0) => return true,
            Ok(read) => total += read,
            // A read timeout means the server holds the connection open without writing.
            Err(error) => {
                return !matches!(error.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut);
            }
        }
    }
    false
}

#[test]
fn a_client_holding_output_over_the_soft_limit_for_its_seconds_is_closed() {
    // A soft limit of one byte: any output the client leaves unread for over a second counts
    // (with a larger one, the kernel's socket buffers could leave less than it pending).
    let limit = OutputBufferLimit { hard_bytes: 0, soft_bytes: 1, soft_secs: 1 };
    let (server, mut writer, sender) =
        with_a_non_reading_client(ServerConfig { client_output_buffer_limit: limit, ..ServerConfig::default() });
    // The server fills the socket buffers, then holds the rest for over a second.
    thread::sleep(Duration::from_secs(3));
    let mut stream = sender.join().expect("sender");
    assert_eq!(writer.call(&["PING"]), "+PONG\r\n", "the other client is unaffected");
    assert!(drain_until_closed(&mut stream, 400 * 513 * 1024), "the non-reading client was not closed");
    let stats = server.stop();
    assert_eq!(stats.output_buffer_limit_disconnections, 1, "{stats:?}");
}

#[test]
fn without_a_limit_a_client_that_does_not_read_only_waits() {
    let (server, mut writer, sender) = with_a_non_reading_client(ServerConfig::default());
    thread::sleep(Duration::from_secs(3));
    let stream = sender.join().expect("sender");
    assert_eq!(writer.call(&["PING"]), "+PONG\r\n");
    let executed: usize = server.batch_sizes.lock().expect("sizes").iter().sum();
    // Backpressure: the server ran only what fits in the socket buffers plus one round.
    assert!(executed < 200, "{executed} GETs ran for a client that reads nothing");
    drop(stream);
    let stats = server.stop();
    assert_eq!(stats.output_buffer_limit_disconnections, 0);
}
