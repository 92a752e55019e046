//! MVCC version GC inside compaction of the Write CF (TiKV's `WriteCompactionFilter`).
//!
//! Write CF user keys are `data_key | !commit_ts`, so a compaction offers the versions of one
//! data key adjacent and newest first; [`VersionWalker`] decides each one's fate at the safe
//! point read when the compaction began:
//! - a dropped Put whose value is not inline also loses its Default CF value
//!   (`data_key | !start_ts`). Those deletes are collected during the compaction and returned
//!   from `end`, which the engine calls once the compaction's version edit is installed, so the
//!   Write record is gone before its value is;
//! - the newest Delete at or below the safe point is *kept* in the compaction (versions older
//!   than it are dropped): the compaction may not hold every older version of the key (they can
//!   sit in a file of the last level outside its key range), and one left behind would
//!   resurface. When the output level is bottommost, the data key is queued instead, and
//!   [`collect_delete_marks`] later removes the Delete and everything older through
//!   [`super::gc_deletes`], which reads the whole tree.
//!
//! A compaction may see only part of a key's versions (the rest in files outside it); every
//! rule above then errs on keeping: a Put or Delete is only dropped below a newer Put or
//! Delete at or below the safe point that this compaction keeps.
//!
//! Each replica garbage-collects its own data: the deletes are written with
//! [`Engine::delete_unjournaled`], outside raft and the journal. A crash before they are
//! flushed loses them, which only leaks space (a Default value nothing points to, a Delete
//! mark); the engine gives them no region watermark, so flushed-index bookkeeping and
//! recovery are untouched. Locks with `start_ts <= safe_point` must not exist (the safe point
//! stays below the oldest lock).

use std::cell::{Cell, RefCell};

use bytes::Bytes;
use nokv_engine::compaction::filter::{CompactionFilter, FilterContext, FilterDecision};
use nokv_engine::io::FileSystem;
use nokv_engine::{Cf, Engine};

use super::{Fate, VersionWalker, default_value_start_ts, gc_deletes};
use crate::error::Result;
use crate::keys;
use crate::record::Write;
use crate::timestamp::TimeStamp;

/// Delete marks waiting for [`collect_delete_marks`]; past this, marks are forgotten (their
/// keys keep a Delete record and older versions until a later bottommost compaction).
const MAX_PENDING_DELETE_MARKS: usize = 65_536;

/// Counters of the filter's work.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GcFilterStats {
    /// Write CF versions dropped by compaction or by delete-mark collection.
    pub versions_dropped: u64,
    /// Default CF values deleted with their dropped Put.
    pub default_deletes: u64,
    /// Data keys whose Delete mark was collected.
    pub delete_marks_collected: u64,
}

/// The state of the compaction under way.
#[derive(Default)]
struct Compaction {
    active: bool,
    bottommost: bool,
    safe_point: TimeStamp,
    data_key: Vec<u8>,
    walker: VersionWalker,
    default_deletes: Vec<(Cf, Bytes)>,
}

/// The Write CF compaction filter of one core's engine.
#[derive(Default)]
pub struct WriteCfGcFilter {
    safe_point: Cell<TimeStamp>,
    compaction: RefCell<Compaction>,
    delete_marks: RefCell<Vec<Vec<u8>>>,
    stats: Cell<GcFilterStats>,
}

impl WriteCfGcFilter {
    /// A filter that drops nothing until a safe point is published.
    pub fn new() -> WriteCfGcFilter {
        WriteCfGcFilter::default()
    }

    /// The current safe point (zero: none published yet).
    pub fn safe_point(&self) -> TimeStamp {
        self.safe_point.get()
    }

    /// Publishes a safe point; it never moves backwards. Returns the safe point in force.
    pub fn advance_safe_point(&self, safe_point: TimeStamp) -> TimeStamp {
        let advanced = self.safe_point.get().max(safe_point);
        self.safe_point.set(advanced);
        advanced
    }

    /// Counters.
    pub fn stats(&self) -> GcFilterStats {
        self.stats.get()
    }

    fn count(&self, update: impl FnOnce(&mut GcFilterStats)) {
        let mut stats = self.stats.get();
        update(&mut stats);
        self.stats.set(stats);
    }

