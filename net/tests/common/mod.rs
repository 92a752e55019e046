//! A test server: `nokv_net::server::Server` on 127.0.0.1 with a small in-memory handler, in a
//! glommio executor on its own thread, and a blocking RESP client to talk to it.
#![allow(dead_code)]

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use bytes::Bytes;
use nokv_net::command::CommandTable;
use nokv_net::frame::{Protocol, Reply};
use nokv_net::server::{ClientRegistry, KillFilter, LiveSettings, Server, ServerConfig, StatsSnapshot};
use nokv_net::{ConnectionState, Handler, Request, errors};

/// Every wait in these tests is bounded by this.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// PING, ECHO, SET, GET, DEL, AUTH, HELLO and CLIENT ID|SETNAME|GETNAME|LIST|INFO|KILL over a
/// `HashMap`. `ECHO sleep:<ms>` sleeps before replying, to have a batch in flight.
pub struct MemHandler {
    data: RefCell<HashMap<Bytes, Bytes>>,
    password: Option<String>,
    registry: Rc<ClientRegistry>,
    batch_sizes: Arc<Mutex<Vec<usize>>>,
}

impl Handler for MemHandler {
    async fn call_batch(&self, conn: &mut ConnectionState, requests: Vec<Request>) -> Vec<Reply> {
        self.batch_sizes.lock().expect("batch sizes").push(requests.len());
        let mut replies = Vec::with_capacity(requests.len());
        for request in &requests {
            replies.push(self.call(conn, request).await);
        }
        replies
    }

    fn requires_auth(&self) -> bool {
        self.password.is_some()
    }
}

impl MemHandler {
    async fn call(&self, conn: &mut ConnectionState, request: &Request) -> Reply {
        let args = &request.args;
        match request.name() {
            "ping" => args.get(1).map_or(Reply::simple("PONG"), Reply::bulk),
            "echo" => self.echo(&args[1]).await,
            "set" => {
                self.data.borrow_mut().insert(args[1].clone(), args[2].clone());
                Reply::ok()
            }
            "get" => self.data.borrow().get(&args[1]).map_or(Reply::Null, |value| Reply::Bulk(value.clone())),
            "del" => Reply::Integer(
                args[1..].iter().filter(|key| self.data.borrow_mut().remove(*key).is_some()).count() as i64,
            ),
            "auth" => self.auth(conn, args.last().expect("arity")),
            "hello" => self.hello(conn, args),
            name if name.starts_with("client|") => self.client(conn, request),
            name => Reply::error(format!("ERR test handler does not implement '{name}'")),
        }
    }

    async fn echo(&self, message: &Bytes) -> Reply {
        if let Some(ms) = message.strip_prefix(b"sleep:") {
            let ms: u64 = std::str::from_utf8(ms).expect("ascii").parse().expect("milliseconds");
            glommio::timer::sleep(Duration::from_millis(ms)).await;
        }
        Reply::Bulk(message.clone())
    }

    fn auth(&self, conn: &mut ConnectionState, password: &[u8]) -> Reply {
        match &self.password {
            None => Reply::error_static(errors::AUTH_WITHOUT_PASSWORD),
            Some(expected) if expected.as_bytes() == password => {
                conn.authenticated = true;
                Reply::ok()
            }
            Some(_) => Reply::error_static(errors::WRONGPASS),
        }
    }

    fn hello(&self, conn: &mut ConnectionState, args: &[Bytes]) -> Reply {
        if args.len() >= 5 && args[2].eq_ignore_ascii_case(b"auth") {
            let reply = self.auth(conn, &args[4]);
            if reply.is_error() {
                return reply;
            }
        }
        if self.requires_auth() && !conn.authenticated {
            return Reply::error(
                "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time",
            );
        }
        match args.get(1).map(|v| &v[..]) {
            None | Some(b"2") => conn.protocol = Protocol::Resp2,
            Some(b"3") => conn.protocol = Protocol::Resp3,
            Some(_) => return Reply::error_static(errors::NOPROTO),
        }
        let proto = if conn.protocol == Protocol::Resp3 { 3 } else { 2 };
        Reply::Map(vec![
            (Reply::bulk("server"), Reply::bulk("redis")),
            (Reply::bulk("proto"), Reply::Integer(proto)),
            (Reply::bulk("id"), Reply::Integer(conn.id as i64)),
        ])
    }

