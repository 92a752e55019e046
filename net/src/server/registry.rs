//! [`ClientRegistry`]: one core's live connections, for CLIENT LIST, CLIENT INFO and
//! CLIENT KILL.
//!
//! Each connection publishes a [`ClientInfo`] snapshot before every batch it runs and after
//! every read, and owns a [`CloseSignal`] the registry can raise. The handler reads the
//! snapshots (formatting them with [`format_client_list_line`], Redis 7.2's exact line) and
//! kills through [`ClientRegistry::kill`]; `shard` fans both out across cores, each core
//! answering for its own registry.
//!
//! Client ids are unique across cores without sharing anything: core `c` of `n` hands out
//! `c + 1, c + 1 + n, c + 1 + 2n, ...`, so [`core_of_client_id`] finds a client's core.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Instant;

use bytes::Bytes;

use super::signal::{CloseLevel, CloseSignal};
use crate::frame::Protocol;
use crate::handler::ConnectionState;

/// What CLIENT LIST shows about one connection, copied out of the connection.
#[derive(Clone, Debug, PartialEq)]
pub struct ClientInfo {
    pub id: u64,
    pub peer_addr: Option<SocketAddr>,
    pub local_addr: Option<SocketAddr>,
    pub fd: i32,
    pub name: Option<Bytes>,
    pub library_name: Option<Bytes>,
    pub library_version: Option<Bytes>,
    pub created_at: Instant,
    pub last_interaction_at: Instant,
    pub db: u32,
    pub protocol: Protocol,
    pub last_command: Option<&'static str>,
    /// Redis's flag letters (`N`, `x`, `c`...).
    pub flags: String,
    /// Requests queued in MULTI; `None` outside MULTI (`multi=-1`).
    pub multi_queued: Option<usize>,
    pub multi_mem_bytes: usize,
    pub buffers: BufferUsage,
}

/// The connection's buffer sizes, for the `qbuf`, `argv-mem`, `rbs`, `rbp` and `tot-mem` fields.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BufferUsage {
    /// Unparsed bytes in the query buffer (`qbuf`).
    pub query_bytes: usize,
    /// Room left in the query buffer (`qbuf-free`).
    pub query_free_bytes: usize,
    /// Bytes of the arguments of the batch running now (`argv-mem`).
    pub argv_bytes: usize,
    /// Capacity of the reply buffer (`rbs`).
    pub reply_buffer_bytes: usize,
    /// The largest reply batch written recently (`rbp`).
    pub reply_peak_bytes: usize,
}

impl ClientInfo {
    /// A snapshot of `conn` with `buffers`.
    pub fn of(conn: &ConnectionState, buffers: BufferUsage) -> Self {
        let multi_queued = conn.multi.as_ref().map(|multi| multi.queued.len());
        let multi_mem_bytes = conn
            .multi
            .as_ref()
            .map_or(0, |multi| multi.queued.iter().flat_map(|request| &request.args).map(|arg| arg.len()).sum());
        Self {
            id: conn.id,
            peer_addr: conn.peer_addr,
            local_addr: conn.local_addr,
            fd: conn.fd,
            name: conn.name.clone(),
            library_name: conn.library_name.clone(),
            library_version: conn.library_version.clone(),
            created_at: conn.created_at,
            last_interaction_at: conn.last_interaction_at,
            db: conn.db,
            protocol: conn.protocol,
            last_command: conn.last_command,
            flags: conn.flag_letters(),
            multi_queued,
            multi_mem_bytes,
            buffers,
        }
    }

    /// Memory the connection holds, roughly as Redis's `tot-mem` counts it.
    pub fn total_memory_bytes(&self) -> usize {
        let buffers = &self.buffers;
        std::mem::size_of::<ConnectionState>()
            + buffers.query_bytes
            + buffers.query_free_bytes
            + buffers.argv_bytes
            + buffers.reply_buffer_bytes
            + self.multi_mem_bytes
    }
}

/// Redis's `addr=` text: `ip:port`, `[ipv6]:port`, `?:0` when unknown.
pub fn format_addr(addr: Option<SocketAddr>) -> String {
    addr.map_or_else(|| "?:0".to_owned(), |addr| addr.to_string())
}

