//! The one iterator contract every layer implements: memtables, SST blocks and tables, level
//! concatenations and the merge of them all.
//!
//! An iterator walks *internal* entries (see [`crate::key`]) in internal-key order, forward or
//! backward. It starts unpositioned; a `seek*` call positions it. When it runs off either end,
//! `is_valid` turns false; `key`/`value` may only be called while it is valid. Errors (I/O,
//! corruption) are returned by the positioning call that hit them, never as data.

use crate::error::Result;

/// A positioned cursor over internal entries.
pub trait InternalIterator {
    /// True while positioned on an entry.
    fn is_valid(&self) -> bool;
    /// The current entry's internal key. Only while valid.
    fn key(&self) -> &[u8];
    /// The current entry's value. Only while valid.
    fn value(&self) -> &[u8];
    /// Positions on the first entry.
    async fn seek_to_first(&mut self) -> Result<()>;
    /// Positions on the last entry.
    async fn seek_to_last(&mut self) -> Result<()>;
    /// Positions on the first entry whose key is `>= target` (internal order).
    async fn seek(&mut self, target: &[u8]) -> Result<()>;
    /// Positions on the last entry whose key is `<= target` (internal order).
    async fn seek_for_prev(&mut self, target: &[u8]) -> Result<()>;
    /// Moves to the next entry. Only while valid.
    async fn next(&mut self) -> Result<()>;
    /// Moves to the previous entry. Only while valid.
    async fn prev(&mut self) -> Result<()>;
}

/// An iterator over a sorted vector of entries; used for tests and small in-memory runs.
#[derive(Debug, Default)]
pub struct VecIterator {
    entries: Vec<(Vec<u8>, Vec<u8>)>,
    position: Option<usize>,
}

impl VecIterator {
    /// Wraps entries that must already be sorted in internal-key order.
    pub fn new(entries: Vec<(Vec<u8>, Vec<u8>)>) -> Self {
        debug_assert!(entries.windows(2).all(|w| crate::key::compare_internal(&w[0].0, &w[1].0).is_lt()));
        VecIterator { entries, position: None }
    }

    fn current(&self) -> &(Vec<u8>, Vec<u8>) {
        &self.entries[self.position.expect("iterator is valid")]
    }
}

impl InternalIterator for VecIterator {
    fn is_valid(&self) -> bool {
        self.position.is_some()
    }
    fn key(&self) -> &[u8] {
        &self.current().0
    }
    fn value(&self) -> &[u8] {
        &self.current().1
    }
    async fn seek_to_first(&mut self) -> Result<()> {
        self.position = if self.entries.is_empty() { None } else { Some(0) };
        Ok(())
    }
    async fn seek_to_last(&mut self) -> Result<()> {
        self.position = self.entries.len().checked_sub(1);
        Ok(())
    }
    async fn seek(&mut self, target: &[u8]) -> Result<()> {
        let index = self.entries.partition_point(|(k, _)| crate::key::compare_internal(k, target).is_lt());
        self.position = (index < self.entries.len()).then_some(index);
        Ok(())
    }
    async fn seek_for_prev(&mut self, target: &[u8]) -> Result<()> {
        let index = self.entries.partition_point(|(k, _)| crate::key::compare_internal(k, target).is_le());
        self.position = index.checked_sub(1);
        Ok(())
    }
    async fn next(&mut self) -> Result<()> {
        let next = self.position.expect("iterator is valid") + 1;
        self.position = (next < self.entries.len()).then_some(next);
        Ok(())
    }
    async fn prev(&mut self) -> Result<()> {
        self.position = self.position.expect("iterator is valid").checked_sub(1);
        Ok(())
    }
}
