//! A `slog` drain that forwards raft-rs's log records to `tracing`.
//!
//! raft-rs logs through slog; the rest of NoKV logs through tracing. Records keep their level
//! (critical and error both become `error`) and carry their key-value pairs (region id, term,
//! ...) appended to the message as `key=value`, under the `raft` target.

use std::fmt::{self, Write as _};

use slog::{Drain, KV, Key, Level, OwnedKVList, Record, Serializer};

/// Forwards slog records to tracing.
#[derive(Debug, Clone, Copy, Default)]
pub struct TracingDrain;

/// A root logger that forwards to tracing.
pub fn tracing_logger() -> slog::Logger {
    slog::Logger::root(TracingDrain, slog::o!())
}

impl Drain for TracingDrain {
    type Ok = ();
    type Err = slog::Never;

    fn log(&self, record: &Record<'_>, values: &OwnedKVList) -> Result<(), slog::Never> {
        if !level_enabled(record.level()) {
            return Ok(());
        }
        let mut line = KeyValueLine(record.msg().to_string());
        // Serialising into a String cannot fail; a failure would only shorten the line.
        let _ = record.kv().serialize(record, &mut line);
        let _ = values.serialize(record, &mut line);
        let line = line.0;
        match record.level() {
            Level::Critical | Level::Error => tracing::error!(target: "raft", "{line}"),
            Level::Warning => tracing::warn!(target: "raft", "{line}"),
            Level::Info => tracing::info!(target: "raft", "{line}"),
            Level::Debug => tracing::debug!(target: "raft", "{line}"),
            Level::Trace => tracing::trace!(target: "raft", "{line}"),
        }
        Ok(())
    }
}

/// Skips formatting for levels tracing would drop anyway.
fn level_enabled(level: Level) -> bool {
    match level {
        Level::Critical | Level::Error => tracing::enabled!(target: "raft", tracing::Level::ERROR),
        Level::Warning => tracing::enabled!(target: "raft", tracing::Level::WARN),
        Level::Info => tracing::enabled!(target: "raft", tracing::Level::INFO),
        Level::Debug => tracing::enabled!(target: "raft", tracing::Level::DEBUG),
        Level::Trace => tracing::enabled!(target: "raft", tracing::Level::TRACE),
    }
}

/// Appends ` key=value` for every pair it is given.
struct KeyValueLine(String);

impl Serializer for KeyValueLine {
    fn emit_arguments(&mut self, key: Key, value: &fmt::Arguments<'_>) -> slog::Result {
        write!(self.0, " {key}={value}").map_err(|_| slog::Error::Other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwards_records_without_panicking() {
        let logger = tracing_logger().new(slog::o!("region_id" => 7u64));
        slog::info!(logger, "became leader"; "term" => 3u64);
        slog::error!(logger, "something failed");
    }
}
