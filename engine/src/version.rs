//! Versions: which SSTables make up each column family's levels, and the edits that change them.
//!
//! A [`Version`] is immutable; flushes and compactions produce a [`VersionEdit`] and
//! `Version::apply` builds the next version from the current one. `apply` is a pure function,
//! so the manifest (a log of edits) replays to exactly the same version on open, and the
//! compaction picker can be tested without any I/O.
//!
//! Level invariants: L0 files may overlap and are ordered newest first (by `max_seq`); in every
//! level >= 1 files are sorted by smallest key and do not overlap (internal-key order).
//!
//! Edit encoding (inside a manifest record, see `manifest`), version 1: a sequence of tagged
//! fields, each `u8 tag | body`, all integers varints:
//!
//! ```text
//! tag 1 add file      : cf u8 | level | id | size | entries | max_seq | smallest (len+bytes) | largest (len+bytes)
//! tag 2 delete file   : cf u8 | level | id
//! tag 3 next file id  : id
//! tag 4 last seq      : seq
//! tag 5 applied index : region | index           (flushed watermark; max wins)
//! tag 6 vlog discard  : file id | bytes          (absolute discard count of a value-log file)
//! tag 7 vlog deleted  : file id                  (file may be removed; its discard entry goes)
//! tag 8 vlog head     : file id | offset         (end of the values flushed tables point at; max wins)
//! ```
//!
//! Tag 8 was added later: a manifest without it replays to `vlog_head: None` (the value log is
//! then not cut back at open), and older binaries reject an edit carrying it.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::rc::Rc;

use crate::codec::{Reader, put_length_prefixed, put_varint};
use crate::error::{Error, Result};
use crate::key::{self, Cf, Seq, compare_internal};
use crate::vlog::VlogPosition;

/// Number of levels, L0..L6.
pub const LEVEL_COUNT: usize = 7;

/// One SSTable as the version sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileMeta {
    /// File id; the file is `sst/{id:08}.sst`.
    pub id: u64,
    /// Column family.
    pub cf: Cf,
    /// Level.
    pub level: usize,
    /// Size on disk.
    pub size_bytes: u64,
    /// Number of point entries.
    pub entry_count: u64,
    /// Highest sequence number inside.
    pub max_seq: Seq,
    /// Smallest internal key (point entries and range tombstones).
    pub smallest: Vec<u8>,
    /// Largest internal key.
    pub largest: Vec<u8>,
}

impl FileMeta {
    /// True when the file's user-key range intersects `[lower, upper]` (inclusive user keys).
    pub fn overlaps_user_range(&self, lower: &[u8], upper: &[u8]) -> bool {
        key::user_key(&self.smallest) <= upper && key::user_key(&self.largest) >= lower
    }
}

/// A change to the version.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VersionEdit {
    /// Files added.
    pub added: Vec<FileMeta>,
    /// Files removed: `(cf, level, id)`.
    pub deleted: Vec<(Cf, usize, u64)>,
    /// The next unused file id.
    pub next_file_id: Option<u64>,
    /// The highest sequence number whose data is in some SST.
    pub last_seq: Option<Seq>,
    /// Flushed watermarks: per region, the highest applied journal index in SSTs.
    pub applied: Vec<(u64, u64)>,
    /// Absolute discard byte counts of value-log files.
    pub vlog_discard: Vec<(u32, u64)>,
    /// Value-log files that are no longer referenced and may be removed.
    pub vlog_deleted: Vec<u32>,
    /// The end of the furthest value the flushed tables point at.
    pub vlog_head: Option<VlogPosition>,
}

const TAG_ADD: u8 = 1;
const TAG_DELETE: u8 = 2;
const TAG_NEXT_FILE: u8 = 3;
const TAG_LAST_SEQ: u8 = 4;
const TAG_APPLIED: u8 = 5;
const TAG_VLOG_DISCARD: u8 = 6;
const TAG_VLOG_DELETED: u8 = 7;
const TAG_VLOG_HEAD: u8 = 8;

