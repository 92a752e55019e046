//! The server under test: the `nokv` child process the soak starts, SIGKILLs and restarts on the
//! same directory and port.
//!
//! Only the process this guard spawned is ever signalled, by its PID (`Child::kill` is SIGKILL);
//! dropping the guard kills and reaps it, so an error or a panic in the soak never leaves a
//! server behind. The server's stderr goes to `<dir>.log`, appended across restarts.

use std::fs::OpenOptions;
use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use super::client::Client;
use crate::loadgen::resp::ReplyValue;

/// How long one readiness probe waits for PONG.
const PING_TIMEOUT: Duration = Duration::from_millis(500);
/// Pause between readiness probes.
const PROBE_PAUSE: Duration = Duration::from_millis(50);
/// Lines of the server log shown when it fails to start.
const LOG_TAIL_LINES: usize = 30;

/// How to start the server.
#[derive(Clone, Debug)]
pub struct ServerSpec {
    pub binary: PathBuf,
    pub dir: PathBuf,
    pub shards: usize,
    pub ready_timeout: Duration,
    /// Extra `nokv` flags, passed after the soak's own.
    pub extra_args: Vec<String>,
}

/// The running server, killed when dropped.
pub struct Server {
    spec: ServerSpec,
    addr: SocketAddr,
    child: Option<Child>,
    starts: u32,
}

/// A free TCP port on 127.0.0.1 (released before the server binds it).
fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("binding a free port")?;
    Ok(listener.local_addr()?.port())
}

impl Server {
    /// Starts the server on a free loopback port and waits until it answers PING.
    pub fn start(spec: ServerSpec) -> anyhow::Result<Server> {
        let addr = SocketAddr::from(([127, 0, 0, 1], free_port()?));
        let mut server = Server { spec, addr, child: None, starts: 0 };
        server.spawn()?;
        Ok(server)
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The server's data directory.
    pub fn data_dir(&self) -> &Path {
        &self.spec.dir
    }

    /// The server's log file.
    pub fn log_path(&self) -> PathBuf {
        self.spec.dir.with_extension("log")
    }

    /// SIGKILLs the server and reaps it. `Ok(Some(status))` if it had already exited by itself.
    pub fn kill9(&mut self) -> anyhow::Result<Option<ExitStatus>> {
        let Some(mut child) = self.child.take() else { return Ok(None) };
        if let Some(status) = child.try_wait().context("polling the server")? {
            return Ok(Some(status));
        }
        child.kill().context("SIGKILL to the server")?;
        child.wait().context("reaping the server")?;
        Ok(None)
    }

    /// Starts the server again on the same port and directory and waits until it is ready;
    /// returns how long that took.
    pub fn restart(&mut self) -> anyhow::Result<Duration> {
        let started = Instant::now();
        self.spawn()?;
        Ok(started.elapsed())
    }

    fn spawn(&mut self) -> anyhow::Result<()> {
        assert!(self.child.is_none(), "one server at a time");
        self.starts += 1;
        let mut log = OpenOptions::new().create(true).append(true).open(self.log_path()).context("server log")?;
        writeln!(log, "--- soak: start {} of nokv on {} ---", self.starts, self.addr)?;
        let child = Command::new(&self.spec.binary)
            .args(["--port", &self.addr.port().to_string(), "--dir"])
            .arg(&self.spec.dir)
            .args(["--shards", &self.spec.shards.to_string()])
            .args(&self.spec.extra_args)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {}", self.spec.binary.display()))?;
        self.child = Some(child);
        self.wait_until_ready()
    }

    fn wait_until_ready(&mut self) -> anyhow::Result<()> {
        let started = Instant::now();
        while started.elapsed() < self.spec.ready_timeout {
            let child = self.child.as_mut().expect("spawned");
            if let Some(status) = child.try_wait().context("polling the server")? {
                self.child = None;
                bail!("nokv exited during start-up with {status}\n{}", self.log_tail());
            }
            if answers_ping(self.addr) {
                return Ok(());
            }
            std::thread::sleep(PROBE_PAUSE);
        }
        bail!("nokv did not answer PING within {:?}\n{}", self.spec.ready_timeout, self.log_tail())
    }

    /// The last lines of the server log.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(self.log_path()).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let shown = &lines[lines.len().saturating_sub(LOG_TAIL_LINES)..];
        format!("--- {} (last {} lines) ---\n{}", self.log_path().display(), shown.len(), shown.join("\n"))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Nothing useful can be done with a failure here: the child is gone or unkillable.
        let _ = self.kill9();
    }
}

/// True when the server answers PING (a bare connect is not enough: a killed server's
/// listening socket lingers for a moment while the kernel tears its io_uring down).
fn answers_ping(addr: SocketAddr) -> bool {
    let Ok(mut client) = Client::connect(addr, PING_TIMEOUT) else { return false };
    matches!(client.call(&[b"PING"]), Ok(ReplyValue::Simple(text)) if text == b"PONG")
}

/// The total size of the files under `dir`, recursively (0 for what cannot be read).
pub fn dir_size_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries
        .filter_map(Result::ok)
        .map(|entry| match entry.metadata() {
            Ok(meta) if meta.is_dir() => dir_size_bytes(&entry.path()),
            Ok(meta) => meta.len(),
            Err(_) => 0,
        })
        .sum()
}

/// Whether `dir` is missing or empty (the soak's model starts from an empty database).
pub fn is_missing_or_empty(dir: &Path) -> bool {
    std::fs::read_dir(dir).map_or(true, |mut entries| entries.next().is_none())
}
