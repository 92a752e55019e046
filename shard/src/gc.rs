//! MVCC garbage collection of one core: computes the core's GC safe point and publishes it to
//! the Write CF compaction filter (`nokv_txn::gc::filter`), which drops old versions while
//! compaction rewrites them; then collects the Delete marks bottommost compactions queued.
//!
//! Safe point = min(now - `gc-life-time`, oldest lock's start_ts - 1, oldest timestamp a read
//! or write of this core has in flight), and it never moves backwards. No read below it is
//! allowed: every read takes a fresh timestamp from the TSO, which is above it. With
//! `gc-life-time` 0, GC is off (no safe point is published).

use std::rc::Rc;
use std::time::Duration;

use nokv_engine::io::FileSystem;
use nokv_engine::sync::{Pinned, Pins};
use nokv_engine::{Cf, Engine, ReadOptions};
use nokv_txn::gc::filter::{WriteCfGcFilter, collect_delete_marks};
use nokv_txn::record::Lock;
use nokv_txn::timestamp::TimeStamp;
use nokv_txn::tso::Tso;

/// How often the safe point is recomputed: often enough for short life times in tests and
/// soaks, rare enough that the Lock CF scan costs nothing.
const GC_INTERVAL_MAX: Duration = Duration::from_secs(10);
/// Locks looked at per safe-point computation; with more, the safe point does not move (a
/// Lock CF that large means transactions are stuck and GC must wait for their resolution).
const LOCK_SCAN_LIMIT: usize = 100_000;

/// Timestamps of the reads and writes in flight on a core, so GC never drops a version one of
/// them may still need.
pub type InFlight = Pins<TimeStamp>;

/// Keeps a timestamp in [`InFlight`] until dropped.
pub type InFlightGuard = Pinned<TimeStamp>;

/// The GC pieces of one core.
pub struct MvccGc<F: FileSystem> {
    /// The engine GC runs in.
    pub engine: Engine<F>,
    /// The Write CF compaction filter (installed on the engine by [`MvccGc::install`]).
    pub filter: Rc<WriteCfGcFilter>,
    /// Timestamps in flight on the core.
    pub in_flight: InFlight,
    /// `gc-life-time` in seconds; 0: GC off.
    pub life_time_secs: u64,
}

impl<F: FileSystem> MvccGc<F> {
    /// Installs the filter on the engine.
    pub fn install(&self) {
        self.engine.set_compaction_filter(Cf::Write, Some(self.filter.clone()));
    }

    /// How often [`MvccGc::run`] recomputes the safe point.
    pub fn interval(&self) -> Duration {
        Duration::from_secs(self.life_time_secs.clamp(1, GC_INTERVAL_MAX.as_secs()))
    }

    /// Recomputes and publishes the safe point (if GC is on), then collects queued Delete
    /// marks. Returns the safe point in force.
    pub async fn run_once(&self, tso: &Tso) -> nokv_txn::Result<TimeStamp> {
        if self.life_time_secs == 0 {
            return Ok(self.filter.safe_point());
        }
        let now = tso.get_ts()?;
        let mut candidate = life_time_bound(now, self.life_time_secs);
        match oldest_lock_start_ts(&self.engine).await? {
            LockScan::Oldest(start_ts) => candidate = candidate.min(start_ts.prev()),
            LockScan::None => {}
            LockScan::TooMany => return Ok(self.filter.safe_point()),
        }
        if let Some(oldest) = self.in_flight.oldest() {
            candidate = candidate.min(oldest);
        }
        let safe_point = self.filter.advance_safe_point(candidate);
        collect_delete_marks(&self.engine, &self.filter).await?;
        Ok(safe_point)
    }
}

/// `now - life_time_secs` (zero when the clock is younger than that).
pub fn life_time_bound(now: TimeStamp, life_time_secs: u64) -> TimeStamp {
    let physical_ms = now.physical().saturating_sub(life_time_secs.saturating_mul(1000));
    if physical_ms == 0 { TimeStamp::ZERO } else { TimeStamp::compose(physical_ms, 0) }
}

enum LockScan {
    None,
    Oldest(TimeStamp),
    TooMany,
}

async fn oldest_lock_start_ts<F: FileSystem>(engine: &Engine<F>) -> nokv_txn::Result<LockScan> {
    let mut iter = engine.iter(Cf::Lock, &ReadOptions { fill_cache: false, ..ReadOptions::new() });
    iter.seek_to_first().await?;
    let mut oldest: Option<TimeStamp> = None;
    for _ in 0..LOCK_SCAN_LIMIT {
        if !iter.is_valid() {
            return Ok(oldest.map_or(LockScan::None, LockScan::Oldest));
        }
        let lock = Lock::decode(iter.value())?;
        oldest = Some(oldest.map_or(lock.start_ts, |o| o.min(lock.start_ts)));
        iter.next().await?;
    }
    Ok(if iter.is_valid() { LockScan::TooMany } else { oldest.map_or(LockScan::None, LockScan::Oldest) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_flight_reports_the_oldest_until_its_guard_drops() {
        let in_flight = InFlight::default();
        let old = in_flight.pin(TimeStamp::new(10));
        let twice = in_flight.pin(TimeStamp::new(10));
        let new = in_flight.pin(TimeStamp::new(20));
        assert_eq!(in_flight.oldest(), Some(TimeStamp::new(10)));
        drop(old);
        assert_eq!(in_flight.oldest(), Some(TimeStamp::new(10)), "tracked twice");
        drop(twice);
        assert_eq!(in_flight.oldest(), Some(TimeStamp::new(20)));
        drop(new);
        assert_eq!(in_flight.oldest(), None);
    }

    #[test]
    fn the_life_time_bound_subtracts_physical_time() {
        let now = TimeStamp::compose(1_700_000_600_000, 7);
        assert_eq!(life_time_bound(now, 600), TimeStamp::compose(1_700_000_000_000, 0));
        assert_eq!(life_time_bound(TimeStamp::compose(5, 0), 600), TimeStamp::ZERO);
    }
}
