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
    let _ = (core, conn);
    Reply::error(format!("ERR unknown command '{}'", super::lowercase_name(args)))
}

/// Runs a CLIENT subcommand.
pub async fn client(core: &Rc<Core>, conn: &mut ConnectionState, args: &[Bytes]) -> CommandResult {
    let _ = (core, conn, args);
    Ok(Reply::error("ERR CLIENT is not implemented yet"))
}

/// This core's part of a node-wide operation.
pub async fn fanout_part(core: &Rc<Core>, fanout: Fanout) -> Reply {
    let _ = (core, fanout);
    Reply::error("ERR not implemented yet")
}
