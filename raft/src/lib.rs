//! Multi-Raft for NoKV on raft-rs: one `RawNode` per region, one ready round per core, log
//! storage on the core's engine journal. Apply goes through a `StateMachine` trait that `shard`
//! implements; this crate never imports `txn`.