    fn client(&self, conn: &mut ConnectionState, request: &Request) -> Reply {
        let args = &request.args;
        match request.name() {
            "client|id" => Reply::Integer(conn.id as i64),
            "client|setname" => {
                conn.name = Some(args[2].clone());
                Reply::ok()
            }
            "client|getname" => conn.name.clone().map_or(Reply::Null, Reply::Bulk),
            "client|list" => Reply::Bulk(self.registry.client_list(Instant::now(), None).into()),
            "client|info" => {
                let mut line = self.registry.client_list(Instant::now(), Some(&[conn.id]));
                line.truncate(line.len().saturating_sub(1));
                line.push(b'\n');
                Reply::Bulk(line.into())
            }
            "client|kill" => self.kill(conn, args),
            _ => Reply::error("ERR test handler does not implement this subcommand"),
        }
    }

    /// `CLIENT KILL addr:port` (old form) or `CLIENT KILL ID n` / `ADDR a` (new form).
    fn kill(&self, conn: &mut ConnectionState, args: &[Bytes]) -> Reply {
        let text = |arg: &Bytes| String::from_utf8(arg.to_vec()).expect("ascii");
        if args.len() == 3 {
            let filter = KillFilter { addr: Some(text(&args[2])), skip_me: false, ..KillFilter::default() };
            let outcome = self.registry.kill(&filter, conn.id);
            conn.close_after_reply |= outcome.killed_self;
            return if outcome.killed == 0 { Reply::error_static(errors::NO_SUCH_CLIENT) } else { Reply::ok() };
        }
        let mut filter = KillFilter { skip_me: true, ..KillFilter::default() };
        for pair in args[2..].chunks(2) {
            match text(&pair[0]).to_ascii_lowercase().as_str() {
                "id" => filter.id = Some(text(&pair[1]).parse().expect("id")),
                "addr" => filter.addr = Some(text(&pair[1])),
                "laddr" => filter.local_addr = Some(text(&pair[1])),
                "skipme" => filter.skip_me = pair[1].eq_ignore_ascii_case(b"yes"),
                _ => return Reply::error_static(errors::SYNTAX),
            }
        }
        let outcome = self.registry.kill(&filter, conn.id);
        conn.close_after_reply |= outcome.killed_self;
        Reply::Integer(outcome.killed as i64)
    }
}

/// A server running on its own thread until [`TestServer::stop`] (or drop).
pub struct TestServer {
    pub addr: SocketAddr,
    pub batch_sizes: Arc<Mutex<Vec<usize>>>,
    /// The server's runtime-changeable options, as CONFIG SET would change them.
    pub settings: Arc<LiveSettings>,
    stop: Arc<AtomicBool>,
    done: Option<mpsc::Receiver<StatsSnapshot>>,
}

/// Starts a server with `config`; with `password`, clients must AUTH.
pub fn start(config: ServerConfig, password: Option<&str>) -> TestServer {
    let (addr_tx, addr_rx) = mpsc::channel();
    let (done_tx, done) = mpsc::channel();
    let stop = Arc::new(AtomicBool::new(false));
    let batch_sizes = Arc::new(Mutex::new(Vec::new()));
    let password = password.map(str::to_owned);
    let settings = Arc::new(LiveSettings::new(&config));
    let (stop_flag, sizes, live) = (stop.clone(), batch_sizes.clone(), settings.clone());
    glommio::LocalExecutorBuilder::default()
        .name("test-server")
        .spawn(move || async move {
            let listener = glommio::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            addr_tx.send(listener.local_addr().expect("local addr")).expect("send addr");
            let registry = Rc::new(ClientRegistry::new(config.core_id, config.core_count));
            let handler =
                MemHandler { data: RefCell::default(), password, registry: registry.clone(), batch_sizes: sizes };
            let server = Server::new(config, Rc::new(handler), Rc::new(CommandTable::new()))
                .expect("valid config")
                .with_registry(registry)
                .with_settings(live);
            let stats = server.stats();
            server.serve(listener, wait_for(stop_flag)).await;
            let _ = done_tx.send(stats.snapshot());
        })
        .expect("spawn executor");
    let addr = addr_rx.recv_timeout(TIMEOUT).expect("server address");
    TestServer { addr, batch_sizes, settings, stop, done: Some(done) }
}

