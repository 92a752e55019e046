//! Node-wide keyspace commands: SCAN, KEYS, RANDOMKEY, DBSIZE, FLUSHDB/FLUSHALL, and each
//! core's part of them.

use std::rc::Rc;

use bytes::Bytes;
use nokv_net::frame::Reply;

use super::CommandResult;
use crate::call::Fanout;
use crate::core::Core;

/// Runs a keyspace command on the connection's core, or `None` if `name` is not one.
pub async fn execute(core: &Rc<Core>, name: &str, args: &[Bytes]) -> Option<CommandResult> {
    let _ = (core, args);
    match name {
        "scan" | "keys" | "randomkey" | "dbsize" | "flushdb" | "flushall" => {
            Some(Ok(Reply::error(format!("ERR {name} is not implemented yet"))))
        }
        _ => None,
    }
}

/// This core's part of a keyspace fan-out, or `None` if `fanout` is not a keyspace one.
pub async fn fanout_part(core: &Rc<Core>, fanout: &Fanout) -> Option<Reply> {
    let _ = core;
    match fanout {
        Fanout::DbSize | Fanout::Keys(_) | Fanout::Flush | Fanout::Scan { .. } | Fanout::RandomKey => {
            Some(Reply::error("ERR not implemented yet"))
        }
        _ => None,
    }
}
