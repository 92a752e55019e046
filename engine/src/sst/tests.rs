//! Table-level specifications: build on `MemFs`, reopen, read back against a sorted model.

use std::path::Path;
use std::rc::Rc;

use futures_lite::future::block_on;
use proptest::prelude::*;

use super::filter::KeyPrefix;
use super::format::{FOOTER_LEN, Footer};
use super::*;
use crate::cache::{CacheOptions, Caches};
use crate::io::mem::{MemFile, MemFs};
use crate::io::{FileSystem, IO_ALIGN, OpenMode};
use crate::iter::{InternalIterator, VecIterator};
use crate::key::{MAX_SEQ, ValueKind, compare_internal, encode_internal, last_key_of, seek_key};

type Entries = Vec<(Vec<u8>, Vec<u8>)>;

const PATH: &str = "/db/000001.sst";

fn sorted(mut entries: Entries) -> Entries {
    entries.sort_by(|a, b| compare_internal(&a.0, &b.0));
    entries.dedup_by(|a, b| a.0 == b.0);
    entries
}

/// 2000 user keys with prefixes of one another, several versions, deletes, empty and 10 KiB
/// values.
fn sample_entries() -> Entries {
    let mut entries = Vec::new();
    for i in 0..2000u32 {
        let mut users = vec![format!("key{i:05}").into_bytes()];
        if i % 13 == 0 {
            users.push(format!("key{i:05}x").into_bytes());
        }
        let seqs: &[u64] = if i % 7 == 0 { &[100, 50, 10] } else { &[20] };
        for user in &users {
            for seq in seqs {
                let kind = if i % 17 == 0 && *seq == 100 { ValueKind::Delete } else { ValueKind::Put };
                let value = match i {
                    _ if kind == ValueKind::Delete || i % 11 == 0 => Vec::new(),
                    _ if i % 97 == 0 => vec![i as u8; 10 * 1024],
                    _ => format!("value-{i}-{seq}").into_bytes(),
                };
                entries.push((encode_internal(user, *seq, kind), value));
            }
        }
    }
    entries.push((encode_internal(b"k", 1, ValueKind::Put), b"short prefix".to_vec()));
    entries.push((encode_internal(b"", 1, ValueKind::Put), b"empty user key".to_vec()));
    sorted(entries)
}

fn build(entries: &Entries, options: &TableOptions) -> BuiltTable {
    let mut builder = TableBuilder::new(options.clone());
    for (key, value) in entries {
        builder.add(key, value);
    }
    builder.finish().expect("non-empty table")
}

fn new_caches() -> Rc<Caches> {
    Rc::new(Caches::new(&CacheOptions::default()).expect("valid options"))
}

async fn open(fs: &MemFs, caches: Rc<Caches>) -> Result<Rc<Table<MemFile>>> {
    let file = fs.open(Path::new(PATH), OpenMode::ReadOnly).await?;
    Ok(Rc::new(Table::open(file, 1, caches).await?))
}

fn write_and_open(built: &BuiltTable) -> (MemFs, Rc<Table<MemFile>>) {
    let fs = MemFs::new();
    block_on(async {
        write_table(&fs, Path::new(PATH), built).await.expect("write");
        let table = open(&fs, new_caches()).await.expect("open");
        (fs, table)
    })
}

fn small_blocks() -> TableOptions {
    TableOptions { block_size_bytes: 256, ..TableOptions::default() }
}

#[derive(Debug, Clone)]
enum Move {
    First,
    Last,
    Seek(Vec<u8>),
    SeekForPrev(Vec<u8>),
    Next,
    Prev,
}

/// Applies the same move to the table and the model and checks they agree.
async fn apply(table: &mut TableIterator<MemFile>, model: &mut VecIterator, step: &Move) {
    if matches!(step, Move::Next | Move::Prev) && !model.is_valid() {
        return;
    }
    match step {
        Move::First => (table.seek_to_first().await, model.seek_to_first().await),
        Move::Last => (table.seek_to_last().await, model.seek_to_last().await),
        Move::Seek(target) => (table.seek(target).await, model.seek(target).await),
        Move::SeekForPrev(target) => (table.seek_for_prev(target).await, model.seek_for_prev(target).await),
        Move::Next => (table.next().await, model.next().await),
        Move::Prev => (table.prev().await, model.prev().await),
    }
    .0
    .expect("table iterator move");
    assert_eq!(table.is_valid(), model.is_valid(), "validity after {step:?}");
    if model.is_valid() {
        assert_eq!(table.key(), model.key(), "key after {step:?}");
        assert_eq!(table.value(), model.value(), "value after {step:?}");
    }
}

