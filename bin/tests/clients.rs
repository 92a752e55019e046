//! CLIENT subcommands over RESP2 and RESP3, with connections spread over both cores: ID,
//! SETNAME, GETNAME, SETINFO, INFO, LIST and KILL.

mod common;

use std::collections::HashMap;

use common::TestServer;
use redis::Value;

/// The `field=value` pairs of one CLIENT LIST/INFO line.
fn parse_line(line: &str) -> HashMap<String, String> {
    line.split(' ')
        .filter_map(|pair| pair.split_once('='))
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect()
}

fn client_list(con: &mut redis::Connection, filter: &[&str]) -> Vec<HashMap<String, String>> {
    let text: String = redis::cmd("CLIENT").arg("LIST").arg(filter).query(con).expect("CLIENT LIST");
    text.lines().map(parse_line).collect()
}

fn client_info(con: &mut redis::Connection) -> HashMap<String, String> {
    let text: String = redis::cmd("CLIENT").arg("INFO").query(con).expect("CLIENT INFO");
    assert!(text.ends_with('\n') && text.lines().count() == 1, "{text:?}");
    parse_line(text.trim_end())
}

fn client_id(con: &mut redis::Connection) -> i64 {
    redis::cmd("CLIENT").arg("ID").query(con).expect("CLIENT ID")
}

fn error_text<T: std::fmt::Debug>(result: redis::RedisResult<T>) -> String {
    result.expect_err("an error reply").to_string()
}

/// Named connections, enough that both cores get some.
fn named_connections(server: &TestServer, count: usize) -> Vec<(redis::Connection, i64)> {
    (0..count)
        .map(|i| {
            let mut con = server.client();
            let _: String =
                redis::cmd("CLIENT").arg("SETNAME").arg(format!("worker-{i}")).query(&mut con).expect("name");
            let id = client_id(&mut con);
            (con, id)
        })
        .collect()
}

#[test]
fn id_setname_getname() {
    let server = TestServer::start();
    let mut con = server.client();
    let id = client_id(&mut con);
    assert!(id > 0);
    assert_ne!(client_id(&mut server.client()), id, "ids are unique");
    let name: Option<String> = redis::cmd("CLIENT").arg("GETNAME").query(&mut con).expect("getname");
    assert_eq!(name, None);
    let ok: String = redis::cmd("CLIENT").arg("SETNAME").arg("alpha").query(&mut con).expect("setname");
    assert_eq!(ok, "OK");
    let name: Option<String> = redis::cmd("CLIENT").arg("GETNAME").query(&mut con).expect("getname");
    assert_eq!(name.as_deref(), Some("alpha"));
    let text = error_text(redis::cmd("CLIENT").arg("SETNAME").arg("a b").query::<String>(&mut con));
    assert!(text.contains("Client names cannot contain spaces"), "{text}");
    let _: String = redis::cmd("CLIENT").arg("SETNAME").arg("").query(&mut con).expect("clear");
    let name: Option<String> = redis::cmd("CLIENT").arg("GETNAME").query(&mut con).expect("getname");
    assert_eq!(name, None);
    let text = error_text(redis::cmd("CLIENT").arg("GETNAME").arg("x").query::<String>(&mut con));
    assert!(text.contains("wrong number of arguments"), "{text}");
}

#[test]
fn setinfo_shows_in_client_info() {
    let server = TestServer::start();
    let mut con = server.client();
    let _: String = redis::cmd("CLIENT").arg(&["SETINFO", "LIB-NAME", "mylib"]).query(&mut con).expect("lib-name");
    let _: String = redis::cmd("CLIENT").arg(&["SETINFO", "lib-ver", "1.2.3"]).query(&mut con).expect("lib-ver");
    let info = client_info(&mut con);
    assert_eq!((info["lib-name"].as_str(), info["lib-ver"].as_str()), ("mylib", "1.2.3"));
    let text = error_text(redis::cmd("CLIENT").arg(&["SETINFO", "foo", "x"]).query::<String>(&mut con));
    assert!(text.contains("Unrecognized option 'foo'"), "{text}");
    let text = error_text(redis::cmd("CLIENT").arg(&["SETINFO", "lib-name", "a b"]).query::<String>(&mut con));
    assert!(text.contains("lib-name cannot contain spaces, newlines or special characters."), "{text}");
}

