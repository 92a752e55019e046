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
//!
//! Output is bounded (see `server/output.rs`): a run holds at most as many requests as the
//! previous run's largest reply says fit in [`RUN_REPLY_BUDGET_BYTES`] (so a pipeline of large
//! GETs runs a few at a time), and once the output buffer reaches the write threshold the
//! session stops with [`Flow::More`] so the connection writes before it executes the rest.
//! Output at or over `client-output-buffer-limit` closes the client as Redis does.

use std::mem;
use std::rc::Rc;
use std::time::Instant;

use bytes::{Bytes, BytesMut};

use super::Shared;
use super::output::{OutputGuard, Verdict};
use super::registry::{BufferUsage, ClientInfo, format_client_list_line};
use crate::command::{CommandFlags, CommandSpec};
use crate::errors;
use crate::frame::{Parsed, Reply, RequestParser};
use crate::handler::{ConnectionState, Handler, Request};

/// Whether the connection goes on after a read's requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flow {
    Continue,
    /// The output reached the write threshold with requests still buffered: write it, then
    /// process again before reading.
    More,
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

/// The reply bytes a run aims to stay under, judged by the previous run's largest reply.
pub(crate) const RUN_REPLY_BUDGET_BYTES: usize = 1024 * 1024;
/// The most requests in one run, whatever their replies.
const RUN_MAX_REQUESTS: usize = 1024;
/// A connection's first run, before any reply size is known.
const RUN_FIRST_REQUESTS: usize = 16;

/// One connection's protocol state.
pub(crate) struct Session<H> {
    shared: Rc<Shared<H>>,
    pub(crate) conn: ConnectionState,
    parser: RequestParser,
    /// The largest reply batch so far (`rbp` in CLIENT LIST).
    pub(crate) reply_peak_bytes: usize,
    /// The output buffer limit and its soft-limit clock.
    pub(crate) output: OutputGuard,
    /// How many requests the next run may hold.
    run_max_requests: usize,
}

impl<H: Handler> Session<H> {
    pub(crate) fn new(shared: Rc<Shared<H>>, conn: ConnectionState) -> Self {
        let parser = RequestParser::new(shared.config.parse_limits.clone());
        let output = OutputGuard::default();
        Self { shared, conn, parser, reply_peak_bytes: 0, output, run_max_requests: RUN_FIRST_REQUESTS }
    }

    /// Runs every whole request in `input`, appending their replies to `out`.
    pub(crate) async fn process(&mut self, input: &mut BytesMut, out: &mut BytesMut) -> Flow {
        self.output.set_limit(self.shared.settings.output_buffer_limit());
        let mut run = Vec::new();
        let flow = loop {
            if self.must_close() {
                break Flow::Close;
            }
            if run.len() >= self.run_max_requests {
                self.execute(mem::take(&mut run), input, out).await;
            }
            if run.is_empty()
                && let Some(flow) = self.check_output(out)
            {
                break flow;
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
        let flow = match self.check_output(out) {
            Some(Flow::Close) => Flow::Close,
            _ => flow,
        };
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

    /// `Close` once the output is over `client-output-buffer-limit`, `More` once it reached
    /// the write threshold.
    fn check_output(&mut self, out: &BytesMut) -> Option<Flow> {
        if self.conn.kill_requested {
            return None;
        }
        if self.output.check(out.len(), Instant::now) == Verdict::Over {
            self.close_for_output_limit(out);
            return Some(Flow::Close);
        }
        (out.len() >= self.output.write_threshold_bytes()).then_some(Flow::More)
    }

    /// Closes the client without writing its pending output, with Redis's log line.
    pub(crate) fn close_for_output_limit(&mut self, out: &BytesMut) {
        let buffers = BufferUsage {
            reply_buffer_bytes: out.capacity(),
            reply_peak_bytes: self.reply_peak_bytes.max(out.len()),
            ..BufferUsage::default()
        };
        let line = format_client_list_line(&ClientInfo::of(&self.conn, buffers), Instant::now());
        tracing::warn!(
            "Client {} scheduled to be closed ASAP for overcoming of output buffer limits.",
            String::from_utf8_lossy(&line)
        );
        self.shared.stats.output_buffer_limit_disconnection();
        self.conn.kill_requested = true;
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
        let mut largest_reply_bytes = 0;
        for reply in conform(replies, count) {
            let before = out.len();
            self.reply_unless_killed(reply, out);
            largest_reply_bytes = largest_reply_bytes.max(out.len() - before);
        }
        self.run_max_requests = (RUN_REPLY_BUDGET_BYTES / largest_reply_bytes.max(1)).clamp(1, RUN_MAX_REQUESTS);
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
