//! The boundary between the connection loop and the database: the [`Handler`] trait `shard`
//! implements, the [`Request`]s it receives and the [`ConnectionState`] it may change.
//!
//! The server ([`crate::server`]) parses every whole request a read brought, resolves each
//! against the command table (unknown commands, wrong arity and `NOAUTH` are answered by the
//! server and never reach the handler) and hands the valid ones to
//! [`Handler::call_batch`] in runs, so a handler sees a pipeline as one batch and can overlap
//! its work (propose every write of the batch in one raft round, send one message per remote
//! core).
//!
//! # Contract
//!
//! - `call_batch` returns exactly one reply per request, in request order, and those replies
//!   must equal what executing the requests one after another would produce. Overlapping work
//!   is allowed only where that equivalence holds (a read after a write of the same key in the
//!   batch must see the write).
//! - The future runs to completion: the server never drops it midway, even on shutdown or
//!   `CLIENT KILL`, so a handler may leave shared state half-done across awaits only if it
//!   finishes it before returning.
//! - Requests that change the session (see [`Request::changes_session`]: AUTH, HELLO, SELECT,
//!   RESET, MULTI, EXEC, DISCARD, CLIENT ...) always arrive alone in their batch, so the server
//!   can apply their effect (authentication, protocol, closing, the client's registry entry)
//!   before it resolves the next request. Before authentication every request arrives alone.
//! - The replies of a batch are encoded with `conn.protocol` as it is after the batch (so
//!   `HELLO 3` gets a RESP3 reply, as in Redis).
//! - QUIT never reaches the handler: the server replies `+OK` and closes.
//! - To close the connection, set [`ConnectionState::close_after_reply`] (the batch's replies
//!   are written first, later requests are not run) or [`ConnectionState::kill_requested`]
//!   (nothing more is written).

use std::net::SocketAddr;
use std::time::Instant;

use bytes::Bytes;

use crate::command::CommandSpec;
use crate::frame::{Protocol, Reply};

/// One request, resolved against the command table: the command exists, its arity is right
/// and the connection may run it.
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    /// The whole request, the command name first (as the client spelled it), then its
    /// arguments; slices of the connection's read buffer.
    pub args: Vec<Bytes>,
    /// The command or subcommand the request names.
    pub spec: &'static CommandSpec,
}

/// Commands that change what the server must know before it resolves the next request.
const SESSION_COMMANDS: &[&str] = &["auth", "hello", "select", "reset", "multi", "exec", "discard"];

impl Request {
    /// The command's full name, lower case (`get`, `client|setname`).
    pub fn name(&self) -> &'static str {
        self.spec.full_name()
    }

    /// Whether the request may change connection state the server reads (authentication,
    /// protocol, MULTI, the client's registry entry); such requests run alone in their batch.
    pub fn changes_session(&self) -> bool {
        let name = self.spec.full_name();
        SESSION_COMMANDS.contains(&name) || name.starts_with("client|")
    }
}

/// A transaction being queued between MULTI and EXEC. The handler owns its content; the
/// server marks it aborted when it rejects a request while it is open (unknown command, wrong
/// arity, NOAUTH), as Redis's `flagTransaction` does, so EXEC replies `EXECABORT`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MultiState {
    /// Requests queued since MULTI.
    pub queued: Vec<Request>,
    /// A request was rejected while queuing: EXEC must fail with `EXECABORT`.
    pub aborted: bool,
    /// A WATCHed key changed: EXEC must reply with a null array (flag `d` in CLIENT LIST).
    pub watch_dirty: bool,
}

/// What the server and the handler know about one client connection.
#[derive(Clone, Debug)]
pub struct ConnectionState {
    /// Unique across the cores of one server lifetime (`CLIENT ID`); see
    /// [`crate::server::ClientRegistry`].
    pub id: u64,
    /// RESP2 until `HELLO 3`.
    pub protocol: Protocol,
    /// `CLIENT SETNAME` / `HELLO ... SETNAME`.
    pub name: Option<Bytes>,
    /// `CLIENT SETINFO LIB-NAME` / `LIB-VER`.
    pub library_name: Option<Bytes>,
    pub library_version: Option<Bytes>,
    /// False until AUTH succeeds on a server that requires it (see [`Handler::requires_auth`]).
    pub authenticated: bool,
    /// The selected database; NoKV has only database 0.
    pub db: u32,
    /// The client's address; `None` when the socket could not tell (and in unit tests).
    pub peer_addr: Option<SocketAddr>,
    /// The server address the client connected to.
    pub local_addr: Option<SocketAddr>,
    /// The socket's file descriptor (`fd=` in CLIENT LIST), -1 when there is none.
    pub fd: i32,
    /// When the connection was accepted.
    pub created_at: Instant,
    /// When the client last sent bytes (`idle=` in CLIENT LIST, and the idle `timeout`).
    pub last_interaction_at: Instant,
    /// The full name of the last command run or rejected after lookup (`cmd=` in CLIENT LIST).
    pub last_command: Option<&'static str>,
    /// Write this batch's replies, then close (QUIT, CLIENT KILL of the calling client).
    pub close_after_reply: bool,
    /// Close without writing anything more (the client was killed).
    pub kill_requested: bool,
    /// `Some` between MULTI and EXEC/DISCARD.
    pub multi: Option<MultiState>,
}

impl Default for ConnectionState {
    fn default() -> Self {
        let now = Instant::now();
        Self {
            id: 0,
            protocol: Protocol::Resp2,
            name: None,
            library_name: None,
            library_version: None,
            authenticated: false,
            db: 0,
            peer_addr: None,
            local_addr: None,
            fd: -1,
            created_at: now,
            last_interaction_at: now,
            last_command: None,
            close_after_reply: false,
            kill_requested: false,
            multi: None,
        }
    }
}

impl ConnectionState {
    /// A fresh connection with id `id`.
    pub fn new(id: u64) -> Self {
        Self { id, ..Self::default() }
    }

    /// Redis's CLIENT LIST flag letters for this connection (`N` when none applies).
    pub fn flag_letters(&self) -> String {
        let mut flags = String::new();
        if self.multi.is_some() {
            flags.push('x');
        }
        if self.multi.as_ref().is_some_and(|multi| multi.watch_dirty) {
            flags.push('d');
        }
        if self.close_after_reply {
            flags.push('c');
        }
        if self.kill_requested {
            flags.push('A');
        }
        if flags.is_empty() {
            flags.push('N');
        }
        flags
    }
}

/// Executes requests for connections; see the module documentation for the contract.
pub trait Handler {
    /// Runs `requests` for `conn` and returns one reply per request, in order.
    async fn call_batch(&self, conn: &mut ConnectionState, requests: Vec<Request>) -> Vec<Reply>;

    /// Whether a connection must authenticate (AUTH or HELLO AUTH) before running commands
    /// not flagged `no_auth` (`requirepass` is set).
    fn requires_auth(&self) -> bool;

    /// Called once when the connection is gone (WATCHed keys, blocked clients to clean up).
    fn on_disconnect(&self, _conn: &ConnectionState) {}
}
