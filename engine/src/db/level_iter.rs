//! Iterators over the sources of a read: a memtable, one table, or a whole sorted level.
//!
//! A level (L1 and deeper) is a concatenation of non-overlapping tables sorted by key; the
//! level iterator opens one table iterator at a time and moves to the neighbour table when it
//! runs off either end. [`SourceIterator`] gives the merging iterator one type for every kind
//! of child (async trait methods cannot be called through `dyn`).

use std::rc::Rc;

use crate::error::Result;
use crate::io::FileSystem;
use crate::iter::InternalIterator;
use crate::key::{self, compare_internal};
use crate::memtable::MemTableIterator;
use crate::sst::filter::KeyPrefix;
use crate::sst::{Table, TableIterator};

/// Concatenates the tables of one sorted level.
pub(crate) struct LevelIterator<F: FileSystem> {
    tables: Vec<Rc<Table<F::File>>>,
    fill_cache: bool,
    /// Seeks stay within keys with this prefix (see `ReadOptions::prefix`).
    prefix: Option<KeyPrefix>,
    /// Index of the open table and its iterator.
    current: Option<(usize, TableIterator<F::File>)>,
    /// Tables are read whole, in large reads that bypass the cache (compaction inputs).
    sequential: bool,
}

impl<F: FileSystem> LevelIterator<F> {
    /// Iterates `tables`, which must be sorted and non-overlapping.
    pub(crate) fn new(tables: Vec<Rc<Table<F::File>>>, fill_cache: bool, prefix: Option<KeyPrefix>) -> Self {
        LevelIterator { tables, fill_cache, prefix, current: None, sequential: false }
    }

    /// Iterates `tables` (sorted, non-overlapping) once from the start, reading each whole with
    /// [`Table::sequential_iter`]: one child of a compaction's merge for a level's inputs,
    /// which otherwise were a child per table for the merge to compare at every entry.
    pub(crate) fn sequential(tables: Vec<Rc<Table<F::File>>>) -> Self {
        debug_assert!(
            tables.windows(2).all(|pair| compare_internal(&pair[0].meta().largest, &pair[1].meta().smallest).is_lt())
        );
        LevelIterator { tables, fill_cache: false, prefix: None, current: None, sequential: true }
    }

    fn open(&mut self, index: usize) -> Option<&mut TableIterator<F::File>> {
        let table = self.tables.get(index)?;
        let iter = if self.sequential {
            table.sequential_iter()
        } else {
            table.iter(self.fill_cache).with_prefix(self.prefix.clone())
        };
        self.current = Some((index, iter));
        self.current.as_mut().map(|(_, iter)| iter)
    }

    /// With a prefix, whether table `index` starts past every key with it (tables are sorted,
    /// so it and the ones after it hold none).
    fn prefix_ends_before(&self, index: usize) -> bool {
        let (Some(prefix), Some(table)) = (&self.prefix, self.tables.get(index)) else { return false };
        !key::user_key(&table.meta().smallest).starts_with(prefix.bytes())
    }

    fn iter(&self) -> &TableIterator<F::File> {
        &self.current.as_ref().expect("iterator is valid").1
    }

    /// After the open table ran off its end, moves forward through the next tables.
    async fn skip_forward(&mut self) -> Result<()> {
        while let Some((index, iter)) = &self.current {
            if iter.is_valid() {
                return Ok(());
            }
            let next = *index + 1;
            if self.prefix_ends_before(next) {
                self.current = None;
                return Ok(());
            }
            match self.open(next) {
                Some(iter) => iter.seek_to_first().await?,
                None => self.current = None,
            }
        }
        Ok(())
    }

    /// After the open table ran off its start, moves backward through the previous tables.
    async fn skip_backward(&mut self) -> Result<()> {
        while let Some((index, iter)) = &self.current {
            if iter.is_valid() {
                return Ok(());
            }
            let Some(previous) = index.checked_sub(1) else {
                self.current = None;
                return Ok(());
            };
            if let Some(iter) = self.open(previous) {
                iter.seek_to_last().await?;
            }
        }
        Ok(())
    }
}

impl<F: FileSystem> InternalIterator for LevelIterator<F> {
    fn is_valid(&self) -> bool {
        self.current.as_ref().is_some_and(|(_, iter)| iter.is_valid())
    }
    fn key(&self) -> &[u8] {
        self.iter().key()
    }
    fn value(&self) -> &[u8] {
        self.iter().value()
    }
    async fn seek_to_first(&mut self) -> Result<()> {
        match self.open(0) {
            Some(iter) => iter.seek_to_first().await?,
            None => self.current = None,
        }
        self.skip_forward().await
    }
    async fn seek_to_last(&mut self) -> Result<()> {
        match self.tables.len().checked_sub(1).and_then(|last| self.open(last)) {
            Some(iter) => iter.seek_to_last().await?,
            None => self.current = None,
        }
        self.skip_backward().await
    }
    async fn seek(&mut self, target: &[u8]) -> Result<()> {
        let index = self.tables.partition_point(|t| compare_internal(&t.meta().largest, target).is_lt());
        match self.open(index) {
            Some(iter) => iter.seek(target).await?,
            None => self.current = None,
        }
        self.skip_forward().await
    }
    async fn seek_for_prev(&mut self, target: &[u8]) -> Result<()> {
        let index = self.tables.partition_point(|t| compare_internal(&t.meta().smallest, target).is_le());
        match index.checked_sub(1).and_then(|index| self.open(index)) {
            Some(iter) => iter.seek_for_prev(target).await?,
            None => self.current = None,
        }
        self.skip_backward().await
    }
    async fn next(&mut self) -> Result<()> {
        self.current.as_mut().expect("iterator is valid").1.next().await?;
        self.skip_forward().await
    }
    async fn prev(&mut self) -> Result<()> {
        self.current.as_mut().expect("iterator is valid").1.prev().await?;
        self.skip_backward().await
    }
}

/// Any child of a read's merging iterator.
pub(crate) enum SourceIterator<F: FileSystem> {
    /// A memtable.
    Memory(MemTableIterator),
    /// One (L0) table.
    Table(Box<TableIterator<F::File>>),
    /// A sorted level.
    Level(Box<LevelIterator<F>>),
}

macro_rules! delegate {
    ($self:ident, $iter:ident => $call:expr) => {
        match $self {
            SourceIterator::Memory($iter) => $call,
            SourceIterator::Table($iter) => $call,
            SourceIterator::Level($iter) => $call,
        }
    };
}

impl<F: FileSystem> InternalIterator for SourceIterator<F> {
    fn is_valid(&self) -> bool {
        delegate!(self, iter => iter.is_valid())
    }
    fn key(&self) -> &[u8] {
        delegate!(self, iter => iter.key())
    }
    fn value(&self) -> &[u8] {
        delegate!(self, iter => iter.value())
    }
    async fn seek_to_first(&mut self) -> Result<()> {
        delegate!(self, iter => iter.seek_to_first().await)
    }
    async fn seek_to_last(&mut self) -> Result<()> {
        delegate!(self, iter => iter.seek_to_last().await)
    }
    async fn seek(&mut self, target: &[u8]) -> Result<()> {
        delegate!(self, iter => iter.seek(target).await)
    }
    async fn seek_for_prev(&mut self, target: &[u8]) -> Result<()> {
        delegate!(self, iter => iter.seek_for_prev(target).await)
    }
    async fn next(&mut self) -> Result<()> {
        delegate!(self, iter => iter.next().await)
    }
    async fn prev(&mut self) -> Result<()> {
        delegate!(self, iter => iter.prev().await)
    }
}
