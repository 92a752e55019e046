//! SST reading: a table file made of fuzz bytes (footer kept at the end of a 4 KiB-aligned
//! file; checksums optionally fixed up) is opened, scanned both ways, and probed with point
//! gets and seeks. Every step returns Ok or Err, never panics. (Key order is not checked: a
//! block with fixed-up checksums may hold keys in any order, and the reader trusts
//! checksummed blocks to be the builder's.)
//!
//! Mode byte: bit 0 fixes the footer's and every reachable block's checksum.
#![no_main]
use std::path::Path;
use std::rc::Rc;

use libfuzzer_sys::fuzz_target;
use nokv_engine::cache::{CacheOptions, Caches};
use nokv_engine::io::mem::MemFs;
use nokv_engine::iter::InternalIterator;
use nokv_engine::key::{seek_key, user_key};
use nokv_engine::sst::Table;
use nokv_fuzz::{block_on, fix_sst_checksums, mem_file, sst_image};

const MAX_STEPS: usize = 4096;

async fn scan(table: &Rc<Table<nokv_engine::io::mem::MemFile>>) -> Vec<Vec<u8>> {
    let mut keys: Vec<Vec<u8>> = Vec::new();
    let mut iter = table.iter(true);
    if iter.seek_to_first().await.is_err() {
        return keys;
    }
    while iter.is_valid() && keys.len() < MAX_STEPS {
        keys.push(iter.key().to_vec());
        let _ = iter.value();
        if iter.next().await.is_err() {
            break;
        }
    }
    let mut backwards = 0;
    if iter.seek_to_last().await.is_ok() {
        while iter.is_valid() && backwards < MAX_STEPS {
            backwards += 1;
            if iter.prev().await.is_err() {
                break;
            }
        }
    }
    keys
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, bytes)) = data.split_first() else { return };
    let mut image = sst_image(bytes);
    if mode & 1 == 1 {
        fix_sst_checksums(&mut image);
    }
    block_on(async {
        let fs = MemFs::new();
        let file = mem_file(&fs, Path::new("/t/000001.sst"), &image).await;
        let caches = Rc::new(Caches::new(&CacheOptions::default()).expect("default cache options"));
        let Ok(table) = Table::open(file, 1, caches).await else { return };
        let table = Rc::new(table);
        let _ = table.range_tombstones();
        let keys = scan(&table).await;
        let probes = keys.iter().take(8).map(|k| user_key(k).to_vec()).chain([b"".to_vec(), b"k".to_vec()]);
        for probe in probes {
            let target = seek_key(&probe, u64::MAX >> 8);
            let _ = table.may_contain(&probe).await;
            let _ = table.get(&target, true).await;
            let mut iter = table.iter(false);
            let _ = iter.seek(&target).await;
            let _ = iter.seek_for_prev(&target).await;
        }
    });
});
