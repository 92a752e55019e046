//! String commands.

use std::rc::Rc;

use bytes::Bytes;
use nokv_net::frame::Reply;
use nokv_txn::mvcc::Mutation;

use super::{CommandResult, wrong_type};
use crate::core::Core;
use crate::value::{StoredValue, ValueType};

/// Runs a string command, or `None` if `name` is not one.
pub async fn execute(core: &Rc<Core>, name: &str, args: &[Bytes]) -> Option<CommandResult> {
    Some(match name {
        "get" => get(core, args).await,
        "set" => set(core, args).await,
        _ => return None,
    })
}

async fn get(core: &Rc<Core>, args: &[Bytes]) -> CommandResult {
    match core.store.read(&args[1]).await? {
        Some(value) if value.value_type == ValueType::String => Ok(Reply::Bulk(value.payload)),
        Some(_) => Err(wrong_type()),
        None => Ok(Reply::Null),
    }
}

async fn set(core: &Rc<Core>, args: &[Bytes]) -> CommandResult {
    let key = args[1].clone();
    let _latch = core.store.lock(std::slice::from_ref(&key)).await;
    let value = StoredValue::string(args[2].clone());
    core.store.write(vec![Mutation::Put(key, value.encode())]).await?;
    Ok(Reply::ok())
}
