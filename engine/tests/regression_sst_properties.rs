//! Regression tests from fuzzing (`fuzz/`, target `sst_blocks`): the SST properties decoder
//! must reject, not panic on, any payload.
//!
//! Found by the `sst_blocks` target in its first 60 s run: `TableMeta::decode` computed
//! `entry_count + range_tombstone_count == 0` to detect an empty table, which overflows (a
//! panic in debug and test builds; a wrap to 0 in release) when a properties block carries
//! counts whose sum exceeds `u64::MAX`. `Table::open` decodes the properties block of every
//! table it opens, so a damaged (but checksummed) table file reached it.
//!
//! The fix, in `engine/src/sst/properties.rs`, `TableMeta::decode`:
//! `let empty = meta.entry_count == 0 && meta.range_tombstone_count == 0;`

use nokv_engine::codec::put_varint;
use nokv_engine::key::{ValueKind, encode_internal};
use nokv_engine::sst::properties::TableMeta;

/// The fuzzer's input, verbatim (the target's selector byte removed).
const FUZZ_CRASH_A2FE1E11: &[u8] = &[
    0xfd, 0xd0, 0x65, 0xdc, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x5b, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xf4, 0x08,
];

#[test]
fn properties_with_counts_summing_past_u64_max_do_not_panic() {
    // Whatever the verdict, decoding must return; the fuzzer's payload has malformed bounds.
    assert!(TableMeta::decode(FUZZ_CRASH_A2FE1E11, 1 << 20).is_err());
}

#[test]
fn properties_with_huge_counts_and_valid_bounds_decode() {
    let mut payload = Vec::new();
    for count in [u64::MAX, 1, 0, 1, 0, 0, 1, 2] {
        put_varint(&mut payload, count);
    }
    for key in [encode_internal(b"a", 1, ValueKind::Put), encode_internal(b"b", 2, ValueKind::Put)] {
        put_varint(&mut payload, key.len() as u64);
        payload.extend_from_slice(&key);
    }
    let meta = TableMeta::decode(&payload, 1 << 20).expect("non-empty table with valid bounds");
    assert_eq!((meta.entry_count, meta.range_tombstone_count), (u64::MAX, 1));
}
