//! Per-core key latches: commands that touch the same keys run one after another, in arrival
//! order, from reading MVCC state until their write is applied (TiKV's `txn/latch.rs`).
//!
//! Each key has a slot, its 64-bit hash, and each slot in use has a FIFO queue of command ids;
//! a queue exists only while some command waits for or holds the slot. A command enqueues
//! itself in all its slots at once, synchronously in [`Latches::acquire`] (not when first
//! polled), and holds its latches when it is at the front of every one of its queues. Because
//! enqueueing is atomic and in arrival order, two commands that share slots are ordered the same
//! way in every shared queue, so the oldest waiting command always makes progress: no deadlock,
//! whatever the overlap. Two keys share a slot only when their 64-bit hashes collide (a false
//! conflict costs waiting, never correctness). A table of a few thousand slots, as TiKV has,
//! would make hundreds of concurrent writes of distinct keys (a pipelined load) wait for one
//! another's fsync: with 800 writes in flight, one in five would.
//!
//! Single-threaded (`Rc`/`RefCell`) and runtime-agnostic: waiting uses the task's `Waker`.

use std::cell::RefCell;
use std::collections::hash_map::Entry;
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::hash::BuildHasher;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;

/// The latches of one core. Cheap to clone: clones share the slots.
#[derive(Clone, Default)]
pub struct Latches {
    state: Rc<RefCell<State>>,
}

impl std::fmt::Debug for Latches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.state.borrow();
        f.debug_struct("Latches").field("slots", &state.queues.len()).field("waiting", &state.wakers.len()).finish()
    }
}

type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

#[derive(Default)]
struct State {
    /// Hashes keys into slots; one seed for the life of the latches.
    slot_hasher: foldhash::fast::RandomState,
    /// The queue of every slot some command waits for or holds (never empty).
    queues: FastMap<u64, Queue>,
    /// Wakers of commands that polled while not at the front of all their queues.
    wakers: FastMap<u64, Waker>,
    next_id: u64,
}

/// The command ids queued on one slot, oldest first. Nearly every slot has one command (its
/// holder), which is kept inline: taking and releasing an uncontended latch allocates nothing.
enum Queue {
    One(u64),
    Many(VecDeque<u64>),
}

impl Queue {
    fn front(&self) -> u64 {
        match self {
            Queue::One(id) => *id,
            Queue::Many(ids) => *ids.front().expect("a queue is never empty"),
        }
    }

    fn push_back(&mut self, id: u64) {
        match self {
            Queue::One(first) => *self = Queue::Many(VecDeque::from([*first, id])),
            Queue::Many(ids) => ids.push_back(id),
        }
    }

    /// Removes `id`; false when the queue is left empty.
    fn remove(&mut self, id: u64) -> bool {
        match self {
            Queue::One(only) => *only != id,
            Queue::Many(ids) => {
                if let Some(position) = ids.iter().position(|&queued| queued == id) {
                    ids.remove(position);
                }
                !ids.is_empty()
            }
        }
    }
}

impl State {
    fn holds_all(&self, id: u64, slots: &[u64]) -> bool {
        slots.iter().all(|slot| self.queues.get(slot).map(Queue::front) == Some(id))
    }

    /// Removes `id` from its queues; returns the wakers of the commands now at their fronts
    /// (woken after the borrow ends).
    fn release(&mut self, id: u64, slots: &[u64]) -> Vec<Waker> {
        let mut woken = Vec::new();
        for slot in slots {
            let Some(queue) = self.queues.get_mut(slot) else { continue };
            if !queue.remove(id) {
                self.queues.remove(slot);
                continue;
            }
            if let Some(waker) = self.wakers.remove(&queue.front()) {
                woken.push(waker);
            }
        }
        if !self.wakers.is_empty() {
            self.wakers.remove(&id);
        }
        woken
    }
}

impl Latches {
    /// Latches with no command queued.
    pub fn new() -> Latches {
        Latches::default()
    }

