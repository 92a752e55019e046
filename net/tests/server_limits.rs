//! Misbehaving and surplus clients lose only their own connection: protocol errors, the query
//! buffer limit, slow senders, maxclients and the idle timeout.

mod common;

use std::io::Write;
use std::thread;
use std::time::{Duration, Instant};

use common::{TIMEOUT, start};
use nokv_net::frame::ParseLimits;
use nokv_net::server::ServerConfig;

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
