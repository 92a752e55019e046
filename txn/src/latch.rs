//! Per-core key latches: commands that touch the same keys run one after another, in arrival
//! order, from reading MVCC state until their write is applied (TiKV's `txn/latch.rs`).
//!
//! Keys hash into a fixed number of slots, each a FIFO queue of command ids. A command enqueues
//! itself in all its slots at once, synchronously in [`Latches::acquire`] (not when first
//! polled), and holds its latches when it is at the front of every one of its queues. Because
//! enqueueing is atomic and in arrival order, two commands that share slots are ordered the same
//! way in every shared queue, so the oldest waiting command always makes progress: no deadlock,
//! whatever the overlap. Two keys may share a slot (a false conflict costs waiting, never
//! correctness).
//!
//! Single-threaded (`Rc`/`RefCell`) and runtime-agnostic: waiting uses the task's `Waker`.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;

/// Default number of latch slots per core.
pub const DEFAULT_SLOT_COUNT: usize = 2048;

/// The latches of one core. Cheap to clone: clones share the slots.
#[derive(Clone)]
pub struct Latches {
    state: Rc<RefCell<State>>,
}

impl std::fmt::Debug for Latches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.state.borrow();
        f.debug_struct("Latches").field("slots", &state.slots.len()).field("waiting", &state.wakers.len()).finish()
    }
}

struct State {
    slots: Vec<VecDeque<u64>>,
    /// Wakers of commands that polled while not at the front of all their queues.
    wakers: HashMap<u64, Waker>,
    next_id: u64,
}

impl State {
    fn holds_all(&self, id: u64, slots: &[usize]) -> bool {
        slots.iter().all(|&slot| self.slots[slot].front() == Some(&id))
    }

    /// Removes `id` from its queues; returns the wakers of the commands now at their fronts
    /// (woken by the caller once the state is no longer borrowed).
    fn release(&mut self, id: u64, slots: &[usize]) -> Vec<Waker> {
        let mut woken = Vec::new();
        for &slot in slots {
            let queue = &mut self.slots[slot];
            if let Some(position) = queue.iter().position(|&queued| queued == id) {
                queue.remove(position);
            }
            if let Some(front) = queue.front()
                && let Some(waker) = self.wakers.remove(front)
            {
                woken.push(waker);
            }
        }
        self.wakers.remove(&id);
        woken
    }
}

impl Default for Latches {
    fn default() -> Latches {
        Latches::new(DEFAULT_SLOT_COUNT)
    }
}

impl Latches {
    /// Latches with `slot_count` slots (rounded up to a power of two, at least 1).
    pub fn new(slot_count: usize) -> Latches {
        let slot_count = slot_count.max(1).next_power_of_two();
        let state = State { slots: vec![VecDeque::new(); slot_count], wakers: HashMap::new(), next_id: 1 };
        Latches { state: Rc::new(RefCell::new(state)) }
    }

    /// Queues a command for the latches of `keys` (any order, duplicates allowed); the future
    /// completes when the command holds them all. Dropping the future leaves the queues.
    pub fn acquire(&self, keys: &[Bytes]) -> LatchAcquire {
        let slots = self.slots_of(keys);
        let mut state = self.state.borrow_mut();
        let id = state.next_id;
        state.next_id += 1;
        for &slot in &slots {
            state.slots[slot].push_back(id);
        }
        drop(state);
        LatchAcquire { pending: Some(LatchGuard { latches: self.clone(), id, slots }) }
    }

    /// The sorted, deduplicated slots of `keys`.
    fn slots_of(&self, keys: &[Bytes]) -> Vec<usize> {
        let mask = self.state.borrow().slots.len() - 1;
        let hasher = BuildHasherDefault::<DefaultHasher>::default();
        let mut slots: Vec<usize> = keys.iter().map(|key| hasher.hash_one(key) as usize & mask).collect();
        slots.sort_unstable();
        slots.dedup();
        slots
    }

    /// Commands queued or holding latches (for tests and statistics).
    pub fn queued_commands(&self) -> usize {
        let state = self.state.borrow();
        let mut ids: Vec<u64> = state.slots.iter().flatten().copied().collect();
        ids.sort_unstable();
        ids.dedup();
        ids.len()
    }
}

/// Waits for a command's latches. See [`Latches::acquire`].
#[must_use = "latches are held only once the future completes"]
pub struct LatchAcquire {
    /// `None` once the guard was handed out.
    pending: Option<LatchGuard>,
}

impl std::fmt::Debug for LatchAcquire {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LatchAcquire").field("id", &self.pending.as_ref().map(|g| g.id)).finish()
    }
}

