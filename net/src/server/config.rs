//! [`ServerConfig`]: the connection loop's options, with Redis's names and defaults.

use crate::error::{Error, Result};
use crate::frame::ParseLimits;
use crate::server::output::OutputBufferLimit;

/// Redis's `PROTO_IOBUF_LEN`: how much one read asks for at least.
const DEFAULT_READ_CHUNK_BYTES: usize = 16 * 1024;

/// Options of one core's server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerConfig {
    /// `maxclients` (starting value; see [`crate::server::LiveSettings`] for the live one):
    /// connections allowed at once across every core sharing the client counter
    /// (see [`crate::server::Server::with_client_count`]); past it a new client gets
    /// `-ERR max number of clients reached` and is closed. Redis's default 10000.
    pub maxclients: usize,
    /// `timeout`: close a client idle for this many seconds; 0 never does (Redis's default).
    /// A starting value, like the two options below (CONFIG SET changes the live settings).
    pub timeout_secs: u64,
    /// `protected-mode` (Redis's default yes): without a password, only loopback clients are
    /// served; others get Redis's `-DENIED` text and are closed.
    pub protected_mode: bool,
    /// The `normal` class of `client-output-buffer-limit` (Redis's default `0 0 0`: none).
    pub client_output_buffer_limit: OutputBufferLimit,
    /// `tcp-keepalive` in seconds (Redis's default 300). Recorded for CONFIG GET; not applied
    /// to sockets yet, because neither glommio nor the workspace's crates offer a safe
    /// `setsockopt(SO_KEEPALIVE)`.
    pub tcp_keepalive_secs: u64,
    /// Protocol and query buffer limits (`proto-max-bulk-len`, `client-query-buffer-limit`...).
    pub parse_limits: ParseLimits,
    /// This core's index; client ids are `n * core_count + core_id + 1`, unique across cores.
    pub core_id: u32,
    /// How many cores run a server sharing the port.
    pub core_count: u32,
    /// The least one read asks for; reads grow to the size of a pending large request.
    pub read_chunk_bytes: usize,
    /// On shutdown, how long connections may take to finish their batch and write its
    /// replies before they are closed regardless.
    pub shutdown_grace_ms: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            maxclients: 10_000,
            timeout_secs: 0,
            protected_mode: true,
            client_output_buffer_limit: OutputBufferLimit::default(),
            tcp_keepalive_secs: 300,
            parse_limits: ParseLimits::default(),
            core_id: 0,
            core_count: 1,
            read_chunk_bytes: DEFAULT_READ_CHUNK_BYTES,
            shutdown_grace_ms: 5_000,
        }
    }
}

impl ServerConfig {
    /// Checks every option's range.
    pub fn validate(&self) -> Result<()> {
        self.parse_limits.validate()?;
        if self.maxclients == 0 {
            return Err(invalid("maxclients", "must be at least 1"));
        }
        // Redis bounds `timeout` by INT_MAX seconds.
        if self.timeout_secs > i32::MAX as u64 {
            return Err(invalid("timeout", "must be at most 2147483647 seconds"));
        }
        if self.client_output_buffer_limit.soft_secs > i32::MAX as u64 {
            return Err(invalid("client-output-buffer-limit", "soft seconds must be at most 2147483647"));
        }
        if self.tcp_keepalive_secs > i32::MAX as u64 {
            return Err(invalid("tcp-keepalive", "must be at most 2147483647 seconds"));
        }
        if self.core_count == 0 || self.core_id >= self.core_count {
            return Err(invalid("core_id", "must be below core_count, which must be at least 1"));
        }
        if !(512..=64 * 1024 * 1024).contains(&self.read_chunk_bytes) {
            return Err(invalid("read_chunk_bytes", "must be between 512 B and 64 MiB"));
        }
        Ok(())
    }
}

fn invalid(name: &'static str, reason: &str) -> Error {
    Error::InvalidOption { name, reason: reason.to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_redis_defaults_and_valid() {
        let config = ServerConfig::default();
        assert_eq!((config.maxclients, config.timeout_secs, config.tcp_keepalive_secs), (10_000, 0, 300));
        assert!(config.validate().is_ok());
    }

    #[test]
    fn out_of_range_options_are_refused() {
        let bad = [
            ServerConfig { maxclients: 0, ..ServerConfig::default() },
            ServerConfig { core_id: 2, core_count: 2, ..ServerConfig::default() },
            ServerConfig { core_count: 0, ..ServerConfig::default() },
            ServerConfig { read_chunk_bytes: 10, ..ServerConfig::default() },
            ServerConfig { timeout_secs: u64::MAX, ..ServerConfig::default() },
        ];
        for config in bad {
            assert!(matches!(config.validate(), Err(Error::InvalidOption { .. })), "{config:?}");
        }
    }
}