impl VersionEdit {
    /// Encodes the edit.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for file in &self.added {
            out.push(TAG_ADD);
            encode_file(&mut out, file);
        }
        for (cf, level, id) in &self.deleted {
            out.push(TAG_DELETE);
            out.push(cf.id());
            put_varint(&mut out, *level as u64);
            put_varint(&mut out, *id);
        }
        encode_optional(&mut out, TAG_NEXT_FILE, self.next_file_id);
        encode_optional(&mut out, TAG_LAST_SEQ, self.last_seq);
        for (region, index) in &self.applied {
            encode_pair(&mut out, TAG_APPLIED, *region, *index);
        }
        for (file, bytes) in &self.vlog_discard {
            encode_pair(&mut out, TAG_VLOG_DISCARD, u64::from(*file), *bytes);
        }
        for file in &self.vlog_deleted {
            encode_optional(&mut out, TAG_VLOG_DELETED, Some(u64::from(*file)));
        }
        if let Some(head) = self.vlog_head {
            encode_pair(&mut out, TAG_VLOG_HEAD, u64::from(head.file_id), head.offset);
        }
        out
    }

    /// Decodes an edit; any malformed input is `Corruption`.
    pub fn decode(input: &[u8]) -> Result<VersionEdit> {
        let mut reader = Reader::new(input);
        let mut edit = VersionEdit::default();
        while !reader.is_empty() {
            decode_field(&mut reader, &mut edit)
                .ok_or_else(|| Error::corruption("manifest edit", "truncated field"))??;
        }
        Ok(edit)
    }
}

fn encode_optional(out: &mut Vec<u8>, tag: u8, value: Option<u64>) {
    if let Some(value) = value {
        out.push(tag);
        put_varint(out, value);
    }
}

fn encode_pair(out: &mut Vec<u8>, tag: u8, first: u64, second: u64) {
    out.push(tag);
    put_varint(out, first);
    put_varint(out, second);
}

fn encode_file(out: &mut Vec<u8>, file: &FileMeta) {
    out.push(file.cf.id());
    for value in [file.level as u64, file.id, file.size_bytes, file.entry_count, file.max_seq] {
        put_varint(out, value);
    }
    put_length_prefixed(out, &file.smallest);
    put_length_prefixed(out, &file.largest);
}

fn decode_cf(reader: &mut Reader<'_>) -> Option<Result<Cf>> {
    let id = reader.u8()?;
    Some(Cf::from_id(id).ok_or_else(|| Error::corruption("manifest edit", format!("unknown column family {id}"))))
}

fn decode_level(reader: &mut Reader<'_>) -> Option<Result<usize>> {
    let level = reader.varint()?;
    Some(match usize::try_from(level) {
        Ok(level) if level < LEVEL_COUNT => Ok(level),
        _ => Err(Error::corruption("manifest edit", format!("level {level} out of range"))),
    })
}

/// A column family and level, as file additions and deletions both start with them.
fn decode_cf_level(reader: &mut Reader<'_>) -> Option<Result<(Cf, usize)>> {
    let cf = decode_cf(reader)?;
    let level = decode_level(reader)?;
    Some(cf.and_then(|cf| level.map(|level| (cf, level))))
}

fn decode_file(reader: &mut Reader<'_>) -> Option<Result<FileMeta>> {
    let (cf, level) = match decode_cf_level(reader)? {
        Ok(location) => location,
        Err(e) => return Some(Err(e)),
    };
    let (id, size_bytes, entry_count, max_seq) =
        (reader.varint()?, reader.varint()?, reader.varint()?, reader.varint()?);
    let smallest = reader.length_prefixed()?.to_vec();
    let largest = reader.length_prefixed()?.to_vec();
    Some(Ok(FileMeta { id, cf, level, size_bytes, entry_count, max_seq, smallest, largest }))
}

/// Decodes one tagged field into `edit`. `None`: the input ended inside the field.
fn decode_field(reader: &mut Reader<'_>, edit: &mut VersionEdit) -> Option<Result<()>> {
    let tag = reader.u8()?;
    match tag {
        TAG_ADD => match decode_file(reader)? {
            Ok(file) => edit.added.push(file),
            Err(e) => return Some(Err(e)),
        },
        TAG_DELETE => match decode_cf_level(reader)? {
            Ok((cf, level)) => edit.deleted.push((cf, level, reader.varint()?)),
            Err(e) => return Some(Err(e)),
        },
        TAG_NEXT_FILE => edit.next_file_id = Some(reader.varint()?),
        TAG_LAST_SEQ => edit.last_seq = Some(reader.varint()?),
        TAG_APPLIED => edit.applied.push((reader.varint()?, reader.varint()?)),
        TAG_VLOG_DISCARD => edit.vlog_discard.push((u32::try_from(reader.varint()?).ok()?, reader.varint()?)),
        TAG_VLOG_DELETED => edit.vlog_deleted.push(u32::try_from(reader.varint()?).ok()?),
        TAG_VLOG_HEAD => {
            edit.vlog_head =
                Some(VlogPosition { file_id: u32::try_from(reader.varint()?).ok()?, offset: reader.varint()? })
        }
        other => return Some(Err(Error::corruption("manifest edit", format!("unknown tag {other}")))),
    }
    Some(Ok(()))
}

