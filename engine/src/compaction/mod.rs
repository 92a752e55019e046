//! Leveled compaction: the pure picker and the merge that rewrites files.

pub mod picker;
