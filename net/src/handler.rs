//! The boundary between the front end and the server: the [`Handler`] trait `shard` implements.
//!
//! Provisional: this first shape carries one request at a time and a minimal per-connection
//! state. It will grow with the connection loop (pipelined batches, MULTI queues, blocking
//! commands, push messages).

use bytes::Bytes;

use crate::frame::{Protocol, Reply};

/// What the server knows about one client connection.
#[derive(Clone, Debug, Default)]
pub struct ConnectionState {
    /// Unique per server lifetime (`CLIENT ID`).
    pub id: u64,
    /// RESP2 until `HELLO 3`.
    pub protocol: Protocol,
    /// `CLIENT SETNAME` / `HELLO ... SETNAME`.
    pub name: Option<Bytes>,
    /// `CLIENT SETINFO LIB-NAME` / `LIB-VER`.
    pub library_name: Option<Bytes>,
    pub library_version: Option<Bytes>,
    /// False until AUTH succeeds on a server with `requirepass`.
    pub authenticated: bool,
    /// The selected database; NoKV has only database 0.
    pub db: u32,
}

/// Executes one request for a connection and returns its reply.
///
/// `args` is the whole request, the command name first, already resolved against the command
/// table by the caller; the handler owns the arguments and may keep slices of them.
pub trait Handler {
    async fn call(&self, conn: &mut ConnectionState, args: Vec<Bytes>) -> Reply;
}
