//! Single-threaded synchronisation for tasks of one executor: an event to wait for and an async
//! mutex. Runtime-agnostic (plain `Waker`s), so engine code runs the same under glommio and
//! under `block_on` in tests. Nothing here is `Send`: it never crosses cores.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

pub mod oneshot;

/// Wakes every waiter each time it is notified. Waiters re-check their condition in a loop, so a
/// notification is a hint, never a promise.
#[derive(Debug, Default, Clone)]
pub struct Notify {
    inner: Rc<NotifyInner>,
}

#[derive(Debug, Default)]
struct NotifyInner {
    generation: Cell<u64>,
    waiters: RefCell<Vec<Waker>>,
}

impl Notify {
    /// A new event.
    pub fn new() -> Notify {
        Notify::default()
    }

    /// Wakes every current waiter.
    pub fn notify_all(&self) {
        self.inner.generation.set(self.inner.generation.get() + 1);
        for waker in self.inner.waiters.borrow_mut().drain(..) {
            waker.wake();
        }
    }

    /// Completes at the next `notify_all` after this call.
    pub fn notified(&self) -> Notified {
        Notified { inner: self.inner.clone(), generation: self.inner.generation.get() }
    }
}

/// The future of [`Notify::notified`].
#[derive(Debug)]
pub struct Notified {
    inner: Rc<NotifyInner>,
    generation: u64,
}

impl Future for Notified {
    type Output = ();
    fn poll(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<()> {
        if self.inner.generation.get() != self.generation {
            return Poll::Ready(());
        }
        self.inner.waiters.borrow_mut().push(context.waker().clone());
        Poll::Pending
    }
}

/// An async mutex for serialising multi-step I/O sequences (manifest writes) between tasks.
#[derive(Debug, Default, Clone)]
pub struct LocalMutex {
    locked: Rc<Cell<bool>>,
    released: Notify,
}

impl LocalMutex {
    /// A new, unlocked mutex.
    pub fn new() -> LocalMutex {
        LocalMutex::default()
    }

    /// Waits for the lock; it is released when the guard drops.
    pub async fn lock(&self) -> LocalMutexGuard {
        while self.locked.get() {
            self.released.notified().await;
        }
        self.locked.set(true);
        LocalMutexGuard { mutex: self.clone() }
    }
}

/// Holds a [`LocalMutex`].
#[derive(Debug)]
pub struct LocalMutexGuard {
    mutex: LocalMutex,
}

impl Drop for LocalMutexGuard {
    fn drop(&mut self) {
        self.mutex.locked.set(false);
        self.mutex.released.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use futures_lite::future::{block_on, zip};

    use super::*;

    #[test]
    fn mutex_serialises_and_notify_wakes() {
        block_on(async {
            let mutex = LocalMutex::new();
            let order = Rc::new(RefCell::new(Vec::new()));
            let notify = Notify::new();
            let first = async {
                let _guard = mutex.lock().await;
                order.borrow_mut().push(1);
                notify.notified().await;
                order.borrow_mut().push(2);
            };
            let second = async {
                futures_lite::future::yield_now().await;
                notify.notify_all();
                let _guard = mutex.lock().await;
                order.borrow_mut().push(3);
            };
            zip(first, second).await;
            assert_eq!(*order.borrow(), vec![1, 2, 3]);
        });
    }
}
