//! The value log (WiscKey): large values out of the LSM, with garbage collection.
