//! One client's task: read, process, write, until something closes the connection.
//!
//! A read waits for bytes, the close signal, or the live `timeout` (idle clients close, see
//! `server/idle.rs`). The
//! buffered requests are processed in rounds: a round ends when the output reaches the write
//! threshold (see `server/output.rs`), its replies are written, and the next round runs before
//! the next read, so a client that does not read holds at most one round's output and stops
//! its own task, never the server. A write waits for the socket, the close signal, or the
//! soft output limit's deadline.

use std::io;
use std::os::fd::AsRawFd;
use std::rc::Rc;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use futures_lite::future;
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use glommio::net::TcpStream;

use super::output::Verdict;
use super::readiness::Registration;
use super::registry::{BufferUsage, ClientInfo};
use super::session::{Flow, Session};
use super::signal::{CloseLevel, CloseSignal};
use super::{ClientSlot, Shared};
use crate::handler::{ConnectionState, Handler};

/// The largest single read, however large the pending request.
const MAX_READ_BYTES: usize = 1024 * 1024;
/// An idle buffer larger than this many read chunks is given back to the allocator.
const IDLE_BUFFER_MAX_CHUNKS: usize = 4;
/// An output buffer larger than this is given back once written.
const IDLE_OUTPUT_MAX_BYTES: usize = 1024 * 1024;

/// Serves one accepted client until it closes; `_slot` holds its place under `maxclients`.
pub(crate) async fn run<H: Handler + 'static>(
    shared: Rc<Shared<H>>,
    mut stream: TcpStream,
    id: u64,
    _slot: ClientSlot,
) {
    let conn = connection_state(&stream, id);
    if let Err(error) = configure(&stream) {
        tracing::debug!(client = id, %error, "socket options");
    }
    let signal = shared.registry.register(ClientInfo::of(&conn, BufferUsage::default()));
    // Dropped before `stream` (a local drops before the parameters), so the poll is
    // cancelled while the socket is still open.
    let registration = shared.readiness.as_ref().and_then(|readiness| {
        readiness
            .register(stream.as_raw_fd())
            .inspect_err(|error| tracing::warn!(client = id, %error, "readiness registration"))
            .ok()
    });
    let mut session = Session::new(shared.clone(), conn);
    let mut socket = Socket { stream: &mut stream, registration: registration.as_ref() };
    if let Err(error) = serve(&shared, &mut session, &mut socket, &signal).await {
        tracing::debug!(client = id, %error, "connection closed by an I/O error");
    }
    shared.registry.remove(id);
    shared.handler.on_disconnect(&session.conn);
    shared.stats.connection_closed();
}

fn connection_state(stream: &TcpStream, id: u64) -> ConnectionState {
    let mut conn = ConnectionState::new(id);
    conn.peer_addr = stream.peer_addr().ok();
    conn.local_addr = stream.local_addr().ok();
    conn.fd = stream.as_raw_fd();
    conn
}

/// A client's socket: written through glommio, read directly when a readiness registration
/// says when (see `server/readiness.rs`).
struct Socket<'a> {
    stream: &'a mut TcpStream,
    registration: Option<&'a Registration>,
}

impl Socket<'_> {
    /// Appends up to `want_bytes` to `input` once the client sent any: the count, 0 at the end
    /// of the stream.
    async fn read(&mut self, input: &mut BytesMut, want_bytes: usize) -> io::Result<usize> {
        if let Some(registration) = self.registration {
            return registration.recv_into(input, want_bytes).await;
        }
        let start = input.len();
        input.resize(start + want_bytes, 0);
        let read = self.stream.read(&mut input[start..]).await;
        input.truncate(start + *read.as_ref().unwrap_or(&0));
        read
    }
}

fn configure(stream: &TcpStream) -> glommio::Result<(), ()> {
    stream.set_nodelay(true)?;
    Ok(())
}

/// The read-process-write loop.
async fn serve<H: Handler>(
    shared: &Shared<H>,
    session: &mut Session<H>,
    socket: &mut Socket<'_>,
    signal: &CloseSignal,
) -> io::Result<()> {
    let chunk_bytes = shared.config.read_chunk_bytes;
    let query_limit_bytes = shared.config.parse_limits.client_query_buffer_limit;
    let mut input = BytesMut::with_capacity(chunk_bytes);
    let mut out = BytesMut::new();
    loop {
        let idle_since = session.conn.last_interaction_at;
        let Some(read_bytes) = read_some(shared, socket, &mut input, chunk_bytes, signal, idle_since).await? else {
            return Ok(());
        };
        shared.stats.input(read_bytes);
        session.conn.last_interaction_at = Instant::now();
        if input.len() > query_limit_bytes {
            tracing::warn!(client = session.conn.id, "closing a client that reached the max query buffer length");
            return Ok(());
        }
        if !process_and_write(shared, session, socket, &mut input, &mut out, signal).await? {
            return Ok(());
        }
        reclaim(&mut input, &mut out, chunk_bytes);
        session.publish(&input, &out, 0);
    }
}

