//! Value log: a value-log file made of fuzz bytes (checksums optionally fixed up) is opened
//! (which scans it and cuts a torn tail), scanned, and read through every pointer the scan
//! returns and through pointers taken from the input. Ok or Err, never a panic; a record read
//! through its scan pointer is the record the scan returned.
//!
//! Mode byte: bit 0 fixes the header's and every record's checksum (and names file 1); bit 1
//! adds a valid empty file 2, so file 1 is an older file (header checked at open, scanned by
//! GC).
#![no_main]
use std::path::Path;

use libfuzzer_sys::fuzz_target;
use nokv_engine::codec::masked_crc;
use nokv_engine::io::mem::MemFs;
use nokv_engine::vlog::{ValueLog, ValueLogOptions, ValuePointer};
use nokv_fuzz::{block_on, fix_vlog_checksums, mem_file};

fn header(file_id: u32) -> Vec<u8> {
    let mut out = b"NOKVVLOG".to_vec();
    out.extend_from_slice(&nokv_engine::vlog::FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&file_id.to_le_bytes());
    let crc = masked_crc(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out.resize(4096, 0);
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, bytes)) = data.split_first() else { return };
    let mut image = bytes.to_vec();
    if mode & 1 == 1 {
        if let Some(id) = image.get_mut(12..16) {
            id.copy_from_slice(&1u32.to_le_bytes());
        }
        fix_vlog_checksums(&mut image);
    }
    block_on(async {
        let fs = MemFs::new();
        let dir = Path::new("/v");
        mem_file(&fs, &dir.join(nokv_engine::vlog::file_name(1)), &image).await;
        if mode & 2 == 2 {
            mem_file(&fs, &dir.join(nokv_engine::vlog::file_name(2)), &header(2)).await;
        }
        let options = ValueLogOptions { scan_read_bytes: 4096, file_size_bytes: 1 << 20, ..ValueLogOptions::default() };
        let Ok(vlog) = ValueLog::open(fs, dir, options).await else { return };
        if let Ok(records) = vlog.scan_file(1).await {
            for record in records.iter().take(64) {
                let (key, value) = vlog.read(&record.pointer).await.expect("a scanned record reads back");
                assert_eq!((key, value), (record.key.clone(), record.value.clone()));
            }
        }
        for raw in bytes.chunks_exact(ValuePointer::ENCODED_LEN).take(16) {
            let pointer = ValuePointer::decode(raw).expect("16 bytes");
            let _ = vlog.read(&pointer).await;
        }
    });
});
