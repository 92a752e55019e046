//! Compaction filters: a hook (RocksDB's / TiKV's compaction filter) through which a layer above
//! the engine drops entries it knows to be dead while compaction rewrites them, e.g. MVCC
//! versions below a GC safe point. The engine stays agnostic of what the entries mean.
//!
//! Contract, per compaction of a column family with a filter installed:
//! 1. [`CompactionFilter::begin`] once, with the CF and whether the output level is bottommost;
//! 2. [`CompactionFilter::filter`] for each user key, in key order, with its *newest* entry
//!    among the inputs, and only when the engine's own rules would keep that entry, it is a value
//!    (not a tombstone), and every reader can see it (its sequence is at or below the oldest
//!    snapshot). Such an entry shadows every older entry of its user key in the compaction,
//!    which the engine drops anyway, so dropping it leaves none of them behind; entries of the
//!    user key in files outside the compaction (a lower level) are not touched, so a filter may
//!    only drop what such an entry cannot make wrong;
//! 3. [`CompactionFilter::end`] once the compaction's version edit is installed (not called if
//!    it failed; the next `begin` starts afresh). The point deletes it returns are written at
//!    once to the memtable without the journal ([`crate::Engine::delete_unjournaled`]): a
//!    crash before the next flush loses them, which must only leak space.
//!
//! Dropped entries count toward value-log discard like shadowed ones.

use bytes::Bytes;

use crate::key::Cf;

/// What a filter decides for an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterDecision {
    /// Keep the entry (and let the engine's rules decide about older entries).
    Keep,
    /// Drop the entry.
    Drop,
}

/// The compaction a filter is asked about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FilterContext {
    /// The column family compacted.
    pub cf: Cf,
    /// True when no level below the output holds keys of the compaction's range.
    pub bottommost: bool,
}

/// A per-CF compaction filter (installed with [`crate::Engine::set_compaction_filter`]).
pub trait CompactionFilter {
    /// A compaction starts.
    fn begin(&self, context: &FilterContext);

    /// The newest entry of `user_key` in the compaction; `value` is `None` when the value lives
    /// in the value log (compaction does not read it).
    fn filter(&self, user_key: &[u8], value: Option<&[u8]>) -> FilterDecision;

    /// The compaction is installed. Returns point deletes for the engine to write unjournaled.
    fn end(&self) -> Vec<(Cf, Bytes)>;
}
