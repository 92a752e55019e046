//! Timestamps: the hybrid `physical_ms << 18 | logical` clock values every MVCC version carries.
//!
//! ```text
//!  63                                18 17            0
//! +------------------------------------+---------------+
//! | physical: milliseconds since epoch | logical (18 b)|
//! +------------------------------------+---------------+
//! ```
//!
//! This is TiKV's (and PD's) layout, so 262 144 timestamps fit in one millisecond and the
//! physical part tells a lock's age (TTL checks compare physical parts).

use std::fmt;

/// Bits of the logical counter.
pub const LOGICAL_BITS: u32 = 18;

const LOGICAL_MASK: u64 = (1 << LOGICAL_BITS) - 1;

/// A hybrid timestamp. Orders as its `u64`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct TimeStamp(u64);

impl TimeStamp {
    /// The smallest timestamp; no transaction uses it.
    pub const ZERO: TimeStamp = TimeStamp(0);
    /// The largest timestamp; reading at it sees every committed version.
    pub const MAX: TimeStamp = TimeStamp(u64::MAX);

    /// Wraps a raw value.
    pub const fn new(raw: u64) -> TimeStamp {
        TimeStamp(raw)
    }

    /// Builds `physical_ms << 18 | logical`; `logical` is truncated to 18 bits.
    pub const fn compose(physical_ms: u64, logical: u64) -> TimeStamp {
        TimeStamp((physical_ms << LOGICAL_BITS) | (logical & LOGICAL_MASK))
    }

    /// The raw value.
    pub const fn into_inner(self) -> u64 {
        self.0
    }

    /// Milliseconds since the Unix epoch.
    pub const fn physical(self) -> u64 {
        self.0 >> LOGICAL_BITS
    }

    /// The logical counter within the millisecond.
    pub const fn logical(self) -> u64 {
        self.0 & LOGICAL_MASK
    }

    /// The next timestamp (saturates at `MAX`).
    pub const fn next(self) -> TimeStamp {
        TimeStamp(self.0.saturating_add(1))
    }

    /// The previous timestamp (saturates at `ZERO`).
    pub const fn prev(self) -> TimeStamp {
        TimeStamp(self.0.saturating_sub(1))
    }

    /// True for `ZERO`.
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }
}

impl From<u64> for TimeStamp {
    fn from(raw: u64) -> TimeStamp {
        TimeStamp(raw)
    }
}

impl From<TimeStamp> for u64 {
    fn from(ts: TimeStamp) -> u64 {
        ts.0
    }
}

impl fmt::Debug for TimeStamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TimeStamp({}:{})", self.physical(), self.logical())
    }
}

impl fmt::Display for TimeStamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compose_splits_back_into_physical_and_logical() {
        let ts = TimeStamp::compose(1_700_000_000_123, 42);
        assert_eq!(ts.physical(), 1_700_000_000_123);
        assert_eq!(ts.logical(), 42);
        assert_eq!(ts.into_inner(), (1_700_000_000_123 << 18) | 42);
    }

    #[test]
    fn logical_overflow_carries_into_the_next_millisecond_via_next() {
        let last = TimeStamp::compose(5, (1 << 18) - 1);
        assert_eq!(last.next(), TimeStamp::compose(6, 0));
        assert_eq!(TimeStamp::compose(6, 0).prev(), last);
    }

    #[test]
    fn next_and_prev_saturate() {
        assert_eq!(TimeStamp::MAX.next(), TimeStamp::MAX);
        assert_eq!(TimeStamp::ZERO.prev(), TimeStamp::ZERO);
        assert!(TimeStamp::ZERO.is_zero());
    }
}