fn push_bytes(line: &mut Vec<u8>, field: &str, value: Option<&Bytes>) {
    line.extend_from_slice(field.as_bytes());
    if let Some(value) = value {
        line.extend_from_slice(value);
    }
}

/// One CLIENT LIST line, without its trailing newline, in Redis 7.2's field order:
/// `id=7 addr=127.0.0.1:50346 laddr=127.0.0.1:6379 fd=8 name= age=0 idle=0 flags=N db=0 sub=0
/// psub=0 ssub=0 multi=-1 qbuf=26 qbuf-free=20448 argv-mem=10 multi-mem=0 rbs=1024 rbp=0 obl=0
/// oll=0 omem=0 tot-mem=22298 events=r cmd=client|list user=default redir=-1 resp=2
/// lib-name= lib-ver=`.
pub fn format_client_list_line(info: &ClientInfo, now: Instant) -> Vec<u8> {
    let mut head = String::new();
    let age_secs = now.saturating_duration_since(info.created_at).as_secs();
    let idle_secs = now.saturating_duration_since(info.last_interaction_at).as_secs();
    let _ = write!(
        head,
        "id={} addr={} laddr={} fd={}",
        info.id,
        format_addr(info.peer_addr),
        format_addr(info.local_addr),
        info.fd
    );
    let mut line = head.into_bytes();
    push_bytes(&mut line, " name=", info.name.as_ref());
    let buffers = &info.buffers;
    let multi = info.multi_queued.map_or(-1, |queued| queued as i64);
    let resp = match info.protocol {
        Protocol::Resp2 => 2,
        Protocol::Resp3 => 3,
    };
    let mut middle = String::new();
    let _ = write!(
        middle,
        " age={age_secs} idle={idle_secs} flags={} db={} sub=0 psub=0 ssub=0 multi={multi} qbuf={} qbuf-free={} \
         argv-mem={} multi-mem={} rbs={} rbp={} obl=0 oll=0 omem=0 tot-mem={} events=r cmd={} user=default \
         redir=-1 resp={resp}",
        info.flags,
        info.db,
        buffers.query_bytes,
        buffers.query_free_bytes,
        buffers.argv_bytes,
        info.multi_mem_bytes,
        buffers.reply_buffer_bytes,
        buffers.reply_peak_bytes,
        info.total_memory_bytes(),
        info.last_command.unwrap_or("NULL"),
    );
    line.extend_from_slice(middle.as_bytes());
    push_bytes(&mut line, " lib-name=", info.library_name.as_ref());
    push_bytes(&mut line, " lib-ver=", info.library_version.as_ref());
    line
}

/// The core that owns client `id` when `core_count` cores share the port.
pub fn core_of_client_id(id: u64, core_count: u32) -> u32 {
    let core_count = u64::from(core_count.max(1));
    (id.saturating_sub(1) % core_count) as u32
}

/// Which clients CLIENT KILL closes; every given criterion must match.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KillFilter {
    /// `ID client-id`.
    pub id: Option<u64>,
    /// `ADDR ip:port`, or the old form `CLIENT KILL ip:port`; compared with `addr=`'s text.
    pub addr: Option<String>,
    /// `LADDR ip:port`; compared with `laddr=`'s text.
    pub local_addr: Option<String>,
    /// `SKIPME yes` (the default of the new form): never kill the calling client. The old
    /// form kills the caller too.
    pub skip_me: bool,
}

impl KillFilter {
    /// Whether `info` matches, for a request from client `caller_id`.
    pub fn matches(&self, info: &ClientInfo, caller_id: u64) -> bool {
        if self.skip_me && info.id == caller_id {
            return false;
        }
        self.id.is_none_or(|id| id == info.id)
            && self.addr.as_ref().is_none_or(|addr| *addr == format_addr(info.peer_addr))
            && self.local_addr.as_ref().is_none_or(|laddr| *laddr == format_addr(info.local_addr))
    }
}

