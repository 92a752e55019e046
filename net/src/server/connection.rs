//! One client's task: read, process, write, until something closes the connection.

use std::io;
use std::os::fd::AsRawFd;
use std::rc::Rc;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use futures_lite::future;
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use glommio::net::TcpStream;

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
    if let Err(error) = configure(&stream, shared.config.timeout_secs) {
        tracing::debug!(client = id, %error, "socket options");
    }
    let signal = shared.registry.register(ClientInfo::of(&conn, BufferUsage::default()));
    let mut session = Session::new(shared.clone(), conn);
    if let Err(error) = serve(&shared, &mut session, &mut stream, &signal).await {
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

fn configure(stream: &TcpStream, timeout_secs: u64) -> glommio::Result<(), ()> {
    stream.set_nodelay(true)?;
    if timeout_secs > 0 {
        // A read waiting longer than `timeout` means the client was idle that long.
        stream.set_read_timeout(Some(Duration::from_secs(timeout_secs)))?;
    }
    Ok(())
}

/// The read-process-write loop.
async fn serve<H: Handler>(
    shared: &Shared<H>,
    session: &mut Session<H>,
    stream: &mut TcpStream,
    signal: &CloseSignal,
) -> io::Result<()> {
    let chunk_bytes = shared.config.read_chunk_bytes;
    let query_limit_bytes = shared.config.parse_limits.client_query_buffer_limit;
    let mut input = BytesMut::with_capacity(chunk_bytes);
    let mut out = BytesMut::new();
    loop {
        let Some(read_bytes) = read_some(stream, &mut input, chunk_bytes, signal).await? else {
            return Ok(());
        };
        shared.stats.input(read_bytes);
        session.conn.last_interaction_at = Instant::now();
        if input.len() > query_limit_bytes {
            tracing::warn!(client = session.conn.id, "closing a client that reached the max query buffer length");
            return Ok(());
        }
        let flow = session.process(&mut input, &mut out).await;
        if signal.level() == CloseLevel::Now {
            return Ok(());
        }
        write_replies(shared, session, stream, &out, signal).await?;
        if flow == Flow::Close || signal.level() != CloseLevel::Open {
            return Ok(());
        }
        reclaim(&mut input, &mut out, chunk_bytes);
        session.publish(&input, &out, 0);
    }
}

/// Reads once, appending to `input`; `None` at end of stream or when the connection must
/// stop reading.
async fn read_some(
    stream: &mut TcpStream,
    input: &mut BytesMut,
    chunk_bytes: usize,
    signal: &CloseSignal,
) -> io::Result<Option<usize>> {
    let start = input.len();
    // A large request in progress is read in larger pieces, up to MAX_READ_BYTES.
    let want_bytes = chunk_bytes.max(start.min(MAX_READ_BYTES));
    input.resize(start + want_bytes, 0);
    let read = future::or(async { Some(stream.read(&mut input[start..]).await) }, async {
        signal.reached(CloseLevel::Graceful).await;
        None
    })
    .await;
    let read_bytes = match read {
        Some(Ok(read_bytes)) => read_bytes,
        Some(Err(error)) if error.kind() == io::ErrorKind::TimedOut => 0,
        Some(Err(error)) => {
            input.truncate(start);
            return Err(error);
        }
        None => 0,
    };
    input.truncate(start + read_bytes);
    Ok((read_bytes > 0).then_some(read_bytes))
}

/// Writes a read's replies with one `write_all`, unless the client is killed meanwhile.
async fn write_replies<H: Handler>(
    shared: &Shared<H>,
    session: &mut Session<H>,
    stream: &mut TcpStream,
    out: &BytesMut,
    signal: &CloseSignal,
) -> io::Result<()> {
    if out.is_empty() {
        return Ok(());
    }
    session.reply_peak_bytes = session.reply_peak_bytes.max(out.len());
    let written = future::or(async { Some(stream.write_all(out).await) }, async {
        signal.reached(CloseLevel::Now).await;
        None
    })
    .await;
    if let Some(result) = written {
        result?;
        shared.stats.output(out.len());
    }
    Ok(())
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
