//! Value-log garbage collection.
//!
//! The candidate is the file with the most discarded bytes (counted by compaction) past the
//! configured ratio. Every record still referenced by the newest version of its key is
//! re-appended to the active value-log file, and the key is re-pointed with a local memtable
//! write; the check is repeated after the append, with no `.await` between check and insert,
//! so a user write that raced ahead is never overwritten. The relocations are not journaled:
//! until the memtable holding them is flushed, the old file stays, so a crash just loses the
//! relocation (and GC runs again later). The flush that makes them durable deletes the file.

use super::Engine;
use crate::error::Result;
use crate::io::FileSystem;
use crate::key::{Cf, MAX_SEQ, ValueKind};
use crate::vlog::{ValuePointer, VlogRecord};

impl<F: FileSystem> Engine<F> {
    /// Collects one value-log file if one is worth it. Returns the file id it relocated.
    pub async fn gc_value_log(&self) -> Result<Option<u32>> {
        let Some(file_id) = self.inner.vlog.pick_gc_candidate() else { return Ok(None) };
        if self.inner.state.borrow().vlog_relocated.iter().any(|(f, _)| *f == file_id) {
            return Ok(None);
        }
        let records = self.inner.vlog.scan_file(file_id).await?;
        let mut live = Vec::new();
        for record in records {
            if self.still_points_at(&record.key, &record.pointer).await? {
                live.push(record);
            }
        }
        self.relocate(&live).await?;
        let seq = self.last_seq();
        self.inner.state.borrow_mut().vlog_relocated.push((file_id, seq));
        tracing::debug!(file_id, live = live.len(), "value-log file relocated");
        Ok(Some(file_id))
    }

    async fn still_points_at(&self, key: &[u8], pointer: &ValuePointer) -> Result<bool> {
        let entry = self.lookup(Cf::Default, key, MAX_SEQ, false).await?;
        Ok(matches!(entry, Some((ValueKind::Pointer, raw)) if ValuePointer::decode(&raw).is_ok_and(|p| p == *pointer)))
    }

    async fn relocate(&self, live: &[VlogRecord]) -> Result<()> {
        if live.is_empty() {
            return Ok(());
        }
        let pairs: Vec<(&[u8], &[u8])> = live.iter().map(|r| (&r.key[..], &r.value[..])).collect();
        let new_pointers = self.inner.vlog.append(&pairs).await?;
        let vlog_end = new_pointers.iter().map(ValuePointer::end).max();
        // Keep flushes out from here to the inserts: a user write racing with the re-check below
        // then stays in a memtable, where the final synchronous check sees it.
        self.exclude_flushes().await;
        let checked_at = self.last_seq();
        let mut still_live = Vec::new();
        for (record, new_pointer) in live.iter().zip(new_pointers) {
            match self.still_points_at(&record.key, &record.pointer).await {
                Ok(true) => still_live.push((record, new_pointer)),
                Ok(false) => {}
                Err(error) => {
                    self.inner.state.borrow_mut().flushing = false;
                    return Err(error);
                }
            }
        }
        let mut state = self.inner.state.borrow_mut();
        let memtable = state.active.clone();
        if let Some(end) = vlog_end {
            // Its flush records the head past the relocated copies (see `db::flush`).
            memtable.note_vlog_end(end);
        }
        let memtables: Vec<_> = std::iter::once(&state.active).chain(state.frozen.iter()).cloned().collect();
        for (record, new_pointer) in still_live {
            let rewritten =
                memtables.iter().any(|m| m.get(Cf::Default, &record.key, MAX_SEQ).is_some_and(|e| e.0 > checked_at));
            if !rewritten {
                state.last_seq += 1;
                let encoded = bytes::Bytes::copy_from_slice(&new_pointer.encode());
                memtable.insert(Cf::Default, &record.key, state.last_seq, ValueKind::Pointer, encoded);
            }
        }
        state.flushing = false;
        drop(state);
        self.inner.events.notify_all();
        Ok(())
    }

    async fn exclude_flushes(&self) {
        loop {
            let notified = self.inner.events.notified();
            {
                let mut state = self.inner.state.borrow_mut();
                if !state.flushing {
                    state.flushing = true;
                    return;
                }
            }
            notified.await;
        }
    }
}
