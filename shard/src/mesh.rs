//! Cross-core calls over glommio's channel mesh, batched per destination.
//!
//! Every core holds one [`Mesh`]. `call(core, request)` queues the request in that core's
//! outbox and returns a future of the response. A flusher task per destination drains the
//! outbox into ONE message after letting the current round of tasks run, so the requests of a
//! pipelined batch (or of many connections in the same tick) cross the channel together.
//! Responses travel back the same way. A core never sends to itself: callers run local work
//! inline (`Mesh::call` panics in debug builds if asked to).
//!
//! A receiver task per peer executes each incoming request in its own task (so a slow request
//! does not hold up the others) with the handler given to [`Mesh::serve`].

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::rc::Rc;

use glommio::channels::channel_mesh::{Full, MeshBuilder, Receivers, Senders};
use slab::Slab;

use crate::error::{Error, Result};
use nokv_engine::sync::oneshot;

/// What crosses the channel: a batch of requests or a batch of responses, each tagged with the
/// caller's waiter id.
pub enum Envelope<Req, Resp> {
    /// Requests to execute.
    Requests(Vec<(usize, Req)>),
    /// Responses to deliver.
    Responses(Vec<(usize, Resp)>),
}

/// Channel capacity between two cores, in messages (each a batch).
pub const CHANNEL_MESSAGES: usize = 1024;

/// The builder shared by every core before they start.
pub type Builder<Req, Resp> = MeshBuilder<Envelope<Req, Resp>, Full>;

/// Creates the builder for `cores` cores.
pub fn builder<Req: Send + 'static, Resp: Send + 'static>(cores: usize) -> Builder<Req, Resp> {
    MeshBuilder::full(cores, CHANNEL_MESSAGES)
}

struct Outboxes<Req, Resp> {
    requests: Vec<Vec<(usize, Req)>>,
    responses: Vec<Vec<(usize, Resp)>>,
    flushing: Vec<bool>,
}

/// One core's end of the mesh.
pub struct Mesh<Req: Send + 'static, Resp: Send + 'static> {
    senders: Senders<Envelope<Req, Resp>>,
    receivers: RefCell<Option<Receivers<Envelope<Req, Resp>>>>,
    waiters: RefCell<Slab<oneshot::Sender<Resp>>>,
    outboxes: RefCell<Outboxes<Req, Resp>>,
    messages_sent: Cell<u64>,
}

impl<Req: Send + 'static, Resp: Send + 'static> Mesh<Req, Resp> {
    /// Joins the mesh; every core must call this.
    pub async fn join(builder: Builder<Req, Resp>) -> Result<Rc<Mesh<Req, Resp>>> {
        let (senders, receivers) = builder.join().await.map_err(|_| Error::Io {
            what: "joining the core mesh".into(),
            source: std::io::Error::other("a core failed to join"),
        })?;
        let cores = senders.nr_consumers();
        let outboxes = Outboxes {
            requests: (0..cores).map(|_| Vec::new()).collect(),
            responses: (0..cores).map(|_| Vec::new()).collect(),
            flushing: vec![false; cores],
        };
        Ok(Rc::new(Mesh {
            senders,
            receivers: RefCell::new(Some(receivers)),
            waiters: RefCell::new(Slab::new()),
            outboxes: RefCell::new(outboxes),
            messages_sent: Cell::new(0),
        }))
    }

    /// This core's index in the mesh.
    pub fn core_id(&self) -> usize {
        self.senders.peer_id()
    }

    /// Number of cores.
    pub fn cores(&self) -> usize {
        self.senders.nr_consumers()
    }

    /// Messages sent so far (each a batch).
    pub fn messages_sent(&self) -> u64 {
        self.messages_sent.get()
    }

    /// Sends `request` to `core` and waits for its response.
    pub async fn call(self: &Rc<Self>, core: usize, request: Req) -> Result<Resp> {
        debug_assert_ne!(core, self.core_id(), "local work runs inline");
        let (sender, receiver) = oneshot::channel();
        let id = self.waiters.borrow_mut().insert(sender);
        self.outboxes.borrow_mut().requests[core].push((id, request));
        self.schedule_flush(core);
        receiver.await.ok_or(Error::CoreGone(core))
    }

    fn schedule_flush(self: &Rc<Self>, core: usize) {
        let mut outboxes = self.outboxes.borrow_mut();
        if std::mem::replace(&mut outboxes.flushing[core], true) {
            return;
        }
        drop(outboxes);
        let mesh = self.clone();
        glommio::spawn_local(async move { mesh.flush(core).await }).detach();
    }

    /// Sends everything queued for `core`, one message per kind.
    async fn flush(&self, core: usize) {
        futures_lite::future::yield_now().await;
        loop {
            let (requests, responses) = {
                let mut outboxes = self.outboxes.borrow_mut();
                let requests = std::mem::take(&mut outboxes.requests[core]);
                let responses = std::mem::take(&mut outboxes.responses[core]);
                if requests.is_empty() && responses.is_empty() {
                    outboxes.flushing[core] = false;
                    return;
                }
                (requests, responses)
            };
            if !requests.is_empty() {
                self.send(core, Envelope::Requests(requests)).await;
            }
            if !responses.is_empty() {
                self.send(core, Envelope::Responses(responses)).await;
            }
        }
    }

    async fn send(&self, core: usize, envelope: Envelope<Req, Resp>) {
        self.messages_sent.set(self.messages_sent.get() + 1);
        if self.senders.send_to(core, envelope).await.is_err() {
            tracing::warn!(core, "core mesh channel closed");
        }
    }

    /// Receives from every peer until the mesh closes, executing requests with `handler`.
    pub async fn serve<H, Fut>(self: &Rc<Self>, handler: H)
    where
        H: Fn(Req) -> Fut + Clone + 'static,
        Fut: Future<Output = Resp> + 'static,
    {
        let Some(mut receivers) = self.receivers.borrow_mut().take() else { return };
        let mut tasks = Vec::new();
        for (peer, stream) in receivers.streams() {
            let mesh = self.clone();
            let handler = handler.clone();
            tasks.push(glommio::spawn_local(async move { mesh.receive_from(peer, stream, handler).await }));
        }
        for task in tasks {
            task.await;
        }
    }

    async fn receive_from<H, Fut>(
        self: Rc<Self>,
        peer: usize,
        stream: glommio::channels::shared_channel::ConnectedReceiver<Envelope<Req, Resp>>,
        handler: H,
    ) where
        H: Fn(Req) -> Fut + Clone + 'static,
        Fut: Future<Output = Resp> + 'static,
    {
        while let Some(envelope) = stream.recv().await {
            match envelope {
                Envelope::Requests(requests) => {
                    for (id, request) in requests {
                        let mesh = self.clone();
                        let response = handler(request);
                        glommio::spawn_local(async move {
                            let response = response.await;
                            mesh.outboxes.borrow_mut().responses[peer].push((id, response));
                            mesh.schedule_flush(peer);
                        })
                        .detach();
                    }
                }
                Envelope::Responses(responses) => {
                    let mut waiters = self.waiters.borrow_mut();
                    for (id, response) in responses {
                        if let Some(waiter) = waiters.try_remove(id) {
                            waiter.send(response);
                        }
                    }
                }
            }
        }
    }

    /// Closes this core's senders (at shutdown), so peers' receivers end.
    pub fn close(&self) {
        self.senders.close();
    }
}
