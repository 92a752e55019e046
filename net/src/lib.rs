//! NoKV's RESP front end: the RESP2/RESP3 codec, the command table and the connection loop.
//!
//! `net` defines a [`Handler`] trait that `shard` implements; only [`server`], the per-core
//! connection loop, names the runtime (glommio). Everything else, including the logic that
//! turns a read's bytes into handler batches and replies, is plain single-threaded Rust,
//! unit-tested without a runtime.
//!
//! # Reading requests
//!
//! A connection owns a [`frame::RequestParser`] (built from [`frame::ParseLimits`], Redis's
//! limits and defaults) and a `BytesMut` it reads into. After each read it calls
//! [`frame::RequestParser::parse`] until it returns [`frame::Parsed::Incomplete`]; each
//! [`frame::Parsed::Request`] is the request's arguments as `Bytes` slices of the read buffer
//! (no copy). Multibulk (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`) and inline (`GET k\r\n`, with
//! Redis's quoting) requests are both accepted. An `Err` is a protocol error: write
//! [`Error::to_reply`] and close the connection, as Redis does.
//!
//! ```
//! use bytes::BytesMut;
//! use nokv_net::frame::{Parsed, RequestParser};
//!
//! let parser = RequestParser::default();
//! let mut buf = BytesMut::from(&b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\nPING\r\n"[..]);
//! assert_eq!(parser.parse(&mut buf).unwrap(), Parsed::Request(vec!["GET".into(), "k".into()]));
//! assert_eq!(parser.parse(&mut buf).unwrap(), Parsed::Request(vec!["PING".into()]));
//! assert_eq!(parser.parse(&mut buf).unwrap(), Parsed::Incomplete);
//! ```
//!
//! # Dispatching
//!
//! [`command::CommandTable::resolve`] finds the request's [`command::CommandSpec`] (subcommands
//! included) and checks its arity, or returns the exact error reply Redis would send
//! (`ERR unknown command ...`, `ERR wrong number of arguments for 'get' command`). The spec
//! says what the command touches: [`command::key_positions`] gives the argument indexes of its
//! keys for routing, `request_policy`/`response_policy` say how a multi-key request fans out
//! and how the partial replies merge. Error texts live in [`errors`].
//!
//! # Serving
//!
//! [`server::Server::serve`] accepts clients and runs, per connection: read, parse every
//! whole request, resolve them, pass the valid ones to [`Handler::call_batch`] in runs
//! (pipelining; see [`handler`] for the contract), write all the read's replies at once.
//! [`server::ClientRegistry`] lists the live connections for CLIENT LIST/INFO/KILL.
//!
//! # Writing replies
//!
//! Handlers return a [`frame::Reply`]; [`frame::Reply::encode`] writes it for the connection's
//! [`frame::Protocol`], downgrading RESP3 types on RESP2 connections the way Redis does (a map
//! becomes a flat array, a double a bulk string, a boolean an integer). `COMMAND`,
//! `COMMAND COUNT|INFO|DOCS|LIST` replies come from [`command::introspection`].
//!
//! ```
//! use bytes::BytesMut;
//! use nokv_net::frame::{Protocol, Reply};
//!
//! let mut out = BytesMut::new();
//! Reply::Map(vec![(Reply::bulk("proto"), Reply::Integer(3))]).encode(Protocol::Resp2, &mut out);
//! assert_eq!(&out[..], b"*2\r\n$5\r\nproto\r\n:3\r\n");
//! ```

pub mod command;
pub mod error;
pub mod errors;
pub mod frame;
pub mod handler;
pub mod number;
pub mod server;

pub use error::{Error, Result};
pub use handler::{ConnectionState, Handler, MultiState, Request};
