//! Commands whose keys span cores: split per owner core, merged by the response policy.
//!
//! Each core gets the same command with its subset of the keys (`Core::call_owner`), all cores
//! at once; the replies merge by position (MGET), into one OK (MSET) or into a sum (DEL, UNLINK,
//! EXISTS, TOUCH). RENAME, RENAMENX and COPY move one record between two cores with the internal
//! record commands of `cmd::keys`.
//!
//! Atomicity: each core's part is atomic on that core (under its latches), but the parts are
//! independent until cross-core 2PC exists. A concurrent reader may see some cores' part of an
//! MSET or DEL and not the others', and a crash may leave only some parts applied. MSETNX and
//! cross-core RENAME/COPY have further races, documented on their functions.

use std::rc::Rc;

use bytes::Bytes;
use nokv_net::command::CommandSpec;
use nokv_net::errors;
use nokv_net::frame::Reply;

use super::keys::{RECORD_DELETE_IF, RECORD_GET, RECORD_PUT, parse_copy_options};
use super::{CommandError, CommandResult, into_reply};
use crate::core::Core;
use crate::store::join_all;

/// Runs a multi-key command whose keys live on several cores.
pub async fn execute(core: &Rc<Core>, spec: &'static CommandSpec, args: Vec<Bytes>, positions: &[usize]) -> Reply {
    let result = match spec.name {
        "mget" => mget(core, &args, positions).await,
        "mset" => mset(core, &args, positions).await,
        "msetnx" => msetnx(core, &args, positions).await,
        "del" | "unlink" | "exists" | "touch" => sum(core, &args, positions).await,
        "rename" => rename(core, &args, false).await,
        "renamenx" => rename(core, &args, true).await,
        "copy" => copy(core, &args).await,
        name => Err(CommandError::Reply(Reply::error(format!(
            "ERR '{name}' with keys owned by different cores is not supported yet (use a {{hash tag}})"
        )))),
    };
    into_reply(result)
}

/// One core's share of a split command: the core and the argument positions it gets.
struct CoreShare {
    core: usize,
    positions: Vec<usize>,
}

/// Groups key positions by owner core, cores in order of first appearance, positions in order.
fn split_by_core(core: &Core, args: &[Bytes], positions: &[usize]) -> Vec<CoreShare> {
    let mut shares: Vec<CoreShare> = Vec::new();
    for &position in positions {
        let owner = core.map().core_of_key(&args[position]);
        match shares.iter_mut().find(|share| share.core == owner) {
            Some(share) => share.positions.push(position),
            None => shares.push(CoreShare { core: owner, positions: vec![position] }),
        }
    }
    shares
}

/// Sends each share the command `name` with the arguments at its positions (and the
/// `values_per_key` arguments after each), all cores concurrently; replies in share order.
async fn call_shares(
    core: &Rc<Core>,
    name: &Bytes,
    args: &[Bytes],
    shares: &[CoreShare],
    values_per_key: usize,
) -> Vec<Reply> {
    let calls: Vec<_> = shares
        .iter()
        .map(|share| {
            let mut sub_args = vec![name.clone()];
            for &position in &share.positions {
                sub_args.extend_from_slice(&args[position..=position + values_per_key]);
            }
            core.call_owner(share.core, sub_args)
        })
        .collect();
    join_all(calls).await
}

fn first_error(replies: &[Reply]) -> Result<(), CommandError> {
    match replies.iter().find(|reply| reply.is_error()) {
        Some(error) => Err(CommandError::Reply(error.clone())),
        None => Ok(()),
    }
}

fn unexpected(reply: &Reply) -> CommandError {
    CommandError::Reply(Reply::error(format!("ERR unexpected reply from a core: {reply:?}")))
}

/// MGET: each core reads its keys; values are put back at their keys' positions.
async fn mget(core: &Rc<Core>, args: &[Bytes], positions: &[usize]) -> CommandResult {
    let shares = split_by_core(core, args, positions);
    let replies = call_shares(core, &args[0], args, &shares, 0).await;
    first_error(&replies)?;
    let mut values = vec![Reply::Null; args.len() - 1];
    for (share, reply) in shares.iter().zip(replies) {
        let Reply::Array(share_values) = reply else { return Err(unexpected(&reply)) };
        if share_values.len() != share.positions.len() {
            return Err(unexpected(&Reply::Array(share_values)));
        }
        for (&position, value) in share.positions.iter().zip(share_values) {
            values[position - 1] = value;
        }
    }
    Ok(Reply::Array(values))
}

/// MSET and MSETNX take key/value pairs: an odd number of arguments after the name is an arity
/// error (the command table cannot express it).
fn check_pairs(args: &[Bytes], name: &str) -> Result<(), CommandError> {
    if args.len() % 2 == 1 {
        return Ok(());
    }
    Err(CommandError::Reply(errors::wrong_number_of_arguments(name)))
}

