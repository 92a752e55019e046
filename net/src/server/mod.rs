//! The per-core connection loop: accepts clients on a glommio listener, reads their requests,
//! runs them through a [`Handler`] and writes the replies. The only module of `net` that
//! names glommio.
//!
//! One [`Server`] runs on each core, each on its own listener bound to the same port
//! (glommio's `TcpListener::bind` sets `SO_REUSEPORT`, so the kernel spreads connections).
//! Each accepted client gets a task on the core that accepted it; the task owns the socket,
//! a query buffer and an output buffer, and loops:
//!
//! 1. read (at least [`ServerConfig::read_chunk_bytes`]) into the query buffer; past
//!    `client-query-buffer-limit` unparsed bytes the client is closed, as Redis does;
//! 2. hand every whole request in the buffer to the session logic (`server/session.rs`), which resolves them,
//!    answers the refused ones and runs the rest through [`Handler::call_batch`] in runs;
//! 3. write all of the read's replies with one `write_all`.
//!
//! Closing: a protocol error, QUIT, the handler's `close_after_reply` or `kill_requested`,
//! an idle client past `timeout` (a read timeout), CLIENT KILL from another client (the
//! [`ClientRegistry`] raises the client's [`CloseSignal`]), or shutdown.
//!
//! Shutdown ([`Server::serve`]'s `shutdown` future completes): the listener is dropped,
//! every connection stops reading, finishes the batch it is running and writes its replies,
//! then closes; connections still writing after [`ServerConfig::shutdown_grace_ms`] are
//! closed without finishing their write. A handler call is never abandoned midway.
//!
//! `maxclients` counts clients across every core sharing one counter
//! ([`Server::with_client_count`]); a client over the limit gets
//! `-ERR max number of clients reached` and is closed. Then protected mode: with
//! `protected-mode yes` and no password, a client from outside the loopback interface gets
//! Redis's `-DENIED` text and is closed ([`protected_mode_refuses`]). Both count in
//! `rejected_connections`, as in Redis.
//!
//! `maxclients`, `timeout`, `protected-mode` and `client-output-buffer-limit` are read from
//! [`LiveSettings`] where they apply, so CONFIG SET changes them for live connections
//! ([`Server::with_settings`] shares them across cores and with the handler).

mod config;
mod connection;
mod idle;
mod output;
mod readiness;
mod registry;
mod session;
mod settings;
mod signal;
mod stats;

use std::future::Future;
use std::pin::pin;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_lite::AsyncWriteExt;
use futures_lite::future;
use glommio::net::{TcpListener, TcpStream};
use glommio::sync::Gate;

pub use self::config::ServerConfig;
use self::idle::IdleTicks;
pub use self::output::{DEFAULT_WRITE_THRESHOLD_BYTES, OutputBufferLimit};
use self::readiness::Readiness;
pub use self::registry::{
    BufferUsage, ClientInfo, ClientRegistry, KillFilter, KillOutcome, core_of_client_id, format_addr,
    format_client_list_line,
};
pub use self::settings::{LiveSettings, PROTECTED_MODE_DENIED, protected_mode_refuses};
pub use self::signal::{CloseLevel, CloseSignal};
pub use self::stats::{ServerStats, StatsSnapshot};
use crate::command::CommandTable;
use crate::error::Result;
use crate::handler::Handler;

/// Redis's reply to a client over `maxclients`.
const MAX_CLIENTS_REACHED: &[u8] = b"-ERR max number of clients reached\r\n";
/// How long to wait after a failed accept (out of file descriptors) before the next one.
const ACCEPT_RETRY_DELAY: Duration = Duration::from_millis(10);

/// What every connection task of a server shares.
pub(crate) struct Shared<H> {
    pub(crate) config: ServerConfig,
    pub(crate) handler: Rc<H>,
    pub(crate) table: Rc<CommandTable>,
    pub(crate) registry: Rc<ClientRegistry>,
    pub(crate) stats: Rc<ServerStats>,
    pub(crate) client_count: Arc<AtomicUsize>,
    pub(crate) settings: Arc<LiveSettings>,
    /// Read readiness of this core's sockets; `None` where the kernel cannot set up the ring,
    /// and connections then wait through glommio.
    pub(crate) readiness: Option<Rc<Readiness>>,
    /// Wakes the connections waiting for a request to check their idle time.
    pub(crate) idle_ticks: Rc<IdleTicks>,
}

/// One core's RESP server.
pub struct Server<H> {
    config: ServerConfig,
    handler: Rc<H>,
    table: Rc<CommandTable>,
    registry: Rc<ClientRegistry>,
    stats: Rc<ServerStats>,
    client_count: Arc<AtomicUsize>,
    settings: Arc<LiveSettings>,
}