async fn apply_all(table: &Rc<Table<MemFile>>, entries: &Entries, moves: &[Move]) {
    let mut iter = table.iter(true);
    let mut model = VecIterator::new(entries.clone());
    for step in moves {
        apply(&mut iter, &mut model, step).await;
    }
}

#[test]
fn round_trip_walks_every_entry_both_ways() {
    let entries = sample_entries();
    let (_, table) = write_and_open(&build(&entries, &small_blocks()));
    assert!(table.meta().data_block_count > 100, "many blocks: {}", table.meta().data_block_count);
    let forward: Vec<Move> =
        std::iter::once(Move::First).chain(std::iter::repeat_n(Move::Next, entries.len())).collect();
    let backward: Vec<Move> =
        std::iter::once(Move::Last).chain(std::iter::repeat_n(Move::Prev, entries.len())).collect();
    block_on(apply_all(&table, &entries, &forward));
    block_on(apply_all(&table, &entries, &backward));
}

#[test]
fn seeks_land_where_the_model_does() {
    let entries = sample_entries();
    let (_, table) = write_and_open(&build(&entries, &small_blocks()));
    let mut moves = Vec::new();
    for (index, (key, _)) in entries.iter().enumerate().step_by(3) {
        let user = crate::key::user_key(key);
        let target = match index % 4 {
            0 => key.clone(),
            1 => seek_key(user, 60),
            2 => last_key_of(user),
            _ => seek_key(user, MAX_SEQ),
        };
        moves.extend([Move::Seek(target.clone()), Move::Prev, Move::Next, Move::Next]);
        moves.extend([Move::SeekForPrev(target), Move::Next, Move::Prev, Move::Prev]);
    }
    moves.extend([Move::Seek(seek_key(b"zzz", 1)), Move::SeekForPrev(seek_key(b"zzz", 1)), Move::Prev]);
    moves.extend([Move::SeekForPrev(Vec::new()), Move::Seek(Vec::new()), Move::Next]);
    block_on(apply_all(&table, &entries, &moves));
}

#[test]
fn get_finds_the_newest_visible_version_and_nothing_else() {
    let entries = sample_entries();
    let (_, table) = write_and_open(&build(&entries, &TableOptions::default()));
    block_on(async {
        let found = table.get(&seek_key(b"key00007", 60), true).await.expect("get").expect("present");
        assert_eq!(found.0, encode_internal(b"key00007", 50, ValueKind::Put));
        assert_eq!(found.1.as_ref(), b"value-7-50");
        let big = table.get(&seek_key(b"key00097", MAX_SEQ), true).await.expect("get").expect("present");
        assert_eq!(big.1.len(), 10 * 1024);
        let deleted = table.get(&seek_key(b"key00119", MAX_SEQ), true).await.expect("get").expect("tombstone");
        assert_eq!(crate::key::parse_internal(&deleted.0).expect("valid").kind, ValueKind::Delete);
        assert!(table.get(&seek_key(b"key00007", 5), true).await.expect("get").is_none(), "older than every version");
        assert!(table.get(&seek_key(b"key00013y", MAX_SEQ), true).await.expect("get").is_none());
        assert!(table.get(&seek_key(b"key0001", MAX_SEQ), true).await.expect("get").is_none(), "a prefix is not a key");
        assert!(table.get(&seek_key(b"zzz", MAX_SEQ), true).await.expect("get").is_none());
        for (key, value) in entries.iter().step_by(7) {
            let found = table.get(key, false).await.expect("get").expect("present");
            assert_eq!((found.0.as_slice(), found.1.as_ref()), (key.as_slice(), value.as_slice()));
        }
    });
}

