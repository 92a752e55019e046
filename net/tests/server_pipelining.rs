//! Pipelining: every whole request of a read is run in one handler batch and its replies go
//! out in order, with one write per read.

mod common;

use common::{TestServer, encode, start};
use nokv_net::server::ServerConfig;

fn server() -> TestServer {
    start(ServerConfig::default(), None)
}

#[test]
fn a_thousand_requests_in_one_write_get_a_thousand_replies_in_order() {
    let server = server();
    let mut client = server.connect();
    let mut pipeline = Vec::new();
    for i in 0..500 {
        pipeline.extend(encode(&["SET", &format!("key:{i}"), &format!("value:{i}")]));
        pipeline.extend(encode(&["GET", &format!("key:{i}")]));
    }
    client.send(&pipeline);
    for i in 0..500 {
        assert_eq!(client.read_reply(), "+OK\r\n");
        let value = format!("value:{i}");
        assert_eq!(client.read_reply(), format!("${}\r\n{value}\r\n", value.len()));
    }
    let batch_sizes = server.batch_sizes.lock().expect("sizes").clone();
    assert_eq!(batch_sizes.iter().sum::<usize>(), 1000);
    assert!(batch_sizes.len() <= 10, "1000 requests arrived in few reads, so few batches: {batch_sizes:?}");
    drop(client);
    let stats = server.stop();
    assert_eq!(stats.commands_processed, 1000);
    assert!(stats.writes_processed <= stats.reads_processed, "one write per read at most: {stats:?}");
    assert!(stats.writes_processed <= 10, "{stats:?}");
    assert_eq!(stats.net_input_bytes, pipeline.len() as u64);
}

#[test]
fn replies_keep_request_order_across_refused_requests_and_inline_ones() {
    let server = server();
    let mut client = server.connect();
    client.send("SET a 1\r\nNOSUCH\r\n*1\r\n$3\r\nGET\r\nGET a\r\nPING\r\n");
    assert_eq!(client.read_reply(), "+OK\r\n");
    assert_eq!(client.read_reply(), "-ERR unknown command 'NOSUCH', with args beginning with: \r\n");
    assert_eq!(client.read_reply(), "-ERR wrong number of arguments for 'get' command\r\n");
    assert_eq!(client.read_reply(), "$1\r\n1\r\n");
    assert_eq!(client.read_reply(), "+PONG\r\n");
}

#[test]
fn a_request_split_across_many_writes_is_answered_once_whole() {
    let server = server();
    let mut client = server.connect();
    let request = encode(&["ECHO", "hello"]);
    for byte in &request {
        client.send([*byte]);
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    assert_eq!(client.read_reply(), "$5\r\nhello\r\n");
}
