//! Resource limits against the real server: `client-output-buffer-limit`, a client that never
//! reads (the server's memory stays bounded), protected mode, AUTH failures, and `maxclients`
//! and `timeout` changed at run time.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use common::{TestServer, info_stat};

/// Every wait here is bounded by this.
const TIMEOUT: Duration = Duration::from_secs(10);
/// A generous bound on the server's resident memory while a client misbehaves.
const RSS_BOUND_BYTES: u64 = 300 << 20;
/// The value the non-reading clients GET, and how many GETs they pipeline (1 GiB of replies).
const VALUE_BYTES: usize = 512 * 1024;
const PIPELINED_GETS: usize = 2048;

fn connect(server: &TestServer) -> TcpStream {
    let stream = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
    stream.set_read_timeout(Some(TIMEOUT)).expect("read timeout");
    stream
}

fn config_get(con: &mut redis::Connection, name: &str) -> String {
    let pair: Vec<String> = redis::cmd("CONFIG").arg("GET").arg(name).query(con).expect("CONFIG GET");
    pair.get(1).cloned().unwrap_or_default()
}

/// Pipelines GETs of `key` from a thread that gives up once the server stops reading.
fn pipeline_gets_without_reading(mut stream: TcpStream, key: &str) -> thread::JoinHandle<TcpStream> {
    let request = format!("*2\r\n$3\r\nGET\r\n${}\r\n{key}\r\n", key.len()).repeat(PIPELINED_GETS);
    thread::spawn(move || {
        stream.set_write_timeout(Some(Duration::from_secs(2))).expect("write timeout");
        let _ = stream.write_all(request.as_bytes());
        stream
    })
}

/// Reads and discards until the server closes the stream; false if it stays open and silent.
fn drain_until_closed(stream: &mut TcpStream) -> bool {
    let mut buffer = vec![0u8; 1 << 20];
    let deadline = Instant::now() + TIMEOUT;
    let mut total_bytes = 0;
    while Instant::now() < deadline && total_bytes < PIPELINED_GETS * VALUE_BYTES {
        match stream.read(&mut buffer) {
            Ok(0) => return true,
            Ok(read) => total_bytes += read,
            Err(error) => {
                return !matches!(error.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut);
            }
        }
    }
    false
}

/// The largest RSS seen over `period`, sampled every 100 ms.
fn peak_rss_over(server: &TestServer, period: Duration) -> u64 {
    let started = Instant::now();
    let mut peak = 0;
    while started.elapsed() < period {
        peak = peak.max(server.rss_bytes());
        thread::sleep(Duration::from_millis(100));
    }
    peak
}

fn set_big_value(con: &mut redis::Connection) {
    let () = redis::cmd("SET").arg("big").arg(vec![b'v'; VALUE_BYTES]).query(con).expect("SET");
}

#[test]
fn a_client_over_the_output_buffer_limit_is_closed_and_others_are_not() {
    let server = TestServer::start_with(&["--client-output-buffer-limit", "normal 4mb 2mb 2"]);
    let mut other = server.client();
    set_big_value(&mut other);
    let rss_before = server.rss_bytes();
    let sender = pipeline_gets_without_reading(connect(&server), "big");
    let peak = peak_rss_over(&server, Duration::from_secs(3));
    let mut stream = sender.join().expect("sender");
    eprintln!("output limit normal 4mb 2mb 2: RSS before {rss_before} B, peak {peak} B");
    assert!(peak < RSS_BOUND_BYTES, "RSS grew to {peak} bytes");
    let () = redis::cmd("PING").query(&mut other).expect("the other client still works");
    assert!(drain_until_closed(&mut stream), "the non-reading client was not closed");
    assert_eq!(info_stat(&mut other, "client_output_buffer_limit_disconnections"), 1);
    assert!(server.log().contains("scheduled to be closed ASAP for overcoming of output buffer limits"));
}

#[test]
fn without_an_output_limit_a_client_that_never_reads_does_not_grow_the_server() {
    let server = TestServer::start();
    let mut other = server.client();
    set_big_value(&mut other);
    let rss_before = server.rss_bytes();
    let sender = pipeline_gets_without_reading(connect(&server), "big");
    let peak = peak_rss_over(&server, Duration::from_secs(4));
    let stream = sender.join().expect("sender");
    eprintln!("output limit normal 0 0 0: RSS before {rss_before} B, peak {peak} B");
    assert!(peak < RSS_BOUND_BYTES, "RSS grew to {peak} bytes");
    let value: Vec<u8> = redis::cmd("GET").arg("big").query(&mut other).expect("the other client still works");
    assert_eq!(value.len(), VALUE_BYTES);
    assert_eq!(info_stat(&mut other, "client_output_buffer_limit_disconnections"), 0);
    drop(stream);
}

