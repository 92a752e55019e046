//! NoKV's RESP front end: the RESP2/RESP3 codec, the command table and the connection loop.
//!
//! `net` never imports the runtime: it defines a `Handler` trait that `shard` implements.
