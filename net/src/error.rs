//! The crate's error type.
//!
//! A protocol error is fatal to its connection only: the connection replies with the error's
//! text (Redis's exact wording, see [`Error::reply_text`]) and closes. Incomplete input is not
//! an error; the parser reports it as [`crate::frame::Parsed::Incomplete`].

/// Errors of the `net` crate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Malformed or over-limit request bytes; the text follows `Protocol error: ` in the reply.
    #[error("Protocol error: {0}")]
    Protocol(String),
    /// A configuration value is out of its allowed range.
    #[error("invalid option {name}: {reason}")]
    InvalidOption { name: &'static str, reason: String },
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A protocol error with Redis's wording after `Protocol error: `.
    pub fn protocol(what: impl Into<String>) -> Self {
        Self::Protocol(what.into())
    }

    /// The text of the `-ERR ...` reply a client receives for this error.
    pub fn reply_text(&self) -> String {
        format!("ERR {self}")
    }

    /// The reply a client receives for this error.
    pub fn to_reply(&self) -> crate::frame::Reply {
        crate::frame::Reply::error(self.reply_text())
    }
}