/// The levels of one column family.
pub type Levels = [Vec<Rc<FileMeta>>; LEVEL_COUNT];

/// An immutable snapshot of the LSM's shape.
#[derive(Debug, Clone, Default)]
pub struct Version {
    cfs: [Levels; 4],
    /// Next unused file id.
    pub next_file_id: u64,
    /// Highest sequence number in any SST.
    pub last_seq: Seq,
    /// Flushed watermarks per region.
    pub applied: BTreeMap<u64, u64>,
    /// Discard byte counts of value-log files.
    pub vlog_discard: BTreeMap<u32, u64>,
    /// Value-log files recorded as deleted.
    pub vlog_deleted: Vec<u32>,
    /// The end of the furthest value any flushed table points at; `None` in a store that never
    /// recorded one.
    pub vlog_head: Option<VlogPosition>,
}

impl Version {
    /// The levels of a column family.
    pub fn levels(&self, cf: Cf) -> &Levels {
        &self.cfs[cf.index()]
    }

    /// Every file of every CF and level.
    pub fn all_files(&self) -> impl Iterator<Item = &Rc<FileMeta>> {
        self.cfs.iter().flat_map(|levels| levels.iter().flatten())
    }

    /// Total bytes of a level.
    pub fn level_size_bytes(&self, cf: Cf, level: usize) -> u64 {
        self.levels(cf)[level].iter().map(|f| f.size_bytes).sum()
    }

    /// Number of L0 files of the CF with the most.
    pub fn max_l0_file_count(&self) -> usize {
        Cf::ALL.iter().map(|cf| self.levels(*cf)[0].len()).max().unwrap_or(0)
    }

    /// Builds the next version. Fails with `Corruption` if the edit deletes a file that is not
    /// there or breaks the level invariants (a manifest that does this is damaged).
    pub fn apply(&self, edit: &VersionEdit) -> Result<Version> {
        let mut next = self.clone();
        for (cf, level, id) in &edit.deleted {
            let files = &mut next.cfs[cf.index()][*level];
            let before = files.len();
            files.retain(|f| f.id != *id);
            if files.len() == before {
                return Err(Error::corruption("manifest", format!("deleting missing file {id} at L{level}")));
            }
        }
        for file in &edit.added {
            next.cfs[file.cf.index()][file.level].push(Rc::new(file.clone()));
        }
        next.apply_counters(edit);
        for levels in &mut next.cfs {
            sort_levels(levels)?;
        }
        Ok(next)
    }

    fn apply_counters(&mut self, edit: &VersionEdit) {
        if let Some(id) = edit.next_file_id {
            self.next_file_id = self.next_file_id.max(id);
        }
        if let Some(seq) = edit.last_seq {
            self.last_seq = self.last_seq.max(seq);
        }
        for (region, index) in &edit.applied {
            let slot = self.applied.entry(*region).or_insert(0);
            *slot = (*slot).max(*index);
        }
        for (file, bytes) in &edit.vlog_discard {
            self.vlog_discard.insert(*file, *bytes);
        }
        // The head only moves forward (see `db::flush`); max keeps replay order irrelevant.
        self.vlog_head = self.vlog_head.max(edit.vlog_head);
        for file in &edit.vlog_deleted {
            self.vlog_discard.remove(file);
            if !self.vlog_deleted.contains(file) {
                self.vlog_deleted.push(*file);
            }
        }
    }

    /// An edit that recreates this version from nothing (the first record of a new manifest).
    pub fn snapshot_edit(&self) -> VersionEdit {
        VersionEdit {
            added: self.all_files().map(|f| (**f).clone()).collect(),
            deleted: Vec::new(),
            next_file_id: Some(self.next_file_id),
            last_seq: Some(self.last_seq),
            applied: self.applied.iter().map(|(r, i)| (*r, *i)).collect(),
            vlog_discard: self.vlog_discard.iter().map(|(f, b)| (*f, *b)).collect(),
            vlog_deleted: self.vlog_deleted.clone(),
            vlog_head: self.vlog_head,
        }
    }

    /// The files of `level` (>= 1) whose user-key range intersects `[lower, upper]`.
    pub fn overlapping(&self, cf: Cf, level: usize, lower: &[u8], upper: &[u8]) -> Vec<Rc<FileMeta>> {
        self.levels(cf)[level].iter().filter(|f| f.overlaps_user_range(lower, upper)).cloned().collect()
    }
}

