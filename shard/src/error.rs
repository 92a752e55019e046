//! The runtime's error type.

/// Errors starting or running a node.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A configuration value is unusable.
    #[error("invalid config {name}: {reason}")]
    Config {
        /// The option's name.
        name: &'static str,
        /// Why.
        reason: String,
    },
    /// The storage engine failed.
    #[error(transparent)]
    Engine(#[from] nokv_engine::Error),
    /// Starting executors, binding sockets or other OS work failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A cross-core channel closed (a core stopped).
    #[error("core {0} is not reachable")]
    CoreGone(usize),
}

/// The runtime's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