/// Runs the buffered requests and writes their replies, in several rounds when the output
/// reaches the write threshold; false when the connection must close.
async fn process_and_write<H: Handler>(
    shared: &Shared<H>,
    session: &mut Session<H>,
    socket: &mut Socket<'_>,
    input: &mut BytesMut,
    out: &mut BytesMut,
    signal: &CloseSignal,
) -> io::Result<bool> {
    // Each round consumes at least one request or closes, so the input bounds the rounds.
    loop {
        let flow = session.process(input, out).await;
        if signal.level() == CloseLevel::Now {
            return Ok(false);
        }
        // Let the other connections that are ready run their requests first, so the replies
        // leave together and a waiting client is woken once for all of them.
        futures_lite::future::yield_now().await;
        if !write_replies(shared, session, socket, out, signal).await? {
            return Ok(false);
        }
        if flow == Flow::Close || signal.level() != CloseLevel::Open {
            return Ok(false);
        }
        out.clear();
        if flow != Flow::More {
            return Ok(true);
        }
    }
}

/// Reads once, appending to `input`; `None` at end of stream, when the client was idle past
/// `timeout`, or when the connection must stop reading.
async fn read_some<H>(
    shared: &Shared<H>,
    socket: &mut Socket<'_>,
    input: &mut BytesMut,
    chunk_bytes: usize,
    signal: &CloseSignal,
    idle_since: Instant,
) -> io::Result<Option<usize>> {
    // A large request in progress is read in larger pieces, up to MAX_READ_BYTES.
    let want_bytes = chunk_bytes.max(input.len().min(MAX_READ_BYTES));
    let stop = future::or(signal.reached(CloseLevel::Graceful), idle_expired(shared, idle_since));
    let read = future::or(async { Some(socket.read(input, want_bytes).await) }, async {
        stop.await;
        None
    })
    .await;
    let read_bytes = read.transpose()?.unwrap_or(0);
    Ok((read_bytes > 0).then_some(read_bytes))
}

/// Completes once the client has been idle longer than the live `timeout`, checked at each of
/// the core's idle ticks (see `server/idle.rs`), so CONFIG SET timeout reaches waiting
/// connections.
async fn idle_expired<H>(shared: &Shared<H>, idle_since: Instant) {
    loop {
        let timeout_secs = shared.settings.timeout_secs();
        if timeout_secs > 0 && idle_since.elapsed() >= Duration::from_secs(timeout_secs) {
            return;
        }
        shared.idle_ticks.next_tick().await;
    }
}

/// What ended one wait of a reply write.
enum WriteStep {
    Wrote(io::Result<usize>),
    Killed,
    SoftLimitHeld,
}

/// Writes a round's replies, unless the client is killed or holds the output over the soft
/// limit too long meanwhile; false when the connection must close.
async fn write_replies<H: Handler>(
    shared: &Shared<H>,
    session: &mut Session<H>,
    socket: &mut Socket<'_>,
    out: &BytesMut,
    signal: &CloseSignal,
) -> io::Result<bool> {
    if out.is_empty() {
        return Ok(true);
    }
    session.reply_peak_bytes = session.reply_peak_bytes.max(out.len());
    let mut written = 0;
    // Each write accepts at least one byte or fails, so `out.len()` bounds the iterations.
    while written < out.len() {
        if session.output.check(out.len() - written, Instant::now) == Verdict::Over {
            session.close_for_output_limit(out);
            return Ok(false);
        }
        let soft_deadline = session.output.soft_deadline();
        let step = future::or(async { WriteStep::Wrote(socket.stream.write(&out[written..]).await) }, async {
            future::or(
                async {
                    signal.reached(CloseLevel::Now).await;
                    WriteStep::Killed
                },
                async {
                    sleep_until(soft_deadline).await;
                    WriteStep::SoftLimitHeld
                },
            )
            .await
        })
        .await;
        match step {
            WriteStep::Wrote(Ok(0)) => return Err(io::ErrorKind::WriteZero.into()),
            WriteStep::Wrote(result) => written += result?,
            WriteStep::Killed => return Ok(false),
            // No write completed since the soft limit was reached: the check says over.
            WriteStep::SoftLimitHeld => {
                session.close_for_output_limit(out);
                return Ok(false);
            }
        }
    }
    session.output.check(0, Instant::now);
    shared.stats.output(written);
    Ok(true)
}

/// Sleeps until `deadline`, or forever without one.
async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => glommio::timer::sleep(deadline.saturating_duration_since(Instant::now())).await,
        None => future::pending().await,
    }
}

/// Gives large idle buffers back, as Redis's `clientsCronResizeQueryBuffer` does.
fn reclaim(input: &mut BytesMut, out: &mut BytesMut, chunk_bytes: usize) {
    if input.is_empty() && input.capacity() > IDLE_BUFFER_MAX_CHUNKS * chunk_bytes {
        *input = BytesMut::with_capacity(chunk_bytes);
    }
    out.clear();
    if out.capacity() > IDLE_OUTPUT_MAX_BYTES {
        *out = BytesMut::new();
    }
}
