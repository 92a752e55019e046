//! The client registry behind CLIENT LIST, CLIENT INFO and CLIENT KILL, and graceful shutdown.

mod common;

use std::time::{Duration, Instant};

use common::start;
use nokv_net::server::ServerConfig;

fn bulk_text(reply: &str) -> &str {
    let start = reply.find("\r\n").expect("bulk header") + 2;
    &reply[start..reply.len() - 2]
}

fn field<'a>(line: &'a str, name: &str) -> &'a str {
    line.split(' ')
        .find_map(|pair| pair.strip_prefix(name).and_then(|rest| rest.strip_prefix('=')))
        .unwrap_or_else(|| panic!("no {name}= in {line:?}"))
}

#[test]
fn client_list_shows_every_connection_in_redis_format() {
    let server = start(ServerConfig::default(), None);
    let mut named = server.connect();
    assert_eq!(named.call(&["CLIENT", "SETNAME", "worker-1"]), "+OK\r\n");
    let mut lister = server.connect();
    let list = lister.call(&["CLIENT", "LIST"]);
    let lines: Vec<&str> = bulk_text(&list).lines().collect();
    assert_eq!(lines.len(), 2, "{list:?}");
    assert_eq!(field(lines[0], "name"), "worker-1");
    assert_eq!(field(lines[0], "cmd"), "client|setname");
    assert_eq!(field(lines[1], "cmd"), "client|list");
    assert_eq!(field(lines[1], "addr"), lister.stream.local_addr().expect("addr").to_string());
    assert_eq!(field(lines[1], "laddr"), server.addr.to_string());
    let keys: Vec<&str> = lines[1].split(' ').map(|pair| pair.split('=').next().expect("key")).collect();
    assert_eq!(
        keys,
        [
            "id",
            "addr",
            "laddr",
            "fd",
            "name",
            "age",
            "idle",
            "flags",
            "db",
            "sub",
            "psub",
            "ssub",
            "multi",
            "qbuf",
            "qbuf-free",
            "argv-mem",
            "multi-mem",
            "rbs",
            "rbp",
            "obl",
            "oll",
            "omem",
            "tot-mem",
            "events",
            "cmd",
            "user",
            "redir",
            "resp",
            "lib-name",
            "lib-ver"
        ]
    );
    let info = lister.call(&["CLIENT", "INFO"]);
    assert_eq!(field(bulk_text(&info), "id"), field(lines[1], "id"));
    assert_eq!(field(bulk_text(&info), "flags"), "N");
}

#[test]
fn client_kill_by_id_closes_the_other_connection() {
    let server = start(ServerConfig::default(), None);
    let mut victim = server.connect();
    let victim_id = victim.call(&["CLIENT", "ID"]);
    let victim_id = victim_id.trim_start_matches(':').trim_end();
    let mut killer = server.connect();
    assert_eq!(killer.call(&["CLIENT", "KILL", "ID", victim_id]), ":1\r\n");
    assert!(victim.is_closed_by_server());
    assert_eq!(killer.call(&["CLIENT", "KILL", "ID", victim_id]), ":0\r\n");
    let own_addr = killer.stream.local_addr().expect("addr").to_string();
    assert_eq!(killer.call(&["CLIENT", "KILL", &own_addr]), "+OK\r\n", "the old form may kill the caller");
    assert!(killer.is_closed_by_server());
}

#[test]
fn shutdown_finishes_the_batch_in_flight_then_closes() {
    let server = start(ServerConfig::default(), None);
    let mut busy = server.connect();
    let mut idle = server.connect();
    assert_eq!(idle.call(&["PING"]), "+PONG\r\n");
    busy.send_command(&["ECHO", "sleep:300"]);
    std::thread::sleep(Duration::from_millis(50));
    let started = Instant::now();
    server.request_stop();
    assert_eq!(busy.read_reply(), "$9\r\nsleep:300\r\n");
    assert!(busy.is_closed_by_server());
    assert!(idle.is_closed_by_server());
    let stats = server.stop();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(stats.connections_received, 2);
    assert_eq!(stats.connected_clients, 0);
}

#[test]
fn shutdown_cuts_off_a_client_that_never_reads_after_the_grace_period() {
    let server = start(ServerConfig { shutdown_grace_ms: 200, ..ServerConfig::default() }, None);
    let mut hog = server.connect();
    let value = "v".repeat(1024 * 1024);
    assert_eq!(hog.call(&["SET", "big", &value]), "+OK\r\n");
    // 64 MiB of replies the client never reads: the server's write blocks.
    let pipeline: Vec<u8> = (0..64).flat_map(|_| common::encode(&["GET", "big"])).collect();
    hog.send(&pipeline);
    std::thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    let stats = server.stop();
    assert!(started.elapsed() < Duration::from_secs(3), "shutdown waited {:?}", started.elapsed());
    assert_eq!(stats.connected_clients, 0);
}
