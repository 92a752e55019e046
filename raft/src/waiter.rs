//! Single-threaded one-shot channels that carry a proposal's outcome to its proposer.
//!
//! A [`Sender`] dropped without sending (the store went away) completes its receiver with
//! `RaftError::Closed`, so no proposer waits forever.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use crate::error::{RaftError, Result};

struct Shared<T> {
    value: Option<Result<T>>,
    closed: bool,
    waker: Option<Waker>,
}

/// The sending half.
pub struct Sender<T> {
    shared: Rc<RefCell<Shared<T>>>,
}

/// The receiving half; a future of the outcome.
pub struct Receiver<T> {
    shared: Rc<RefCell<Shared<T>>>,
}

/// A new channel.
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let shared = Rc::new(RefCell::new(Shared { value: None, closed: false, waker: None }));
    (Sender { shared: shared.clone() }, Receiver { shared })
}

impl<T> Sender<T> {
    /// Delivers the outcome and wakes the receiver.
    pub fn send(self, value: Result<T>) {
        self.shared.borrow_mut().value = Some(value);
        // Drop wakes the receiver.
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let mut shared = self.shared.borrow_mut();
        shared.closed = true;
        if let Some(waker) = shared.waker.take() {
            waker.wake();
        }
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T>;

    fn poll(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Result<T>> {
        let mut shared = self.shared.borrow_mut();
        if let Some(value) = shared.value.take() {
            return Poll::Ready(value);
        }
        if shared.closed {
            return Poll::Ready(Err(RaftError::Closed));
        }
        shared.waker = Some(context.waker().clone());
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use futures_lite::future::block_on;

    use super::*;

    #[test]
    fn delivers_a_value_or_closed() {
        let (sender, receiver) = channel::<u32>();
        sender.send(Ok(7));
        assert_eq!(block_on(receiver).expect("sent"), 7);
        let (sender, receiver) = channel::<u32>();
        drop(sender);
        assert!(matches!(block_on(receiver), Err(RaftError::Closed)));
    }
}
