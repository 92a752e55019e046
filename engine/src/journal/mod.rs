//! The segmented write-ahead journal with group commit; the only WAL of a core.
