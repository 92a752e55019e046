//! Leveled compaction: the pure picker, the merge that rewrites files, and the filter hook.

pub mod filter;
pub mod picker;
