//! Single-threaded synchronisation for tasks of one executor: an event to wait for, an async
//! mutex, and [`join_all`] (run several futures of one task concurrently, e.g. reads that the
//! runtime then submits together). Runtime-agnostic (plain `Waker`s), so engine code runs the same under glommio and
//! under `block_on` in tests. Nothing here is `Send`: it never crosses cores.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use crate::io::FileSystem;

pub mod oneshot;

/// Paces a long CPU-bound loop (flush, compaction): every [`Pacer::ITEMS_PER_YIELD`] items it
/// yields once, so the executor can switch to latency-sensitive tasks in between (a
/// thread-per-core executor only switches at an await that is pending, and reading cached or
/// in-memory data never is).
#[derive(Debug, Default)]
pub struct Pacer {
    items: u32,
}

impl Pacer {
    /// Items between two yields: a few hundred microseconds of merging or table building.
    pub const ITEMS_PER_YIELD: u32 = 256;

    /// A pacer at the start of a loop.
    pub fn new() -> Pacer {
        Pacer::default()
    }

    /// Counts one item; pauses (see [`FileSystem::pause`]) on every `ITEMS_PER_YIELD`-th, and
    /// then returns true.
    pub async fn tick<F: FileSystem>(&mut self, fs: &F) -> bool {
        self.items = self.items.wrapping_add(1);
        let yields = self.items.is_multiple_of(Self::ITEMS_PER_YIELD);
        if yields {
            fs.pause().await;
        }
        yields
    }
}

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

/// The values readers in flight still need, counted, with the oldest at hand: engine snapshots'
/// sequence numbers, MVCC GC's read timestamps. A value stays pinned until its [`Pinned`] drops.
#[derive(Debug, Clone)]
pub struct Pins<T: Ord + Copy> {
    counts: Rc<RefCell<BTreeMap<T, usize>>>,
}

impl<T: Ord + Copy> Default for Pins<T> {
    fn default() -> Self {
        Pins { counts: Rc::default() }
    }
}

impl<T: Ord + Copy> Pins<T> {
    /// Pins `value` until the returned guard drops.
    pub fn pin(&self, value: T) -> Pinned<T> {
        *self.counts.borrow_mut().entry(value).or_insert(0) += 1;
        Pinned { value, counts: self.counts.clone() }
    }

    /// The smallest pinned value.
    pub fn oldest(&self) -> Option<T> {
        self.counts.borrow().keys().next().copied()
    }
}

/// One pin of a value in [`Pins`]; unpins on drop.
#[derive(Debug)]
pub struct Pinned<T: Ord + Copy> {
    value: T,
    counts: Rc<RefCell<BTreeMap<T, usize>>>,
}

impl<T: Ord + Copy> Pinned<T> {
    /// The pinned value.
    pub fn value(&self) -> T {
        self.value
    }
}

impl<T: Ord + Copy> Drop for Pinned<T> {
    fn drop(&mut self) {
        let mut counts = self.counts.borrow_mut();
        if let Some(count) = counts.get_mut(&self.value) {
            *count -= 1;
            if *count == 0 {
                counts.remove(&self.value);
            }
        }
    }
}

/// Polls every future until all are done; outputs in input order. Futures that are ready early
/// are not polled again. Each future is built straight into its box: pass the iterator that
/// makes them rather than a collected `Vec`, which would move every (possibly large) future
/// once more.
pub async fn join_all<T, Fut: Future<Output = T>>(futures: impl IntoIterator<Item = Fut>) -> Vec<T> {
    JoinAll { futures: futures.into_iter().map(|f| Some(Box::pin(f))).collect(), outputs: Vec::new() }.await
}

struct JoinAll<T, Fut> {
    futures: Vec<Option<Pin<Box<Fut>>>>,
    outputs: Vec<Option<T>>,
}

// The futures are boxed and outputs are never pinned, so moving a `JoinAll` is fine.
impl<T, Fut> Unpin for JoinAll<T, Fut> {}

impl<T, Fut: Future<Output = T>> Future for JoinAll<T, Fut> {
    type Output = Vec<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Vec<T>> {
        let this = self.get_mut();
        if this.outputs.len() < this.futures.len() {
            this.outputs.resize_with(this.futures.len(), || None);
        }
        let mut pending = false;
        for (slot, output) in this.futures.iter_mut().zip(this.outputs.iter_mut()) {
            let Some(future) = slot else { continue };
            match future.as_mut().poll(cx) {
                Poll::Ready(value) => {
                    *output = Some(value);
                    *slot = None;
                }
                Poll::Pending => pending = true,
            }
        }
        if pending {
            return Poll::Pending;
        }
        Poll::Ready(this.outputs.drain(..).map(|output| output.expect("every future completed")).collect())
    }
}

#[cfg(test)]
mod tests {
    use futures_lite::future::{block_on, zip};

    use super::*;

    #[test]
    fn join_all_runs_futures_concurrently_and_keeps_input_order() {
        block_on(async {
            let notify = Notify::new();
            let waiting = notify.notified();
            let futures: Vec<Pin<Box<dyn Future<Output = u32>>>> = vec![
                Box::pin(async move {
                    waiting.await;
                    1
                }),
                Box::pin(async {
                    notify.notify_all();
                    2
                }),
                Box::pin(async { 3 }),
            ];
            // The first future can only finish because the second runs while it waits.
            assert_eq!(join_all(futures).await, vec![1, 2, 3]);
            assert!(join_all(Vec::<Pin<Box<dyn Future<Output = u32>>>>::new()).await.is_empty());
        });
    }

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
