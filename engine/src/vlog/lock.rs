//! A single-threaded async lock that serialises the value log's writers.
//!
//! Appends, syncs, rotations and deletions await I/O; if two of them interleaved, an append
//! could land after a `sync` that its caller believes covers it, or two deletions could race on
//! the obsolete list. Holding this lock across each operation keeps them in call order. No
//! atomics: everything runs on one core.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

/// The lock. Waiters are all woken on release and race again; a waiter that gave up (its
/// future was dropped) therefore never strands the others.
#[derive(Debug, Default)]
pub struct AsyncLock {
    locked: Cell<bool>,
    waiters: RefCell<Vec<Waker>>,
}

/// Holds the lock until dropped.
#[derive(Debug)]
pub struct AsyncLockGuard<'a> {
    lock: &'a AsyncLock,
}

impl AsyncLock {
    /// Waits until the lock is free and takes it.
    pub fn lock(&self) -> impl Future<Output = AsyncLockGuard<'_>> {
        Acquire { lock: self }
    }
}

struct Acquire<'a> {
    lock: &'a AsyncLock,
}

impl<'a> Future for Acquire<'a> {
    type Output = AsyncLockGuard<'a>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let lock = self.lock;
        if lock.locked.replace(true) {
            lock.waiters.borrow_mut().push(cx.waker().clone());
            return Poll::Pending;
        }
        Poll::Ready(AsyncLockGuard { lock })
    }
}

impl Drop for AsyncLockGuard<'_> {
    fn drop(&mut self) {
        self.lock.locked.set(false);
        let waiters = std::mem::take(&mut *self.lock.waiters.borrow_mut());
        for waker in waiters {
            waker.wake();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::rc::Rc;

    use futures_lite::future::{block_on, yield_now};

    use super::*;

    #[test]
    fn holders_never_overlap() {
        block_on(async {
            let lock = Rc::new(AsyncLock::default());
            let log = Rc::new(RefCell::new(Vec::new()));
            let task = |id: u32| {
                let (lock, log) = (lock.clone(), log.clone());
                async move {
                    let _guard = lock.lock().await;
                    log.borrow_mut().push((id, "in"));
                    yield_now().await;
                    log.borrow_mut().push((id, "out"));
                }
            };
            futures_lite::future::zip(task(1), futures_lite::future::zip(task(2), task(3))).await;
            let log = log.borrow();
            for pair in log.chunks(2) {
                assert_eq!(pair[0].0, pair[1].0, "{log:?}");
            }
            assert_eq!(log.len(), 6);
        });
    }
}