impl<H: Handler + 'static> Server<H> {
    /// A server with its own registry, stats and client counter (a single-core setup); use the
    /// `with_*` methods to share them with the handler or with other cores.
    pub fn new(config: ServerConfig, handler: Rc<H>, table: Rc<CommandTable>) -> Result<Self> {
        config.validate()?;
        let registry = Rc::new(ClientRegistry::new(config.core_id, config.core_count));
        let settings = Arc::new(LiveSettings::new(&config));
        Ok(Self {
            settings,
            config,
            handler,
            table,
            registry,
            stats: Rc::new(ServerStats::default()),
            client_count: Arc::new(AtomicUsize::new(0)),
        })
    }

    /// Uses `registry` (which the handler also holds for CLIENT LIST/KILL); it must have been
    /// made with the config's `core_id` and `core_count`, or client ids collide across cores.
    pub fn with_registry(mut self, registry: Rc<ClientRegistry>) -> Self {
        self.registry = registry;
        self
    }

    /// Counts into `stats` (which INFO reads).
    pub fn with_stats(mut self, stats: Rc<ServerStats>) -> Self {
        self.stats = stats;
        self
    }

    /// Shares the connected-client counter that `maxclients` bounds with the other cores.
    pub fn with_client_count(mut self, client_count: Arc<AtomicUsize>) -> Self {
        self.client_count = client_count;
        self
    }

    /// Reads the runtime-changeable options from `settings` (shared with the other cores and
    /// with CONFIG SET) instead of the config's starting values.
    pub fn with_settings(mut self, settings: Arc<LiveSettings>) -> Self {
        self.settings = settings;
        self
    }

    /// The live connections of this core.
    pub fn registry(&self) -> Rc<ClientRegistry> {
        self.registry.clone()
    }

    /// This core's counters.
    pub fn stats(&self) -> Rc<ServerStats> {
        self.stats.clone()
    }

    /// Accepts clients on `listener` until `shutdown` completes, then closes every connection
    /// gracefully (see the module documentation) and returns once they are all gone.
    pub async fn serve(&self, listener: TcpListener, shutdown: impl Future<Output = ()>) {
        let readiness = Readiness::new()
            .inspect_err(|error| tracing::warn!(%error, "no readiness ring: connections wait through glommio"))
            .ok();
        // Dropping the handle at the end of `serve` stops the driver.
        let _driver = readiness.clone().map(|readiness| glommio::spawn_local(readiness.drive()));
        let idle_ticks = Rc::new(IdleTicks::default());
        let settings = self.settings.clone();
        let ticks = idle_ticks.clone();
        let _ticker = glommio::spawn_local(async move { ticks.drive(settings).await });
        let shared = Rc::new(Shared {
            readiness,
            idle_ticks,
            config: self.config.clone(),
            handler: self.handler.clone(),
            table: self.table.clone(),
            registry: self.registry.clone(),
            stats: self.stats.clone(),
            client_count: self.client_count.clone(),
            settings: self.settings.clone(),
        });
        let gate = Gate::new();
        let mut shutdown = pin!(shutdown);
        loop {
            let accepted = future::or(async { Some(listener.accept().await) }, async {
                shutdown.as_mut().await;
                None
            });
            match accepted.await {
                None => break,
                Some(Ok(stream)) => admit(&shared, &gate, stream),
                Some(Err(error)) => {
                    tracing::warn!(%error, "accept failed");
                    glommio::timer::sleep(ACCEPT_RETRY_DELAY).await;
                }
            }
        }
        drop(listener);
        close_connections(&shared, &gate).await;
    }
}

/// Starts a task for a new client, or turns it away past `maxclients` or by protected mode.
fn admit<H: Handler + 'static>(shared: &Rc<Shared<H>>, gate: &Gate, stream: TcpStream) {
    let Some(slot) = ClientSlot::take(&shared.client_count, shared.settings.maxclients()) else {
        shared.stats.connection_rejected();
        spawn_on(gate, reject(stream, MAX_CLIENTS_REACHED));
        return;
    };
    let password_set = shared.handler.requires_auth();
    if protected_mode_refuses(shared.settings.protected_mode(), password_set, stream.peer_addr().ok()) {
        tracing::warn!(peer = ?stream.peer_addr().ok(), "protected mode: refusing a client outside the loopback interface");
        drop(slot);
        shared.stats.connection_rejected();
        spawn_on(gate, reject(stream, PROTECTED_MODE_DENIED));
        return;
    }
    shared.stats.connection_accepted();
    let id = shared.registry.allocate_id();
    spawn_on(gate, connection::run(shared.clone(), stream, id, slot));
}

/// Stops every connection gracefully, forcing those still busy after the grace period.
async fn close_connections<H>(shared: &Shared<H>, gate: &Gate) {
    let registry = &shared.registry;
    registry.close_all(CloseLevel::Graceful);
    let grace = Duration::from_millis(shared.config.shutdown_grace_ms);
    // The gate's close future must not be dropped before it completes (glommio panics
    // then), so the grace timer raises the level and then waits forever.
    let all_closed = async {
        if let Err(error) = gate.close().await {
            tracing::warn!(%error, "closing the connection gate");
        }
    };
    let force_after_grace = async {
        glommio::timer::sleep(grace).await;
        registry.close_all(CloseLevel::Now);
        future::pending::<()>().await;
    };
    future::or(all_closed, force_after_grace).await;
}

fn spawn_on(gate: &Gate, task: impl Future<Output = ()> + 'static) {
    match gate.spawn(task) {
        Ok(task) => drop(task.detach()),
        Err(error) => tracing::warn!(%error, "cannot start a connection task while shutting down"),
    }
}

/// Tells a turned-away client why with Redis's text, then closes it.
async fn reject(mut stream: TcpStream, reason: &'static [u8]) {
    // A client that never reads must not keep the task alive.
    let _ = stream.set_write_timeout(Some(Duration::from_secs(1)));
    let _ = stream.write_all(reason).await;
}

/// One place under `maxclients`, given back when the connection ends.
pub(crate) struct ClientSlot {
    count: Arc<AtomicUsize>,
}

impl ClientSlot {
    fn take(count: &Arc<AtomicUsize>, maxclients: usize) -> Option<Self> {
        let previous = count.fetch_add(1, Ordering::AcqRel);
        if previous >= maxclients {
            count.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        Some(Self { count: count.clone() })
    }
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        self.count.fetch_sub(1, Ordering::AcqRel);
    }
}
