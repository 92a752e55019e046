//! Commands whose keys span cores: split per owner core, merged by the response policy.

use std::rc::Rc;

use bytes::Bytes;
use nokv_net::command::CommandSpec;
use nokv_net::frame::Reply;

use crate::core::Core;

/// Runs a multi-key command whose keys live on several cores.
pub async fn execute(core: &Rc<Core>, spec: &'static CommandSpec, args: Vec<Bytes>, positions: &[usize]) -> Reply {
    let _ = (core, positions, args);
    Reply::error(format!("ERR {} across cores is not implemented yet", spec.name))
}