#[test]
fn bloom_filter_rejects_most_absent_keys() {
    let entries = sample_entries();
    let (_, table) = write_and_open(&build(&entries, &TableOptions::default()));
    block_on(async {
        for (key, _) in &entries {
            assert!(table.may_contain(crate::key::user_key(key)).await.expect("filter"));
        }
        let mut false_positives = 0;
        for i in 0..5000 {
            false_positives += usize::from(table.may_contain(format!("absent{i}").as_bytes()).await.expect("filter"));
        }
        assert!(false_positives < 100, "{false_positives} false positives in 5000");
    });
}

#[test]
fn without_a_filter_every_key_may_be_present() {
    let options = TableOptions { bloom_bits_per_key: 0, ..TableOptions::default() };
    let (_, table) = write_and_open(&build(&sample_entries(), &options));
    block_on(async {
        assert!(table.may_contain(b"absent").await.expect("no filter"));
        assert!(table.get(&seek_key(b"key00001", MAX_SEQ), true).await.expect("get").is_some());
    });
}

#[test]
fn lz4_shrinks_compressible_tables() {
    let entries: Entries = (0..3000u32)
        .map(|i| {
            (encode_internal(format!("user/{i:08}").as_bytes(), 1, ValueKind::Put), vec![b'a' + (i % 3) as u8; 300])
        })
        .collect();
    let plain = build(&entries, &TableOptions { compression: false, ..TableOptions::default() });
    let compressed = build(&entries, &TableOptions::default());
    assert!(compressed.bytes.len() * 4 < plain.bytes.len(), "{} vs {}", compressed.bytes.len(), plain.bytes.len());
    let (_, table) = write_and_open(&compressed);
    let forward: Vec<Move> =
        std::iter::once(Move::First).chain(std::iter::repeat_n(Move::Next, entries.len())).collect();
    block_on(apply_all(&table, &entries, &forward));
}

#[test]
fn file_is_aligned_and_meta_describes_it() {
    let entries = sample_entries();
    let built = build(&entries, &TableOptions::default());
    assert_eq!(built.bytes.len() % IO_ALIGN, 0);
    assert_eq!(built.meta.file_size_bytes, built.bytes.len() as u64);
    assert_eq!(built.meta.entry_count, entries.len() as u64);
    assert_eq!(built.meta.smallest, entries[0].0);
    assert_eq!(built.meta.largest, entries[entries.len() - 1].0);
    assert_eq!(built.meta.smallest_seq, 1);
    assert_eq!(built.meta.largest_seq, 100);
    let (fs, table) = write_and_open(&built);
    assert_eq!(table.meta(), &built.meta);
    assert_eq!(fs.contents(Path::new(PATH)).expect("file").len(), built.bytes.len());
    assert!(fs.sync_count() >= 1, "write_table syncs");
}

#[test]
fn range_tombstones_are_kept_apart_and_bound_the_table() {
    let mut builder = TableBuilder::new(TableOptions::default());
    builder.add(&encode_internal(b"m", 5, ValueKind::Put), b"v");
    builder.add_range_tombstone(&encode_internal(b"x", 9, ValueKind::RangeDelete), b"z");
    builder.add_range_tombstone(&encode_internal(b"c", 7, ValueKind::RangeDelete), b"e");
    let built = builder.finish().expect("non-empty");
    assert_eq!(built.meta.smallest, encode_internal(b"c", 7, ValueKind::RangeDelete));
    assert_eq!(built.meta.largest, encode_internal(b"z", MAX_SEQ, ValueKind::RangeDelete));
    assert_eq!((built.meta.entry_count, built.meta.range_tombstone_count), (1, 2));
    let (_, table) = write_and_open(&built);
    let starts: Vec<&[u8]> = table.range_tombstones().iter().map(|t| crate::key::user_key(&t.start)).collect();
    assert_eq!(starts, [&b"c"[..], b"x"]);
    assert_eq!(table.range_tombstones()[0].end, b"e");
    let only_point = vec![(encode_internal(b"m", 5, ValueKind::Put), b"v".to_vec())];
    let forward = [Move::First, Move::Next, Move::Last, Move::Prev];
    block_on(apply_all(&table, &only_point, &forward));
}

