//! Reply encoding: any `Reply`, encoded for RESP2 and RESP3, reads back whole (with a strict
//! reader) as the value it means on that protocol; doubles round-trip exactly.
#![no_main]
use bytes::Bytes;
use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use nokv_fuzz::resp::{expected, read, same};
use nokv_net::frame::{Protocol, Reply};

fn bytes(u: &mut Unstructured<'_>) -> Result<Bytes> {
    let len = u.int_in_range(0..=24)?;
    Ok(Bytes::copy_from_slice(u.bytes(len.min(u.len()))?))
}

fn items(u: &mut Unstructured<'_>, depth: u32) -> Result<Vec<Reply>> {
    let count = u.int_in_range(0..=4)?;
    (0..count).map(|_| reply(u, depth + 1)).collect()
}

fn reply(u: &mut Unstructured<'_>, depth: u32) -> Result<Reply> {
    let leaf_kinds = 10;
    let kinds = if depth >= 4 { leaf_kinds } else { leaf_kinds + 5 };
    Ok(match u.int_in_range(0..=kinds - 1)? {
        0 => Reply::Simple(bytes(u)?),
        1 => Reply::Error(bytes(u)?),
        2 => Reply::Integer(u.arbitrary()?),
        3 => Reply::Bulk(bytes(u)?),
        4 => Reply::Null,
        5 => Reply::NullArray,
        6 => Reply::Double(f64::from_bits(u.arbitrary()?)),
        7 => Reply::Boolean(u.arbitrary()?),
        8 => Reply::BigNumber(bytes(u)?),
        9 => Reply::Verbatim { format: u.arbitrary()?, text: bytes(u)? },
        10 => Reply::Array(items(u, depth)?),
        11 => Reply::Set(items(u, depth)?),
        12 => Reply::Push(items(u, depth)?),
        _ => {
            let count = u.int_in_range(0..=3)?;
            Reply::Map((0..count).map(|_| Ok((reply(u, depth + 1)?, reply(u, depth + 1)?))).collect::<Result<_>>()?)
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(reply) = reply(&mut u, 0) else { return };
    for protocol in [Protocol::Resp2, Protocol::Resp3] {
        let wire = reply.to_bytes(protocol);
        let (value, rest) =
            read(&wire).unwrap_or_else(|e| panic!("{protocol:?} encoding of {reply:?} unreadable: {e}"));
        assert!(rest.is_empty(), "{protocol:?}: trailing bytes after {reply:?}");
        let want = expected(&reply, protocol);
        assert!(same(&value, &want), "{protocol:?}: {reply:?} read back as {value:?}, expected {want:?}");
    }
});
