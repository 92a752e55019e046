//! Writes the seed corpus: valid inputs for every target, made with NoKV's own encoders and
//! writers, into `fuzz/corpus/<target>/seed-<name>`.
//!
//! `cargo run --release --example seeds` (from `fuzz/`). Existing seed files are overwritten;
//! the fuzzer's own finds in the same directories are kept.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use nokv_engine::WriteBatch;
use nokv_engine::io::mem::MemFs;
use nokv_engine::journal::{Journal, JournalBatch, JournalEntry, JournalOptions};
use nokv_engine::key::{Cf, ValueKind, encode_internal};
use nokv_engine::manifest::Manifest;
use nokv_engine::sst::block::BlockBuilder;
use nokv_engine::sst::filter::FilterBuilder;
use nokv_engine::sst::format::{BlockHandle, Footer, append_block};
use nokv_engine::sst::index::IndexBuilder;
use nokv_engine::sst::{TableBuilder, TableOptions};
use nokv_engine::version::{FileMeta, Version, VersionEdit};
use nokv_engine::vlog::{ValueLog, ValueLogOptions, ValuePointer, VlogPosition};
use nokv_fuzz::block_on;
use nokv_txn::keys::{data_key, encode_memcomparable, versioned_key};
use nokv_txn::{Lock, LockType, TimeStamp, Write, WriteType};

struct Corpus {
    root: PathBuf,
}

impl Corpus {
    fn put(&self, target: &str, name: &str, mode: Option<u8>, bytes: &[u8]) {
        let dir = self.root.join(target);
        std::fs::create_dir_all(&dir).expect("create corpus dir");
        let mut contents = mode.map(|m| vec![m]).unwrap_or_default();
        contents.extend_from_slice(bytes);
        std::fs::write(dir.join(format!("seed-{name}")), contents).expect("write seed");
    }
}

fn compressible(len: usize) -> Vec<u8> {
    (0..len).map(|i| b"abcdefgh"[i % 8]).collect()
}

