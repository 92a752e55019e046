//! Starting and stopping a node: one glommio executor per core, each owning its engine,
//! journal, raft groups and connections, all listening on the same port.
//!
//! Start-up order on each core: join the core mesh, open the engine and the journal in the
//! core's directory, open the raft groups (which re-apply committed entries past the engine's
//! flushed watermark), spawn background work (flush/compaction at low shares, the raft ready
//! loop and its ticker, log compaction, `everysec` syncs, expired-key reclamation, the mesh
//! receiver), then accept connections until shutdown. Shutdown (SIGTERM, SIGINT, `SHUTDOWN`):
//! stop accepting, let in-flight batches finish, flush memtables and sync the journal.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::path::Path;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use glommio::{Latency, LocalExecutorPoolBuilder, PoolPlacement, Shares};
use nokv_engine::cache::CacheOptions;
use nokv_engine::io::dma::DmaFs;
use nokv_engine::journal::{Journal, JournalOptions};
use nokv_engine::{Engine, EngineOptions};
use nokv_net::command::CommandTable;
use nokv_net::server::{ClientRegistry, Server, ServerConfig};
use nokv_raft::{RaftConfig, RaftStore};
use nokv_txn::gc::filter::WriteCfGcFilter;
use nokv_txn::row_cache::RowCache;
use nokv_txn::tso::{Tso, TsoOptions};

use crate::call::{CoreCall, CoreReply};
use crate::config::{AppendFsync, MAX_FROZEN_MEMTABLES, NodeConfig, RuntimeConfig};
use crate::core::{Core, NodeShared};
use crate::error::{Error, Result};
use crate::gc::{InFlight, MvccGc};
use crate::handler::NodeHandler;
use crate::mesh::{self, Builder, Mesh};
use crate::routing::RegionMap;
use crate::store::{Applier, Store};

/// How often cores look at the shutdown flag.
const SHUTDOWN_POLL: Duration = Duration::from_millis(50);
/// How often a recovered core looks whether the others have recovered too.
const RECOVERY_POLL: Duration = Duration::from_millis(5);
/// How long the start-up check waits for an existing listener to answer.
const PORT_PROBE_TIMEOUT: Duration = Duration::from_millis(300);
/// How long a dead process's listening socket may linger before the port counts as taken.
const PORT_LINGER_TIMEOUT: Duration = Duration::from_secs(3);
/// First pause before a write that failed for lack of space is retried.
const DISK_RETRY_MIN: Duration = Duration::from_millis(100);
/// Longest pause between retries: writes resume within about a second of space returning.
const DISK_RETRY_MAX: Duration = Duration::from_secs(1);
/// Shares of the background task queue (foreground requests have the default 1000).
const BACKGROUND_SHARES: usize = 100;
/// Writes queued for the same raft round are merged into log entries of up to this many bytes
/// (the `Applier` reads concatenated write batches as one). Pipelined clients queue hundreds
/// of writes per round; one entry for them saves raft, journal and apply work per write.
const MERGE_PROPOSALS_UP_TO_BYTES: usize = 256 << 10;
/// While background work waits, glommio preempts the running task queue after 2 ms instead
/// of its default 100 ms. The other direction (client work waiting on background work) is
/// handled by the background work itself: it pauses every millisecond (`DmaFs::pause`). A
/// short timer on the client queue, or on every queue (commit 0778301), made fresh servers
/// hang at start-up now and then, so none is set there.
const BACKGROUND_LATENCY: Latency = Latency::Matters(Duration::from_millis(2));

/// What every core starts from.
#[derive(Clone)]
struct Startup {
    node: Arc<NodeShared>,
    tso: Arc<Tso>,
    mesh: Builder<CoreCall, CoreReply>,
    addresses: Vec<SocketAddr>,
    client_count: Arc<AtomicUsize>,
    /// Cores that have replayed their logs; no core listens before all have.
    recovered_cores: Arc<AtomicUsize>,
}

