//! The merging iterator: one sorted view over many sorted children (memtables, L0 tables,
//! level concatenations), forward and backward.
//!
//! Internal keys are unique across children (every write has its own sequence number, and a
//! memtable or table leaves the view when its replacement enters), so the merge never has to
//! break ties. Children are few (a handful of memtables, L0 files and one per deeper level), so
//! the smallest is found by a linear scan instead of a heap. On a change of direction every
//! child is re-positioned around the current key, as RocksDB's merging iterator does.

use crate::error::Result;
use crate::iter::InternalIterator;
use crate::key::compare_internal;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    Forward,
    Backward,
}

/// Merges sorted children into one sorted stream.
#[derive(Debug)]
pub struct MergingIterator<I> {
    children: Vec<I>,
    current: Option<usize>,
    direction: Direction,
}

impl<I: InternalIterator> MergingIterator<I> {
    /// Merges `children`; the result starts unpositioned.
    pub fn new(children: Vec<I>) -> Self {
        MergingIterator { children, current: None, direction: Direction::Forward }
    }

    fn pick(&mut self, direction: Direction) {
        self.direction = direction;
        let mut best: Option<usize> = None;
        for (index, child) in self.children.iter().enumerate() {
            if !child.is_valid() {
                continue;
            }
            let better = match best {
                None => true,
                Some(b) => {
                    let order = compare_internal(child.key(), self.children[b].key());
                    if direction == Direction::Forward { order.is_lt() } else { order.is_gt() }
                }
            };
            if better {
                best = Some(index);
            }
        }
        self.current = best;
    }

    fn current_child(&self) -> &I {
        &self.children[self.current.expect("iterator is valid")]
    }
}

impl<I: InternalIterator> InternalIterator for MergingIterator<I> {
    fn is_valid(&self) -> bool {
        self.current.is_some()
    }
    fn key(&self) -> &[u8] {
        self.current_child().key()
    }
    fn value(&self) -> &[u8] {
        self.current_child().value()
    }
    async fn seek_to_first(&mut self) -> Result<()> {
        for child in &mut self.children {
            child.seek_to_first().await?;
        }
        self.pick(Direction::Forward);
        Ok(())
    }
    async fn seek_to_last(&mut self) -> Result<()> {
        for child in &mut self.children {
            child.seek_to_last().await?;
        }
        self.pick(Direction::Backward);
        Ok(())
    }
    async fn seek(&mut self, target: &[u8]) -> Result<()> {
        for child in &mut self.children {
            child.seek(target).await?;
        }
        self.pick(Direction::Forward);
        Ok(())
    }
    async fn seek_for_prev(&mut self, target: &[u8]) -> Result<()> {
        for child in &mut self.children {
            child.seek_for_prev(target).await?;
        }
        self.pick(Direction::Backward);
        Ok(())
    }
    async fn next(&mut self) -> Result<()> {
        if self.direction == Direction::Backward {
            let key = self.key().to_vec();
            self.seek(&key).await?;
        }
        let index = self.current.expect("iterator is valid");
        self.children[index].next().await?;
        self.pick(Direction::Forward);
        Ok(())
    }
    async fn prev(&mut self) -> Result<()> {
        if self.direction == Direction::Forward {
            let key = self.key().to_vec();
            self.seek_for_prev(&key).await?;
        }
        let index = self.current.expect("iterator is valid");
        self.children[index].prev().await?;
        self.pick(Direction::Backward);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use futures_lite::future::block_on;

    use super::*;
    use crate::iter::VecIterator;
    use crate::key::{ValueKind, encode_internal, user_key};

    fn child(keys: &[(&[u8], u64)]) -> VecIterator {
        VecIterator::new(keys.iter().map(|(k, s)| (encode_internal(k, *s, ValueKind::Put), vec![])).collect())
    }

    #[test]
    fn merges_and_switches_direction() {
        block_on(async {
            let mut merged =
                MergingIterator::new(vec![child(&[(b"a", 1), (b"c", 3)]), child(&[(b"b", 2), (b"c", 5)]), child(&[])]);
            merged.seek_to_first().await.expect("seek");
            let mut forward = Vec::new();
            while merged.is_valid() {
                forward.push(merged.key().to_vec());
                merged.next().await.expect("next");
            }
            let expected = vec![
                encode_internal(b"a", 1, ValueKind::Put),
                encode_internal(b"b", 2, ValueKind::Put),
                encode_internal(b"c", 5, ValueKind::Put),
                encode_internal(b"c", 3, ValueKind::Put),
            ];
            assert_eq!(forward, expected);
            merged.seek(&expected[2]).await.expect("seek");
            merged.prev().await.expect("prev");
            assert_eq!(user_key(merged.key()), b"b");
            merged.next().await.expect("next");
            assert_eq!(merged.key(), expected[2].as_slice());
            merged.seek_to_last().await.expect("seek_to_last");
            assert_eq!(merged.key(), expected[3].as_slice());
        });
    }
}