async fn wait_for(flag: Arc<AtomicBool>) {
    while !flag.load(Ordering::Acquire) {
        glommio::timer::sleep(Duration::from_millis(5)).await;
    }
}

impl TestServer {
    /// A new client connection with bounded reads.
    pub fn connect(&self) -> Client {
        let stream = TcpStream::connect(self.addr).expect("connect");
        stream.set_read_timeout(Some(TIMEOUT)).expect("read timeout");
        stream.set_nodelay(true).expect("nodelay");
        Client { reader: BufReader::new(stream.try_clone().expect("clone")), stream }
    }

    /// Asks the server to shut down without waiting.
    pub fn request_stop(&self) {
        self.stop.store(true, Ordering::Release);
    }

    /// Shuts the server down and returns its final counters; panics if it takes too long.
    pub fn stop(mut self) -> StatsSnapshot {
        self.request_stop();
        let done = self.done.take().expect("stopped once");
        done.recv_timeout(TIMEOUT).expect("server stops in time")
    }
}

impl Drop for TestServer {
    /// Stops the executor thread, waiting a bounded time (a failing test must not hang).
    fn drop(&mut self) {
        self.request_stop();
        if let Some(done) = self.done.take() {
            let _ = done.recv_timeout(TIMEOUT);
        }
    }
}

/// A blocking RESP client.
pub struct Client {
    pub stream: TcpStream,
    reader: BufReader<TcpStream>,
}

impl Client {
    /// Sends raw bytes.
    pub fn send(&mut self, bytes: impl AsRef<[u8]>) {
        self.stream.write_all(bytes.as_ref()).expect("send");
    }

    /// Sends a request as a multibulk array.
    pub fn send_command(&mut self, args: &[&str]) {
        self.send(encode(args));
    }

    /// Reads one whole reply and returns its wire bytes as text.
    pub fn read_reply(&mut self) -> String {
        let mut wire = Vec::new();
        read_value(&mut self.reader, &mut wire);
        String::from_utf8(wire).expect("utf-8 replies in tests")
    }

    /// Sends a request and reads its reply.
    pub fn call(&mut self, args: &[&str]) -> String {
        self.send_command(args);
        self.read_reply()
    }

    /// Whether the server closed the connection (end of stream or reset) within the timeout.
    pub fn is_closed_by_server(&mut self) -> bool {
        let mut byte = [0u8; 1];
        match self.reader.read(&mut byte) {
            Ok(0) => true,
            Ok(_) => false,
            Err(error) => error.kind() == std::io::ErrorKind::ConnectionReset,
        }
    }
}

/// A request as a multibulk array.
pub fn encode(args: &[&str]) -> Vec<u8> {
    let mut wire = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        wire.extend_from_slice(format!("${}\r\n{arg}\r\n", arg.len()).as_bytes());
    }
    wire
}

fn read_line(reader: &mut BufReader<TcpStream>, wire: &mut Vec<u8>) -> String {
    let mut line = Vec::new();
    reader.read_until(b'\n', &mut line).expect("reply line");
    assert!(line.ends_with(b"\r\n"), "truncated reply line {:?}", String::from_utf8_lossy(&line));
    wire.extend_from_slice(&line);
    String::from_utf8(line[1..line.len() - 2].to_vec()).expect("utf-8")
}

/// Reads one RESP2/RESP3 value, appending its wire bytes.
fn read_value(reader: &mut BufReader<TcpStream>, wire: &mut Vec<u8>) {
    let kind = reader.fill_buf().expect("reply")[0];
    let header = read_line(reader, wire);
    let count = || header.parse::<i64>().expect("length");
    match kind {
        b'$' | b'=' if count() >= 0 => {
            let mut data = vec![0u8; count() as usize + 2];
            reader.read_exact(&mut data).expect("bulk data");
            wire.extend_from_slice(&data);
        }
        b'*' | b'~' | b'>' => (0..count().max(0)).for_each(|_| read_value(reader, wire)),
        b'%' => (0..count() * 2).for_each(|_| read_value(reader, wire)),
        _ => {}
    }
}