/// Runs a node until it is shut down. Blocks the calling thread.
pub fn run(config: NodeConfig) -> Result<()> {
    config.validate()?;
    let shards = config.shard_count();
    prepare_dir(&config.dir, shards)?;
    let addresses = resolve_and_check(&config)?;
    let tso = Arc::new(
        Tso::open(&config.dir, TsoOptions::default())
            .map_err(|e| Error::Config { name: "dir", reason: format!("cannot open the timestamp oracle: {e}") })?,
    );
    let node = Arc::new(NodeShared {
        map: Arc::new(RegionMap::bootstrap(shards, config.regions_per_shard)?),
        config: Arc::new(RuntimeConfig::new(config)),
        shutdown: Arc::new(AtomicBool::new(false)),
        started_at: Instant::now(),
        run_id: run_id(),
    });
    register_signals(&node.shutdown)?;
    let startup = Startup {
        node,
        tso,
        mesh: mesh::builder(shards),
        addresses,
        client_count: Arc::new(AtomicUsize::new(0)),
        recovered_cores: Arc::new(AtomicUsize::new(0)),
    };
    let pool = LocalExecutorPoolBuilder::new(PoolPlacement::MaxSpread(shards, None))
        .on_all_shards(move || {
            let startup = startup.clone();
            async move { core_main(startup).await }
        })
        .map_err(|e| Error::Io {
            what: "starting the executors".into(),
            source: std::io::Error::other(e.to_string()),
        })?;
    let mut first_error = None;
    for result in pool.join_all() {
        match result {
            Ok(Ok(())) => {}
            Ok(Err(error)) => first_error = first_error.or(Some(error)),
            Err(panic) => {
                first_error = first_error.or(Some(Error::Io {
                    what: "a core panicked".into(),
                    source: std::io::Error::other(format!("{panic:?}")),
                }))
            }
        }
    }
    first_error.map_or(Ok(()), Err)
}

/// Creates the data directory, checks it is writable, and pins the shard count (the data of a
/// core lives in `core-N`, so the count cannot change between runs).
fn prepare_dir(dir: &Path, shards: usize) -> Result<()> {
    let io = |what: String| move |source| Error::Io { what, source };
    std::fs::create_dir_all(dir).map_err(io(format!("cannot create data directory {}", dir.display())))?;
    let probe = dir.join(".write-probe");
    std::fs::write(&probe, b"probe").map_err(io(format!("data directory {} is not writable", dir.display())))?;
    std::fs::remove_file(&probe).map_err(io(format!("data directory {} is not writable", dir.display())))?;
    let marker = dir.join("SHARDS");
    match std::fs::read_to_string(&marker) {
        Ok(text) if text.trim() == shards.to_string() => Ok(()),
        Ok(text) => Err(Error::Config {
            name: "shards",
            reason: format!(
                "{} was created with {} shards; start with --shards {}",
                dir.display(),
                text.trim(),
                text.trim()
            ),
        }),
        Err(_) => {
            std::fs::write(&marker, format!("{shards}\n")).map_err(io(format!("cannot write {}", marker.display())))
        }
    }
}

/// Resolves the bind addresses and fails early, with a clear message, if something already
/// listens on the port. glommio listeners set SO_REUSEPORT, which would silently share the port
/// with another NoKV, so a bind test is not enough: connect to it. (A bind that fails for other
/// reasons is reported when the cores bind.)
fn resolve_and_check(config: &NodeConfig) -> Result<Vec<SocketAddr>> {
    let mut addresses = Vec::new();
    for host in &config.bind {
        let resolved = (host.as_str(), config.port)
            .to_socket_addrs()
            .map_err(|e| Error::Config { name: "bind", reason: format!("cannot resolve {host}: {e}") })?;
        addresses.extend(resolved);
    }
    for address in &addresses {
        let mut probe = *address;
        if probe.ip().is_unspecified() {
            probe.set_ip(if probe.is_ipv4() { Ipv4Addr::LOCALHOST.into() } else { Ipv6Addr::LOCALHOST.into() });
        }
        if port_answers(&probe) {
            return Err(Error::Io {
                what: format!("cannot listen on {address}"),
                source: std::io::Error::new(std::io::ErrorKind::AddrInUse, "the port is already in use"),
            });
        }
    }
    Ok(addresses)
}

