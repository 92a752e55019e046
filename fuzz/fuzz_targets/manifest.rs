//! Manifest: `VersionEdit::decode` on raw bytes (an edit that decodes re-encodes to the same
//! edit, and applying it to an empty version returns Ok or Err), and `Manifest::open` on a
//! MANIFEST file made of fuzz bytes (checksums optionally fixed up) replaying its edits.
//!
//! Mode byte: bit 0 decodes the rest as one edit; otherwise it is a manifest file image, with
//! bit 1 fixing the header's and every record's checksum (and naming manifest 1).
#![no_main]
use std::path::Path;

use libfuzzer_sys::fuzz_target;
use nokv_engine::codec::masked_crc;
use nokv_engine::io::mem::MemFs;
use nokv_engine::manifest::Manifest;
use nokv_engine::version::{Version, VersionEdit};
use nokv_fuzz::{block_on, fix_manifest_checksums, mem_file};

fn current_block(name: &str) -> Vec<u8> {
    let mut block = masked_crc(name.as_bytes()).to_le_bytes().to_vec();
    block.extend_from_slice(&(name.len() as u32).to_le_bytes());
    block.extend_from_slice(name.as_bytes());
    block.resize(4096, 0);
    block
}

fn edit(bytes: &[u8]) {
    let Ok(edit) = VersionEdit::decode(bytes) else { return };
    assert_eq!(VersionEdit::decode(&edit.encode()).expect("re-encoded edit"), edit);
    if let Ok(version) = Version::default().apply(&edit) {
        let snapshot = version.snapshot_edit();
        let rebuilt = Version::default().apply(&snapshot).expect("a version's snapshot edit applies");
        assert_eq!(rebuilt.snapshot_edit(), snapshot);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, bytes)) = data.split_first() else { return };
    if mode & 1 == 1 {
        return edit(bytes);
    }
    let mut image = bytes.to_vec();
    if mode & 2 == 2 {
        if let Some(id) = image.get_mut(12..20) {
            id.copy_from_slice(&1u64.to_le_bytes());
        }
        fix_manifest_checksums(&mut image);
    }
    block_on(async {
        let fs = MemFs::new();
        let dir = Path::new("/m");
        mem_file(&fs, &dir.join("MANIFEST-000001"), &image).await;
        mem_file(&fs, &dir.join("CURRENT"), &current_block("MANIFEST-000001")).await;
        let _ = Manifest::open(fs, dir).await;
    });
});
