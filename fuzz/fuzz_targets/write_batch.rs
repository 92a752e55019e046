#![no_main]
use libfuzzer_sys::fuzz_target;
use nokv_engine::WriteBatch;

fuzz_target!(|data: &[u8]| {
    if let Ok(batch) = WriteBatch::decode(data) {
        let again = WriteBatch::decode(&batch.encode()).expect("a decoded batch re-encodes to a decodable one");
        assert_eq!(again, batch);
    }
});
