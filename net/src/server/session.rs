//! [`Session`]: what a connection does with the bytes of one read, without any I/O.
//!
//! Every whole request in the query buffer is parsed, then resolved against the command
//! table in Redis's order (`processCommand`): a `host:`/`POST` request drops the connection
//! silently (a browser or an HTTP proxy is talking to us); an unknown command, an unknown
//! subcommand or a wrong arity is answered with Redis's error; without authentication only
//! `no_auth` commands (AUTH, HELLO, QUIT, RESET) run, the others get `NOAUTH`; QUIT is
//! answered `+OK` here and closes. The valid requests go to the handler in runs: a run ends
//! at a rejected request, at a request that changes the session (it runs alone, see
//! [`Request::changes_session`]) and at the end of the buffer; before authentication every
//! request runs alone, because AUTH changes what the parser and the checks allow. Replies are
//! appended to the output buffer in request order, so the connection writes them with one
//! write. A protocol error appends Redis's `-ERR Protocol error: ...` after the replies of the
//! requests before it and closes the connection.

use std::mem;
use std::rc::Rc;

use bytes::{Bytes, BytesMut};

use super::Shared;
use super::registry::{BufferUsage, ClientInfo};
use crate::command::{CommandFlags, CommandSpec};
use crate::errors;
use crate::frame::{Parsed, Reply, RequestParser};
use crate::handler::{ConnectionState, Handler, Request};

/// Whether the connection goes on after a read's requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flow {
    Continue,
    /// Write what the output buffer holds (nothing if the client was killed), then close.
    Close,
}

/// What to do with one parsed request.
enum Step {
    /// Join the current run.
    Batch(Request),
    /// Run alone, after the current run.
    Alone(Request),
    /// Answer with this error without running it.
    Reject(Reply),
    /// QUIT: `+OK`, then close.
    Quit,
    /// Close without a reply.
    Drop,
}

/// One connection's protocol state.
pub(crate) struct Session<H> {
    shared: Rc<Shared<H>>,
    pub(crate) conn: ConnectionState,
    parser: RequestParser,
    /// The largest reply batch so far (`rbp` in CLIENT LIST).
    pub(crate) reply_peak_bytes: usize,
}

impl<H: Handler> Session<H> {
    pub(crate) fn new(shared: Rc<Shared<H>>, conn: ConnectionState) -> Self {
        let parser = RequestParser::new(shared.config.parse_limits.clone());
        Self { shared, conn, parser, reply_peak_bytes: 0 }
    }

    /// Runs every whole request in `input`, appending their replies to `out`.
    pub(crate) async fn process(&mut self, input: &mut BytesMut, out: &mut BytesMut) -> Flow {
        let mut run = Vec::new();
        let flow = loop {
            if self.must_close() {
                break Flow::Close;
            }
            self.parser.auth_required = self.auth_pending();
            let args = match self.parser.parse(input) {
                Ok(Parsed::Request(args)) => args,
                Ok(Parsed::Incomplete) => break Flow::Continue,
                Err(error) => {
                    self.execute(mem::take(&mut run), input, out).await;
                    self.reply_unless_killed(error.to_reply(), out);
                    break Flow::Close;
                }
            };
            match self.classify(args) {
                Step::Batch(request) => run.push(request),
                Step::Alone(request) => {
                    self.execute(mem::take(&mut run), input, out).await;
                    self.execute(vec![request], input, out).await;
                }
                Step::Reject(reply) => {
                    self.execute(mem::take(&mut run), input, out).await;
                    self.reject(reply, out);
                }
                Step::Quit => {
                    self.execute(mem::take(&mut run), input, out).await;
                    self.shared.stats.commands(1);
                    self.reply_unless_killed(Reply::ok(), out);
                    break Flow::Close;
                }
                Step::Drop => {
                    self.execute(mem::take(&mut run), input, out).await;
                    break Flow::Close;
                }
            }
        };
        self.execute(run, input, out).await;
        if self.conn.kill_requested {
            out.clear();
            return Flow::Close;
        }
        if self.conn.close_after_reply { Flow::Close } else { flow }
    }

