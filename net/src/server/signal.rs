//! [`CloseSignal`]: how a connection is told to close from outside its task (CLIENT KILL from
//! another client, server shutdown).
//!
//! The level only rises. The connection task is its only waiter: it races its read against
//! [`CloseSignal::reached`]`(Graceful)` and its write against `reached(Now)`, and never runs
//! both waits at once, so one stored waker suffices.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

/// How urgently a connection must close.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum CloseLevel {
    /// Keep serving.
    #[default]
    Open,
    /// Stop reading; finish the batch in progress and write its replies (shutdown).
    Graceful,
    /// Close as soon as the batch in progress returns, writing nothing more (CLIENT KILL, the
    /// end of the shutdown grace period).
    Now,
}

/// A rising close level with one waiter.
#[derive(Debug, Default)]
pub struct CloseSignal {
    level: Cell<CloseLevel>,
    waker: RefCell<Option<Waker>>,
}

impl CloseSignal {
    /// The current level.
    pub fn level(&self) -> CloseLevel {
        self.level.get()
    }

    /// Raises the level to `level` (never lowers it) and wakes the waiter.
    pub fn raise(&self, level: CloseLevel) {
        if level <= self.level.get() {
            return;
        }
        self.level.set(level);
        if let Some(waker) = self.waker.borrow_mut().take() {
            waker.wake();
        }
    }

    /// Completes once the level is at least `level`.
    pub fn reached(&self, level: CloseLevel) -> Reached<'_> {
        Reached { signal: self, level }
    }
}

/// The future of [`CloseSignal::reached`].
#[derive(Debug)]
pub struct Reached<'a> {
    signal: &'a CloseSignal,
    level: CloseLevel,
}

impl Future for Reached<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.signal.level.get() >= self.level {
            return Poll::Ready(());
        }
        *self.signal.waker.borrow_mut() = Some(cx.waker().clone());
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_lite::future;

    #[test]
    fn the_level_only_rises_and_wakes_the_waiter() {
        let signal = CloseSignal::default();
        let mut graceful = Box::pin(signal.reached(CloseLevel::Graceful));
        assert!(future::block_on(future::poll_once(&mut graceful)).is_none());
        signal.raise(CloseLevel::Now);
        signal.raise(CloseLevel::Graceful);
        assert_eq!(signal.level(), CloseLevel::Now);
        assert!(future::block_on(future::poll_once(&mut graceful)).is_some());
    }
}
