//! Transaction storage formats: Lock and Write records (TiKV's byte formats), memcomparable
//! key groups, data keys and versioned keys. The first byte picks the decoder. Decoders never
//! panic; whatever decodes re-encodes to bytes that decode to the same value.
#![no_main]
use libfuzzer_sys::fuzz_target;
use nokv_txn::keys::{
    data_key, decode_data_key, decode_memcomparable, decode_versioned_key, encode_memcomparable, versioned_key,
};
use nokv_txn::{Lock, Write};

fuzz_target!(|data: &[u8]| {
    let Some((&which, input)) = data.split_first() else { return };
    match which % 5 {
        0 => {
            if let Ok(lock) = Lock::decode(input) {
                let again = Lock::decode(&lock.encode()).expect("a re-encoded lock decodes");
                assert_eq!(again.encode(), lock.encode(), "lock encoding is not stable");
            }
        }
        1 => {
            if let Ok(write) = Write::decode(input) {
                let again = Write::decode(&write.encode()).expect("a re-encoded write decodes");
                assert_eq!(again.encode(), write.encode(), "write encoding is not stable");
            }
        }
        2 => {
            if let Ok((bytes, rest)) = decode_memcomparable(input) {
                let mut encoded = Vec::new();
                encode_memcomparable(&mut encoded, &bytes);
                assert_eq!(encoded, input[..input.len() - rest.len()], "memcomparable decode is not canonical");
            }
        }
        3 => {
            if let Ok((_, user_key)) = decode_data_key(input) {
                assert_eq!(data_key(&user_key), input);
            }
        }
        _ => {
            if let Ok((user_key, ts)) = decode_versioned_key(input) {
                assert_eq!(versioned_key(&user_key, ts), input);
            }
        }
    }
});
