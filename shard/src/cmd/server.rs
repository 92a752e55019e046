//! Server commands (INFO, CONFIG, DBSIZE, ...), CLIENT, and each core's part of node-wide ones.

use std::rc::Rc;

use bytes::Bytes;
use nokv_net::frame::Reply;
use nokv_net::handler::ConnectionState;

use super::CommandResult;
use crate::call::Fanout;
use crate::core::Core;

/// Runs a keyless server command on the connection's core.
pub async fn execute(core: &Rc<Core>, conn: &mut ConnectionState, args: &[Bytes]) -> Reply {
    let name = super::lowercase_name(args);
    if let Some(result) = super::keyspace::execute(core, &name, args).await {
        return super::into_reply(result);
    }
    let _ = conn;
    Reply::error(format!("ERR unknown command '{name}'"))
}

/// Runs a CLIENT subcommand.
pub async fn client(core: &Rc<Core>, conn: &mut ConnectionState, args: &[Bytes]) -> CommandResult {
    let _ = (core, conn, args);
    Ok(Reply::error("ERR CLIENT is not implemented yet"))
}

/// This core's part of a node-wide operation.
pub async fn fanout_part(core: &Rc<Core>, fanout: Fanout) -> Reply {
    if let Some(reply) = super::keyspace::fanout_part(core, &fanout).await {
        return reply;
    }
    Reply::error("ERR not implemented yet")
}
