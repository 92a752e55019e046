//! [`LiveSettings`]: the options CONFIG SET changes while clients are connected
//! (`maxclients`, `timeout`, `protected-mode`, the `normal` class of
//! `client-output-buffer-limit`), shared by every core's server.
//!
//! The connection loop reads them where they apply (each accept, each idle check, each batch),
//! so a change takes effect on live connections without restarting anything. They cross cores,
//! so they are atomics; each is independent and read with relaxed ordering.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use super::config::ServerConfig;
use super::output::OutputBufferLimit;

/// Redis 7.0's reply (networking.c, `clientAcceptHandler`) to a client refused by protected mode.
pub const PROTECTED_MODE_DENIED: &[u8] = b"-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";

/// The runtime-changeable options; start from a [`ServerConfig`].
#[derive(Debug)]
pub struct LiveSettings {
    maxclients: AtomicUsize,
    timeout_secs: AtomicU64,
    protected_mode: AtomicBool,
    output_hard_bytes: AtomicU64,
    output_soft_bytes: AtomicU64,
    output_soft_secs: AtomicU64,
}

impl LiveSettings {
    /// The settings `config` starts with.
    pub fn new(config: &ServerConfig) -> Self {
        let limit = config.client_output_buffer_limit;
        Self {
            maxclients: AtomicUsize::new(config.maxclients),
            timeout_secs: AtomicU64::new(config.timeout_secs),
            protected_mode: AtomicBool::new(config.protected_mode),
            output_hard_bytes: AtomicU64::new(limit.hard_bytes),
            output_soft_bytes: AtomicU64::new(limit.soft_bytes),
            output_soft_secs: AtomicU64::new(limit.soft_secs),
        }
    }

    /// `maxclients`.
    pub fn maxclients(&self) -> usize {
        self.maxclients.load(Ordering::Relaxed)
    }

    /// Sets `maxclients`; clients already connected over the new limit stay, as in Redis.
    pub fn set_maxclients(&self, maxclients: usize) {
        self.maxclients.store(maxclients.max(1), Ordering::Relaxed);
    }

    /// `timeout` in seconds, 0 for none.
    pub fn timeout_secs(&self) -> u64 {
        self.timeout_secs.load(Ordering::Relaxed)
    }

    /// Sets `timeout`; it applies to connected clients too.
    pub fn set_timeout_secs(&self, timeout_secs: u64) {
        self.timeout_secs.store(timeout_secs, Ordering::Relaxed);
    }

    /// `protected-mode`.
    pub fn protected_mode(&self) -> bool {
        self.protected_mode.load(Ordering::Relaxed)
    }

    /// Sets `protected-mode`; it applies to clients that connect afterwards.
    pub fn set_protected_mode(&self, on: bool) {
        self.protected_mode.store(on, Ordering::Relaxed);
    }

    /// The `normal` class of `client-output-buffer-limit`.
    pub fn output_buffer_limit(&self) -> OutputBufferLimit {
        OutputBufferLimit {
            hard_bytes: self.output_hard_bytes.load(Ordering::Relaxed),
            soft_bytes: self.output_soft_bytes.load(Ordering::Relaxed),
            soft_secs: self.output_soft_secs.load(Ordering::Relaxed),
        }
    }

    /// Sets the `normal` class's limit; connections adopt it at their next batch.
    pub fn set_output_buffer_limit(&self, limit: OutputBufferLimit) {
        self.output_hard_bytes.store(limit.hard_bytes, Ordering::Relaxed);
        self.output_soft_bytes.store(limit.soft_bytes, Ordering::Relaxed);
        self.output_soft_secs.store(limit.soft_secs, Ordering::Relaxed);
    }
}

/// Whether protected mode turns away a client from `peer`, as Redis 7.0 decides it: the mode
/// is on, the default user has no password, and the client is not on the loopback interface.
///
/// Redis 7.0 no longer looks at `bind` here (3.2 to 6.2 did): a server bound only to loopback
/// addresses never sees a non-loopback peer, so the rule is the same for it. A peer the socket
/// cannot name is refused, as Redis's `connIsLocal` failing is.
pub fn protected_mode_refuses(protected_mode: bool, password_set: bool, peer: Option<SocketAddr>) -> bool {
    protected_mode && !password_set && !peer.is_some_and(|peer| is_loopback(peer.ip()))
}

/// 127.0.0.0/8, ::1, and IPv4-mapped 127.0.0.0/8 (a dual-stack socket's IPv4 loopback peer).
fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(text: &str) -> Option<SocketAddr> {
        Some(text.parse().expect("socket address"))
    }

    #[test]
    fn protected_mode_refuses_only_non_loopback_peers_without_a_password() {
        let loopback = ["127.0.0.1:5000", "127.3.4.5:5000", "[::1]:5000", "[::ffff:127.0.0.1]:5000"];
        let remote = ["10.0.0.7:5000", "192.168.1.2:5000", "[2001:db8::1]:5000", "[::ffff:10.0.0.7]:5000"];
        for (protected_mode, password_set) in [(true, false), (true, true), (false, false), (false, true)] {
            for address in loopback {
                assert!(!protected_mode_refuses(protected_mode, password_set, peer(address)), "{address}");
            }
            for address in remote {
                let refused = protected_mode_refuses(protected_mode, password_set, peer(address));
                assert_eq!(refused, protected_mode && !password_set, "{address} {protected_mode} {password_set}");
            }
        }
        assert!(protected_mode_refuses(true, false, None));
        assert!(!protected_mode_refuses(true, true, None));
    }

    #[test]
    fn the_denied_text_is_one_redis_error_line() {
        assert!(PROTECTED_MODE_DENIED.starts_with(b"-DENIED Redis is running in protected mode"));
        assert!(PROTECTED_MODE_DENIED.ends_with(b"from the outside.\r\n"));
        assert_eq!(PROTECTED_MODE_DENIED.iter().filter(|&&byte| byte == b'\n').count(), 1);
    }

    #[test]
    fn changes_are_seen_by_readers() {
        let settings = LiveSettings::new(&ServerConfig::default());
        assert!(settings.protected_mode());
        settings.set_maxclients(3);
        settings.set_timeout_secs(7);
        settings.set_protected_mode(false);
        let limit = OutputBufferLimit { hard_bytes: 4, soft_bytes: 2, soft_secs: 1 };
        settings.set_output_buffer_limit(limit);
        assert_eq!((settings.maxclients(), settings.timeout_secs(), settings.protected_mode()), (3, 7, false));
        assert_eq!(settings.output_buffer_limit(), limit);
    }
}