    fn fate(&self, user_key: &[u8], value: Option<&[u8]>) -> Option<(Fate, Write)> {
        let (data_key, commit_ts) = keys::split_ts(user_key).ok()?;
        let write = Write::decode(value?).ok()?;
        let mut compaction = self.compaction.borrow_mut();
        if compaction.data_key != data_key {
            compaction.data_key = data_key.to_vec();
            compaction.walker = VersionWalker::default();
        }
        let safe_point = compaction.safe_point;
        Some((compaction.walker.step(commit_ts, write.write_type, safe_point), write))
    }

    fn queue_delete_mark(&self, data_key: &[u8]) {
        let mut marks = self.delete_marks.borrow_mut();
        if marks.len() < MAX_PENDING_DELETE_MARKS && marks.last().is_none_or(|last| last != data_key) {
            marks.push(data_key.to_vec());
        }
    }
}

impl CompactionFilter for WriteCfGcFilter {
    fn begin(&self, context: &FilterContext) {
        *self.compaction.borrow_mut() = Compaction {
            active: context.cf == Cf::Write && !self.safe_point.get().is_zero(),
            bottommost: context.bottommost,
            safe_point: self.safe_point.get(),
            ..Compaction::default()
        };
    }

    fn filter(&self, user_key: &[u8], value: Option<&[u8]>) -> FilterDecision {
        if !self.compaction.borrow().active {
            return FilterDecision::Keep;
        }
        // A record this layer cannot read is kept: GC must never guess.
        let Some((fate, write)) = self.fate(user_key, value) else { return FilterDecision::Keep };
        match fate {
            Fate::Keep => FilterDecision::Keep,
            Fate::DropDeleteMark => {
                if self.compaction.borrow().bottommost {
                    let data_key = self.compaction.borrow().data_key.clone();
                    self.queue_delete_mark(&data_key);
                }
                FilterDecision::Keep
            }
            Fate::Drop => {
                if let Some(start_ts) = default_value_start_ts(&write) {
                    let mut compaction = self.compaction.borrow_mut();
                    let default_key = keys::with_ts(&compaction.data_key, start_ts);
                    compaction.default_deletes.push((Cf::Default, Bytes::from(default_key)));
                }
                self.count(|s| s.versions_dropped += 1);
                FilterDecision::Drop
            }
        }
    }

    fn end(&self) -> Vec<(Cf, Bytes)> {
        let deletes = std::mem::take(&mut self.compaction.borrow_mut().default_deletes);
        self.count(|s| s.default_deletes += deletes.len() as u64);
        deletes
    }
}