    /// Queues a command for the latches of `keys` (any order, duplicates allowed); the future
    /// completes when the command holds them all. Dropping the future leaves the queues.
    pub fn acquire(&self, keys: &[Bytes]) -> LatchAcquire {
        let slots = self.slots_of(keys);
        let mut state = self.state.borrow_mut();
        let id = state.next_id;
        state.next_id += 1;
        for &slot in slots.as_slice() {
            match state.queues.entry(slot) {
                Entry::Occupied(mut queue) => queue.get_mut().push_back(id),
                Entry::Vacant(vacant) => {
                    vacant.insert(Queue::One(id));
                }
            }
        }
        drop(state);
        LatchAcquire { pending: Some(LatchGuard { latches: self.clone(), id, slots }) }
    }

    /// The sorted, deduplicated slots of `keys`.
    fn slots_of(&self, keys: &[Bytes]) -> Slots {
        let state = self.state.borrow();
        if let [key] = keys {
            return Slots::One([state.slot_hasher.hash_one(key)]);
        }
        let mut slots: Vec<u64> = keys.iter().map(|key| state.slot_hasher.hash_one(key)).collect();
        slots.sort_unstable();
        slots.dedup();
        Slots::Many(slots)
    }

    /// Commands queued or holding latches (for tests and statistics).
    pub fn queued_commands(&self) -> usize {
        let state = self.state.borrow();
        let mut ids: Vec<u64> = state
            .queues
            .values()
            .flat_map(|queue| match queue {
                Queue::One(id) => vec![*id],
                Queue::Many(ids) => ids.iter().copied().collect(),
            })
            .collect();
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
            let ready = state.holds_all(guard.id, guard.slots.as_slice());
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
    slots: Slots,
}

/// A command's slots: one inline (a single-key command allocates nothing), or several sorted.
#[derive(Debug)]
enum Slots {
    One([u64; 1]),
    Many(Vec<u64>),
}

impl Slots {
    fn as_slice(&self) -> &[u64] {
        match self {
            Slots::One(slot) => slot,
            Slots::Many(slots) => slots,
        }
    }
}

impl std::fmt::Debug for LatchGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LatchGuard").field("id", &self.id).field("slots", &self.slots).finish()
    }
}

impl Drop for LatchGuard {
    fn drop(&mut self) {
        let woken = self.latches.state.borrow_mut().release(self.id, self.slots.as_slice());
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
        let latches = Latches::new();
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
        let latches = Latches::new();
        let waker = Arc::new(CountingWaker(AtomicUsize::new(0)));
        let mut first = latches.acquire(&keys(&["x", "y", "x"]));
        let mut second = latches.acquire(&keys(&["p", "q"]));
        let _first = poll(&mut first, &waker).expect("first");
        let _second = poll(&mut second, &waker).expect("second does not wait");
    }

    #[test]
    fn thousands_of_distinct_keys_in_flight_never_wait() {
        let latches = Latches::new();
        let waker = Arc::new(CountingWaker(AtomicUsize::new(0)));
        let names: Vec<String> = (0..10_000).map(|i| format!("key:{i:012}")).collect();
        let mut guards = Vec::new();
        for name in &names {
            let mut acquire = latches.acquire(&keys(&[name.as_str()]));
            guards.push(poll(&mut acquire, &waker).expect("a distinct key never waits"));
        }
        assert_eq!(latches.queued_commands(), names.len());
        drop(guards);
        assert_eq!(latches.queued_commands(), 0);
    }

    #[test]
    fn reversed_key_orders_cannot_deadlock() {
        let latches = Latches::new();
        let waker = Arc::new(CountingWaker(AtomicUsize::new(0)));
        let mut first = latches.acquire(&keys(&["a", "b"]));
        let mut second = latches.acquire(&keys(&["b", "a"]));
        assert!(poll(&mut second, &waker).is_none());
        drop(poll(&mut first, &waker).expect("first"));
        assert!(poll(&mut second, &waker).is_some());
    }

    #[test]
    fn dropping_a_waiting_acquisition_leaves_the_queue() {
        let latches = Latches::new();
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