/// True when something keeps accepting connections on `address`. A process killed a moment
/// ago can leave its listening socket open while the kernel tears its io_uring down, so a
/// connection must keep succeeding for a while before the port counts as taken.
fn port_answers(address: &SocketAddr) -> bool {
    let deadline = Instant::now() + PORT_LINGER_TIMEOUT;
    while std::net::TcpStream::connect_timeout(address, PORT_PROBE_TIMEOUT).is_ok() {
        if Instant::now() >= deadline {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

fn register_signals(flag: &Arc<AtomicBool>) -> Result<()> {
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(signal, flag.clone())
            .map_err(|source| Error::Io { what: "installing signal handlers".into(), source })?;
    }
    Ok(())
}

fn run_id() -> String {
    let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let mut state = (seed as u64) ^ u64::from(std::process::id()).rotate_left(32);
    (0..40)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            char::from_digit((state % 16) as u32, 16).unwrap_or('0')
        })
        .collect()
}

fn engine_options(config: &NodeConfig) -> EngineOptions {
    let budget = config.shard_cache_budget();
    let mut options = EngineOptions {
        memtable_size_bytes: config.memtable_size_bytes,
        max_frozen_memtables: MAX_FROZEN_MEMTABLES,
        ..Default::default()
    };
    options.cache = CacheOptions { block_cache_bytes: budget.block_bytes };
    nokv_txn::mvcc::tune_engine_options(&mut options);
    options
}

async fn core_main(startup: Startup) -> Result<()> {
    let mesh = Mesh::join(startup.mesh.clone()).await?;
    let core_id = mesh.core_id();
    let node = startup.node.clone();
    let config = &node.config.node;
    let core_dir = config.dir.join(format!("core-{core_id}"));
    let fs = DmaFs::new(&core_dir).await?;
    let engine = Engine::open(fs.clone(), &core_dir, engine_options(config)).await?;
    let journal = Rc::new(Journal::open(fs, &core_dir.join("journal"), JournalOptions::default()).await?);
    let raft_config = RaftConfig {
        sync_log: config.appendfsync == AppendFsync::Always,
        merge_proposals_up_to_bytes: MERGE_PROPOSALS_UP_TO_BYTES,
        ..RaftConfig::default()
    };
    let regions: Vec<u64> = node.map.regions_of_core(core_id).map(|r| r.id).collect();
    let rows = Rc::new(RowCache::new(config.shard_cache_budget().row_bytes));
    let applier = Applier::new(engine.clone(), rows.clone());
    let raft = RaftStore::open(journal.clone(), applier, raft_config, &regions).await.map_err(|e| Error::Io {
        what: format!("opening raft groups of core {core_id}"),
        source: std::io::Error::other(e.to_string()),
    })?;
    let raft = Rc::new(raft);
    let gc = Rc::new(MvccGc {
        engine: engine.clone(),
        filter: Rc::new(WriteCfGcFilter::new()),
        in_flight: InFlight::default(),
        life_time_secs: config.gc_life_time_secs,
    });
    gc.install();
    let store = Store::new(engine.clone(), raft.clone(), startup.tso.clone(), node.map.clone(), rows, gc.clone());
    let core = Rc::new(Core::new(
        core_id,
        store,
        mesh,
        node.clone(),
        Rc::new(ClientRegistry::new(core_id as u32, node.map.cores() as u32)),
    ));
    spawn_background(&core, &engine, &raft, &journal);
    spawn_mvcc_gc(&core, gc, startup.tso.clone());
    wait_for_recovery(&core, &startup).await?;
    serve_clients(&core, &startup).await?;
    tracing::info!(core_id, "shutting down: flushing");
    raft.close();
    engine.close().await?;
    journal.sync().await?;
    core.mesh.close();
    Ok(())
}

