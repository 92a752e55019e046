//! [`Readiness`]: when a client socket has bytes to read, learnt from a small io_uring ring of
//! the core's own, so that a request arriving while the core is busy costs no interrupt.
//!
//! glommio waits for a socket with a one-shot poll on its main ring, re-armed after every read,
//! and that ring is set up without `IORING_SETUP_COOP_TASKRUN`: the poll's completion is task
//! work that the kernel delivers with an inter-processor interrupt whenever the core is running
//! user code. On a VM such an interrupt costs several microseconds on both cores; at one
//! request per read (redis-benchmark `-P 1`) it was a fifth of the core's time under SET
//! (`perf/results/net-and-row-cache-2026-12-05.md`).
//!
//! Here every client socket gets one multishot poll (armed once, for the connection's life) on
//! a ring set up with `COOP_TASKRUN`: a poll completion is task work that runs at the core's
//! next syscall (or wakes it if it sleeps), never with an interrupt, and signals an eventfd
//! registered with the ring. The core reads the eventfd through glommio (one completion on
//! glommio's ring per batch of arrivals, not one per request) and wakes the connections whose
//! sockets became readable. Reads are plain non-blocking `recv`s; writes stay glommio's.
//! (`DEFER_TASKRUN` does not fit: its eventfd is signalled only when the deferred work runs,
//! which never happens while the core sleeps.)
//!
//! Invariant: a connection waits only after a `recv` returned `EAGAIN`; its poll is armed
//! before its first read, so any bytes arriving after that `recv` post a completion that
//! marks it ready.
//!
//! This is the only module of the workspace with `unsafe` code: the syscalls (`eventfd`,
//! `recv`) and io_uring submissions are foreign calls.
#![allow(unsafe_code)]

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::poll_fn;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, RawFd};
use std::rc::Rc;
use std::task::{Poll, Waker};
use std::time::Duration;

use bytes::BytesMut;
use glommio::io::BufferedFile;
use io_uring::{IoUring, cqueue, opcode, squeue, types};

/// Submission queue entries: registrations and cancellations are submitted one at a time.
const SUBMISSION_ENTRIES: u32 = 64;
/// Completion queue entries: at most one completion per connection is pending between two
/// drains; more are kept by the kernel (`IORING_FEAT_NODROP`) and fetched by the next drain.
const COMPLETION_ENTRIES: u32 = 16 * 1024;
/// The `user_data` of cancellations, whose own completions are ignored.
const CANCEL_USER_DATA: u64 = 0;
/// Completion queues fetched by one drain before the woken connections get to run.
const DRAIN_ROUNDS_MAX: usize = 4;

/// One connection's readiness.
struct Slot {
    fd: RawFd,
    /// Bytes (or an error, or the end of the stream) may be waiting to be read.
    ready: bool,
    /// The poll itself failed (an errno) and is not armed any more.
    failed: Option<i32>,
    /// A completion reported the peer's end of the stream or an error: states a `recv` that
    /// returns bytes does not clear, so reads never wait for a completion again.
    hung_up: bool,
    waker: Option<Waker>,
}

struct Inner {
    ring: IoUring<squeue::Entry, cqueue::Entry>,
    slots: HashMap<u64, Slot, foldhash::fast::FixedState>,
    /// Registration tokens, never reused: a late completion of a closed connection finds no
    /// slot and is ignored.
    next_token: u64,
    /// One drain's completions (token, result, flags), kept for its capacity.
    completions: Vec<(u64, i32, u32)>,
}

/// The per-core readiness ring; see the module documentation.
pub(crate) struct Readiness {
    inner: RefCell<Inner>,
    /// The eventfd the ring signals when completions wait to be fetched.
    wakeup: BufferedFile,
}

/// A registered socket; deregisters on drop.
pub(crate) struct Registration {
    readiness: Rc<Readiness>,
    token: u64,
    fd: RawFd,
    /// The last `recv` emptied the socket, so bytes arriving since post a completion: the next
    /// read waits for one before it tries a `recv`.
    drained: Cell<bool>,
}

