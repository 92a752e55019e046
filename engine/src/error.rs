//! The engine's error type.
//!
//! Expected states are variants, never strings: a caller can tell corruption (data on disk
//! failed a checksum or a structural check) from an I/O failure, a closed engine or a bad
//! argument, and react to each (truncate a torn tail, report, retry).

use std::path::PathBuf;

/// Everything that can go wrong in the engine.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The operating system or the io layer failed an operation.
    #[error("I/O error on {path}: {source}")]
    Io {
        /// The file the operation was on (empty when none applies).
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Bytes read back failed a checksum or a structural check; they are never returned as data.
    #[error("corruption in {what}: {detail}")]
    Corruption {
        /// Which structure (journal record, SST block, value-log record, manifest, ...).
        what: &'static str,
        /// What exactly was wrong, for the log.
        detail: String,
    },
    /// A caller passed something the engine cannot accept.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// An option failed validation.
    #[error("invalid option {name}: {reason}")]
    InvalidOption {
        /// The option's name as it appears in configuration.
        name: &'static str,
        /// Why it was rejected.
        reason: String,
    },
    /// The engine was closed, or a background failure made it refuse further writes.
    #[error("engine is closed: {0}")]
    Closed(String),
    /// A format version this build does not understand.
    #[error("unsupported {what} format version {version}")]
    UnsupportedVersion {
        /// Which file kind.
        what: &'static str,
        /// The version found on disk.
        version: u32,
    },
}

impl Error {
    /// Builds a corruption error.
    pub fn corruption(what: &'static str, detail: impl Into<String>) -> Self {
        Error::Corruption { what, detail: detail.into() }
    }

    /// Wraps an I/O error with the path it happened on.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }

    /// True when the error means data on disk is damaged.
    pub fn is_corruption(&self) -> bool {
        matches!(self, Error::Corruption { .. })
    }

    /// True when the disk (or a quota) has no room: retrying once space is freed can succeed.
    pub fn is_no_space(&self) -> bool {
        match self {
            Error::Io { source, .. } => {
                matches!(source.kind(), std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded)
                    || source.to_string().starts_with("No space left on device")
            }
            _ => false,
        }
    }

    /// What went wrong, without the path: the OS's text for an I/O error ("No space left on
    /// device", as `strerror` words it), this error's own text otherwise.
    pub fn reason(&self) -> String {
        match self {
            Error::Io { source, .. } => {
                let text = source.to_string();
                match text.find(" (os error ") {
                    Some(end) => text[..end].to_string(),
                    None => text,
                }
            }
            other => other.to_string(),
        }
    }
}

/// The engine's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
