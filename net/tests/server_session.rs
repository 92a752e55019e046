//! What a client sees of the connection itself: inline commands, Redis's error texts for
//! refused requests, NOAUTH, QUIT, RESP3 after HELLO 3.

mod common;

use common::start;
use nokv_net::server::ServerConfig;

#[test]
fn inline_commands_work_with_quoting() {
    let server = start(ServerConfig::default(), None);
    let mut client = server.connect();
    client.send("PING\r\n");
    assert_eq!(client.read_reply(), "+PONG\r\n");
    client.send("SET greeting \"hello world\"\r\nGET greeting\n");
    assert_eq!(client.read_reply(), "+OK\r\n");
    assert_eq!(client.read_reply(), "$11\r\nhello world\r\n");
}

#[test]
fn unknown_commands_and_wrong_arity_get_redis_texts() {
    let server = start(ServerConfig::default(), None);
    let mut client = server.connect();
    assert_eq!(
        client.call(&["FOOBAR", "a", "b"]),
        "-ERR unknown command 'FOOBAR', with args beginning with: 'a' 'b' \r\n"
    );
    assert_eq!(client.call(&["GET"]), "-ERR wrong number of arguments for 'get' command\r\n");
    assert_eq!(client.call(&["CLIENT", "SETNAME"]), "-ERR wrong number of arguments for 'client|setname' command\r\n");
    assert_eq!(client.call(&["CLIENT", "BOGUS"]), "-ERR unknown subcommand 'BOGUS'. Try CLIENT HELP.\r\n");
    assert_eq!(client.call(&["PING"]), "+PONG\r\n", "refused requests leave the connection open");
}

#[test]
fn without_auth_only_auth_hello_and_quit_run() {
    let server = start(ServerConfig::default(), Some("secret"));
    let mut client = server.connect();
    assert_eq!(client.call(&["GET", "k"]), "-NOAUTH Authentication required.\r\n");
    assert_eq!(client.call(&["PING"]), "-NOAUTH Authentication required.\r\n");
    assert_eq!(client.call(&["AUTH", "wrong"]), "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
    // AUTH and the request after it in the same write: the second runs authenticated.
    client.send("AUTH secret\r\nGET k\r\n");
    assert_eq!(client.read_reply(), "+OK\r\n");
    assert_eq!(client.read_reply(), "$-1\r\n");

    let mut other = server.connect();
    assert_eq!(other.call(&["HELLO", "3", "AUTH", "default", "secret"]).get(..2), Some("%3"));
    assert_eq!(other.call(&["GET", "k"]), "_\r\n");
}

#[test]
fn before_auth_large_requests_are_a_protocol_error() {
    let server = start(ServerConfig::default(), Some("secret"));
    let mut client = server.connect();
    let args: Vec<&str> = std::iter::once("DEL").chain(std::iter::repeat_n("k", 11)).collect();
    client.send_command(&args);
    assert_eq!(client.read_reply(), "-ERR Protocol error: unauthenticated multibulk length\r\n");
    assert!(client.is_closed_by_server());
}

#[test]
fn quit_replies_ok_and_closes_without_running_what_follows() {
    let server = start(ServerConfig::default(), None);
    let mut client = server.connect();
    client.send("QUIT\r\nSET after quit\r\n");
    assert_eq!(client.read_reply(), "+OK\r\n");
    assert!(client.is_closed_by_server());
    assert_eq!(server.connect().call(&["GET", "after"]), "$-1\r\n");
}

#[test]
fn hello_3_switches_the_connection_to_resp3_and_hello_2_back() {
    let server = start(ServerConfig::default(), None);
    let mut client = server.connect();
    assert_eq!(client.call(&["GET", "missing"]), "$-1\r\n");
    let hello = client.call(&["HELLO", "3"]);
    assert!(hello.starts_with("%3\r\n$6\r\nserver\r\n$5\r\nredis\r\n$5\r\nproto\r\n:3\r\n"), "{hello:?}");
    assert_eq!(client.call(&["GET", "missing"]), "_\r\n");
    assert!(client.call(&["HELLO", "2"]).starts_with("*6\r\n"));
    assert_eq!(client.call(&["GET", "missing"]), "$-1\r\n");
}

#[test]
fn an_http_request_is_dropped_without_a_reply() {
    let server = start(ServerConfig::default(), None);
    let mut client = server.connect();
    client.send("POST / HTTP/1.1\r\nHost: localhost\r\n\r\n");
    assert!(client.is_closed_by_server());
}
