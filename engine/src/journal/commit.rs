//! The group-commit queue: staged appends, the single-writer flag and per-append completion
//! slots, all single-threaded (`Rc`, `Cell`, `RefCell`) and independent of any executor.
//!
//! A caller stages its batch with a fresh [`Slot`]. Whoever finds no writer active becomes the
//! writer (the "leader") and writes everything staged; followers wait on their slot. The leader
//! completes slots strictly in staging order. When a leader stops (normally or because its
//! future was dropped) it wakes every still-staged follower so that one of them takes over.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use super::batch::JournalBatch;
use crate::error::{Error, Result};

/// Where one append's outcome is delivered.
#[derive(Debug, Default)]
pub struct Slot {
    result: RefCell<Option<Result<()>>>,
    /// Set when the leader went away without completing this slot: re-check who writes.
    nudged: Cell<bool>,
    waker: RefCell<Option<Waker>>,
}

impl Slot {
    /// Delivers the outcome (only the first one counts) and wakes the waiter.
    pub fn complete(&self, result: Result<()>) {
        let mut slot = self.result.borrow_mut();
        if slot.is_none() {
            *slot = Some(result);
        }
        drop(slot);
        self.wake();
    }

    /// Wakes the waiter without an outcome so it re-checks whether a writer is active.
    pub fn nudge(&self) {
        self.nudged.set(true);
        self.wake();
    }

    /// True once an outcome was delivered.
    pub fn is_complete(&self) -> bool {
        self.result.borrow().is_some()
    }

    /// Takes the outcome, if delivered.
    pub fn take_result(&self) -> Option<Result<()>> {
        self.result.borrow_mut().take()
    }

    fn wake(&self) {
        if let Some(waker) = self.waker.borrow_mut().take() {
            waker.wake();
        }
    }
}

/// Resolves when the slot is completed or nudged.
#[derive(Debug)]
pub struct SlotSignal<'a>(pub &'a Slot);

impl Future for SlotSignal<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let slot = self.0;
        if slot.is_complete() || slot.nudged.replace(false) {
            return Poll::Ready(());
        }
        *slot.waker.borrow_mut() = Some(cx.waker().clone());
        Poll::Pending
    }
}

/// One staged append.
#[derive(Debug)]
pub struct Member {
    /// What to write.
    pub batch: Rc<JournalBatch>,
    /// Whether the caller waits for durability.
    pub sync: bool,
    /// Where the outcome goes.
    pub slot: Rc<Slot>,
}

/// The shared state of group commit.
#[derive(Debug, Default)]
pub struct CommitQueue {
    /// Appends waiting for the writer, in arrival order.
    pub staged: Vec<Member>,
    /// Slots taken by the writer and not yet completed.
    pub in_flight: Vec<Rc<Slot>>,
    /// True while a leader runs.
    pub writer_active: bool,
    /// Why the journal refuses writes (a failed write or sync), if it does.
    pub failure: Option<String>,
    /// The first batch (by leader ordinal) that failed.
    pub failed_ordinal: Option<u64>,
    /// Compactions applied in memory, written with the next batch.
    pub pending_compacts: Vec<(u64, u64)>,
}

impl CommitQueue {
    /// The error every append gets once the journal failed.
    pub fn closed_error(&self) -> Option<Error> {
        self.failure.as_ref().map(|why| Error::Closed(format!("journal refuses writes until reopened: {why}")))
    }

    /// Called when a leader stops: fails what it left in flight (its outcome is unknown) and
    /// wakes the staged followers so one of them leads.
    pub fn leader_stopped(&mut self) {
        self.writer_active = false;
        let abandoned: Vec<Rc<Slot>> = self.in_flight.drain(..).filter(|slot| !slot.is_complete()).collect();
        if !abandoned.is_empty() {
            self.failure.get_or_insert_with(|| "the journal writer was cancelled mid-write".to_string());
        }
        let error = self.closed_error();
        for slot in abandoned {
            slot.complete(Err(error.as_ref().map_or_else(|| Error::Closed(String::new()), duplicate_error)));
        }
        self.staged.iter().for_each(|member| member.slot.nudge());
    }
}

/// A copy of `error` for every member of a failed batch (`Error` is not `Clone`).
pub fn duplicate_error(error: &Error) -> Error {
    match error {
        Error::Io { path, source } => Error::io(path.clone(), std::io::Error::new(source.kind(), source.to_string())),
        Error::Corruption { what, detail } => Error::corruption(what, detail.clone()),
        Error::InvalidArgument(why) => Error::InvalidArgument(why.clone()),
        Error::Closed(why) => Error::Closed(why.clone()),
        other => Error::Closed(other.to_string()),
    }
}