impl Future for LatchAcquire {
    type Output = LatchGuard;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<LatchGuard> {
        let guard = self.pending.as_ref().expect("LatchAcquire polled after completion");
        let ready = {
            let mut state = guard.latches.state.borrow_mut();
            let ready = state.holds_all(guard.id, &guard.slots);
            if !ready {
                state.wakers.insert(guard.id, cx.waker().clone());
            }
            ready
        };
        if ready {
            return Poll::Ready(self.pending.take().expect("checked above"));
        }
        Poll::Pending
    }
}

/// Holds a command's latches; dropping it releases them and wakes the next commands.
/// (A `LatchAcquire` dropped before completion releases its queue places the same way.)
pub struct LatchGuard {
    latches: Latches,
    id: u64,
    slots: Vec<usize>,
}

impl std::fmt::Debug for LatchGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LatchGuard").field("id", &self.id).field("slots", &self.slots).finish()
    }
}

impl Drop for LatchGuard {
    fn drop(&mut self) {
        let woken = self.latches.state.borrow_mut().release(self.id, &self.slots);
        woken.into_iter().for_each(Waker::wake);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    use super::*;

    fn keys(names: &[&str]) -> Vec<Bytes> {
        names.iter().map(|n| Bytes::copy_from_slice(n.as_bytes())).collect()
    }

    struct CountingWaker(AtomicUsize);

    impl Wake for CountingWaker {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn poll(future: &mut LatchAcquire, waker: &Arc<CountingWaker>) -> Option<LatchGuard> {
        let waker = Waker::from(waker.clone());
        match Pin::new(future).poll(&mut Context::from_waker(&waker)) {
            Poll::Ready(guard) => Some(guard),
            Poll::Pending => None,
        }
    }

    #[test]
    fn overlapping_acquisitions_serialize_in_arrival_order() {
        let latches = Latches::new(1024);
        let waker = Arc::new(CountingWaker(AtomicUsize::new(0)));
        let mut first = latches.acquire(&keys(&["a", "b"]));
        let mut second = latches.acquire(&keys(&["b", "c"]));
        let mut third = latches.acquire(&keys(&["c"]));
        assert!(poll(&mut second, &waker).is_none(), "second waits for first on b");
        assert!(poll(&mut third, &waker).is_none(), "third waits for second on c (FIFO, no overtaking)");
        let first_guard = poll(&mut first, &waker).expect("first holds a and b");
        drop(first_guard);
        assert!(waker.0.load(Ordering::SeqCst) >= 1, "release wakes the next command");
        let second_guard = poll(&mut second, &waker).expect("second runs after first");
        assert!(poll(&mut third, &waker).is_none());
        drop(second_guard);
        assert!(poll(&mut third, &waker).is_some());
        assert_eq!(latches.queued_commands(), 0);
    }

    #[test]
    fn disjoint_acquisitions_do_not_block() {
        let latches = Latches::new(1 << 16);
        let waker = Arc::new(CountingWaker(AtomicUsize::new(0)));
        let mut first = latches.acquire(&keys(&["x", "y", "x"]));
        let mut second = latches.acquire(&keys(&["p", "q"]));
        let _first = poll(&mut first, &waker).expect("first");
        let _second = poll(&mut second, &waker).expect("second does not wait");
    }

    #[test]
    fn reversed_key_orders_cannot_deadlock() {
        let latches = Latches::new(1024);
        let waker = Arc::new(CountingWaker(AtomicUsize::new(0)));
        let mut first = latches.acquire(&keys(&["a", "b"]));
        let mut second = latches.acquire(&keys(&["b", "a"]));
        assert!(poll(&mut second, &waker).is_none());
        drop(poll(&mut first, &waker).expect("first"));
        assert!(poll(&mut second, &waker).is_some());
    }

    #[test]
    fn dropping_a_waiting_acquisition_leaves_the_queue() {
        let latches = Latches::new(1024);
        let waker = Arc::new(CountingWaker(AtomicUsize::new(0)));
        let mut first = latches.acquire(&keys(&["a"]));
        let mut second = latches.acquire(&keys(&["a"]));
        let mut third = latches.acquire(&keys(&["a"]));
        let guard = poll(&mut first, &waker).expect("first");
        assert!(poll(&mut second, &waker).is_none());
        drop(second);
        drop(guard);
        assert!(poll(&mut third, &waker).is_some(), "the abandoned command does not hold the latch");
    }

    #[test]
    fn works_under_an_executor() {
        let latches = Latches::default();
        let guard = futures_lite::future::block_on(latches.acquire(&keys(&["k"])));
        assert_eq!(latches.queued_commands(), 1);
        drop(guard);
        assert_eq!(latches.queued_commands(), 0);
    }
}