#[test]
fn info_describes_the_calling_connection() {
    let server = TestServer::start();
    let mut con = server.client();
    let _: String = redis::cmd("CLIENT").arg("SETNAME").arg("me").query(&mut con).expect("setname");
    let id = client_id(&mut con);
    let info = client_info(&mut con);
    assert_eq!(info["id"], id.to_string());
    assert_eq!(info["name"], "me");
    assert_eq!(info["cmd"], "client|info");
    assert_eq!(info["laddr"], format!("127.0.0.1:{}", server.port));
    assert!(info["addr"].starts_with("127.0.0.1:"));
    assert_eq!((info["db"].as_str(), info["resp"].as_str(), info["user"].as_str()), ("0", "2", "default"));
    let mut resp3 = server.client_resp3();
    let reply: Value = redis::cmd("CLIENT").arg("INFO").query(&mut resp3).expect("CLIENT INFO");
    let Value::VerbatimString { text, .. } = reply else { panic!("expected verbatim text, got {reply:?}") };
    assert_eq!(parse_line(text.trim_end())["resp"], "3");
}

#[test]
fn list_shows_every_core_in_id_order() {
    let server = TestServer::start();
    let mut workers = named_connections(&server, 6);
    let mut con = server.client();
    let me = client_id(&mut con);
    let lines = client_list(&mut con, &[]);
    assert_eq!(lines.len(), 7);
    let ids: Vec<i64> = lines.iter().map(|line| line["id"].parse().expect("id")).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "in id order: {ids:?}");
    let names: Vec<&str> = lines.iter().map(|line| line["name"].as_str()).collect();
    for i in 0..6 {
        assert!(names.contains(&format!("worker-{i}").as_str()), "{names:?}");
    }
    let own = lines.iter().find(|line| line["id"] == me.to_string()).expect("own line");
    assert_eq!(own["cmd"], "client|list");
    assert_eq!(own["lib-name"], "redis-rs");
    assert_eq!(client_list(&mut con, &["TYPE", "normal"]).len(), 7);
    assert!(client_list(&mut con, &["TYPE", "pubsub"]).is_empty());
    let (first, last) = (workers[0].1.to_string(), workers[5].1.to_string());
    let chosen = client_list(&mut con, &["ID", &last, "999999", &first]);
    let chosen_ids: Vec<&str> = chosen.iter().map(|line| line["id"].as_str()).collect();
    assert_eq!(chosen_ids, [last.as_str(), first.as_str()], "in the order asked");
    for (args, expected) in [
        (&["TYPE", "foo"][..], "Unknown client type 'foo'"),
        (&["ID", "x"][..], "Invalid client ID"),
        (&["bogus"][..], "syntax error"),
    ] {
        let text = error_text(redis::cmd("CLIENT").arg("LIST").arg(args).query::<String>(&mut con));
        assert!(text.contains(expected), "{args:?}: {text}");
    }
    // A name set on another connection shows up once that connection's batch is done.
    let _: String = redis::cmd("CLIENT").arg("SETNAME").arg("renamed").query(&mut workers[2].0).expect("setname");
    let renamed = client_list(&mut con, &["ID", &workers[2].1.to_string()]);
    assert_eq!(renamed[0]["name"], "renamed");
    let mut resp3 = server.client_resp3();
    let reply: Value = redis::cmd("CLIENT").arg("LIST").query(&mut resp3).expect("list");
    assert!(matches!(reply, Value::VerbatimString { .. }), "{reply:?}");
}

