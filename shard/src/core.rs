//! One core's runtime state: its store, its end of the mesh, its statistics, and the node-wide
//! pieces it shares (region map, runtime configuration, shutdown signal).

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use bytes::Bytes;
use nokv_net::frame::Reply;
use nokv_net::server::{ClientRegistry, ServerStats};

use crate::call::{CoreCall, CoreReply, Fanout};
use crate::config::RuntimeConfig;
use crate::mesh::Mesh;
use crate::routing::RegionMap;
use crate::stats::{CommandStats, InstantMetrics, SlowLog};
use crate::store::Store;

/// Node-wide state every core holds a handle to.
#[derive(Debug)]
pub struct NodeShared {
    /// The region map.
    pub map: Arc<RegionMap>,
    /// Runtime-changeable configuration.
    pub config: Arc<RuntimeConfig>,
    /// Set once to stop the node (SIGTERM, SIGINT, SHUTDOWN).
    pub shutdown: Arc<AtomicBool>,
    /// When the node started.
    pub started_at: Instant,
    /// Random id of this run (INFO `run_id`).
    pub run_id: String,
}

impl NodeShared {
    /// Asks every core to stop.
    pub fn request_shutdown(&self) {
        self.shutdown.store(true, Ordering::SeqCst);
    }

    /// True once shutdown was requested.
    pub fn shutting_down(&self) -> bool {
        self.shutdown.load(Ordering::SeqCst)
    }
}

/// Everything one core owns.
pub struct Core {
    /// This core's index.
    pub id: usize,
    /// The store.
    pub store: Store,
    /// The core mesh.
    pub mesh: Rc<Mesh<CoreCall, CoreReply>>,
    /// Node-wide state.
    pub node: Arc<NodeShared>,
    /// Per-command statistics and latency histograms.
    pub stats: RefCell<CommandStats>,
    /// Slow commands.
    pub slowlog: RefCell<SlowLog>,
    /// The connections of this core.
    pub clients: Rc<ClientRegistry>,
    /// Connection-level counters of this core's server.
    pub server_stats: Rc<ServerStats>,
    /// Failed AUTH attempts (INFO `acl_access_denied_auth`).
    pub auth_failures: Cell<u64>,
    /// Sampled rates (INFO `instantaneous_ops_per_sec` and friends).
    pub metrics: RefCell<InstantMetrics>,
}

impl Core {
    /// Assembles a core.
    pub fn new(
        id: usize,
        store: Store,
        mesh: Rc<Mesh<CoreCall, CoreReply>>,
        node: Arc<NodeShared>,
        clients: Rc<ClientRegistry>,
    ) -> Core {
        Core {
            id,
            store,
            mesh,
            node,
            stats: RefCell::new(CommandStats::default()),
            slowlog: RefCell::new(SlowLog::default()),
            clients,
            server_stats: Rc::new(ServerStats::default()),
            auth_failures: Cell::new(0),
            metrics: RefCell::new(InstantMetrics::default()),
        }
    }

    /// The region map.
    pub fn map(&self) -> &RegionMap {
        &self.node.map
    }

    /// Runs `call` on `core`: inline when it is this core, over the mesh otherwise.
    ///
    /// The inline command runs boxed: a command's future is as large as the largest command's
    /// (about 4 KiB), and unboxed it would make this future, and every future that awaits it,
    /// that large, copied whole each time a pipeline's requests are collected and boxed.
    pub async fn call_core(self: &Rc<Self>, core: usize, call: CoreCall) -> Reply {
        if core == self.id {
            return Box::pin(crate::dispatch::execute_call(self.clone(), call)).await;
        }
        match self.mesh.call(core, call).await {
            Ok(reply) => reply,
            Err(error) => Reply::error(format!("ERR {error}")),
        }
    }

    /// Runs a command on the core that owns all its keys.
    pub async fn call_owner(self: &Rc<Self>, owner: usize, args: Vec<Bytes>) -> Reply {
        self.call_core(owner, CoreCall::Command(args)).await
    }

    /// Runs `fanout` on every core and collects the replies in core order.
    pub async fn fanout(self: &Rc<Self>, fanout: Fanout) -> Vec<Reply> {
        let calls: Vec<_> =
            (0..self.mesh.cores()).map(|core| self.call_core(core, CoreCall::Fanout(fanout.clone()))).collect();
        crate::store::join_all(calls).await
    }
}