/// Removes the Delete marks bottommost compactions queued, each with every older version of
/// its key, read from the whole tree at the current safe point. Returns the keys collected.
pub async fn collect_delete_marks<F: FileSystem>(engine: &Engine<F>, filter: &WriteCfGcFilter) -> Result<usize> {
    let marks = std::mem::take(&mut *filter.delete_marks.borrow_mut());
    let safe_point = filter.safe_point();
    for data_key in &marks {
        let deletes = gc_deletes(engine, data_key, safe_point).await?;
        if deletes.is_empty() {
            continue;
        }
        engine.delete_unjournaled(&deletes)?;
        let defaults = deletes.iter().filter(|(cf, _)| *cf == Cf::Default).count() as u64;
        filter.count(|s| {
            s.versions_dropped += deletes.len() as u64 - defaults;
            s.default_deletes += defaults;
            s.delete_marks_collected += 1;
        });
    }
    Ok(marks.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::WriteType;

    fn ts(raw: u64) -> TimeStamp {
        TimeStamp::new(raw)
    }

    fn write(write_type: WriteType, start: u64, inline: bool) -> Vec<u8> {
        Write::new(write_type, ts(start), inline.then(|| Bytes::from_static(b"v"))).encode()
    }

    /// Runs one compaction over `entries` (`(user key, commit_ts, record)`, in key order).
    fn compact(
        filter: &WriteCfGcFilter,
        bottommost: bool,
        entries: &[(&[u8], u64, Vec<u8>)],
    ) -> (Vec<FilterDecision>, Vec<(Cf, Bytes)>) {
        filter.begin(&FilterContext { cf: Cf::Write, bottommost });
        let decisions = entries
            .iter()
            .map(|(user_key, commit_ts, record)| {
                filter.filter(&keys::versioned_key(user_key, ts(*commit_ts)), Some(record))
            })
            .collect();
        (decisions, filter.end())
    }

    use FilterDecision::{Drop, Keep};

    #[test]
    fn keeps_the_newest_put_at_or_below_the_safe_point_and_drops_older_versions_with_their_values() {
        let filter = WriteCfGcFilter::new();
        filter.advance_safe_point(ts(100));
        let entries: Vec<(&[u8], u64, Vec<u8>)> = vec![
            (b"a", 120, write(WriteType::Put, 119, false)),
            (b"a", 90, write(WriteType::Put, 89, true)),
            (b"a", 80, write(WriteType::Put, 79, false)),
            (b"a", 70, write(WriteType::Rollback, 70, false)),
            (b"b", 95, write(WriteType::Lock, 94, false)),
            (b"b", 60, write(WriteType::Put, 59, false)),
            (b"b", 50, write(WriteType::Put, 49, true)),
        ];
        let (decisions, deletes) = compact(&filter, false, &entries);
        assert_eq!(decisions, [Keep, Keep, Drop, Drop, Drop, Keep, Drop]);
        assert_eq!(deletes, [(Cf::Default, Bytes::from(keys::versioned_key(b"a", ts(79))))]);
        let stats = filter.stats();
        assert_eq!((stats.versions_dropped, stats.default_deletes), (4, 1));
    }

    #[test]
    fn a_delete_mark_stays_and_is_queued_only_when_the_output_is_bottommost() {
        let entries: Vec<(&[u8], u64, Vec<u8>)> = vec![
            (b"d", 90, write(WriteType::Delete, 89, false)),
            (b"d", 80, write(WriteType::Put, 79, false)),
            (b"d", 70, write(WriteType::Delete, 69, false)),
        ];
        for bottommost in [false, true] {
            let filter = WriteCfGcFilter::new();
            filter.advance_safe_point(ts(100));
            let (decisions, deletes) = compact(&filter, bottommost, &entries);
            assert_eq!(decisions, [Keep, Drop, Drop], "bottommost {bottommost}");
            assert_eq!(deletes, [(Cf::Default, Bytes::from(keys::versioned_key(b"d", ts(79))))]);
            let queued = filter.delete_marks.borrow().clone();
            let expected = if bottommost { vec![keys::data_key(b"d")] } else { Vec::new() };
            assert_eq!(queued, expected, "bottommost {bottommost}");
        }
    }

    #[test]
    fn nothing_is_dropped_without_a_safe_point_or_outside_the_write_cf() {
        let entries: Vec<(&[u8], u64, Vec<u8>)> =
            vec![(b"a", 20, write(WriteType::Put, 19, true)), (b"a", 10, write(WriteType::Put, 9, false))];
        let filter = WriteCfGcFilter::new();
        assert_eq!(compact(&filter, true, &entries).0, [Keep, Keep]);
        filter.advance_safe_point(ts(100));
        filter.begin(&FilterContext { cf: Cf::Default, bottommost: true });
        assert_eq!(filter.filter(&keys::versioned_key(b"a", ts(10)), Some(&entries[1].2)), Keep);
        assert_eq!(compact(&filter, true, &entries).0, [Keep, Drop]);
    }

    #[test]
    fn the_safe_point_never_moves_backwards_and_unreadable_records_are_kept() {
        let filter = WriteCfGcFilter::new();
        assert_eq!(filter.advance_safe_point(ts(100)), ts(100));
        assert_eq!(filter.advance_safe_point(ts(50)), ts(100));
        filter.begin(&FilterContext { cf: Cf::Write, bottommost: true });
        assert_eq!(filter.filter(b"\x00", Some(b"x")), Keep, "a key too short for a timestamp");
        assert_eq!(filter.filter(&keys::versioned_key(b"a", ts(10)), Some(b"\xff")), Keep, "a bad record");
        assert_eq!(filter.filter(&keys::versioned_key(b"a", ts(9)), None), Keep, "a value in the value log");
    }
}