#[test]
fn a_table_of_only_range_tombstones_has_no_point_entries() {
    let mut builder = TableBuilder::new(TableOptions::default());
    assert!(builder.is_empty());
    builder.add_range_tombstone(&encode_internal(b"a", 3, ValueKind::RangeDelete), b"b");
    assert!(!builder.is_empty());
    let (_, table) = write_and_open(&builder.finish().expect("non-empty"));
    block_on(async {
        assert!(table.get(&seek_key(b"a", MAX_SEQ), true).await.expect("get").is_none());
        let moves = [Move::First, Move::Last, Move::Seek(seek_key(b"a", 9)), Move::SeekForPrev(seek_key(b"a", 9))];
        apply_all(&table, &Vec::new(), &moves).await;
    });
}

#[test]
fn an_empty_builder_cannot_finish() {
    let error = TableBuilder::new(TableOptions::default()).finish().expect_err("empty");
    assert!(matches!(error, Error::InvalidArgument(_)));
}

#[test]
fn options_are_validated() {
    assert!(TableOptions::default().validate().is_ok());
    let tiny = TableOptions { block_size_bytes: 10, ..TableOptions::default() };
    assert!(matches!(tiny.validate(), Err(Error::InvalidOption { name: "block_size_bytes", .. })));
    let greedy = TableOptions { bloom_bits_per_key: 100, ..TableOptions::default() };
    assert!(matches!(greedy.validate(), Err(Error::InvalidOption { name: "bloom_bits_per_key", .. })));
}

fn footer_of(fs: &MemFs) -> Footer {
    let contents = fs.contents(Path::new(PATH)).expect("file");
    Footer::decode(&contents[contents.len() - FOOTER_LEN..]).expect("valid footer")
}

fn assert_corruption<T: std::fmt::Debug>(result: Result<T>) {
    let error = result.expect_err("damage detected");
    assert!(error.is_corruption(), "{error:?}");
}

#[test]
fn a_forward_scan_reads_blocks_ahead_and_turns_around_or_reseeks_correctly() {
    let entries = sample_entries();
    let (_, table) = write_and_open(&build(&entries, &small_blocks()));
    let mid = entries[entries.len() / 2].0.clone();
    let moves: Vec<Move> = std::iter::once(Move::First)
        .chain(std::iter::repeat_n(Move::Next, 300))
        .chain(std::iter::repeat_n(Move::Prev, 40))
        .chain(std::iter::repeat_n(Move::Next, 120))
        .chain(std::iter::once(Move::Seek(mid)))
        .chain(std::iter::repeat_n(Move::Next, 200))
        .collect();
    block_on(apply_all(&table, &entries, &moves));
    // Without filling the cache every block change goes through readahead; a compaction's
    // sequential iterator reads the table in spans of many blocks.
    for mut iter in [table.iter(false), table.sequential_iter()] {
        block_on(async {
            let mut model = VecIterator::new(entries.clone());
            apply(&mut iter, &mut model, &Move::First).await;
            for _ in 0..entries.len() {
                apply(&mut iter, &mut model, &Move::Next).await;
            }
        });
    }
}

#[test]
fn damage_in_a_block_read_ahead_fails_only_when_the_scan_reaches_it() {
    let entries = sample_entries();
    let (fs, table) = write_and_open(&build(&entries, &small_blocks()));
    let index = block_on(table.index()).expect("index");
    let damaged_block = 5;
    let offset = index.handle(damaged_block).offset as usize + 3;
    fs.flip_byte(Path::new(PATH), offset, 0x20).expect("flip");
    for sequential in [false, true] {
        block_on(async {
            let table = open(&fs, new_caches()).await.expect("meta blocks intact");
            let mut iter = if sequential { table.sequential_iter() } else { table.iter(false) };
            let mut model = VecIterator::new(entries.clone());
            iter.seek_to_first().await.expect("first block intact");
            model.seek_to_first().await.expect("model");
            let result = loop {
                if let Err(error) = iter.next().await {
                    break Err(error);
                }
                model.next().await.expect("model");
                assert_eq!(iter.key(), model.key(), "every entry before the damage reads");
            };
            assert_corruption::<()>(result);
        });
    }
}

