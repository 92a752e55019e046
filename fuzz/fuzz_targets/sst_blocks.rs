//! The SST's block-level decoders, each on raw fuzz bytes: block framing (checksum, lz4),
//! data blocks with restart points (iterated both ways and sought), the index block, the
//! properties block, the bloom filter, the footer, and value pointers. The first byte picks
//! the decoder. None may panic.
#![no_main]
use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use nokv_engine::sst::block::Block;
use nokv_engine::sst::filter::BloomFilter;
use nokv_engine::sst::format::{Footer, open_block};
use nokv_engine::sst::index::IndexBlock;
use nokv_engine::sst::properties::TableMeta;
use nokv_engine::vlog::ValuePointer;

const MAX_STEPS: usize = 4096;

/// Walks a block both ways and seeks in it. Forward and backward walks may disagree on a
/// block whose restart array lies (only the builder's blocks are consistent, and a checksum
/// protects them on disk), so only panics are findings here.
fn iterate(block: &Block) {
    let mut iter = block.iter("fuzz block");
    let mut keys = Vec::new();
    if iter.seek_to_first().is_ok() {
        while iter.is_valid() && keys.len() < MAX_STEPS {
            keys.push(iter.key().to_vec());
            let _ = (iter.value(), iter.value_bytes());
            if iter.next_entry().is_err() {
                break;
            }
        }
    }
    let mut steps = 0;
    if iter.seek_to_last().is_ok() {
        while iter.is_valid() && steps < MAX_STEPS {
            steps += 1;
            if iter.prev_entry().is_err() {
                break;
            }
        }
    }
    for key in keys.iter().take(4) {
        let _ = iter.seek(key);
        let _ = iter.seek_for_prev(key);
    }
    let _ = iter.seek(b"m\0\0\0\0\0\0\0\0");
    let _ = iter.seek_for_prev(b"m\0\0\0\0\0\0\0\0");
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else { return };
    let bytes = Bytes::copy_from_slice(rest);
    match which % 7 {
        0 => {
            if let Ok(block) = Block::parse(bytes, "fuzz block") {
                iterate(&block);
            }
        }
        1 => {
            if let Ok(index) = IndexBlock::parse(bytes, 1 << 20) {
                for i in 0..index.len() {
                    let _ = (index.last_key(i), index.handle(i));
                }
                let _ = index.find_block(b"k\0\0\0\0\0\0\0\0");
            }
        }
        2 => {
            let _ = TableMeta::decode(rest, 1 << 20);
        }
        3 => {
            if let Ok(filter) = BloomFilter::parse(bytes) {
                let _ = filter.may_contain(b"k");
                let _ = filter.may_contain(b"");
            }
        }
        4 => {
            if let Ok(footer) = Footer::decode(rest) {
                let _ = footer.check_within(1 << 20);
                assert_eq!(Footer::decode(&footer.encode()).expect("re-encoded footer"), footer);
            }
        }
        5 => {
            if let Ok(payload) = open_block(bytes, "fuzz block")
                && let Ok(block) = Block::parse(payload, "fuzz block")
            {
                iterate(&block);
            }
        }
        _ => {
            if let Ok(pointer) = ValuePointer::decode(rest) {
                assert_eq!(ValuePointer::decode(&pointer.encode()).expect("re-encoded pointer"), pointer);
            }
        }
    }
});