impl Readiness {
    /// A ring for this core, or an error on kernels without `COOP_TASKRUN` (5.19).
    pub(crate) fn new() -> io::Result<Rc<Readiness>> {
        let ring = IoUring::builder()
            .setup_single_issuer()
            .setup_coop_taskrun()
            .setup_taskrun_flag()
            .setup_cqsize(COMPLETION_ENTRIES)
            .build(SUBMISSION_ENTRIES)?;
        // Blocking on purpose: io_uring answers a read of an O_NONBLOCK file with EAGAIN
        // instead of waiting for it.
        // SAFETY: a plain syscall with no pointer arguments.
        let eventfd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC) };
        if eventfd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `eventfd` was just created and is owned by nothing else; the file closes it.
        let wakeup = unsafe { BufferedFile::from_raw_fd(eventfd) };
        ring.submitter().register_eventfd(eventfd)?;
        let inner =
            Inner { ring, slots: HashMap::default(), next_token: CANCEL_USER_DATA + 1, completions: Vec::new() };
        Ok(Rc::new(Readiness { inner: RefCell::new(inner), wakeup }))
    }

    /// Arms a multishot poll for `fd`, which must stay open until the registration is dropped.
    pub(crate) fn register(self: &Rc<Self>, fd: RawFd) -> io::Result<Registration> {
        let mut inner = self.inner.borrow_mut();
        let token = inner.next_token;
        inner.next_token += 1;
        inner.arm(token, fd)?;
        inner.slots.insert(token, Slot { fd, ready: false, failed: None, hung_up: false, waker: None });
        Ok(Registration { readiness: self.clone(), token, fd, drained: Cell::new(false) })
    }

    /// Wakes the connections whose sockets became readable, forever: the core's driver task.
    pub(crate) async fn drive(self: Rc<Self>) {
        let mut more = false;
        loop {
            if more {
                // Completions were left for the next turn: let the woken connections run.
                futures_lite::future::yield_now().await;
            } else if let Err(error) = self.wakeup.read_at(0, 8).await {
                tracing::error!(%error, eventfd = self.wakeup.as_raw_fd(), "reading the readiness eventfd");
                glommio::timer::sleep(Duration::from_millis(1)).await;
            }
            more = match self.inner.borrow_mut().drain() {
                Ok(more) => more,
                Err(error) => {
                    tracing::error!(%error, "fetching readiness completions");
                    false
                }
            };
        }
    }
}

impl Inner {
    /// Queues and submits a multishot poll for readability of `fd`.
    fn arm(&mut self, token: u64, fd: RawFd) -> io::Result<()> {
        let events = (libc::POLLIN | libc::POLLRDHUP) as u32;
        let poll = opcode::PollAdd::new(types::Fd(fd), events).multi(true).build().user_data(token);
        self.push(&poll)
    }

    /// Queues `entry` and submits it.
    fn push(&mut self, entry: &squeue::Entry) -> io::Result<()> {
        // The queue is submitted after every push, so it is full only if a submit failed.
        // SAFETY: polls and cancellations reference no memory of ours.
        if unsafe { self.ring.submission().push(entry) }.is_err() {
            self.ring.submit()?;
            // SAFETY: as above.
            unsafe { self.ring.submission().push(entry) }
                .map_err(|_| io::Error::other("readiness ring submission queue full"))?;
        }
        self.ring.submit()?;
        Ok(())
    }