#[test]
fn flipped_data_block_byte_is_corruption() {
    let entries = sample_entries();
    let (fs, _) = write_and_open(&build(&entries, &small_blocks()));
    fs.flip_byte(Path::new(PATH), 7, 0x20).expect("flip");
    block_on(async {
        let table = open(&fs, new_caches()).await.expect("meta blocks intact");
        assert_corruption(table.get(&entries[0].0, true).await);
        let mut iter = table.iter(true);
        assert_corruption(iter.seek_to_first().await);
        assert!(!iter.is_valid());
        let mut backward = table.iter(true);
        backward.seek_to_last().await.expect("last block intact");
        let mut steps = 0;
        let result = loop {
            match backward.prev().await {
                Ok(()) if backward.is_valid() => steps += 1,
                other => break other,
            }
        };
        assert_corruption(result);
        assert!(steps > 0 && !backward.is_valid());
    });
}

#[test]
fn flipped_footer_meta_index_or_filter_byte_fails_open() {
    let (fs, _) = write_and_open(&build(&sample_entries(), &small_blocks()));
    let footer = footer_of(&fs);
    let size = fs.contents(Path::new(PATH)).expect("file").len();
    let targets = [
        size - FOOTER_LEN + 2,
        size - 1,
        size - 9,
        footer.properties.offset as usize + 1,
        footer.range_tombstones.offset as usize,
        footer.index.offset as usize + 3,
        footer.filter.offset as usize + 5,
    ];
    for offset in targets {
        fs.flip_byte(Path::new(PATH), offset, 0x04).expect("flip");
        assert_corruption(block_on(open(&fs, new_caches())));
        fs.flip_byte(Path::new(PATH), offset, 0x04).expect("flip back");
    }
    block_on(open(&fs, new_caches())).expect("intact again");
}

#[test]
fn truncated_or_foreign_file_fails_open() {
    let fs = MemFs::new();
    block_on(async {
        let file = fs.open(Path::new(PATH), OpenMode::CreateTruncate).await.expect("create");
        crate::io::File::write_at(&file, 0, &[0u8; IO_ALIGN]).await.expect("write");
        assert_corruption(open(&fs, new_caches()).await);
    });
}

/// 4000 keys with 1 KiB values lz4 cannot shrink: a table of about 4 MiB.
fn large_entries() -> Entries {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut noise = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let entries = (0..4000u32)
        .map(|i| {
            let value: Vec<u8> = (0..128).flat_map(|_| noise().to_le_bytes()).collect();
            (encode_internal(format!("key{i:05}").as_bytes(), 9, ValueKind::Put), value)
        })
        .collect();
    sorted(entries)
}

#[test]
fn a_table_written_while_built_is_the_image_built_in_memory() {
    let entries = large_entries();
    let options = TableOptions::default();
    let mut in_memory = TableBuilder::new(options.clone());
    let fs = MemFs::new();
    let streamed = Path::new("/db/000002.sst");
    block_on(async {
        let mut writer = TableWriter::create(&fs, streamed, options).await.expect("create");
        for (i, (key, value)) in entries.iter().enumerate() {
            in_memory.add(key, value);
            writer.builder().add(key, value);
            if i % 100 == 0 {
                writer.write_ready().await.expect("write chunks");
            }
        }
        let early = fs.contents(streamed).expect("file").len();
        assert!(early >= 3 << 20, "full chunks go out while the table is built: {early}");
        let start = encode_internal(b"key00100", 5, ValueKind::RangeDelete);
        in_memory.add_range_tombstone(&start, b"key00200");
        writer.builder().add_range_tombstone(&start, b"key00200");
        let built = in_memory.finish().expect("built");
        assert!(built.bytes.len() > 3 << 20, "several chunks: {}", built.bytes.len());
        let meta = writer.finish().await.expect("finish");
        assert_eq!(meta, built.meta);
        assert_eq!(fs.contents(streamed).expect("file"), built.bytes, "same bytes, chunk by chunk");
        assert!(fs.sync_count() >= 1, "finish syncs");
        let file = fs.open(streamed, OpenMode::ReadOnly).await.expect("open file");
        let table = Rc::new(Table::open(file, 2, new_caches()).await.expect("open"));
        let mut iter = table.iter(true);
        iter.seek_to_first().await.expect("seek");
        for (key, value) in &entries {
            assert!(iter.is_valid());
            assert_eq!((iter.key(), iter.value()), (key.as_slice(), value.as_slice()));
            iter.next().await.expect("next");
        }
        assert!(!iter.is_valid());
    });
}

