//! Journal recovery: a segment image made of fuzz bytes (checksums optionally fixed up) is
//! opened; open returns Ok or Err, never panics, and everything the index then claims to hold
//! reads back.
//!
//! Mode byte: bit 0 fixes every checksum (and names the header's segment 1); bit 1 adds an
//! empty segment 2 after it, so damage in segment 1 must be an error, not a torn tail.
#![no_main]
use std::path::Path;

use libfuzzer_sys::fuzz_target;
use nokv_engine::io::mem::MemFs;
use nokv_engine::journal::{Journal, JournalOptions};
use nokv_fuzz::{block_on, fix_journal_checksums, mem_file};

fn segment_header(seq: u64) -> Vec<u8> {
    let mut header = b"NOKVJRNL".to_vec();
    header.extend_from_slice(&nokv_engine::journal::FORMAT_VERSION.to_le_bytes());
    header.extend_from_slice(&seq.to_le_bytes());
    let crc = nokv_engine::codec::masked_crc(&header);
    header.extend_from_slice(&crc.to_le_bytes());
    header.resize(4096, 0);
    header
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, image)) = data.split_first() else { return };
    let mut image = image.to_vec();
    if mode & 1 == 1 {
        if let Some(seq) = image.get_mut(12..20) {
            seq.copy_from_slice(&1u64.to_le_bytes());
        }
        fix_journal_checksums(&mut image);
    }
    block_on(async {
        let fs = MemFs::new();
        let dir = Path::new("/j");
        mem_file(&fs, &dir.join("journal-0000000000000001.log"), &image).await;
        if mode & 2 == 2 {
            mem_file(&fs, &dir.join("journal-0000000000000002.log"), &segment_header(2)).await;
        }
        let options = JournalOptions { segment_size_bytes: 1 << 20, ..JournalOptions::default() };
        let Ok(journal) = Journal::open(fs, dir, options).await else { return };
        for region in journal.regions() {
            let (Some(first), Some(last)) = (journal.first_index(region), journal.last_index(region)) else {
                continue;
            };
            assert!(first <= last + 1, "region {region}: first {first} after last {last}");
            let high = last.saturating_add(1).min(first.saturating_add(64));
            // Reads may fail only on data the scan already verified: any error here would be
            // a decoder disagreeing with recovery, so report it.
            let entries = journal.read_entries(region, first, high).await;
            let entries = entries.unwrap_or_else(|e| panic!("region {region} [{first}, {high}): {e}"));
            for (entry, index) in entries.iter().zip(first..) {
                assert_eq!(entry.index, index);
                assert_eq!(Some(entry.term), journal.term(region, index));
            }
            let _ = journal.state(region, b"k");
        }
    });
});
