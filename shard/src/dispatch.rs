//! Routing of requests: which core runs a command, and how multi-core commands fan out.
//!
//! - Connection and server commands run on the connection's core (`cmd::connection`,
//!   `cmd::server`); node-wide ones fan out to every core from there.
//! - A command whose keys all belong to one core runs there, inline if that is this core,
//!   otherwise through the mesh (`cmd::execute_keyed`).
//! - A command whose keys span cores is split by its response policy (`cmd::multi`).

use std::rc::Rc;

use bytes::Bytes;
use nokv_net::command::{CommandSpec, key_positions};
use nokv_net::frame::Reply;
use nokv_net::handler::ConnectionState;

use crate::call::CoreCall;
use crate::cmd;
use crate::core::Core;

/// Executes a call that arrived for this core (from the mesh or inline).
pub async fn execute_call(core: Rc<Core>, call: CoreCall) -> Reply {
    match call {
        CoreCall::Command(args) => cmd::execute_keyed(&core, args).await,
        CoreCall::Fanout(fanout) => cmd::server::fanout_part(&core, fanout).await,
    }
}

/// The commands that run on the connection's core whatever their arguments.
fn is_connection_command(name: &str) -> bool {
    matches!(name, "ping" | "echo" | "hello" | "auth" | "select" | "quit" | "reset" | "client")
}

fn is_transaction_command(name: &str) -> bool {
    matches!(name, "multi" | "exec" | "discard" | "watch" | "unwatch")
}

/// Executes one request of a connection of this core.
pub async fn execute_request(
    core: &Rc<Core>,
    conn: &mut ConnectionState,
    spec: &'static CommandSpec,
    args: Vec<Bytes>,
) -> Reply {
    let name = spec.name;
    if is_connection_command(name) {
        return cmd::connection::execute(core, conn, &args).await;
    }
    if is_transaction_command(name) {
        return Reply::error(format!(
            "ERR {} is not supported yet: transactions arrive with the transactions issue",
            name.to_uppercase()
        ));
    }
    let positions: Vec<usize> = key_positions(spec, &args).collect();
    if positions.is_empty() {
        return cmd::server::execute(core, conn, &args).await;
    }
    let first_owner = core.map().core_of_key(&args[positions[0]]);
    if positions.iter().all(|&p| core.map().core_of_key(&args[p]) == first_owner) {
        return core.call_owner(first_owner, args).await;
    }
    cmd::multi::execute(core, spec, args, &positions).await
}
