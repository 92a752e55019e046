//! Connection commands over RESP2 and RESP3: PING, ECHO, HELLO, AUTH, SELECT, RESET.

mod common;

use common::TestServer;
use redis::Value;

#[test]
fn ping_echo_select() {
    let server = TestServer::start();
    let mut con = server.client();
    let pong: String = redis::cmd("PING").query(&mut con).expect("ping");
    assert_eq!(pong, "PONG");
    let echo: String = redis::cmd("PING").arg("hi").query(&mut con).expect("ping msg");
    assert_eq!(echo, "hi");
    let echo: Vec<u8> = redis::cmd("ECHO").arg(&b"a\r\nb\x00"[..]).query(&mut con).expect("echo");
    assert_eq!(echo, b"a\r\nb\x00");
    let ok: String = redis::cmd("SELECT").arg(0).query(&mut con).expect("select 0");
    assert_eq!(ok, "OK");
    let error = redis::cmd("SELECT").arg(1).query::<String>(&mut con).expect_err("select 1");
    assert!(error.to_string().contains("DB index is out of range"), "{error}");
    let error = redis::cmd("SELECT").arg("x").query::<String>(&mut con).expect_err("select x");
    assert!(error.to_string().contains("not an integer"), "{error}");
}

#[test]
fn hello_switches_protocol() {
    let server = TestServer::start();
    let mut con = server.client();
    let reply: Value = redis::cmd("HELLO").arg(3).query(&mut con).expect("hello 3");
    let Value::Map(fields) = reply else { panic!("HELLO 3 must reply a map, got {reply:?}") };
    assert!(fields.iter().any(|(k, v)| *k == Value::BulkString(b"proto".to_vec()) && *v == Value::Int(3)));
    let error = redis::cmd("HELLO").arg(4).query::<Value>(&mut con).expect_err("hello 4");
    assert!(error.to_string().contains("NOPROTO"), "{error}");
    let reply: Value = redis::cmd("HELLO").arg(2).query(&mut con).expect("hello 2");
    assert!(matches!(reply, Value::Array(_)), "RESP2 HELLO must be a flat array, got {reply:?}");
}

#[test]
fn auth_with_requirepass() {
    let server = TestServer::start_with(&["--requirepass", "s3cret"]);
    let mut con = server.client();
    let error = redis::cmd("GET").arg("k").query::<Option<String>>(&mut con).expect_err("noauth");
    assert!(error.to_string().contains("NOAUTH"), "{error}");
    let error = redis::cmd("AUTH").arg("wrong").query::<String>(&mut con).expect_err("wrongpass");
    assert!(error.to_string().contains("WRONGPASS"), "{error}");
    let ok: String = redis::cmd("AUTH").arg("s3cret").query(&mut con).expect("auth");
    assert_eq!(ok, "OK");
    let value: Option<String> = redis::cmd("GET").arg("k").query(&mut con).expect("get after auth");
    assert_eq!(value, None);
    let reset: String = redis::cmd("RESET").query(&mut con).expect("reset");
    assert_eq!(reset, "RESET");
    let error = redis::cmd("GET").arg("k").query::<Option<String>>(&mut con).expect_err("noauth after reset");
    assert!(error.to_string().contains("NOAUTH"), "{error}");
}

#[test]
fn auth_without_password_configured() {
    let server = TestServer::start();
    let mut con = server.client();
    let error = redis::cmd("AUTH").arg("x").query::<String>(&mut con).expect_err("no password set");
    assert!(error.to_string().contains("without any password configured"), "{error}");
}
