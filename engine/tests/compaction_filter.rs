//! Compaction filters: a filter installed on a CF sees each kept user key once, in order, with
//! the compaction's context; what it drops is gone after the compaction and its value-log bytes
//! count as discard (so value-log GC finds a candidate); the deletes its `end` returns are
//! written once the compaction is installed.

mod common;

use std::cell::{Cell, RefCell};
use std::path::Path;
use std::rc::Rc;

use bytes::Bytes;
use futures_lite::future::block_on;
use nokv_engine::compaction::filter::{CompactionFilter, FilterContext, FilterDecision};
use nokv_engine::io::mem::MemFs;
use nokv_engine::{Cf, Db, Durability, EngineOptions};

fn options() -> EngineOptions {
    let mut options = EngineOptions { memtable_size_bytes: 1 << 20, ..Default::default() };
    options.value_log.file_size_bytes = 1 << 20;
    options.value_log.gc_discard_ratio = 0.5;
    options
}

fn key(index: usize) -> Vec<u8> {
    format!("key{index:05}").into_bytes()
}

fn value(index: usize) -> Vec<u8> {
    common::incompressible(index as u64 + 1, 8192)
}

/// Drops every `keyNNNNN` whose index is odd; asks for `extra` to be deleted at the end.
#[derive(Default)]
struct DropOdd {
    contexts: RefCell<Vec<FilterContext>>,
    seen: RefCell<Vec<Vec<u8>>>,
    separated_values: Cell<u64>,
    ends: Cell<u64>,
}

impl CompactionFilter for DropOdd {
    fn begin(&self, context: &FilterContext) {
        self.contexts.borrow_mut().push(*context);
        self.seen.borrow_mut().clear();
    }

    fn filter(&self, user_key: &[u8], value: Option<&[u8]>) -> FilterDecision {
        self.seen.borrow_mut().push(user_key.to_vec());
        self.separated_values.set(self.separated_values.get() + u64::from(value.is_none()));
        let index = user_key.strip_prefix(b"key").and_then(|digits| std::str::from_utf8(digits).ok()?.parse().ok());
        if index.is_some_and(|index: usize| index % 2 == 1) { FilterDecision::Drop } else { FilterDecision::Keep }
    }

    fn end(&self) -> Vec<(Cf, Bytes)> {
        self.ends.set(self.ends.get() + 1);
        vec![(Cf::Default, Bytes::from_static(b"extra"))]
    }
}

#[test]
fn filter_drops_are_gone_and_count_as_value_log_discard() {
    block_on(async {
        let db = Db::open(MemFs::new(), Path::new("/db"), options()).await.expect("open");
        let keys = 400;
        for index in 0..keys {
            db.put(&key(index), &value(index), Durability::Written).await.expect("put");
        }
        db.put(b"extra", b"small", Durability::Written).await.expect("put");
        db.flush().await.expect("flush");
        let engine = db.engine();
        engine.compact_range_all().await.expect("compaction without a filter");
        assert_eq!(engine.gc_value_log().await.expect("gc"), None, "nothing is garbage yet");

        let filter = Rc::new(DropOdd::default());
        engine.set_compaction_filter(Cf::Default, Some(filter.clone()));
        // The data sits in the last level now; a full compaction would not rewrite it, so
        // write a table spanning its whole key range to merge with.
        for index in [0, keys - 2] {
            db.put(&key(index), &value(index), Durability::Written).await.expect("put");
        }
        db.flush().await.expect("flush");
        engine.compact_range_all().await.expect("compaction with the filter");

        let contexts = filter.contexts.borrow().clone();
        assert!(contexts.iter().all(|c| c.cf == Cf::Default), "{contexts:?}");
        assert!(contexts.last().is_some_and(|c| c.bottommost), "{contexts:?}");
        let seen = filter.seen.borrow().clone();
        assert!(seen.windows(2).all(|pair| pair[0] < pair[1]), "each user key once, in order");
        assert!(filter.separated_values.get() >= keys as u64 / 2, "value-log values come without their value");
        assert!(filter.ends.get() >= 1);
        assert_eq!(engine.stats().filtered_entries, keys as u64 / 2);
        for index in 0..keys {
            let found = db.get(&key(index)).await.expect("get");
            let expected = (index % 2 == 0).then(|| value(index));
            assert_eq!(found.as_deref(), expected.as_deref(), "key {index}");
        }
        assert_eq!(db.get(b"extra").await.expect("get"), None, "the delete from end() was written");
        assert!(engine.gc_value_log().await.expect("gc").is_some(), "dropped values count as discard");
    });
}

#[test]
fn entries_a_snapshot_still_sees_are_not_offered() {
    block_on(async {
        let db = Db::open(MemFs::new(), Path::new("/db"), options()).await.expect("open");
        let engine = db.engine();
        let filter = Rc::new(DropOdd::default());
        engine.set_compaction_filter(Cf::Default, Some(filter.clone()));
        let snapshot = engine.snapshot();
        db.put(&key(1), b"after the snapshot", Durability::Written).await.expect("put");
        db.flush().await.expect("flush");
        engine.compact_range_all().await.expect("compact");
        assert!(filter.seen.borrow().is_empty(), "a write newer than a snapshot is kept without asking");
        assert_eq!(db.get(&key(1)).await.expect("get").as_deref(), Some(&b"after the snapshot"[..]));
        drop(snapshot);
    });
}
