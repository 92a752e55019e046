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
        // Boxed: rare, and its future would size every keyed command's.
        CoreCall::Fanout(fanout) => Box::pin(cmd::server::fanout_part(&core, fanout)).await,
    }
}

/// The commands that run on the connection's core whatever their arguments.
fn is_connection_command(name: &str) -> bool {
    matches!(name, "ping" | "echo" | "hello" | "auth" | "select" | "quit" | "reset" | "client")
}

fn is_transaction_command(name: &str) -> bool {
    matches!(name, "multi" | "exec" | "discard" | "watch" | "unwatch")
}

/// A request whose keys all belong to one core: it needs nothing of the connection, so the
/// requests of a pipeline that are all such reads, or all such writes to distinct keys, may run
/// side by side (see `handler`).
pub struct KeyedRequest {
    /// The command.
    pub spec: &'static CommandSpec,
    /// Its arguments.
    pub args: Vec<Bytes>,
    /// The core that owns every key.
    pub owner: usize,
    /// The positions of its keys in `args`.
    pub positions: Vec<usize>,
    /// The hash slot of its first key (so that a pipelined GET the row cache answers computes
    /// it once).
    pub first_slot: u16,
}

impl KeyedRequest {
    /// The request's keys.
    pub fn keys(&self) -> impl Iterator<Item = &Bytes> {
        self.positions.iter().map(|&p| &self.args[p])
    }

    /// Runs it on its owner.
    pub async fn execute(self, core: &Rc<Core>) -> Reply {
        core.call_owner(self.owner, self.args).await
    }
}

/// How a request runs: on its own, or as a keyed request of one core.
pub enum Routed {
    /// Runs on its own, with the connection: `positions` are its key positions (empty for
    /// connection, transaction and keyless commands).
    Alone { spec: &'static CommandSpec, args: Vec<Bytes>, positions: Vec<usize> },
    /// Every key belongs to one core.
    Keyed(KeyedRequest),
}

/// Decides how a request runs.
pub fn route(core: &Core, spec: &'static CommandSpec, args: Vec<Bytes>) -> Routed {
    let name = spec.name;
    if is_connection_command(name) || is_transaction_command(name) {
        return Routed::Alone { spec, args, positions: Vec::new() };
    }
    let positions: Vec<usize> = key_positions(spec, &args).collect();
    let Some(&first) = positions.first() else { return Routed::Alone { spec, args, positions } };
    let first_slot = nokv_txn::keys::slot_of(&args[first]);
    let owner = core.map().region_of_slot(first_slot).owner_core;
    if positions[1..].iter().all(|&p| core.map().core_of_key(&args[p]) == owner) {
        return Routed::Keyed(KeyedRequest { spec, args, owner, positions, first_slot });
    }
    Routed::Alone { spec, args, positions }
}

/// Executes a request [`route`] said runs alone.
pub async fn execute_alone(
    core: &Rc<Core>,
    conn: &mut ConnectionState,
    spec: &'static CommandSpec,
    args: Vec<Bytes>,
    positions: &[usize],
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
    if positions.is_empty() {
        return cmd::server::execute(core, conn, &args).await;
    }
    cmd::multi::execute(core, spec, args, positions).await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The size of the future `make` would return (`make` is never called).
    fn future_size<Fut>(_make: impl FnOnce(Rc<Core>) -> Fut) -> usize {
        std::mem::size_of::<Fut>()
    }

    /// Every command run on a core is a boxed `execute_call` future, hundreds in flight per core
    /// under pipelining: at 3.7 KB (the engine read and the fan-out inline) its first writes
    /// missed cache, 3% of SET 16 B -P16's samples. They are boxed where rare now.
    #[test]
    fn a_keyed_command_future_stays_small() {
        let size = future_size(|core| execute_call(core, CoreCall::Command(Vec::new())));
        assert!(size <= 1536, "execute_call's future is {size} bytes");
    }
}
