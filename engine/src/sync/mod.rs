//! Single-threaded synchronisation for tasks of one executor: an event to wait for, an async
//! mutex, and [`join_all`] (run several futures of one task concurrently, e.g. reads that the
//! runtime then submits together). Runtime-agnostic (plain `Waker`s), so engine code runs the same under glommio and
//! under `block_on` in tests. Nothing here is `Send`: it never crosses cores.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
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
///
/// Every read and write pins one value, almost always larger than any pinned before (sequence
/// numbers and timestamps grow), so the counts live in a deque sorted by value: a pin is a push
/// at the back, an unpin a binary search. A `BTreeMap` insert and remove per command were 1.5%
/// of SET 16 B -P16's samples.
#[derive(Debug, Clone)]
pub struct Pins<T: Ord + Copy> {
    counts: Rc<RefCell<PinCounts<T>>>,
}

/// Invariants: `entries` is sorted by value with no duplicates; its front has a count above
/// zero (or it is empty); `unpinned` is the number of entries at zero.
#[derive(Debug)]
struct PinCounts<T> {
    entries: VecDeque<(T, usize)>,
    unpinned: usize,
}

impl<T: Ord + Copy> PinCounts<T> {
    fn pin(&mut self, value: T) {
        match self.entries.back_mut() {
            Some((last, count)) if *last == value => *count += 1,
            Some((last, _)) if *last > value => {
                let at = self.entries.partition_point(|(v, _)| *v < value);
                match self.entries.get_mut(at) {
                    Some((v, count)) if *v == value => {
                        if *count == 0 {
                            self.unpinned -= 1;
                        }
                        *count += 1;
                    }
                    _ => self.entries.insert(at, (value, 1)),
                }
            }
            _ => self.entries.push_back((value, 1)),
        }
    }

    fn unpin(&mut self, value: T) {
        let at = self.entries.partition_point(|(v, _)| *v < value);
        let Some((v, count)) = self.entries.get_mut(at) else { return };
        if *v != value || *count == 0 {
            return;
        }
        *count -= 1;
        if *count > 0 {
            return;
        }
        self.unpinned += 1;
        while self.entries.front().is_some_and(|(_, count)| *count == 0) {
            self.entries.pop_front();
            self.unpinned -= 1;
        }
        // Entries at zero behind an older pin: dropped once they are half the deque, so a
        // long-held pin keeps memory in proportion to the pins still held.
        if self.unpinned > 16 && self.unpinned * 2 > self.entries.len() {
            self.entries.retain(|(_, count)| *count > 0);
            self.unpinned = 0;
        }
    }
}

impl<T: Ord + Copy> Default for Pins<T> {
    fn default() -> Self {
        Pins { counts: Rc::new(RefCell::new(PinCounts { entries: VecDeque::new(), unpinned: 0 })) }
    }
}

impl<T: Ord + Copy> Pins<T> {
    /// Pins `value` until the returned guard drops.
    pub fn pin(&self, value: T) -> Pinned<T> {
        self.counts.borrow_mut().pin(value);
        Pinned { value, counts: self.counts.clone() }
    }

    /// The smallest pinned value.
    pub fn oldest(&self) -> Option<T> {
        self.counts.borrow().entries.front().map(|(value, _)| *value)
    }
}

/// One pin of a value in [`Pins`]; unpins on drop.
#[derive(Debug)]
pub struct Pinned<T: Ord + Copy> {
    value: T,
    counts: Rc<RefCell<PinCounts<T>>>,
}

impl<T: Ord + Copy> Pinned<T> {
    /// The pinned value.
    pub fn value(&self) -> T {
        self.value
    }
}

impl<T: Ord + Copy> Drop for Pinned<T> {
    fn drop(&mut self) {
        self.counts.borrow_mut().unpin(self.value);
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

    proptest::proptest! {
        /// The oldest pin is always the smallest value with a guard alive, whatever the order of
        /// pins (mostly growing, sometimes not, repeated) and drops, and the deque stays in
        /// proportion to the guards held.
        #[test]
        fn oldest_pin_matches_the_guards_held(
            ops in proptest::collection::vec((proptest::prelude::any::<bool>(), 0..6u64, 0..64usize), 1..400),
        ) {
            let pins = Pins::default();
            let mut held: Vec<Pinned<u64>> = Vec::new();
            let mut next = 100u64;
            for (is_pin, step_back, pick) in ops {
                if is_pin || held.is_empty() {
                    next += 1;
                    held.push(pins.pin(next.saturating_sub(step_back * step_back)));
                } else {
                    held.swap_remove(pick % held.len());
                }
                proptest::prop_assert_eq!(pins.oldest(), held.iter().map(Pinned::value).min());
                let counts = pins.counts.borrow();
                proptest::prop_assert!(counts.entries.len() <= 2 * held.len() + 17, "{} entries for {} guards", counts.entries.len(), held.len());
            }
            held.clear();
            proptest::prop_assert_eq!(pins.oldest(), None);
        }
    }
}
