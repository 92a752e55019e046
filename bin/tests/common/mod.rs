//! Test harness: starts the `nokv` binary on a free loopback port with a temporary data
//! directory, and stops exactly the process it started (by PID) when dropped.

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a server may take to start answering.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A running server.
pub struct TestServer {
    child: Option<Child>,
    /// Its port.
    pub port: u16,
    /// Its data directory (inside `_temp`).
    pub data_dir: PathBuf,
    extra_args: Vec<String>,
    _temp: tempfile::TempDir,
}

/// A numeric field of `INFO stats`.
pub fn info_stat(con: &mut redis::Connection, name: &str) -> u64 {
    let text: String = redis::cmd("INFO").arg("stats").query(con).expect("INFO");
    let line = text.lines().find_map(|line| line.strip_prefix(&format!("{name}:")));
    line.unwrap_or_else(|| panic!("INFO lacks {name}")).parse().expect("number")
}

/// A free TCP port on 127.0.0.1 (released before the server binds it).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("bind a free port").local_addr().expect("local addr").port()
}

impl TestServer {
    /// Starts a server with two shards (so cross-core routing is exercised).
    pub fn start() -> TestServer {
        TestServer::start_with(&[])
    }

    /// Starts a server with extra command-line arguments.
    pub fn start_with(extra_args: &[&str]) -> TestServer {
        let temp = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("temp dir");
        let mut server = TestServer {
            child: None,
            port: free_port(),
            data_dir: temp.path().join("data"),
            extra_args: extra_args.iter().map(|a| a.to_string()).collect(),
            _temp: temp,
        };
        server.spawn();
        server
    }

    fn spawn(&mut self) {
        let log = std::fs::File::create(self.data_dir.with_extension("log")).expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_nokv"))
            .args(["--port", &self.port.to_string(), "--dir"])
            .arg(&self.data_dir)
            .args(["--shards", "2"])
            .args(&self.extra_args)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start nokv");
        self.child = Some(child);
        self.wait_until_ready();
    }

    fn wait_until_ready(&mut self) {
        let started = Instant::now();
        while started.elapsed() < START_TIMEOUT {
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().expect("poll child")) {
                panic!("nokv exited during start-up with {status}: {}", self.log());
            }
            if self.answers_ping() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("nokv did not start within {START_TIMEOUT:?}: {}", self.log());
    }

    /// True when the server answers PING (a bare connect is not enough: a killed server's
    /// listening socket lingers for a moment while the kernel tears its io_uring down).
    fn answers_ping(&self) -> bool {
        use std::io::{Read, Write};
        let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", self.port)) else { return false };
        let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
        let mut reply = [0u8; 7];
        let answered = stream.write_all(b"PING\r\n").is_ok() && stream.read_exact(&mut reply).is_ok();
        // With requirepass set the server answers -NOAUTH, which proves it is serving too.
        answered && (&reply == b"+PONG\r\n" || reply.starts_with(b"-NOAUTH"))
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.data_dir.with_extension("log")).unwrap_or_default()
    }

    /// The `redis://` URL of the server.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// A new RESP2 connection.
    pub fn client(&self) -> redis::Connection {
        redis::Client::open(self.url()).expect("client").get_connection().expect("connect")
    }

    /// Runs `work(client, connection)` for `count` clients at once, each on its own thread and
    /// connection, and waits for all of them.
    pub fn on_clients(&self, count: usize, work: impl Fn(usize, &mut redis::Connection) + Sync) {
        std::thread::scope(|scope| {
            for client in 0..count {
                let mut con = self.client();
                let work = &work;
                scope.spawn(move || work(client, &mut con));
            }
        });
    }

    /// A new RESP3 connection.
    pub fn client_resp3(&self) -> redis::Connection {
        let url = format!("redis://127.0.0.1:{}/?protocol=resp3", self.port);
        redis::Client::open(url).expect("client").get_connection().expect("connect")
    }

    /// Kills the server with SIGKILL and waits for it.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("SIGKILL");
            child.wait().expect("reap");
        }
    }

    /// Sends SIGTERM and waits for a clean exit.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("running");
        let pid = child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().expect("kill -TERM");
        let started = Instant::now();
        loop {
            if let Some(status) = child.try_wait().expect("poll") {
                return status;
            }
            if started.elapsed() > Duration::from_secs(30) {
                child.kill().expect("SIGKILL after timeout");
                panic!("nokv did not stop on SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Starts the server again on the same port and directory.
    pub fn restart(&mut self) {
        self.spawn();
    }

    /// The server's resident set size (VmRSS in /proc/<pid>/status).
    pub fn rss_bytes(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).expect("proc status");
        let line = status.lines().find(|line| line.starts_with("VmRSS:")).expect("VmRSS line");
        let kib: u64 = line.split_whitespace().nth(1).expect("VmRSS value").parse().expect("VmRSS number");
        kib * 1024
    }

    /// The child's PID.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.kill9();
    }
}