#[test]
fn kill_by_id_and_address_across_cores() {
    let server = TestServer::start();
    let mut workers = named_connections(&server, 6);
    let mut con = server.client();
    for (worker, id) in workers.iter_mut().take(3) {
        let killed: i64 =
            redis::cmd("CLIENT").arg(&["KILL", "ID", &id.to_string()]).query(&mut con).expect("kill by id");
        assert_eq!(killed, 1);
        assert!(redis::cmd("PING").query::<String>(worker).is_err(), "client {id} was killed");
    }
    let addr = client_info(&mut workers[3].0)["addr"].clone();
    let ok: String = redis::cmd("CLIENT").arg(&["KILL", &addr]).query(&mut con).expect("old-style kill");
    assert_eq!(ok, "OK");
    assert!(redis::cmd("PING").query::<String>(&mut workers[3].0).is_err());
    let text = error_text(redis::cmd("CLIENT").arg(&["KILL", &addr]).query::<String>(&mut con));
    assert!(text.contains("No such client"), "{text}");
    let addr = client_info(&mut workers[4].0)["addr"].clone();
    let killed: i64 =
        redis::cmd("CLIENT").arg(&["KILL", "ADDR", &addr, "TYPE", "normal"]).query(&mut con).expect("kill");
    assert_eq!(killed, 1);
    let nobody: i64 = redis::cmd("CLIENT").arg(&["KILL", "ID", "999999"]).query(&mut con).expect("kill");
    assert_eq!(nobody, 0);
    let pubsub: i64 = redis::cmd("CLIENT").arg(&["KILL", "TYPE", "pubsub"]).query(&mut con).expect("kill");
    assert_eq!(pubsub, 0);
    let started = std::time::Instant::now();
    while client_list(&mut con, &[]).len() != 2 {
        assert!(started.elapsed().as_secs() < 10, "the caller and worker 5 remain: {:?}", client_list(&mut con, &[]));
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    for (args, expected) in [
        (&["KILL", "ID", "x"][..], "client-id should be greater than 0"),
        (&["KILL", "TYPE", "foo"][..], "Unknown client type 'foo'"),
        (&["KILL", "USER", "bob"][..], "No such user 'bob'"),
        (&["KILL", "SKIPME", "maybe"][..], "syntax error"),
        (&["KILL", "foo", "bar"][..], "syntax error"),
    ] {
        let text = error_text(redis::cmd("CLIENT").arg(args).query::<i64>(&mut con));
        assert!(text.contains(expected), "{args:?}: {text}");
    }
}

#[test]
fn kill_spares_the_caller_unless_told_otherwise() {
    let server = TestServer::start();
    let mut others = named_connections(&server, 3);
    let mut con = server.client();
    let me = client_id(&mut con).to_string();
    let spared: i64 = redis::cmd("CLIENT").arg(&["KILL", "ID", &me]).query(&mut con).expect("skipme yes");
    assert_eq!(spared, 0);
    let laddr = format!("127.0.0.1:{}", server.port);
    let everyone_else: i64 =
        redis::cmd("CLIENT").arg(&["KILL", "LADDR", &laddr, "USER", "default"]).query(&mut con).expect("kill");
    assert_eq!(everyone_else, 3);
    for (other, _) in &mut others {
        assert!(redis::cmd("PING").query::<String>(other).is_err());
    }
    let myself: i64 =
        redis::cmd("CLIENT").arg(&["KILL", "ID", &me, "SKIPME", "no"]).query(&mut con).expect("reply first");
    assert_eq!(myself, 1, "the reply is written before the connection closes");
    assert!(redis::cmd("PING").query::<String>(&mut con).is_err());
}

#[test]
fn pipelined_client_commands() {
    let server = TestServer::start();
    let mut con = server.client();
    let (ok, name, id, list): (String, String, i64, String) = redis::pipe()
        .cmd("CLIENT")
        .arg(&["SETNAME", "piped"])
        .cmd("CLIENT")
        .arg("GETNAME")
        .cmd("CLIENT")
        .arg("ID")
        .cmd("CLIENT")
        .arg("LIST")
        .query(&mut con)
        .expect("pipeline");
    assert_eq!((ok.as_str(), name.as_str()), ("OK", "piped"));
    let own = list.lines().map(parse_line).find(|line| line["id"] == id.to_string()).expect("own line");
    assert_eq!(own["name"], "piped");
}
