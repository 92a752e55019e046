//! Command implementations, one file per family, and the helpers they share.
//!
//! A keyed command runs on the core that owns its keys ([`execute_keyed`]); it reads and writes
//! through `Store`, holding per-key latches across read-modify-write sequences so that
//! concurrent commands on the same key are atomic, as in Redis.

pub mod connection;
pub mod info;
pub mod keys;
pub mod keyspace;
pub mod multi;
pub mod server;
pub mod strings;

use std::rc::Rc;

use bytes::Bytes;
use nokv_net::errors;
use nokv_net::frame::Reply;

use crate::core::Core;
use crate::store::StoreError;

/// A command's failure: a ready reply (wrong type, syntax) or a store error.
#[derive(Debug)]
pub enum CommandError {
    /// Reply this to the client.
    Reply(Reply),
    /// The store failed.
    Store(StoreError),
}

impl From<StoreError> for CommandError {
    fn from(error: StoreError) -> Self {
        CommandError::Store(error)
    }
}

impl From<Reply> for CommandError {
    fn from(reply: Reply) -> Self {
        CommandError::Reply(reply)
    }
}

/// The result of a command body.
pub type CommandResult = Result<Reply, CommandError>;

/// Turns a command result into its reply.
pub fn into_reply(result: CommandResult) -> Reply {
    match result {
        Ok(reply) | Err(CommandError::Reply(reply)) => reply,
        Err(CommandError::Store(error)) => {
            if let Some(reason) = error.disk_error() {
                return Reply::error(format!("MISCONF Errors writing to the AOF file: {reason}"));
            }
            tracing::warn!(%error, "command failed in the store");
            Reply::error(format!("ERR {error}"))
        }
    }
}

/// Runs a command whose keys all live on this core.
pub async fn execute_keyed(core: &Rc<Core>, args: Vec<Bytes>) -> Reply {
    // Lowercased on the stack: every keyed command passes here (a String each was 0.6% of a
    // pipelined GET's samples).
    let mut buffer = [0u8; SHORT_NAME_BYTES];
    let owned;
    let name = match lowercase_short_name(&args, &mut buffer) {
        Some(name) => name,
        None => {
            owned = lowercase_name(&args);
            owned.as_str()
        }
    };
    if let Some(result) = strings::execute(core, name, &args).await {
        return into_reply(result);
    }
    if let Some(result) = keys::execute(core, name, &args).await {
        return into_reply(result);
    }
    Reply::error(format!("ERR unknown command '{name}'"))
}

/// Longest command name [`lowercase_short_name`] lowercases in place.
const SHORT_NAME_BYTES: usize = 24;

/// The command name lowercased into `buffer`, when it is ASCII and fits.
fn lowercase_short_name<'a>(args: &[Bytes], buffer: &'a mut [u8; SHORT_NAME_BYTES]) -> Option<&'a str> {
    let name = args.first()?;
    let lower = buffer.get_mut(..name.len())?;
    lower.copy_from_slice(name);
    lower.make_ascii_lowercase();
    std::str::from_utf8(lower).ok().filter(|name| name.is_ascii())
}

/// The command name of a request, lowercased.
pub fn lowercase_name(args: &[Bytes]) -> String {
    args.first().map(|name| String::from_utf8_lossy(name).to_ascii_lowercase()).unwrap_or_default()
}

/// Parses an integer argument with Redis's rules, or the `value is not an integer` error.
pub fn parse_i64(arg: &[u8]) -> Result<i64, CommandError> {
    nokv_net::number::parse_i64(arg).ok_or_else(|| CommandError::Reply(Reply::error_static(errors::NOT_AN_INTEGER)))
}

/// True when `arg` equals `word` ignoring ASCII case.
pub fn is_word(arg: &[u8], word: &str) -> bool {
    arg.eq_ignore_ascii_case(word.as_bytes())
}

/// The `syntax error` reply.
pub fn syntax_error() -> CommandError {
    CommandError::Reply(Reply::error_static(errors::SYNTAX))
}

/// The `WRONGTYPE` reply.
pub fn wrong_type() -> CommandError {
    CommandError::Reply(Reply::error_static(errors::WRONGTYPE))
}