#[test]
fn cache_counters_move_with_reads() {
    let entries = sample_entries();
    let (fs, _) = write_and_open(&build(&entries, &TableOptions::default()));
    block_on(async {
        let caches = new_caches();
        let table = open(&fs, Rc::clone(&caches)).await.expect("open");
        let opened = caches.stats();
        assert_eq!((opened.index_hits, opened.index_misses), (0, 2), "open loads the filter and the index");
        assert!(opened.index_bytes_used > 0 && opened.block_bytes_used == 0);
        let target = seek_key(b"key00042", MAX_SEQ);
        table.get(&target, true).await.expect("get").expect("present");
        let first = caches.stats();
        assert_eq!((first.block_hits, first.block_misses), (0, 1));
        assert_eq!((first.index_hits, first.index_misses), (2, 2), "a read finds both cached");
        assert!(first.block_bytes_used > 0);
        table.get(&target, true).await.expect("get").expect("present");
        let second = caches.stats();
        assert_eq!((second.block_hits, second.block_misses), (1, 1));
        assert_eq!((second.index_hits, second.index_misses), (4, 2));
        table.get(&seek_key(b"key01500", MAX_SEQ), false).await.expect("get").expect("present");
        assert_eq!(caches.stats().block_bytes_used, second.block_bytes_used, "fill_cache = false");
        drop(table);
        assert_eq!(caches.stats().index_bytes_used, 0, "a dropped table's index and filter are freed");
    });
}

fn arbitrary_entries() -> impl Strategy<Value = Entries> {
    let user_key = proptest::collection::vec(prop_oneof![Just(b'a'), Just(b'b'), Just(0u8), Just(0xffu8)], 0..5);
    let entry = (user_key, 0u64..4, any::<bool>(), proptest::collection::vec(any::<u8>(), 0..40));
    proptest::collection::vec(entry, 1..200).prop_map(|raw| {
        let entries = raw.into_iter().map(|(user, seq, delete, value)| {
            let kind = if delete { ValueKind::Delete } else { ValueKind::Put };
            (encode_internal(&user, seq, kind), value)
        });
        sorted(entries.collect())
    })
}

