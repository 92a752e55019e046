//! NoKV's thread-per-core runtime: one glommio executor per core owning its engine, regions and
//! journal; key routing (slot, region, owner core); the cross-core message mesh; and the
//! implementation of `net::Handler`.
