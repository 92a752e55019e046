//! One-shot channels that carry a proposal's outcome to its proposer: `engine::sync::oneshot`,
//! with a sender dropped unsent (the store went away) completing the receiver with
//! `RaftError::Closed`, so no proposer waits forever.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use nokv_engine::sync::oneshot;

use crate::error::{RaftError, Result};

/// The sending half.
pub type Sender<T> = oneshot::Sender<Result<T>>;

/// The receiving half; a future of the outcome.
pub struct Receiver<T> {
    inner: oneshot::Receiver<Result<T>>,
}

/// A new channel.
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let (sender, inner) = oneshot::channel();
    (sender, Receiver { inner })
}

impl<T> Future for Receiver<T> {
    type Output = Result<T>;

    fn poll(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Result<T>> {
        // The inner receiver is Unpin (it holds only an Rc).
        Pin::new(&mut self.get_mut().inner).poll(context).map(|outcome| outcome.unwrap_or(Err(RaftError::Closed)))
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
