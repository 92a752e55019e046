//! The value log (WiscKey): large values out of the LSM, with garbage collection.
//!
//! The LSM stores a [`ValuePointer`] instead of any value at or above the engine's
//! `value_threshold_bytes`; the value itself is appended here, to the core's own value log. This
//! module owns the value-log files, their format, crash recovery of the newest file, discard
//! statistics, and the primitives the engine (`db`) uses to run garbage collection. It never
//! looks into the LSM: deciding which values are live is the engine's job.
//!
//! # Files
//!
//! A directory of files `vlog-{file_id:08}.log`, ids increasing and never reused. The newest is
//! the *active* file, the only one appended to; when a batch would push it past
//! `file_size_bytes` it is synced and a new file becomes active. Format version
//! [`FORMAT_VERSION`] = 1; all integers little-endian (see [`crate::codec`]).
//!
//! ```text
//! file:    | header block (4 KiB) | batch | batch | ...          each batch starts on a 4 KiB
//!                                                                boundary, zero-padded at its end
//! header:  0       8         12        16        20             4096
//!          | magic | version | file_id | crc u32 | zero padding |   crc: masked crc32c of 0..16
//!          magic = "NOKVVLOG"
//! batch:   | record | record | ... | zero padding to 4 KiB |
//! record:  | crc u32 | flags u8 | key_len varint | value_len varint | key | value |
//!            crc: masked crc32c of everything after it; flags bit 0: value is lz4 block data
//!            with its u32 uncompressed size prepended (used only when it saves >= 1/8);
//!            value_len is the stored length
//! pointer: | file_id u32 | offset u64 | len u32 |   (16 bytes; offset/len of the whole record)
//! ```
//!
//! No valid record is all zeros, so the scanner reads zeros from a record boundary to the next
//! 4 KiB boundary as padding without ambiguity.
//!
//! A new file reserves `file_size_bytes` up front (`File::allocate`), so appends overwrite
//! reserved zeros instead of growing the file (an O_DIRECT write past EOF is punted to a kernel
//! worker and makes every sync commit a size change); the retiring file gives the unused rest
//! back at rotation. Appends collect in a write buffer of `write_buffer_bytes` (records packed
//! back to back, readable from memory) that is written, zero-padded to a whole block, when full,
//! on `sync` and at rotation; so no written block is ever written again.
//!
//! # Durability and recovery
//!
//! The journal already holds every value, so an append is *not* synced before the write is
//! acknowledged. The engine calls [`ValueLog::sync`] before flushing a memtable whose SST refers
//! to the new pointers; on restart it replays the journal and appends the values again.
//!
//! The *head* keeps those second copies from leaking the first ones. Each flush records in the
//! engine's manifest the end ([`VlogPosition`]) of the furthest record any flushed table points
//! at, after the sync that made it durable. Records past the head are referenced only by
//! memtables that died with the process (the journal replays their values) or by GC
//! relocations in them (their source file is deleted only by the flush that makes them
//! durable, so it is still there). [`ValueLog::open_at_head`] therefore deletes every file
//! after the head's and reopens the head's file as the active one, cut at the head: each crash
//! costs nothing but the replayed appends. Without a head, [`ValueLog::open`] recovers as below
//! and keeps everything; the engine then syncs and adopts the log's end as the head
//! ([`ValueLog::sync_end`]), so a store from before heads leaks at most once more.
//!
//! Invariants that make recovery simple:
//! - Every file but the newest was synced completely when it stopped being active (rotation
//!   syncs it), so [`ValueLog::open`] only validates the headers of older files.
//! - Only the newest file can have a torn tail. `open` scans it and truncates at the first
//!   record that is short or fails its checksum; a blank header (crash right after creating
//!   the file) is rewritten.
//! - A failed write or sync leaves the file in an unknown state: the log then refuses further
//!   appends and syncs (`Error::Closed`) until it is reopened, which runs recovery.
//!
//! Reads verify the whole record against the pointer: a flipped byte, a pointer past the end
//! or into a missing file is `Error::Corruption`, never wrong data.
//!
//! # Garbage collection
//!
//! Compaction reports the bytes of every pointer it drops with [`ValueLog::add_discard`]
//! (batch padding is counted as discarded at append, so GC also reclaims the padding of small
//! batches). The engine persists [`ValueLog::discard_stats`] in its manifest and restores them
//! with [`ValueLog::set_discard_stats`]. [`ValueLog::pick_gc_candidate`] names the file with
//! the most discarded bytes among those whose discarded share reaches `gc_discard_ratio`. The
//! engine reads it with [`ValueLog::scan_file`], re-appends the values the LSM still points
//! at, and marks the file obsolete with the highest sequence number of those rewrites.
//!
//! Deletion rule: an obsolete file marked with `after_seq` is deleted by
//! [`ValueLog::delete_obsolete`]`(flushed_seq, oldest_snapshot_seq)` when
//! `after_seq <= flushed_seq` (the relocated pointers are in a durable SST) **and**
//! `after_seq < oldest_snapshot_seq` (every open snapshot and iterator was taken after the
//! rewrite, so none can still reach an old pointer; pass `u64::MAX` when there are none).
//!
//! Persistence of the obsolete list: the value log keeps it itself, in `vlog-obsolete`
//! (see the `obsolete` submodule), and records only files whose rewrite is already flushed and
//! which wait just for snapshots; `open` deletes those (no snapshot survives a restart). A
//! merely marked file is not persisted on purpose: a crash before the flush loses the
//! relocated pointers, so the old file is still referenced and must survive.
//!
//! An engine that records obsolete files in its own manifest instead skips `mark_obsolete`
//! and calls [`ValueLog::remove_file`] itself once its rule allows; that call is idempotent,
//! so recovery can repeat deletions logged before a crash.
//!
//! # Concurrency
//!
//! One instance per core, `&self` methods with interior mutability. Appends, syncs, rotations
//! and deletions are serialised by an async lock ([`crate::sync::LocalMutex`]), so a `sync`
//! covers every append that returned before it was called, and no append can land between a
//! sync and the flush that relies on it; reads run concurrently with all of them.