fn spawn_background(
    core: &Rc<Core>,
    engine: &Engine<DmaFs>,
    raft: &Rc<RaftStore<DmaFs, Applier>>,
    journal: &Rc<Journal<DmaFs>>,
) {
    let executor = glommio::executor();
    let background = executor.create_task_queue(Shares::Static(BACKGROUND_SHARES), BACKGROUND_LATENCY, "background");
    let flusher = engine.clone();
    let _ =
        glommio::spawn_local_into(async move { run_engine_background(flusher).await }, background).map(|t| t.detach());
    spawn_raft_loops(core, raft);
    spawn_log_compaction(engine, raft, background);
    if core.node.config.node.appendfsync == AppendFsync::Everysec {
        spawn_everysec(core, journal);
    }
    let receiver = core.clone();
    glommio::spawn_local(async move {
        let handler_core = receiver.clone();
        receiver.mesh.serve(move |call| crate::dispatch::execute_call(handler_core.clone(), call)).await;
    })
    .detach();
    let sweeper = core.clone();
    let _ = glommio::spawn_local_into(async move { crate::cmd::keys::reclaim_expired(sweeper).await }, background)
        .map(|t| t.detach());
}

/// Runs the engine's background work; after a full disk, again after a pause (doubling up to
/// `DISK_RETRY_MAX`), like Redis retrying its AOF write from its cron.
async fn run_engine_background(engine: Engine<DmaFs>) {
    let mut pause = DISK_RETRY_MIN;
    loop {
        match engine.run_background().await {
            Err(error) if error.is_no_space() && !engine.is_closed() => {
                glommio::timer::sleep(pause).await;
                pause = (pause * 2).min(DISK_RETRY_MAX);
            }
            _ => return,
        }
    }
}

/// Recomputes the core's GC safe point periodically (see [`crate::gc`]), in the background
/// task queue.
fn spawn_mvcc_gc(core: &Rc<Core>, gc: Rc<MvccGc<DmaFs>>, tso: Arc<Tso>) {
    if gc.life_time_secs == 0 {
        return;
    }
    let node = core.node.clone();
    let task = async move {
        while !node.shutting_down() && !gc.engine.is_closed() {
            if let Err(error) = gc.run_once(&tso).await {
                tracing::warn!(%error, "MVCC GC round failed");
            }
            glommio::timer::sleep(gc.interval()).await;
        }
    };
    let executor = glommio::executor();
    let queue = executor.create_task_queue(Shares::Static(BACKGROUND_SHARES), Latency::NotImportant, "mvcc-gc");
    let _ = glommio::spawn_local_into(task, queue).map(|t| t.detach());
}

fn spawn_raft_loops(core: &Rc<Core>, raft: &Rc<RaftStore<DmaFs, Applier>>) {
    let driver = raft.clone();
    glommio::spawn_local(async move {
        let mut pause = DISK_RETRY_MIN;
        loop {
            match driver.drive_once().await {
                Ok(()) => pause = DISK_RETRY_MIN,
                // The round is kept; the next one writes it again (see nokv_raft's ready module).
                Err(nokv_raft::RaftError::DiskError { .. }) => {
                    glommio::timer::sleep(pause).await;
                    pause = (pause * 2).min(DISK_RETRY_MAX);
                }
                // The store stopped: a shutdown, or a failed round that closed it and said why.
                Err(nokv_raft::RaftError::Closed) => break,
                Err(error) => {
                    tracing::error!(%error, "raft ready round failed");
                    break;
                }
            }
        }
    })
    .detach();
    let ticker = raft.clone();
    let node = core.node.clone();
    let tick = Duration::from_millis(RaftConfig::default().tick_interval_ms);
    glommio::spawn_local(async move {
        while !node.shutting_down() {
            glommio::timer::sleep(tick).await;
            ticker.tick();
        }
    })
    .detach();
}

