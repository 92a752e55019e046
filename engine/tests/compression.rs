//! Table compression by level: levels below `compress_from_level` are written plain, deeper
//! ones with lz4, and a file that compaction would move as it is into a compressed level is
//! rewritten instead (a sequential load moves every file down untouched, and its tables used
//! to stay plain in every level).

mod common;

use std::path::Path;

use futures_lite::future::block_on;
use nokv_engine::io::mem::MemFs;
use nokv_engine::{Cf, Db, Durability, EngineOptions};

#[test]
fn a_file_moved_into_a_compressed_level_is_compressed() {
    block_on(async {
        let options = EngineOptions { memtable_size_bytes: 1 << 20, ..Default::default() };
        let db = Db::open(MemFs::new(), Path::new("/db"), options).await.expect("open");
        let value = vec![b'v'; 200];
        let key = |index: u32| format!("key{index:06}").into_bytes();
        for index in 0..2000 {
            db.put(&key(index), &value, Durability::Written).await.expect("put");
        }
        db.flush().await.expect("flush");
        // One L0 file and nothing below it: every step down is a move of that one file.
        let levels = |db: &Db<MemFs>| db.engine().level_summary()[Cf::Default.index()].1.clone();
        let plain_bytes = levels(&db)[0].1;
        assert_eq!(levels(&db)[0].0, 1, "{:?}", levels(&db));
        db.engine().compact_range_all().await.expect("compact");
        let after = levels(&db);
        let (deepest, (files, bytes)) = after.iter().enumerate().rfind(|(_, (files, _))| *files > 0).expect("a level");
        assert_eq!((deepest, *files), (after.len() - 1, 1), "{after:?}");
        assert!(
            bytes * 3 < plain_bytes,
            "the moved file was rewritten compressed: {bytes} against {plain_bytes} plain"
        );
        for index in (0..2000).step_by(97) {
            assert_eq!(db.get(&key(index)).await.expect("get").as_deref(), Some(&value[..]));
        }
    });
}