fn resp(corpus: &Corpus) {
    let requests: [(&str, &[u8]); 7] = [
        ("get", b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"),
        ("pipeline", b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n*1\r\n$4\r\nPING\r\nPING\r\n"),
        ("inline-quotes", b"SET \"a b\\x41\\n\" 'it''s' plain\r\n"),
        ("inline-lf", b"ECHO hi\n\r\n*0\r\n*-1\r\n"),
        ("empty-bulk", b"*2\r\n$4\r\nECHO\r\n$0\r\n\r\n"),
        ("incomplete", b"*2\r\n$3\r\nGET\r\n$10\r\nabc"),
        ("bad-length", b"*1\r\n$-5\r\n"),
    ];
    for (name, bytes) in requests {
        corpus.put("resp_request", name, Some(0x20), bytes);
    }
    corpus.put("resp_request", "auth-bytewise", Some(0x01), b"*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n");
    for (i, seed) in
        [&b"\x0a\x03\x00\x05hello"[..], b"\x0d\x02\x03\x00\x01\x02abc\x06\x00\x00\xf8\x7f"].iter().enumerate()
    {
        corpus.put("resp_reply", &format!("reply-{i}"), None, seed);
    }
}

fn write_batch(corpus: &Corpus) {
    let mut batch = WriteBatch::new();
    batch.put(Cf::Default, "key", "value").delete(Cf::Lock, "gone").delete_range(Cf::Write, "a", "m");
    corpus.put("write_batch", "mixed", None, &batch.encode());
    corpus.put("write_batch", "empty", None, &WriteBatch::new().encode());
}

fn txn(corpus: &Corpus) {
    let mut lock = Lock::new(LockType::Put, Bytes::from_static(b"primary"), TimeStamp::new(400), 3000);
    lock.short_value = Some(Bytes::from_static(b"v"));
    lock.for_update_ts = TimeStamp::new(401);
    lock.txn_size = 3;
    lock.min_commit_ts = TimeStamp::new(402);
    lock.use_async_commit = true;
    lock.secondaries = vec![Bytes::from_static(b"s1"), Bytes::from_static(b"s2")];
    lock.rollback_ts = vec![TimeStamp::new(399)];
    lock.txn_source = 7;
    corpus.put("txn_records", "lock-full", Some(0), &lock.encode());
    corpus.put(
        "txn_records",
        "lock-plain",
        Some(0),
        &Lock::new(LockType::Pessimistic, "p", TimeStamp::new(1), 0).encode(),
    );
    let mut write = Write::new(WriteType::Put, TimeStamp::new(300), Some(Bytes::from_static(b"hi")));
    write.has_overlapped_rollback = true;
    write.gc_fence = Some(TimeStamp::new(500));
    write.txn_source = 2;
    corpus.put("txn_records", "write-full", Some(1), &write.encode());
    corpus.put("txn_records", "write-rollback", Some(1), &Write::new_rollback(TimeStamp::new(9), true).encode());
    let mut mc = Vec::new();
    encode_memcomparable(&mut mc, b"a key longer than one group");
    corpus.put("txn_records", "memcomparable", Some(2), &mc);
    corpus.put("txn_records", "data-key", Some(3), &data_key(b"{user}:1"));
    corpus.put("txn_records", "versioned-key", Some(4), &versioned_key(b"user:1", TimeStamp::new(77)));
}

fn sst(corpus: &Corpus) {
    for (name, options) in [
        ("filter-lz4", TableOptions { block_size_bytes: 256, ..TableOptions::default() }),
        (
            "plain",
            TableOptions {
                block_size_bytes: 128,
                bloom_bits_per_key: 0,
                compression: false,
                ..TableOptions::default()
            },
        ),
    ] {
        let mut builder = TableBuilder::new(options);
        for i in 0..40u64 {
            let key = format!("key{i:04}");
            let kind = if i % 7 == 3 { ValueKind::Delete } else { ValueKind::Put };
            let value = if kind == ValueKind::Put { compressible(20 + i as usize) } else { Vec::new() };
            builder.add(&encode_internal(key.as_bytes(), 100 - i, kind), &value);
        }
        builder.add_range_tombstone(&encode_internal(b"key0010", 50, ValueKind::RangeDelete), b"key0020");
        let built = builder.finish().expect("table");
        corpus.put("sst_table", &format!("{name}-fixed"), Some(1), &built.bytes);
        corpus.put("sst_table", &format!("{name}-raw"), Some(0), &built.bytes);
    }
    let mut block = BlockBuilder::new(4);
    for i in 0..10u64 {
        block.add(&encode_internal(format!("k{i:02}").as_bytes(), 9, ValueKind::Put), b"value");
    }
    let block = block.finish();
    corpus.put("sst_blocks", "data-block", Some(0), &block);
    let mut index = IndexBuilder::default();
    index.add(&encode_internal(b"k04", 1, ValueKind::Put), BlockHandle { offset: 0, size_bytes: 100 });
    index.add(&encode_internal(b"k09", 1, ValueKind::Put), BlockHandle { offset: 100, size_bytes: 90 });
    corpus.put("sst_blocks", "index-block", Some(1), &index.finish());
    let mut filter = FilterBuilder::new(10);
    filter.add(b"k");
    filter.add(b"other");
    corpus.put("sst_blocks", "filter", Some(3), &filter.finish());
    let footer = Footer {
        index: BlockHandle { offset: 10, size_bytes: 20 },
        filter: BlockHandle { offset: 30, size_bytes: 20 },
        range_tombstones: BlockHandle { offset: 50, size_bytes: 5 },
        properties: BlockHandle { offset: 55, size_bytes: 40 },
    };
    corpus.put("sst_blocks", "footer", Some(4), &footer.encode());
    for (name, payload) in [("framed-lz4", block.clone()), ("framed-plain", b"\0\0\0\0".to_vec())] {
        let mut out = Vec::new();
        append_block(&mut out, &payload, true);
        corpus.put("sst_blocks", name, Some(5), &out);
    }
    let mut framed = Vec::new();
    append_block(&mut framed, &compressible(2000), true);
    corpus.put("sst_blocks", "framed-lz4-big", Some(5), &framed);
    let pointer = ValuePointer { file_id: 3, offset: 4096, len: 77 };
    corpus.put("sst_blocks", "value-pointer", Some(6), &pointer.encode());
}

fn sst_properties(corpus: &Corpus) {
    let mut builder = TableBuilder::new(TableOptions::default());
    builder.add(&encode_internal(b"a", 1, ValueKind::Put), b"1");
    builder.add(&encode_internal(b"b", 2, ValueKind::Put), b"2");
    corpus.put("sst_blocks", "properties", Some(2), &builder.finish().expect("table").meta.encode());
}

fn manifest(corpus: &Corpus) {
    let file = |id: u64, level: usize, lower: &[u8], upper: &[u8]| FileMeta {
        id,
        cf: Cf::Default,
        level,
        size_bytes: 4096,
        entry_count: 2,
        max_seq: id,
        smallest: encode_internal(lower, id, ValueKind::Put),
        largest: encode_internal(upper, id, ValueKind::Put),
    };
    let first = VersionEdit {
        added: vec![file(2, 0, b"a", b"k"), file(3, 1, b"a", b"c"), file(4, 1, b"d", b"f")],
        next_file_id: Some(5),
        last_seq: Some(40),
        applied: vec![(1, 10)],
        vlog_discard: vec![(1, 8192)],
        vlog_head: Some(VlogPosition { file_id: 1, offset: 12_345 }),
        ..VersionEdit::default()
    };
    let second = VersionEdit {
        deleted: vec![(Cf::Default, 0, 2)],
        added: vec![file(5, 2, b"a", b"z")],
        vlog_deleted: vec![1],
        ..VersionEdit::default()
    };
    corpus.put("manifest", "edit-add", Some(1), &first.encode());
    corpus.put("manifest", "edit-delete", Some(1), &second.encode());
    block_on(async {
        let fs = MemFs::new();
        let dir = Path::new("/m");
        let (mut manifest, version) = Manifest::open(fs.clone(), dir).await.expect("manifest");
        let version = version.apply(&first).expect("apply");
        manifest.log(&first, &version).await.expect("log");
        let version: Version = version.apply(&second).expect("apply");
        manifest.log(&second, &version).await.expect("log");
        let image = fs.contents(&dir.join("MANIFEST-000001")).expect("manifest file");
        corpus.put("manifest", "file-fixed", Some(2), &image);
        corpus.put("manifest", "file-raw", Some(0), &image);
    });
}

fn journal(corpus: &Corpus) {
    block_on(async {
        let fs = MemFs::new();
        let dir = Path::new("/j");
        let journal = Journal::open(fs.clone(), dir, JournalOptions::default()).await.expect("journal");
        let entry =
            |region_id, index, payload: Vec<u8>| JournalEntry { region_id, term: 2, index, payload: payload.into() };
        let mut batch = JournalBatch::new();
        batch.add_entries((1..=3).map(|i| entry(1, i, format!("entry {i}").into_bytes())));
        batch.put_state(1, "hard-state", "term=2");
        journal.append(batch, true).await.expect("append");
        let mut batch = JournalBatch::new();
        batch.add_entry(entry(2, 1, compressible(6000)));
        batch.add_entry(entry(1, 4, b"four".to_vec()));
        batch.delete_state(1, "hard-state");
        batch.compact_to(1, 2);
        journal.append(batch, true).await.expect("append");
        let image = fs.contents(&dir.join("journal-0000000000000001.log")).expect("segment");
        corpus.put("journal_segment", "segment-fixed", Some(1), &image);
        corpus.put("journal_segment", "segment-raw", Some(0), &image);
        corpus.put("journal_segment", "segment-older", Some(3), &image);
    });
}

fn vlog(corpus: &Corpus) {
    block_on(async {
        let fs = MemFs::new();
        let dir = Path::new("/v");
        let vlog = ValueLog::open(fs.clone(), dir, ValueLogOptions::default()).await.expect("vlog");
        let big = compressible(3000);
        vlog.append(&[(b"k1", b"small value"), (b"k2", &big)]).await.expect("append");
        vlog.append(&[(b"k3", &[7u8; 100][..])]).await.expect("append");
        vlog.sync().await.expect("sync");
        let image = fs.contents(&dir.join(nokv_engine::vlog::file_name(1))).expect("vlog file");
        corpus.put("vlog", "file-fixed", Some(1), &image);
        corpus.put("vlog", "file-raw", Some(0), &image);
        corpus.put("vlog", "file-older", Some(3), &image);
    });
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let corpus = Corpus { root };
    resp(&corpus);
    write_batch(&corpus);
    txn(&corpus);
    sst(&corpus);
    sst_properties(&corpus);
    manifest(&corpus);
    journal(&corpus);
    vlog(&corpus);
    println!("seeds written to {}", corpus.root.display());
}
