//! Durability through the binary: every acknowledged write (with `appendfsync always`) is there
//! after SIGKILL and a restart on the same directory, with its TTL; and a clean SIGTERM
//! shutdown exits 0 and keeps everything too.

mod common;

use common::TestServer;

fn value_of(index: usize) -> Vec<u8> {
    let len = if index.is_multiple_of(10) { 6000 } else { 20 + index % 50 };
    (0..len).map(|i| (index * 31 + i) as u8).collect()
}

#[test]
fn acknowledged_writes_survive_sigkill_with_their_ttl() {
    let mut server = TestServer::start();
    let mut con = server.client();
    for index in 0..300 {
        let key = format!("key:{index}");
        let mut cmd = redis::cmd("SET");
        cmd.arg(&key).arg(value_of(index));
        if index.is_multiple_of(3) {
            cmd.arg("PX").arg(3_600_000);
        }
        let _: () = cmd.query(&mut con).expect("set");
    }
    let _: () = redis::cmd("DEL").arg("key:1").query(&mut con).expect("del");
    drop(con);
    server.kill9();
    server.restart();
    let mut con = server.client();
    for index in 0..300 {
        let key = format!("key:{index}");
        let value: Option<Vec<u8>> = redis::cmd("GET").arg(&key).query(&mut con).expect("get");
        if index == 1 {
            assert_eq!(value, None, "a deleted key came back");
            continue;
        }
        assert_eq!(value.as_deref(), Some(value_of(index).as_slice()), "{key} lost or wrong after SIGKILL");
        let ttl_ms: i64 = redis::cmd("PTTL").arg(&key).query(&mut con).expect("pttl");
        if index.is_multiple_of(3) {
            assert!(ttl_ms > 3_000_000 && ttl_ms <= 3_600_000, "{key} lost its TTL: {ttl_ms}");
        } else {
            assert_eq!(ttl_ms, -1, "{key} gained a TTL");
        }
    }
}

#[test]
fn sigterm_shuts_down_cleanly_and_keeps_data() {
    let mut server = TestServer::start();
    let mut con = server.client();
    for index in 0..50 {
        let _: () = redis::cmd("SET").arg(format!("k{index}")).arg(index).query(&mut con).expect("set");
    }
    drop(con);
    let status = server.terminate();
    assert!(status.success(), "nokv exited with {status} on SIGTERM: {}", server.log());
    server.restart();
    let mut con = server.client();
    for index in 0..50 {
        let value: Option<i64> = redis::cmd("GET").arg(format!("k{index}")).query(&mut con).expect("get");
        assert_eq!(value, Some(index));
    }
}