/// What [`ClientRegistry::kill`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KillOutcome {
    /// Clients matched, the caller included.
    pub killed: usize,
    /// The caller matched: the handler must set `close_after_reply` on its connection so the
    /// reply is written before it closes, as Redis does.
    pub killed_self: bool,
}

#[derive(Debug)]
struct Entry {
    info: ClientInfo,
    signal: Rc<CloseSignal>,
}

/// One core's live connections, in id (= creation) order.
#[derive(Debug)]
pub struct ClientRegistry {
    core_id: u32,
    core_count: u32,
    next_sequence: Cell<u64>,
    clients: RefCell<BTreeMap<u64, Entry>>,
}

impl ClientRegistry {
    /// An empty registry for core `core_id` of `core_count`.
    pub fn new(core_id: u32, core_count: u32) -> Self {
        assert!(core_id < core_count, "core_id {core_id} must be below core_count {core_count}");
        Self { core_id, core_count, next_sequence: Cell::new(0), clients: RefCell::new(BTreeMap::new()) }
    }

    /// The next client id of this core, never handed out before.
    pub fn allocate_id(&self) -> u64 {
        let sequence = self.next_sequence.get();
        self.next_sequence.set(sequence + 1);
        sequence * u64::from(self.core_count) + u64::from(self.core_id) + 1
    }

    /// Adds a connection; returns the signal that closes it.
    pub fn register(&self, info: ClientInfo) -> Rc<CloseSignal> {
        let signal = Rc::new(CloseSignal::default());
        let entry = Entry { info, signal: signal.clone() };
        self.clients.borrow_mut().insert(entry.info.id, entry);
        signal
    }

    /// Replaces a connection's snapshot.
    pub fn publish(&self, info: ClientInfo) {
        if let Some(entry) = self.clients.borrow_mut().get_mut(&info.id) {
            entry.info = info;
        }
    }

    /// Forgets a closed connection.
    pub fn remove(&self, id: u64) {
        self.clients.borrow_mut().remove(&id);
    }

    /// How many connections are live.
    pub fn len(&self) -> usize {
        self.clients.borrow().len()
    }

    /// Whether no connection is live.
    pub fn is_empty(&self) -> bool {
        self.clients.borrow().is_empty()
    }

    /// The snapshot of client `id`, if it is live on this core.
    pub fn get(&self, id: u64) -> Option<ClientInfo> {
        self.clients.borrow().get(&id).map(|entry| entry.info.clone())
    }

    /// Every live connection's snapshot, in id order.
    pub fn snapshots(&self) -> Vec<ClientInfo> {
        self.clients.borrow().values().map(|entry| entry.info.clone()).collect()
    }

    /// CLIENT LIST's text for this core: one line per client (only `ids` when given), each
    /// ending in `\n`.
    pub fn client_list(&self, now: Instant, ids: Option<&[u64]>) -> Vec<u8> {
        let mut text = Vec::new();
        for entry in self.clients.borrow().values() {
            if ids.is_some_and(|ids| !ids.contains(&entry.info.id)) {
                continue;
            }
            text.extend_from_slice(&format_client_list_line(&entry.info, now));
            text.push(b'\n');
        }
        text
    }

    /// CLIENT KILL: closes every matching client other than the caller at once (its batch in
    /// progress finishes, its replies are dropped); reports whether the caller matched.
    pub fn kill(&self, filter: &KillFilter, caller_id: u64) -> KillOutcome {
        let mut outcome = KillOutcome::default();
        for entry in self.clients.borrow().values() {
            if !filter.matches(&entry.info, caller_id) {
                continue;
            }
            outcome.killed += 1;
            if entry.info.id == caller_id {
                outcome.killed_self = true;
            } else {
                entry.signal.raise(CloseLevel::Now);
            }
        }
        outcome
    }