    /// Runs the ring's queued work and marks the connections it reports as ready; true when
    /// completions may be left for another drain.
    fn drain(&mut self) -> io::Result<bool> {
        for _ in 0..DRAIN_ROUNDS_MAX {
            let needs_enter = {
                let submission = self.ring.submission();
                !submission.is_empty() || submission.taskrun() || submission.cq_overflow()
            };
            if needs_enter {
                // The enter runs the task work the kernel flagged (TASKRUN_FLAG) and flushes
                // completions it kept past a full queue.
                self.ring.submit()?;
            }
            let mut completions = std::mem::take(&mut self.completions);
            completions.extend(self.ring.completion().map(|entry| (entry.user_data(), entry.result(), entry.flags())));
            let found = !completions.is_empty();
            for (token, result, flags) in completions.drain(..) {
                self.completed(token, result, flags);
            }
            self.completions = completions;
            if !found {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// One completion: the socket is readable; or the poll failed (the connection's next wait
    /// reports the error); or, without `F_MORE` and without an error, the poll ended (a full
    /// completion queue) and is armed again.
    fn completed(&mut self, token: u64, result: i32, flags: u32) {
        let Some(slot) = self.slots.get_mut(&token) else { return };
        slot.ready = true;
        if result < 0 {
            slot.failed = Some(-result);
        } else if result & (libc::POLLRDHUP | libc::POLLHUP | libc::POLLERR) as i32 != 0 {
            slot.hung_up = true;
        }
        if let Some(waker) = slot.waker.take() {
            waker.wake();
        }
        if !cqueue::more(flags) && result >= 0 {
            let fd = slot.fd;
            if let Err(error) = self.arm(token, fd) {
                let slot = self.slots.get_mut(&token).expect("the slot was found above");
                slot.failed = Some(error.raw_os_error().unwrap_or(libc::EIO));
            }
        }
    }
}

impl Registration {
    /// Appends up to `max_bytes` to `input` once the client sent any: the count, 0 at the end
    /// of the stream.
    ///
    /// After a `recv` that emptied the socket it waits for the poll's completion before the
    /// next `recv`: a client that waits for each reply (redis-benchmark `-P 1`) has sent
    /// nothing yet when the reply is out, and trying first cost a failing `recv` per request
    /// (0.8 per GET 16 B -P1, strace). Not once the peer hung up: its end of the stream may
    /// wait behind the bytes that recv returned, reported by a completion already taken.
    pub(crate) async fn recv_into(&self, input: &mut BytesMut, max_bytes: usize) -> io::Result<usize> {
        input.reserve(max_bytes);
        if self.drained.replace(false) && !self.hung_up() {
            self.readable().await?;
        }
        loop {
            let spare = input.spare_capacity_mut();
            let want_bytes = spare.len().min(max_bytes);
            // SAFETY: `spare` is valid for writes of `want_bytes` bytes for the call's duration
            // (recv writes bytes, never reads them), and `fd` is open while the registration
            // lives.
            let received = unsafe { libc::recv(self.fd, spare.as_mut_ptr().cast(), want_bytes, libc::MSG_DONTWAIT) };
            if received >= 0 {
                let received = received as usize;
                // SAFETY: recv initialised the first `received` bytes of the spare capacity.
                unsafe { input.set_len(input.len() + received) };
                if received < want_bytes {
                    // The socket is drained: what earlier completions reported has been read,
                    // and bytes arriving from now on post a new completion.
                    self.clear_ready();
                    self.drained.set(true);
                }
                return Ok(received);
            }
            let error = io::Error::last_os_error();
            match error.kind() {
                io::ErrorKind::WouldBlock => self.readable().await?,
                io::ErrorKind::Interrupted => {}
                _ => return Err(error),
            }
        }
    }

    fn hung_up(&self) -> bool {
        self.readiness.inner.borrow().slots.get(&self.token).is_some_and(|slot| slot.hung_up)
    }

    fn clear_ready(&self) {
        if let Some(slot) = self.readiness.inner.borrow_mut().slots.get_mut(&self.token) {
            slot.ready = false;
        }
    }

    /// Completes once a completion has marked the socket ready since the last wait, or with
    /// the poll's error.
    async fn readable(&self) -> io::Result<()> {
        poll_fn(|cx| {
            let mut inner = self.readiness.inner.borrow_mut();
            let slot = inner.slots.get_mut(&self.token).expect("a registration keeps its slot");
            if let Some(errno) = slot.failed {
                return Poll::Ready(Err(io::Error::from_raw_os_error(errno)));
            }
            if std::mem::take(&mut slot.ready) {
                return Poll::Ready(Ok(()));
            }
            if !slot.waker.as_ref().is_some_and(|waker| waker.will_wake(cx.waker())) {
                slot.waker = Some(cx.waker().clone());
            }
            Poll::Pending
        })
        .await
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut inner = self.readiness.inner.borrow_mut();
        inner.slots.remove(&self.token);
        let cancel = opcode::AsyncCancel::new(self.token).build().user_data(CANCEL_USER_DATA);
        if let Err(error) = inner.push(&cancel) {
            tracing::warn!(%error, "cancelling a readiness poll");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::net::{TcpListener, TcpStream};
    use std::os::fd::AsRawFd;

    use super::*;

    fn connected_pair() -> (TcpStream, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let client = TcpStream::connect(listener.local_addr().expect("addr")).expect("connect");
        let (server, _) = listener.accept().expect("accept");
        (client, server)
    }

    /// A connection registered with `readiness`: (client end, server end, registration).
    fn registered(readiness: &Rc<Readiness>) -> (TcpStream, TcpStream, Registration) {
        let (client, server) = connected_pair();
        let registration = readiness.register(server.as_raw_fd()).expect("register");
        (client, server, registration)
    }

    /// Runs `test` on an executor with a driven readiness ring.
    fn run<F, Fut>(test: F)
    where
        F: FnOnce(Rc<Readiness>) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()> + 'static,
    {
        let with_ring = || async move {
            let readiness = Readiness::new().expect("this kernel has COOP_TASKRUN");
            let _driver = glommio::spawn_local(readiness.clone().drive());
            test(readiness).await;
        };
        glommio::LocalExecutorBuilder::default().spawn(with_ring).expect("executor").join().expect("test");
    }

    #[test]
    fn a_waiting_read_wakes_when_bytes_arrive_and_sees_the_end_of_the_stream() {
        run(|readiness| async move {
            let (mut client, _server, registration) = registered(&readiness);
            let writer = glommio::spawn_local(async move {
                glommio::timer::sleep(Duration::from_millis(20)).await;
                client.write_all(b"PING\r\n").expect("write");
                glommio::timer::sleep(Duration::from_millis(20)).await;
                client.write_all(b"ECHO\r\n").expect("write");
                drop(client);
            });
            let mut input = BytesMut::new();
            assert_eq!(registration.recv_into(&mut input, 4096).await.expect("recv"), 6);
            assert_eq!(&input[..], b"PING\r\n");
            assert_eq!(registration.recv_into(&mut input, 4096).await.expect("recv"), 6);
            writer.await;
            assert_eq!(registration.recv_into(&mut input, 4096).await.expect("recv"), 0, "end of stream");
            assert_eq!(&input[..], b"PING\r\nECHO\r\n");
        });
    }

    #[test]
    fn bytes_sent_after_a_draining_read_and_before_the_next_are_read() {
        run(|readiness| async move {
            let (mut client, _server, registration) = registered(&readiness);
            let mut input = BytesMut::new();
            for round in 0..50u8 {
                client.write_all(&[round; 10]).expect("write");
                assert_eq!(registration.recv_into(&mut input, 4096).await.expect("recv"), 10, "round {round}");
                assert!(registration.drained.get(), "the read emptied the socket");
            }
            assert_eq!(input.len(), 500);
        });
    }

    #[test]
    fn a_read_takes_at_most_what_it_asked_for_and_the_rest_stays_readable() {
        run(|readiness| async move {
            let (mut client, _server, registration) = registered(&readiness);
            client.write_all(&[7; 100]).expect("write");
            let mut input = BytesMut::new();
            assert_eq!(registration.recv_into(&mut input, 60).await.expect("recv"), 60);
            assert_eq!(registration.recv_into(&mut input, 60).await.expect("recv"), 40);
            assert_eq!(input.len(), 100);
        });
    }

    #[test]
    fn dropped_registrations_leave_no_slot_behind() {
        run(|readiness| async move {
            let registrations: Vec<_> = (0..8).map(|_| registered(&readiness)).collect();
            assert_eq!(readiness.inner.borrow().slots.len(), 8);
            drop(registrations);
            assert!(readiness.inner.borrow().slots.is_empty());
            // The cancelled polls' last completions find no slot and are ignored.
            glommio::timer::sleep(Duration::from_millis(20)).await;
            assert!(readiness.inner.borrow_mut().drain().is_ok());
        });
    }
}