/// MSET: each core sets its pairs; OK once every core did.
async fn mset(core: &Rc<Core>, args: &[Bytes], positions: &[usize]) -> CommandResult {
    check_pairs(args, "mset")?;
    let shares = split_by_core(core, args, positions);
    let replies = call_shares(core, &args[0], args, &shares, 1).await;
    first_error(&replies)?;
    Ok(Reply::ok())
}

/// MSETNX across cores: first asks every core whether any key exists (EXISTS), then, if none
/// does, runs MSETNX on every core for its pairs.
///
/// Not atomic across cores until 2PC. What can race: a key created by another client between
/// the check and the set makes that core's MSETNX set nothing while the other cores set their
/// pairs, so the reply is 0 with part of the pairs written; and a reader may see some cores'
/// pairs before the others'. Each core's MSETNX re-checks its own keys under their latches, so
/// no existing key is ever overwritten.
async fn msetnx(core: &Rc<Core>, args: &[Bytes], positions: &[usize]) -> CommandResult {
    check_pairs(args, "msetnx")?;
    let shares = split_by_core(core, args, positions);
    let exists = call_shares(core, &Bytes::from_static(b"EXISTS"), args, &shares, 0).await;
    first_error(&exists)?;
    if exists.iter().any(|reply| !matches!(reply, Reply::Integer(0))) {
        return Ok(Reply::Integer(0));
    }
    let replies = call_shares(core, &args[0], args, &shares, 1).await;
    first_error(&replies)?;
    Ok(Reply::Integer(i64::from(replies.iter().all(|reply| matches!(reply, Reply::Integer(1))))))
}

/// DEL, UNLINK, EXISTS, TOUCH: the sum of the cores' counts (a key named twice goes to one core
/// twice, which counts it as the command does).
async fn sum(core: &Rc<Core>, args: &[Bytes], positions: &[usize]) -> CommandResult {
    let shares = split_by_core(core, args, positions);
    let replies = call_shares(core, &args[0], args, &shares, 0).await;
    first_error(&replies)?;
    let mut total = 0;
    for reply in &replies {
        let Reply::Integer(count) = reply else { return Err(unexpected(reply)) };
        total += count;
    }
    Ok(Reply::Integer(total))
}

/// The encoded record of `key` on its owner core, or `None` if it has no live value.
async fn read_record(core: &Rc<Core>, key: &Bytes) -> Result<Option<Bytes>, CommandError> {
    let owner = core.map().core_of_key(key);
    match core.call_owner(owner, vec![Bytes::from_static(RECORD_GET.as_bytes()), key.clone()]).await {
        Reply::Bulk(record) => Ok(Some(record)),
        Reply::Null => Ok(None),
        other => Err(CommandError::Reply(other)),
    }
}

/// Writes `record` to `key` on its owner core; false when `only_if_absent` found the key.
async fn write_record(
    core: &Rc<Core>,
    key: &Bytes,
    record: &Bytes,
    only_if_absent: bool,
) -> Result<bool, CommandError> {
    let owner = core.map().core_of_key(key);
    let mode = Bytes::from_static(if only_if_absent { b"nx" } else { b"replace" });
    let args = vec![Bytes::from_static(RECORD_PUT.as_bytes()), key.clone(), record.clone(), mode];
    match core.call_owner(owner, args).await {
        Reply::Integer(written) => Ok(written == 1),
        other => Err(CommandError::Reply(other)),
    }
}

/// RENAME / RENAMENX across cores: read the source record (value, type and absolute expiry) on
/// its core, write it to the destination on its core (only if absent for RENAMENX), then delete
/// the source if it still holds the record that was copied.
///
/// Not atomic across cores until 2PC: between the steps a reader can see both keys or (after
/// a crash between the write and the delete) keep seeing both. If another client changes the
/// source in between, its new value stays at the source and the destination gets the old one.
async fn rename(core: &Rc<Core>, args: &[Bytes], nx: bool) -> CommandResult {
    let (source, destination) = (&args[1], &args[2]);
    let Some(record) = read_record(core, source).await? else {
        return Err(CommandError::Reply(Reply::error_static(errors::NO_SUCH_KEY)));
    };
    if !write_record(core, destination, &record, nx).await? {
        return Ok(Reply::Integer(0));
    }
    let owner = core.map().core_of_key(source);
    let delete = vec![Bytes::from_static(RECORD_DELETE_IF.as_bytes()), source.clone(), record];
    if let error @ Reply::Error(_) = core.call_owner(owner, delete).await {
        return Err(CommandError::Reply(error));
    }
    Ok(if nx { Reply::Integer(1) } else { Reply::ok() })
}

/// COPY across cores: read the source record on its core, write it to the destination on its
/// core (only if absent without REPLACE). Not atomic: a change to the source after the read is
/// not copied.
async fn copy(core: &Rc<Core>, args: &[Bytes]) -> CommandResult {
    let replace = parse_copy_options(&args[3..])?;
    let Some(record) = read_record(core, &args[1]).await? else { return Ok(Reply::Integer(0)) };
    let written = write_record(core, &args[2], &record, !replace).await?;
    Ok(Reply::Integer(i64::from(written)))
}