mod format;
mod gc;
mod obsolete;
mod scan;
mod value_log;

#[cfg(test)]
mod tests;

pub use format::{FORMAT_VERSION, HEADER_BYTES, ValuePointer, VlogPosition, file_name};
pub use value_log::{ValueLog, VlogRecord};

use crate::error::{Error, Result};
use crate::io::IO_ALIGN;

/// Options of the value log.
#[derive(Debug, Clone, PartialEq)]
pub struct ValueLogOptions {
    /// A new file is started when a batch would push the active one past this size.
    pub file_size_bytes: u64,
    /// A file becomes a GC candidate when at least this share of its data is discarded.
    pub gc_discard_ratio: f64,
    /// Store values lz4-compressed when that saves at least an eighth of them.
    pub compression: bool,
    /// Read size when scanning a file (recovery, GC).
    pub scan_read_bytes: usize,
    /// Appends collect in memory and reach the file in writes of about this size (at the
    /// latest on `sync` or rotation), so an append costs no device round trip; 0 writes each
    /// append at once. Buffered values are lost by a crash exactly like unsynced ones, and the
    /// journal replays both.
    pub write_buffer_bytes: usize,
}

impl Default for ValueLogOptions {
    fn default() -> Self {
        ValueLogOptions {
            file_size_bytes: 128 << 20,
            gc_discard_ratio: 0.5,
            compression: true,
            scan_read_bytes: 1 << 20,
            write_buffer_bytes: 1 << 20,
        }
    }
}

impl ValueLogOptions {
    /// Rejects values the value log cannot work with.
    pub fn validate(&self) -> Result<()> {
        let min_file_bytes = 2 * IO_ALIGN as u64;
        if self.file_size_bytes < min_file_bytes {
            let reason = format!("must be at least {min_file_bytes} (a header and one block)");
            return Err(Error::InvalidOption { name: "vlog.file_size_bytes", reason });
        }
        if !(self.gc_discard_ratio > 0.0 && self.gc_discard_ratio <= 1.0) {
            let reason = format!("must be in (0, 1], got {}", self.gc_discard_ratio);
            return Err(Error::InvalidOption { name: "vlog.gc_discard_ratio", reason });
        }
        if self.scan_read_bytes < IO_ALIGN {
            let reason = format!("must be at least {IO_ALIGN}");
            return Err(Error::InvalidOption { name: "vlog.scan_read_bytes", reason });
        }
        Ok(())
    }
}

/// Current size, and counters since the value log was opened.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValueLogStats {
    /// Files in the value log now.
    pub files: u64,
    /// Bytes of all files now.
    pub total_bytes: u64,
    /// Records appended.
    pub records_written: u64,
    /// Bytes written by appends, padding included (headers of new files excluded).
    pub bytes_written: u64,
    /// Files created (by rotation, or at open when the directory was empty).
    pub files_created: u64,
    /// Files deleted by garbage collection.
    pub files_deleted: u64,
    /// Bytes of the files deleted by garbage collection.
    pub bytes_reclaimed: u64,
    /// Bytes cut off a torn tail at open.
    pub bytes_truncated: u64,
    /// Files deleted at open because they lay wholly past the recorded head.
    pub files_cut: u64,
}
