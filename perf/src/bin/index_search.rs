//! `index_search`: how long an SST index lookup (`IndexBlock::find_block`) takes when the
//! indexes are larger than the CPU's caches, as at a row-cache miss on a large data set,
//! against a plain binary search over the same index's keys (the search `find_block` used
//! before it searched a dense array of key heads first).
//!
//! Builds `--tables` indexes of `--blocks` entries each, whose last keys are shaped like the
//! server's Default CF keys (a 2-byte hash slot, a memcomparable `key:NNNNNNNNNNNN`, a
//! timestamp), then times `--lookups` lookups of random keys in random tables with each search,
//! `--rounds` times, and prints nanoseconds per lookup. Pin it with `taskset`.

use std::time::Instant;

use bytes::Bytes;
use clap::Parser;
use nokv_engine::key::{ValueKind, compare_internal, encode_internal, seek_key};
use nokv_engine::sst::format::BlockHandle;
use nokv_engine::sst::index::{IndexBlock, IndexBuilder};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

#[derive(Parser, Debug)]
#[command(about = "SST index lookup cost over indexes larger than the CPU caches")]
struct Args {
    #[arg(long, default_value_t = 60)]
    tables: usize,
    #[arg(long, default_value_t = 16_384)]
    blocks: usize,
    #[arg(long, default_value_t = 2_000_000)]
    lookups: usize,
    #[arg(long, default_value_t = 3)]
    rounds: usize,
}

/// A user key like the server's: hash slot, then the Redis key (memcomparable groups are
/// left out; the shape that matters is a varying 2-byte head and a long shared middle).
fn user_key(number: u64) -> Vec<u8> {
    let mut key = ((number % 16_384) as u16).to_be_bytes().to_vec();
    key.extend_from_slice(format!("key:{number:012}").as_bytes());
    key
}

fn build_index(rng: &mut StdRng, blocks: usize) -> IndexBlock {
    let mut keys: Vec<Vec<u8>> = (0..blocks)
        .map(|_| encode_internal(&user_key(rng.random_range(0..1_000_000)), rng.random_range(1..1000), ValueKind::Put))
        .collect();
    keys.sort_by(|a, b| compare_internal(a, b));
    keys.dedup();
    let mut builder = IndexBuilder::default();
    for (block, key) in keys.iter().enumerate() {
        builder.add(key, BlockHandle { offset: block as u64 * 4096, size_bytes: 4000 });
    }
    IndexBlock::parse(Bytes::from(builder.finish()), keys.len() as u64 * 4096).expect("a valid index")
}

/// The search `find_block` did before it had heads: a binary search over all the keys.
fn plain_search(index: &IndexBlock, target: &[u8]) -> usize {
    index.search_keys(0..index.len(), target)
}

fn main() {
    let args = Args::parse();
    let mut rng = StdRng::seed_from_u64(7);
    let indexes: Vec<IndexBlock> = (0..args.tables).map(|_| build_index(&mut rng, args.blocks)).collect();
    let targets: Vec<(usize, Vec<u8>)> = (0..args.lookups)
        .map(|_| (rng.random_range(0..args.tables), seek_key(&user_key(rng.random_range(0..1_000_000)), 5000)))
        .collect();
    for (table, target) in targets.iter().take(10_000) {
        assert_eq!(indexes[*table].find_block(target), plain_search(&indexes[*table], target), "the searches agree");
    }
    println!("{} indexes of {} blocks, {} lookups", args.tables, args.blocks, args.lookups);
    for round in 1..=args.rounds {
        for (name, search) in [
            ("find_block", IndexBlock::find_block as fn(&IndexBlock, &[u8]) -> usize),
            ("plain binary search", plain_search),
        ] {
            let started = Instant::now();
            let found: usize = targets.iter().map(|(table, target)| search(&indexes[*table], target)).sum();
            let nanos = started.elapsed().as_nanos() as f64 / targets.len() as f64;
            println!("round {round}: {name:<20} {nanos:6.0} ns/lookup (checksum {found})");
        }
    }
}