fn sort_levels(levels: &mut Levels) -> Result<()> {
    levels[0].sort_by(|a, b| b.max_seq.cmp(&a.max_seq).then(b.id.cmp(&a.id)));
    for (level, files) in levels.iter_mut().enumerate().skip(1) {
        files.sort_by(|a, b| compare_internal(&a.smallest, &b.smallest));
        let overlapping = files.windows(2).any(|w| compare_internal(&w[0].largest, &w[1].smallest) != Ordering::Less);
        if overlapping {
            return Err(Error::corruption("manifest", format!("overlapping files in L{level}")));
        }
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::key::{ValueKind, encode_internal};

    pub(crate) fn file(id: u64, level: usize, lower: &[u8], upper: &[u8], size_bytes: u64) -> FileMeta {
        FileMeta {
            id,
            cf: Cf::Default,
            level,
            size_bytes,
            entry_count: 1,
            max_seq: id,
            smallest: encode_internal(lower, id, ValueKind::Put),
            largest: encode_internal(upper, id, ValueKind::Put),
        }
    }

    #[test]
    fn edit_round_trips() {
        let edit = VersionEdit {
            added: vec![file(3, 1, b"a", b"c", 100)],
            deleted: vec![(Cf::Write, 0, 2)],
            next_file_id: Some(4),
            last_seq: Some(99),
            applied: vec![(1, 10)],
            vlog_discard: vec![(5, 4096)],
            vlog_deleted: vec![2],
            vlog_head: Some(VlogPosition { file_id: 3, offset: 8192 }),
        };
        assert_eq!(VersionEdit::decode(&edit.encode()).expect("decode"), edit);
    }

    #[test]
    fn decode_rejects_garbage_without_panicking() {
        for input in [&[1u8][..], &[9], &[1, 7], &[2, 0, 9, 1], &[1, 0, 0, 1, 1, 1, 1, 200]] {
            assert!(VersionEdit::decode(input).is_err());
        }
    }

    #[test]
    fn apply_orders_levels_and_rejects_overlap() {
        let base = Version::default();
        let edit = VersionEdit {
            added: vec![
                file(1, 0, b"a", b"z", 1),
                file(2, 0, b"a", b"z", 1),
                file(3, 1, b"m", b"p", 1),
                file(4, 1, b"a", b"c", 1),
            ],
            ..Default::default()
        };
        let version = base.apply(&edit).expect("apply");
        let l0: Vec<u64> = version.levels(Cf::Default)[0].iter().map(|f| f.id).collect();
        let l1: Vec<u64> = version.levels(Cf::Default)[1].iter().map(|f| f.id).collect();
        assert_eq!((l0, l1), (vec![2, 1], vec![4, 3]));
        let bad = VersionEdit { added: vec![file(5, 1, b"b", b"n", 1)], ..Default::default() };
        assert!(version.apply(&bad).is_err());
        let missing = VersionEdit { deleted: vec![(Cf::Default, 2, 1)], ..Default::default() };
        assert!(version.apply(&missing).is_err());
    }

    #[test]
    fn the_vlog_head_only_moves_forward_and_is_absent_from_old_edits() {
        let at = |file_id, offset| Some(VlogPosition { file_id, offset });
        let old_edit = VersionEdit { applied: vec![(1, 2)], ..Default::default() };
        assert_eq!(VersionEdit::decode(&old_edit.encode()).expect("decode").vlog_head, None);
        let mut version = Version::default().apply(&old_edit).expect("apply");
        assert_eq!(version.vlog_head, None);
        for (head, expected) in [(at(2, 9000), at(2, 9000)), (at(1, 99_999), at(2, 9000)), (None, at(2, 9000))] {
            version = version.apply(&VersionEdit { vlog_head: head, ..Default::default() }).expect("apply");
            assert_eq!(version.vlog_head, expected);
        }
        version = version.apply(&VersionEdit { vlog_head: at(3, 4096), ..Default::default() }).expect("apply");
        let rebuilt = Version::default().apply(&version.snapshot_edit()).expect("apply");
        assert_eq!(rebuilt.vlog_head, at(3, 4096));
    }

    #[test]
    fn snapshot_edit_rebuilds_the_same_version() {
        let edit = VersionEdit { added: vec![file(1, 0, b"a", b"b", 1)], applied: vec![(7, 3)], ..Default::default() };
        let version = Version::default().apply(&edit).expect("apply");
        let rebuilt = Version::default().apply(&version.snapshot_edit()).expect("apply");
        assert_eq!(rebuilt.snapshot_edit(), version.snapshot_edit());
    }
}
