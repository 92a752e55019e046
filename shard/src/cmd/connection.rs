//! Connection commands: PING, ECHO, HELLO, AUTH, SELECT, RESET and CLIENT. They run on the
//! connection's core and change the connection's session state.

use std::rc::Rc;

use bytes::Bytes;
use nokv_net::errors;
use nokv_net::frame::{Protocol, Reply};
use nokv_net::handler::ConnectionState;

use super::{CommandError, CommandResult, into_reply, is_word, parse_i64, syntax_error};
use crate::core::Core;

/// The Redis version NoKV reports (the command semantics it follows).
pub const REDIS_VERSION: &str = "7.0.15";

/// Runs a connection command.
pub async fn execute(core: &Rc<Core>, conn: &mut ConnectionState, args: &[Bytes]) -> Reply {
    let name = super::lowercase_name(args);
    let result = match name.as_str() {
        "ping" => ping(args),
        "echo" => Ok(Reply::Bulk(args[1].clone())),
        "hello" => hello(core, conn, args),
        "auth" => auth(core, conn, args),
        "select" => select(args),
        "reset" => Ok(reset(core, conn)),
        "client" => super::server::client(core, conn, args).await,
        _ => Ok(Reply::error(format!("ERR unknown command '{name}'"))),
    };
    into_reply(result)
}

fn ping(args: &[Bytes]) -> CommandResult {
    match args.len() {
        1 => Ok(Reply::simple("PONG")),
        2 => Ok(Reply::Bulk(args[1].clone())),
        _ => Err(CommandError::Reply(errors::wrong_number_of_arguments("ping"))),
    }
}

fn select(args: &[Bytes]) -> CommandResult {
    match parse_i64(&args[1])? {
        0 => Ok(Reply::ok()),
        _ => Ok(Reply::error("ERR DB index is out of range (NoKV has only database 0)")),
    }
}

/// Checks a password for `user` against `requirepass` (the only user is `default`).
fn check_password(core: &Core, user: &[u8], password: &[u8]) -> Result<(), CommandError> {
    let required = core.node.config.requirepass();
    let matches = user == b"default" && (required.is_empty() || required.as_bytes() == password);
    if matches { Ok(()) } else { Err(CommandError::Reply(Reply::error_static(errors::WRONGPASS))) }
}

fn auth(core: &Core, conn: &mut ConnectionState, args: &[Bytes]) -> CommandResult {
    let (user, password) = match args.len() {
        2 => (&b"default"[..], &args[1]),
        3 => (&args[1][..], &args[2]),
        _ => return Err(syntax_error()),
    };
    if args.len() == 2 && !core.node.config.requires_auth() {
        return Err(CommandError::Reply(Reply::error_static(errors::AUTH_WITHOUT_PASSWORD)));
    }
    if let Err(error) = check_password(core, user, password) {
        core.auth_failures.set(core.auth_failures.get() + 1);
        return Err(error);
    }
    conn.authenticated = true;
    Ok(Reply::ok())
}

fn hello(core: &Core, conn: &mut ConnectionState, args: &[Bytes]) -> CommandResult {
    let mut protocol = conn.protocol;
    let mut index = 1;
    if let Some(version) = args.get(1) {
        protocol = match nokv_net::number::parse_i64(version) {
            Some(2) => Protocol::Resp2,
            Some(3) => Protocol::Resp3,
            Some(_) => return Err(CommandError::Reply(Reply::error_static(errors::NOPROTO))),
            None => return Err(CommandError::Reply(Reply::error_static(errors::PROTOCOL_VERSION_NOT_INTEGER))),
        };
        index = 2;
    }
    let mut name = None;
    let mut authenticated = conn.authenticated || !core.node.config.requires_auth();
    while index < args.len() {
        let remaining = args.len() - index - 1;
        if is_word(&args[index], "auth") && remaining >= 2 {
            if let Err(error) = check_password(core, &args[index + 1], &args[index + 2]) {
                core.auth_failures.set(core.auth_failures.get() + 1);
                return Err(error);
            }
            authenticated = true;
            index += 3;
        } else if is_word(&args[index], "setname") && remaining >= 1 {
            name = Some(validate_client_name(&args[index + 1])?);
            index += 2;
        } else {
            return Err(CommandError::Reply(Reply::error(format!(
                "ERR Syntax error in HELLO option '{}'",
                String::from_utf8_lossy(&args[index])
            ))));
        }
    }
    if !authenticated {
        return Err(CommandError::Reply(Reply::error(
            "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time",
        )));
    }
    conn.authenticated = authenticated;
    conn.protocol = protocol;
    if let Some(name) = name {
        conn.name = name;
    }
    Ok(hello_reply(conn, protocol))
}

fn hello_reply(conn: &ConnectionState, protocol: Protocol) -> Reply {
    let field = |key: &'static str, value: Reply| (Reply::bulk_static(key), value);
    Reply::Map(vec![
        field("server", Reply::bulk_static("redis")),
        field("version", Reply::bulk_static(REDIS_VERSION)),
        field("proto", Reply::Integer(if protocol == Protocol::Resp3 { 3 } else { 2 })),
        field("id", Reply::Integer(conn.id as i64)),
        field("mode", Reply::bulk_static("standalone")),
        field("role", Reply::bulk_static("master")),
        field("modules", Reply::Array(Vec::new())),
    ])
}

fn reset(core: &Core, conn: &mut ConnectionState) -> Reply {
    conn.protocol = Protocol::Resp2;
    conn.name = None;
    conn.db = 0;
    conn.multi = None;
    conn.authenticated = !core.node.config.requires_auth();
    Reply::simple("RESET")
}

/// Checks a client name: no spaces, newlines or other characters outside `!`..`~`. An empty
/// name clears it.
pub fn validate_client_name(name: &Bytes) -> Result<Option<Bytes>, CommandError> {
    if name.iter().any(|&byte| !(b'!'..=b'~').contains(&byte)) {
        return Err(CommandError::Reply(Reply::error_static(errors::CLIENT_NAME_INVALID)));
    }
    Ok((!name.is_empty()).then(|| name.clone()))
}