#[test]
fn client_output_buffer_limit_is_read_and_set_like_redis() {
    let server = TestServer::start();
    let mut con = server.client();
    let defaults = "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60";
    assert_eq!(config_get(&mut con, "client-output-buffer-limit"), defaults);
    let () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("client-output-buffer-limit")
        .arg("normal 4mb 2mb 2")
        .query(&mut con)
        .expect("set");
    let changed = "normal 4194304 2097152 2 slave 268435456 67108864 60 pubsub 33554432 8388608 60";
    assert_eq!(config_get(&mut con, "client-output-buffer-limit"), changed);
    let error = redis::cmd("CONFIG").arg("SET").arg("client-output-buffer-limit").arg("normal 1").query::<()>(&mut con);
    let text = error.expect_err("bad limit").to_string();
    assert!(text.contains("Wrong number of arguments in buffer limit configuration."), "{text}");
}

#[test]
fn protected_mode_is_on_by_default_and_loopback_clients_are_served() {
    let server = TestServer::start_with(&["--bind", "127.0.0.1", "--protected-mode", "yes"]);
    let mut con = server.client();
    assert_eq!(config_get(&mut con, "protected-mode"), "yes");
    let () = redis::cmd("CONFIG").arg("SET").arg("protected-mode").arg("no").query(&mut con).expect("set no");
    assert_eq!(config_get(&mut con, "protected-mode"), "no");
    let () = redis::cmd("CONFIG").arg("SET").arg("protected-mode").arg("yes").query(&mut con).expect("set yes");
    let mut fresh = server.client();
    let () = redis::cmd("PING").query(&mut fresh).expect("a loopback client is served in protected mode");
    assert_eq!(info_stat(&mut fresh, "rejected_connections"), 0);
}

#[test]
fn wrong_passwords_and_unknown_users_get_the_same_error_and_are_counted() {
    let server = TestServer::start_with(&["--requirepass", "pw"]);
    let mut stream = connect(&server);
    stream.write_all(b"AUTH wrong\r\nAUTH nobody wrong\r\nAUTH default wrong\r\nAUTH pw\r\n").expect("write");
    let wrongpass = "-WRONGPASS invalid username-password pair or user is disabled.\r\n";
    let expected = format!("{wrongpass}{wrongpass}{wrongpass}+OK\r\n");
    let mut reply = vec![0u8; expected.len()];
    stream.read_exact(&mut reply).expect("replies");
    assert_eq!(String::from_utf8_lossy(&reply), expected);
    let mut con = redis::Client::open(format!("redis://:pw@127.0.0.1:{}/", server.port))
        .expect("client")
        .get_connection()
        .expect("connect");
    assert_eq!(info_stat(&mut con, "acl_access_denied_auth"), 3);
}

#[test]
fn maxclients_and_timeout_set_at_run_time_take_effect() {
    let server = TestServer::start();
    let mut admin = server.client();
    let () = redis::cmd("CONFIG").arg("SET").arg("maxclients").arg("2").query(&mut admin).expect("maxclients");
    let mut idle = connect(&server);
    idle.write_all(b"PING\r\n").expect("write");
    let mut pong = [0u8; 7];
    idle.read_exact(&mut pong).expect("second client is served");
    let mut third = connect(&server);
    let mut reply = Vec::new();
    let _ = third.read_to_end(&mut reply);
    assert_eq!(String::from_utf8_lossy(&reply), "-ERR max number of clients reached\r\n");
    let () = redis::cmd("CONFIG").arg("SET").arg("timeout").arg("1").query(&mut admin).expect("timeout");
    let started = Instant::now();
    while started.elapsed() < Duration::from_millis(2500) {
        let () = redis::cmd("PING").query(&mut admin).expect("an active client stays");
        thread::sleep(Duration::from_millis(200));
    }
    let mut rest = Vec::new();
    assert_eq!(idle.read_to_end(&mut rest).expect("closed by the server"), 0, "the idle client was closed");
}
