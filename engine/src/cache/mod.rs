//! Block and index/filter caches with byte budgets and a TinyLFU admission filter.