fn arbitrary_move() -> impl Strategy<Value = Move> {
    let target = (proptest::collection::vec(prop_oneof![Just(b'a'), Just(b'b'), Just(0u8)], 0..5), 0u64..5)
        .prop_map(|(user, seq)| seek_key(&user, seq));
    prop_oneof![
        Just(Move::First),
        Just(Move::Last),
        target.clone().prop_map(Move::Seek),
        target.prop_map(Move::SeekForPrev),
        Just(Move::Next),
        Just(Move::Next),
        Just(Move::Prev),
        Just(Move::Prev),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn iterator_agrees_with_a_sorted_vec(
        entries in arbitrary_entries(),
        moves in proptest::collection::vec(arbitrary_move(), 1..60),
        compression in any::<bool>(),
    ) {
        let options = TableOptions { block_size_bytes: 64, compression, ..TableOptions::default() };
        let (_, table) = write_and_open(&build(&entries, &options));
        block_on(apply_all(&table, &entries, &moves));
    }
}

/// Reads everything back both ways and with `get`; `Err` on the first failure.
async fn read_back<F: crate::io::File>(table: &Rc<Table<F>>) -> Result<(Entries, Entries, Vec<Option<Vec<u8>>>)> {
    let mut forward = Vec::new();
    let mut iter = table.iter(false);
    iter.seek_to_first().await?;
    while iter.is_valid() {
        forward.push((iter.key().to_vec(), iter.value().to_vec()));
        iter.next().await?;
    }
    let mut backward = Vec::new();
    iter.seek_to_last().await?;
    while iter.is_valid() {
        backward.push((iter.key().to_vec(), iter.value().to_vec()));
        iter.prev().await?;
    }
    backward.reverse();
    let mut found = Vec::new();
    for (key, _) in &forward {
        found.push(table.get(key, false).await?.map(|(_, value)| value.to_vec()));
    }
    Ok((forward, backward, found))
}

#[test]
fn no_single_flipped_byte_yields_wrong_data() {
    let entries: Entries = (0..40u32)
        .map(|i| (encode_internal(format!("k{i}").as_bytes(), 1, ValueKind::Put), vec![i as u8; i as usize]))
        .collect();
    let entries = sorted(entries);
    let mut builder = TableBuilder::new(TableOptions { block_size_bytes: 256, ..TableOptions::default() });
    for (key, value) in &entries {
        builder.add(key, value);
    }
    builder.add_range_tombstone(&encode_internal(b"a", 2, ValueKind::RangeDelete), b"b");
    let (fs, _) = write_and_open(&builder.finish().expect("non-empty"));
    let expected_values: Vec<Option<Vec<u8>>> = entries.iter().map(|(_, value)| Some(value.clone())).collect();
    let size = fs.contents(Path::new(PATH)).expect("file").len();
    let mut detected = 0;
    for offset in 0..size {
        fs.flip_byte(Path::new(PATH), offset, 0xff).expect("flip");
        let outcome = block_on(async { read_back(&open(&fs, new_caches()).await?).await });
        match outcome {
            Ok((forward, backward, found)) => {
                assert_eq!(forward, entries, "wrong data after flipping byte {offset}");
                assert_eq!(backward, entries, "wrong data after flipping byte {offset}");
                assert_eq!(found, expected_values, "wrong data after flipping byte {offset}");
            }
            Err(error) => {
                assert!(error.is_corruption(), "byte {offset}: {error:?}");
                detected += 1;
            }
        }
        fs.flip_byte(Path::new(PATH), offset, 0xff).expect("flip back");
    }
    assert!(detected > 500, "only {detected} flips detected");
}

#[test]
fn round_trip_on_o_direct_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("000001.sst");
    let entries = sample_entries();
    let built = build(&entries, &TableOptions::default());
    let handle = glommio::LocalExecutorBuilder::default()
        .spawn(move || async move {
            let fs = crate::io::dma::DmaFs::new(dir.path()).await.expect("dma fs");
            write_table(&fs, &path, &built).await.expect("write");
            let file = fs.open(&path, OpenMode::ReadOnly).await.expect("open file");
            let table = Rc::new(Table::open(file, 7, new_caches()).await.expect("open table"));
            let (forward, backward, found) = read_back(&table).await.expect("read back");
            assert_eq!(forward, entries);
            assert_eq!(backward, entries);
            assert!(found.iter().zip(&entries).all(|(found, (_, value))| found.as_deref() == Some(value.as_slice())));
        })
        .expect("executor");
    handle.join().expect("executor thread");
}

/// With `filter_prefix_suffix_bytes`, the filter also answers for keys without their version
/// suffix: every prefix present says "maybe", and most absent ones are ruled out. Tables built
/// without it (or by older versions, which do not record the field) never rule a prefix out.
#[test]
fn the_prefix_filter_rules_out_absent_prefixes_only() {
    let mut entries = Vec::new();
    for i in 0..500u64 {
        for version in [3u64, 2, 1] {
            let mut user_key = format!("row{i:04}").into_bytes();
            user_key.extend_from_slice(&(!version).to_be_bytes());
            entries.push((encode_internal(&user_key, version, ValueKind::Put), b"v".to_vec()));
        }
    }
    let entries = sorted(entries);
    let options = TableOptions { filter_prefix_suffix_bytes: 8, ..small_blocks() };
    let (_fs, table) = write_and_open(&build(&entries, &options));
    assert_eq!(table.meta().filter_prefix_suffix_bytes, 8);
    block_on(async {
        for i in 0..500u64 {
            let prefix = format!("row{i:04}");
            assert!(
                table.may_contain_prefix(&KeyPrefix::copy_from_slice(prefix.as_bytes())).await.expect("filter"),
                "{prefix}"
            );
        }
        let mut ruled_out = 0;
        for i in 0..500u64 {
            ruled_out += usize::from(
                !table
                    .may_contain_prefix(&KeyPrefix::copy_from_slice(format!("absent{i:04}").as_bytes()))
                    .await
                    .expect("filter"),
            );
        }
        assert!(ruled_out > 450, "only {ruled_out} of 500 absent prefixes ruled out");
    });
    let (_fs, plain) = write_and_open(&build(&entries, &small_blocks()));
    assert_eq!(plain.meta().filter_prefix_suffix_bytes, 0);
    assert!(block_on(plain.may_contain_prefix(&KeyPrefix::copy_from_slice(b"absent"))).expect("filter"));
}
