//! [`OutputBufferLimit`] and [`OutputGuard`]: Redis's `client-output-buffer-limit` for the
//! `normal` class, and how much reply output one connection may hold before it must write.
//!
//! A connection appends a read's replies to its output buffer and writes them with one
//! write, so a client that does not read blocks only its own task; what it holds is bounded by
//! [`OutputGuard::write_threshold_bytes`] plus the replies of one handler run, because the
//! session stops executing and writes once the buffer reaches the threshold.
//!
//! The limit is checked as replies accumulate and while a write is blocked, with Redis's rule
//! (`checkClientOutputBufferLimits`): pending bytes at or over the hard limit close the client
//! at once; at or over the soft limit continuously for more than `soft_secs` close it too; a
//! limit of 0 is off. Pending bytes are the replies not yet accepted by the socket.

use std::time::{Duration, Instant};

/// Pending output a connection without a hard limit holds before it stops executing and waits
/// for the client to read: the server's memory per non-reading client is bounded by this plus
/// one handler run's replies.
pub const DEFAULT_WRITE_THRESHOLD_BYTES: usize = 4 * 1024 * 1024;

/// One class's `client-output-buffer-limit`: `<hard> <soft> <soft seconds>`, 0 meaning none.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OutputBufferLimit {
    pub hard_bytes: u64,
    pub soft_bytes: u64,
    pub soft_secs: u64,
}

impl OutputBufferLimit {
    /// Whether any part of the limit is set.
    pub fn is_set(&self) -> bool {
        self.hard_bytes > 0 || self.soft_bytes > 0
    }
}

/// What the limit says about the pending output now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    Within,
    /// Over the limit: close the client.
    Over,
}

/// One connection's view of the limit, with the time the soft limit was first reached.
#[derive(Debug, Default)]
pub(crate) struct OutputGuard {
    limit: OutputBufferLimit,
    soft_reached_at: Option<Instant>,
}

impl OutputGuard {
    /// Adopts the current limit (CONFIG SET may have changed it).
    pub(crate) fn set_limit(&mut self, limit: OutputBufferLimit) {
        self.limit = limit;
    }

    /// Redis's check for `pending_bytes` at `now`; remembers when the soft limit was reached
    /// and forgets it once the output is back under. Reads `now` only when the output reached
    /// the soft limit (a clock read per command was a measurable share of a pipelined GET).
    pub(crate) fn check(&mut self, pending_bytes: usize, now: impl FnOnce() -> Instant) -> Verdict {
        let pending = pending_bytes as u64;
        let limit = self.limit;
        if limit.hard_bytes > 0 && pending >= limit.hard_bytes {
            return Verdict::Over;
        }
        if limit.soft_bytes == 0 || pending < limit.soft_bytes {
            self.soft_reached_at = None;
            return Verdict::Within;
        }
        let now = now();
        let since = *self.soft_reached_at.get_or_insert(now);
        if now.saturating_duration_since(since) > Duration::from_secs(limit.soft_secs) {
            Verdict::Over
        } else {
            Verdict::Within
        }
    }

    /// When the soft limit, reached and still held, closes the client (a blocked write waits
    /// at most until then).
    pub(crate) fn soft_deadline(&self) -> Option<Instant> {
        // Just past the soft period, so that the check made then sees it exceeded.
        let period = Duration::from_secs(self.limit.soft_secs) + Duration::from_millis(1);
        self.soft_reached_at.map(|since| since + period)
    }

    /// How much output the session accumulates before it stops executing and writes: up to
    /// the hard limit (where Redis closes the client), else at least the soft limit (so that
    /// it can be held long enough to count), else [`DEFAULT_WRITE_THRESHOLD_BYTES`].
    pub(crate) fn write_threshold_bytes(&self) -> usize {
        let limit = self.limit;
        let threshold = if limit.hard_bytes > 0 {
            limit.hard_bytes
        } else {
            limit.soft_bytes.max(DEFAULT_WRITE_THRESHOLD_BYTES as u64)
        };
        usize::try_from(threshold).unwrap_or(usize::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(hard_bytes: u64, soft_bytes: u64, soft_secs: u64) -> OutputGuard {
        let mut guard = OutputGuard::default();
        guard.set_limit(OutputBufferLimit { hard_bytes, soft_bytes, soft_secs });
        guard
    }

    #[test]
    fn no_limit_never_closes() {
        let mut guard = guard(0, 0, 0);
        assert_eq!(guard.check(usize::MAX, Instant::now), Verdict::Within);
        assert_eq!(guard.write_threshold_bytes(), DEFAULT_WRITE_THRESHOLD_BYTES);
    }

    #[test]
    fn the_hard_limit_closes_at_once() {
        let mut guard = guard(100, 0, 0);
        let now = Instant::now();
        assert_eq!(guard.check(99, || now), Verdict::Within);
        assert_eq!(guard.check(100, || now), Verdict::Over);
        assert_eq!(guard.write_threshold_bytes(), 100);
    }

    #[test]
    fn the_soft_limit_closes_only_when_held_longer_than_its_seconds() {
        let mut guard = guard(0, 50, 2);
        let start = Instant::now();
        assert_eq!(guard.check(60, || start), Verdict::Within);
        assert_eq!(guard.check(60, || start + Duration::from_secs(2)), Verdict::Within);
        assert_eq!(guard.check(60, || start + Duration::from_millis(2001)), Verdict::Over);
        assert!(guard.soft_deadline().is_some_and(|deadline| deadline > start + Duration::from_secs(2)));
    }

    #[test]
    fn dropping_under_the_soft_limit_restarts_its_clock() {
        let mut guard = guard(0, 50, 1);
        let start = Instant::now();
        assert_eq!(guard.check(60, || start), Verdict::Within);
        assert_eq!(guard.check(10, || start + Duration::from_millis(900)), Verdict::Within);
        assert_eq!(guard.soft_deadline(), None);
        assert_eq!(guard.check(60, || start + Duration::from_millis(1500)), Verdict::Within);
        assert_eq!(guard.check(60, || start + Duration::from_millis(2000)), Verdict::Within);
        assert_eq!(guard.check(60, || start + Duration::from_millis(2600)), Verdict::Over);
    }

    #[test]
    fn the_write_threshold_lets_the_soft_limit_be_reached() {
        assert_eq!(guard(0, 64 << 20, 1).write_threshold_bytes(), 64 << 20);
        assert_eq!(guard(0, 1024, 1).write_threshold_bytes(), DEFAULT_WRITE_THRESHOLD_BYTES);
    }
}