    /// The buffer sizes CLIENT LIST shows.
    pub(crate) fn buffer_usage(&self, input: &BytesMut, out: &BytesMut, argv_bytes: usize) -> BufferUsage {
        BufferUsage {
            query_bytes: input.len(),
            query_free_bytes: input.capacity() - input.len(),
            argv_bytes,
            reply_buffer_bytes: out.capacity(),
            reply_peak_bytes: self.reply_peak_bytes,
        }
    }

    /// Copies this connection's state into the registry.
    pub(crate) fn publish(&self, input: &BytesMut, out: &BytesMut, argv_bytes: usize) {
        let buffers = self.buffer_usage(input, out, argv_bytes);
        self.shared.registry.publish(ClientInfo::of(&self.conn, buffers));
    }

    fn must_close(&self) -> bool {
        self.conn.close_after_reply || self.conn.kill_requested
    }

    fn auth_pending(&self) -> bool {
        !self.conn.authenticated && self.shared.handler.requires_auth()
    }

    fn classify(&mut self, args: Vec<Bytes>) -> Step {
        if is_http_request(&args[0]) {
            tracing::warn!(client = self.conn.id, "possible SECURITY ATTACK detected: an HTTP request; closing");
            return Step::Drop;
        }
        let spec = match self.shared.table.resolve(&args) {
            Ok(spec) => spec,
            Err(reply) => return Step::Reject(reply),
        };
        self.conn.last_command = Some(spec.full_name());
        if self.auth_pending() && !spec.flags.contains(CommandFlags::NO_AUTH) {
            return Step::Reject(Reply::error_static(errors::NOAUTH));
        }
        if is_quit(spec) {
            return Step::Quit;
        }
        let request = Request { args, spec };
        if self.auth_pending() || request.changes_session() { Step::Alone(request) } else { Step::Batch(request) }
    }

    /// Answers a request the server refused; inside MULTI the transaction is then aborted, as
    /// Redis's `flagTransaction` does.
    fn reject(&mut self, reply: Reply, out: &mut BytesMut) {
        if let Some(multi) = self.conn.multi.as_mut() {
            multi.aborted = true;
        }
        self.reply_unless_killed(reply, out);
    }

    fn reply_unless_killed(&self, reply: Reply, out: &mut BytesMut) {
        if self.conn.kill_requested {
            return;
        }
        if reply.is_error() {
            self.shared.stats.error_reply();
        }
        reply.encode(self.conn.protocol, out);
    }

    /// Runs one batch through the handler and appends its replies.
    async fn execute(&mut self, requests: Vec<Request>, input: &BytesMut, out: &mut BytesMut) {
        let Some(last) = requests.last() else { return };
        if self.must_close() {
            return;
        }
        let count = requests.len();
        self.conn.last_command = Some(last.name());
        if last.changes_session() {
            // CLIENT LIST/INFO run alone and show the caller's own line: publish it first.
            let argv_bytes = last.args.iter().map(Bytes::len).sum();
            self.publish(input, out, argv_bytes);
        }
        let replies = self.shared.handler.call_batch(&mut self.conn, requests).await;
        self.shared.stats.commands(count);
        for reply in conform(replies, count) {
            self.reply_unless_killed(reply, out);
        }
    }
}

/// Redis's `securityWarningCommand` trigger: `POST` and `Host:` are HTTP, not RESP.
fn is_http_request(name: &[u8]) -> bool {
    name.eq_ignore_ascii_case(b"post") || name.eq_ignore_ascii_case(b"host:")
}

fn is_quit(spec: &CommandSpec) -> bool {
    spec.full_name() == "quit"
}

/// A handler bug must not desynchronise the client: missing replies become errors, extra
/// ones are dropped.
fn conform(mut replies: Vec<Reply>, count: usize) -> Vec<Reply> {
    if replies.len() != count {
        tracing::error!(expected = count, got = replies.len(), "handler returned the wrong number of replies");
        replies.resize(count, Reply::error_static("ERR internal error: the handler lost a reply"));
    }
    replies
}

#[cfg(test)]
mod tests;
