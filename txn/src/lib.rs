//! NoKV's transactions: timestamps and the timestamp oracle, the MVCC storage format (Lock,
//! Write and Default column families), Percolator actions, latches and MVCC garbage collection.