    /// Raises every connection's close signal to `level` (shutdown).
    pub fn close_all(&self, level: CloseLevel) {
        for entry in self.clients.borrow().values() {
            entry.signal.raise(level);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn info(id: u64, port: u16) -> ClientInfo {
        let mut conn = ConnectionState::new(id);
        conn.peer_addr = Some(SocketAddr::from(([127, 0, 0, 1], port)));
        conn.local_addr = Some(SocketAddr::from(([127, 0, 0, 1], 6379)));
        conn.fd = 8;
        ClientInfo::of(&conn, BufferUsage::default())
    }

    #[test]
    fn ids_are_unique_across_cores_and_name_their_core() {
        let cores: Vec<ClientRegistry> = (0..3).map(|core| ClientRegistry::new(core, 3)).collect();
        let mut seen = std::collections::HashSet::new();
        for _ in 0..10 {
            for (core, registry) in cores.iter().enumerate() {
                let id = registry.allocate_id();
                assert!(seen.insert(id), "id {id} handed out twice");
                assert_eq!(core_of_client_id(id, 3), core as u32);
            }
        }
        assert_eq!(ClientRegistry::new(0, 1).allocate_id(), 1);
    }

    #[test]
    fn a_fresh_client_lists_like_redis() {
        let mut client = info(7, 50346);
        client.created_at -= Duration::from_secs(3);
        client.buffers = BufferUsage {
            query_bytes: 26,
            query_free_bytes: 20448,
            argv_bytes: 10,
            reply_buffer_bytes: 1024,
            reply_peak_bytes: 0,
        };
        client.last_command = Some("client|list");
        client.name = Some(Bytes::from_static(b"worker"));
        let line = String::from_utf8(format_client_list_line(&client, client.last_interaction_at)).expect("ascii");
        let tot_mem = client.total_memory_bytes();
        assert_eq!(
            line,
            format!(
                "id=7 addr=127.0.0.1:50346 laddr=127.0.0.1:6379 fd=8 name=worker age=3 idle=0 flags=N db=0 sub=0 \
                 psub=0 ssub=0 multi=-1 qbuf=26 qbuf-free=20448 argv-mem=10 multi-mem=0 rbs=1024 rbp=0 obl=0 oll=0 \
                 omem=0 tot-mem={tot_mem} events=r cmd=client|list user=default redir=-1 resp=2 lib-name= lib-ver="
            )
        );
    }

    #[test]
    fn kill_matches_every_criterion_and_spares_the_caller_when_asked() {
        let registry = ClientRegistry::new(0, 1);
        let signals: Vec<_> =
            [(1, 1000), (2, 2000), (3, 3000)].map(|(id, port)| registry.register(info(id, port))).into();
        let by_addr = KillFilter { addr: Some("127.0.0.1:2000".into()), skip_me: true, ..KillFilter::default() };
        assert_eq!(registry.kill(&by_addr, 1), KillOutcome { killed: 1, killed_self: false });
        assert_eq!(signals[1].level(), CloseLevel::Now);
        let everyone_but_me =
            KillFilter { local_addr: Some("127.0.0.1:6379".into()), skip_me: true, ..KillFilter::default() };
        assert_eq!(registry.kill(&everyone_but_me, 1).killed, 2);
        assert_eq!(signals[0].level(), CloseLevel::Open);
        let old_form = KillFilter { addr: Some("127.0.0.1:1000".into()), ..KillFilter::default() };
        assert_eq!(registry.kill(&old_form, 1), KillOutcome { killed: 1, killed_self: true });
        assert_eq!(signals[0].level(), CloseLevel::Open, "the caller closes itself after its reply");
        let nobody = KillFilter { id: Some(42), ..KillFilter::default() };
        assert_eq!(registry.kill(&nobody, 1).killed, 0);
    }

    #[test]
    fn client_list_has_one_line_per_client_in_id_order() {
        let registry = ClientRegistry::new(0, 1);
        registry.register(info(2, 2000));
        registry.register(info(1, 1000));
        let text = String::from_utf8(registry.client_list(Instant::now(), None)).expect("ascii");
        let ids: Vec<&str> = text.lines().map(|line| line.split(' ').next().expect("id field")).collect();
        assert_eq!(ids, ["id=1", "id=2"]);
        assert!(text.ends_with('\n'));
        let only_two = String::from_utf8(registry.client_list(Instant::now(), Some(&[2]))).expect("ascii");
        assert!(only_two.starts_with("id=2 ") && only_two.lines().count() == 1);
        registry.remove(1);
        assert_eq!(registry.len(), 1);
    }
}
