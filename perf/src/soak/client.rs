//! A blocking pipelined connection for the soak: writes a batch of requests encoded with
//! [`crate::loadgen::resp`] and reads their replies with their data
//! ([`parse_reply_value`]). Blocking std sockets keep the soak's threads plain: each client
//! thread owns its connection and its keys, and nothing is shared while the load runs.
//!
//! Every read and write is bounded by the connection's timeout, so a hung server turns into an
//! error instead of a hung soak.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use crate::loadgen::resp::{ReplyValue, encode_request, parse_reply_value};

use super::now_ms;

/// The least free space offered to a read.
const MIN_READ_BYTES: usize = 64 * 1024;

/// One connection and its unparsed input.
pub struct Client {
    stream: TcpStream,
    input: Vec<u8>,
    filled: usize,
}

/// The replies of a batch, each with the wall-clock millisecond it was read, and the error that
/// cut the batch short, if one did.
pub struct Exchange {
    pub replies: Vec<(ReplyValue, u64)>,
    pub error: Option<io::Error>,
}

impl Client {
    /// Connects, with `timeout` on the connect and on every later read and write.
    pub fn connect(addr: SocketAddr, timeout: Duration) -> io::Result<Client> {
        let stream = TcpStream::connect_timeout(&addr, timeout)?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(timeout))?;
        stream.set_write_timeout(Some(timeout))?;
        Ok(Client { stream, input: Vec::new(), filled: 0 })
    }

    /// Writes `out` (holding `count` requests) and reads their replies, until all are in or
    /// the connection fails.
    pub fn exchange(&mut self, out: &[u8], count: usize) -> Exchange {
        let mut replies = Vec::with_capacity(count);
        if let Err(error) = self.stream.write_all(out) {
            return Exchange { replies, error: Some(error) };
        }
        while replies.len() < count {
            match self.next_reply() {
                Ok(reply) => replies.push((reply, now_ms())),
                Err(error) => return Exchange { replies, error: Some(error) },
            }
        }
        Exchange { replies, error: None }
    }

    /// Sends one request and returns its reply.
    pub fn call(&mut self, args: &[&[u8]]) -> io::Result<ReplyValue> {
        let mut out = Vec::new();
        encode_request(&mut out, args);
        let mut exchange = self.exchange(&out, 1);
        match exchange.error.take() {
            Some(error) => Err(error),
            None => Ok(exchange.replies.pop().expect("one reply when no error").0),
        }
    }

    /// The next reply, reading as much as it needs.
    fn next_reply(&mut self) -> io::Result<ReplyValue> {
        loop {
            let parsed = parse_reply_value(&self.input[..self.filled])
                .map_err(|error| io::Error::new(io::ErrorKind::InvalidData, error))?;
            if let Some((reply, len_bytes)) = parsed {
                self.input.copy_within(len_bytes..self.filled, 0);
                self.filled -= len_bytes;
                return Ok(reply);
            }
            self.read_more()?;
        }
    }

    fn read_more(&mut self) -> io::Result<()> {
        if self.input.len() - self.filled < MIN_READ_BYTES {
            let grown = (self.input.len() * 2).max(self.filled + MIN_READ_BYTES);
            self.input.resize(grown, 0);
        }
        let read_bytes = self.stream.read(&mut self.input[self.filled..])?;
        if read_bytes == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "connection closed by the server"));
        }
        self.filled += read_bytes;
        Ok(())
    }
}