fn spawn_log_compaction(engine: &Engine<DmaFs>, raft: &Rc<RaftStore<DmaFs, Applier>>, queue: glommio::TaskQueueHandle) {
    let engine = engine.clone();
    let raft = raft.clone();
    // Each compaction is a synced journal write, so only regions whose flushed watermark moved
    // are compacted; the loop ends with the engine or the raft store.
    let task = async move {
        let mut compacted: std::collections::HashMap<u64, u64> = std::collections::HashMap::new();
        while !engine.is_closed() {
            engine.changed().await;
            for region in raft.regions() {
                let flushed = engine.flushed_index(region);
                if flushed == 0 || compacted.get(&region) == Some(&flushed) {
                    continue;
                }
                match raft.compact_log(region, flushed).await {
                    Ok(()) => {
                        compacted.insert(region, flushed);
                    }
                    Err(nokv_raft::RaftError::Closed) => return,
                    Err(error) => tracing::warn!(region, %error, "raft log compaction failed"),
                }
            }
        }
    };
    let _ = glommio::spawn_local_into(task, queue).map(|t| t.detach());
}

fn spawn_everysec(core: &Rc<Core>, journal: &Rc<Journal<DmaFs>>) {
    let journal = journal.clone();
    let node = core.node.clone();
    glommio::spawn_local(async move {
        while !node.shutting_down() {
            glommio::timer::sleep(Duration::from_secs(1)).await;
            if let Err(error) = journal.sync().await {
                tracing::error!(%error, "everysec journal sync failed");
            }
        }
    })
    .detach();
}

/// Waits until this core has applied every committed entry of its regions (the journal replay
/// after a restart), then until every other core has too. Only then do the cores listen, so no
/// client ever sees a node that is still replaying (where Redis would answer `-LOADING`).
async fn wait_for_recovery(core: &Rc<Core>, startup: &Startup) -> Result<()> {
    let started = Instant::now();
    for region in core.map().regions_of_core(core.id) {
        core.store.raft().read_index(region.id).await.map_err(|e| Error::Io {
            what: format!("replaying the log of region {}", region.id),
            source: std::io::Error::other(e.to_string()),
        })?;
    }
    let cores = core.map().cores();
    startup.recovered_cores.fetch_add(1, Ordering::SeqCst);
    while startup.recovered_cores.load(Ordering::SeqCst) < cores && !core.node.shutting_down() {
        glommio::timer::sleep(RECOVERY_POLL).await;
    }
    tracing::info!(core_id = core.id, elapsed_ms = started.elapsed().as_millis() as u64, "recovered");
    Ok(())
}

async fn serve_clients(core: &Rc<Core>, startup: &Startup) -> Result<()> {
    let node = &core.node;
    let server_config = ServerConfig {
        core_id: core.id as u32,
        core_count: node.map.cores() as u32,
        ..node.config.node.server_config()
    };
    let handler = Rc::new(NodeHandler::new(core.clone()));
    let table = Rc::new(CommandTable::new());
    let mut servers = Vec::new();
    for address in &startup.addresses {
        let listener = glommio::net::TcpListener::bind(address).map_err(|e| Error::Io {
            what: format!("listening on {address}"),
            source: std::io::Error::other(e.to_string()),
        })?;
        let server = Server::new(server_config.clone(), handler.clone(), table.clone())
            .map_err(|e| Error::Config { name: "maxclients", reason: e.to_string() })?
            .with_registry(core.clients.clone())
            .with_stats(core.server_stats.clone())
            .with_client_count(startup.client_count.clone())
            .with_settings(node.config.net_settings());
        servers.push((server, listener));
    }
    tracing::info!(core_id = core.id, addresses = ?startup.addresses, "accepting connections");
    let node = node.clone();
    let tasks: Vec<_> = servers
        .into_iter()
        .map(|(server, listener)| {
            let node = node.clone();
            glommio::spawn_local(async move { server.serve(listener, wait_for_shutdown(node)).await })
        })
        .collect();
    for task in tasks {
        task.await;
    }
    Ok(())
}

async fn wait_for_shutdown(node: Arc<NodeShared>) {
    while !node.shutting_down() {
        glommio::timer::sleep(SHUTDOWN_POLL).await;
    }
}
