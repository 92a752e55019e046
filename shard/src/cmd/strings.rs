//! String commands, with Redis 7.0's replies, options and errors: GET, SET (EX PX EXAT PXAT NX
//! XX KEEPTTL GET), SETNX, SETEX, PSETEX, GETSET, GETDEL, GETEX (EX PX EXAT PXAT PERSIST), MGET,
//! MSET, MSETNX, INCR, DECR, INCRBY, DECRBY, INCRBYFLOAT, APPEND, STRLEN, GETRANGE, SETRANGE.
//!
//! Invariants:
//! - Every command that writes holds the latches of the keys it writes from its first read to
//!   the end of its write, so read-modify-write commands (INCR, APPEND, SET NX, MSETNX, ...) are
//!   atomic against every other command of this core, and a key's commit timestamps only grow.
//! - Commands that modify a string in place (INCR family, INCRBYFLOAT, APPEND, SETRANGE) keep
//!   its expiry; commands that replace it (SET without KEEPTTL, SETEX, GETSET, MSET) clear it.
//! - A write whose expiry has already passed deletes the key instead (Redis stores it and then
//!   expires it at once; a reader cannot tell the difference).
//! - MGET, MSET and MSETNX here get the keys of one core (all of them, or one core's share when
//!   the command spans cores). MSET and MSETNX write through `write_grouped`: atomic within each
//!   region of the core; atomicity across the regions of a core comes with 2PC.
//!
//! INCRBYFLOAT computes in x87 80-bit extended precision, as Redis's `long double` does on
//! x86-64, and prints the result with `%.17Lf` stripped of trailing zeros; both are emulated in
//! software by [`long_double`] (Rust has no `f80`).

use std::rc::Rc;

use bytes::{Bytes, BytesMut};
use nokv_net::errors;
use nokv_net::frame::Reply;
use nokv_txn::latch::LatchGuard;
use nokv_txn::mvcc::Mutation;

use super::{CommandError, CommandResult, into_reply, is_word, parse_i64, syntax_error, wrong_type};
use crate::core::Core;
use crate::dispatch::KeyedRequest;
use crate::store::join_all;
use crate::value::{StoredValue, ValueType, now_ms};

/// The longest string a command may build: Redis's default `proto-max-bulk-len` (512 MB),
/// which NoKV's server also enforces on arguments.
const STRING_MAX_BYTES: u64 = 512 * 1024 * 1024;

/// DECRBY of `i64::MIN`, whose negation does not fit (Redis's own text, not in `errors`).
const DECREMENT_OVERFLOW: &str = "ERR decrement would overflow";

/// Runs a string command, or `None` if `name` is not one.
pub async fn execute(core: &Rc<Core>, name: &str, args: &[Bytes]) -> Option<CommandResult> {
    Some(match name {
        "get" => get(core, args).await,
        "set" => set(core, args).await,
        "setnx" => setnx(core, args).await,
        "setex" => setex(core, args, ExpireKind::Ex, "setex").await,
        "psetex" => setex(core, args, ExpireKind::Px, "psetex").await,
        "getset" => getset(core, args).await,
        "getdel" => getdel(core, args).await,
        "getex" => getex(core, args).await,
        "mget" => mget(core, args).await,
        "mset" => mset(core, args).await,
        "msetnx" => msetnx(core, args).await,
        "incr" => incr_by(core, &args[1], 1).await,
        "decr" => incr_by(core, &args[1], -1).await,
        "incrby" => incrby(core, args).await,
        "decrby" => decrby(core, args).await,
        "incrbyfloat" => incrbyfloat(core, args).await,
        "append" => append(core, args).await,
        "strlen" => strlen(core, args).await,
        "getrange" => getrange(core, args).await,
        "setrange" => setrange(core, args).await,
        _ => return None,
    })
}

// ---------------------------------------------------------------------------------------------
// Shared helpers

/// The live string at `key`; `WRONGTYPE` if the key holds another type.
async fn read_string(core: &Core, key: &[u8]) -> Result<Option<StoredValue>, CommandError> {
    match core.store.read(key).await? {
        Some(value) if value.value_type == ValueType::String => Ok(Some(value)),
        Some(_) => Err(wrong_type()),
        None => Ok(None),
    }
}

async fn lock_key(core: &Core, key: &Bytes) -> LatchGuard {
    core.store.lock(std::slice::from_ref(key)).await
}

/// The mutation that stores the string `payload` at `key`, or deletes the key when
/// `expire_at_ms` has already passed.
fn string_mutation(key: Bytes, payload: Bytes, expire_at_ms: Option<u64>) -> Mutation {
    let value = StoredValue { value_type: ValueType::String, expire_at_ms, payload };
    if value.is_expired_now() { Mutation::Delete(key) } else { Mutation::Put(key, value.into_value()) }
}

async fn write_string(core: &Core, key: Bytes, payload: Bytes, expire_at_ms: Option<u64>) -> Result<(), CommandError> {
    core.store.write(vec![string_mutation(key, payload, expire_at_ms)]).await?;
    Ok(())
}

fn error(text: &'static str) -> CommandError {
    CommandError::Reply(Reply::error_static(text))
}

fn bulk_or_null(value: Option<StoredValue>) -> Reply {
    value.map_or(Reply::Null, |value| Reply::Bulk(value.payload))
}

// ---------------------------------------------------------------------------------------------
// Expiry options

/// How an expiry argument is read: relative or absolute, seconds or milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ExpireKind {
    Ex,
    Px,
    ExAt,
    PxAt,
}

impl ExpireKind {
    fn from_option(option: &[u8]) -> Option<ExpireKind> {
        [("ex", ExpireKind::Ex), ("px", ExpireKind::Px), ("exat", ExpireKind::ExAt), ("pxat", ExpireKind::PxAt)]
            .into_iter()
            .find_map(|(word, kind)| is_word(option, word).then_some(kind))
    }

    fn in_seconds(self) -> bool {
        matches!(self, ExpireKind::Ex | ExpireKind::ExAt)
    }

    fn is_relative(self) -> bool {
        matches!(self, ExpireKind::Ex | ExpireKind::Px)
    }
}

/// The absolute expiry in Unix milliseconds of an expiry argument, with Redis's checks
/// (`getExpireMillisecondsOrReply`): an integer, positive, and no overflow once converted.
fn resolve_expire(kind: ExpireKind, text: &[u8], command: &str, now_ms: u64) -> Result<u64, CommandError> {
    let invalid = || CommandError::Reply(errors::invalid_expire_time(command));
    let amount = parse_i64(text)?;
    if amount <= 0 || (kind.in_seconds() && amount > i64::MAX / 1000) {
        return Err(invalid());
    }
    let mut at_ms = if kind.in_seconds() { amount * 1000 } else { amount };
    if kind.is_relative() {
        at_ms = at_ms.checked_add(now_ms as i64).ok_or_else(invalid)?;
    }
    Ok(at_ms as u64)
}

/// Which command's options [`parse_extended`] reads (Redis's `COMMAND_SET` / `COMMAND_GET`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum OptionsOf {
    Set,
    GetEx,
}

/// The options of SET and GETEX, as Redis's `parseExtendedStringArgumentsOrReply` accepts them.
#[derive(Default, Debug, PartialEq)]
struct ExtendedOptions {
    nx: bool,
    xx: bool,
    get: bool,
    keep_ttl: bool,
    persist: bool,
    expire: Option<(ExpireKind, Bytes)>,
}

impl ExtendedOptions {
    /// Whether SET must read the key first (to answer GET, test NX/XX, or keep the TTL).
    fn reads_old_value(&self) -> bool {
        self.nx || self.xx || self.get || self.keep_ttl
    }
}

/// Parses SET / GETEX options. Repeating an option is allowed (the last expiry wins); mixing
/// NX with XX, or two different expiry kinds, or an expiry with KEEPTTL / PERSIST, is a syntax
/// error, exactly the combinations Redis rejects.
fn parse_extended(options: &[Bytes], of: OptionsOf) -> Result<ExtendedOptions, CommandError> {
    let mut parsed = ExtendedOptions::default();
    let mut index = 0;
    while index < options.len() {
        let option = &options[index];
        let set = of == OptionsOf::Set;
        let no_expire = parsed.expire.is_none();
        if is_word(option, "nx") && !parsed.xx && set {
            parsed.nx = true;
        } else if is_word(option, "xx") && !parsed.nx && set {
            parsed.xx = true;
        } else if is_word(option, "get") && set {
            parsed.get = true;
        } else if is_word(option, "keepttl") && no_expire && set {
            parsed.keep_ttl = true;
        } else if is_word(option, "persist") && no_expire && !set {
            parsed.persist = true;
        } else if let Some(kind) = ExpireKind::from_option(option)
            && !parsed.keep_ttl
            && !parsed.persist
            && parsed.expire.as_ref().is_none_or(|(previous, _)| *previous == kind)
            && let Some(amount) = options.get(index + 1)
        {
            parsed.expire = Some((kind, amount.clone()));
            index += 1;
        } else {
            return Err(syntax_error());
        }
        index += 1;
    }
    Ok(parsed)
}

// ---------------------------------------------------------------------------------------------
// GET, SET and friends

async fn get(core: &Rc<Core>, args: &[Bytes]) -> CommandResult {
    let value = read_string(core, &args[1]).await?;
    core.stats.borrow_mut().record_lookup(value.is_some());
    Ok(bulk_or_null(value))
}

/// Serves the GETs of a pipelined run of requests from the row cache, at one read timestamp
/// and without a future per command: the reply of each GET on this core whose key has a row
/// holding a string or nothing; `None` for every other request, which runs as usual (a miss, a
/// key of another type or another core, any other command, or any error).
pub async fn cached_gets(core: &Rc<Core>, run: &[KeyedRequest]) -> Vec<Option<Reply>> {
    let is_local_get =
        |request: &KeyedRequest| request.owner == core.id && request.spec.name == "get" && request.args.len() == 2;
    let mut replies: Vec<Option<Reply>> = run.iter().map(|_| None).collect();
    if run.iter().filter(|r| is_local_get(r)).nth(1).is_none() {
        // One GET gains little here and pays twice on a miss (its read then starts over).
        return replies;
    }
    let (slots, keys): (Vec<u16>, Vec<&[u8]>) =
        run.iter().filter(|r| is_local_get(r)).map(|r| (r.first_slot, &r.args[1][..])).unzip();
    let Ok(reads) = core.store.read_cached(&slots, &keys).await else { return replies };
    let mut reads = reads.into_iter();
    for (request, reply) in run.iter().zip(&mut replies) {
        if !is_local_get(request) {
            continue;
        }
        match reads.next().flatten() {
            Some(value) if value.as_ref().is_none_or(|v| v.value_type == ValueType::String) => {
                core.stats.borrow_mut().record_lookup(value.is_some());
                *reply = Some(bulk_or_null(value));
            }
            _ => {}
        }
    }
    replies
}

/// The places in a pipelined run of the plain SETs (`SET key value`, no options) of this core,
/// when there are two or more: [`plain_sets`] runs them together.
pub fn plain_set_indices(core: &Core, run: &[KeyedRequest]) -> Vec<usize> {
    let is_plain_set =
        |request: &KeyedRequest| request.owner == core.id && request.spec.name == "set" && request.args.len() == 3;
    if run.iter().filter(|r| is_plain_set(r)).nth(1).is_none() {
        return Vec::new();
    }
    (0..run.len()).filter(|&index| is_plain_set(&run[index])).collect()
}

/// Runs plain SETs of one run of writes together: one latch acquisition for all their keys and
/// one 1PC write per region, instead of a future, a latch, a timestamp and a proposal per SET.
/// Their replies, in order. The keys of a run of writes are distinct (see `handler`), so the
/// SETs commute with each other and with the rest of their run.
pub async fn plain_sets(core: &Rc<Core>, sets: &[KeyedRequest]) -> Vec<Reply> {
    if sets.is_empty() {
        return Vec::new();
    }
    let keys: Vec<Bytes> = sets.iter().map(|set| set.args[1].clone()).collect();
    let _latch = core.store.lock(&keys).await;
    let mutations = sets.iter().zip(keys).map(|(set, key)| string_mutation(key, set.args[2].clone(), None)).collect();
    let mut replies = vec![Reply::Null; sets.len()];
    for (members, result) in core.store.write_per_region(mutations).await {
        let reply = into_reply(result.map(|()| Reply::ok()).map_err(CommandError::from));
        for member in members {
            replies[member] = reply.clone();
        }
    }
    replies
}

async fn set(core: &Rc<Core>, args: &[Bytes]) -> CommandResult {
    let options = parse_extended(&args[3..], OptionsOf::Set)?;
    let expire_at_ms = match &options.expire {
        Some((kind, text)) => Some(resolve_expire(*kind, text, "set", now_ms())?),
        None => None,
    };
    let key = args[1].clone();
    let _latch = lock_key(core, &key).await;
    if !options.reads_old_value() {
        // A plain SET overwrites whatever is there: no read, only the write.
        write_string(core, key, args[2].clone(), expire_at_ms).await?;
        return Ok(Reply::ok());
    }
    let old = if options.get { read_string(core, &key).await? } else { core.store.read(&key).await? };
    let exists = old.is_some();
    let old_expire_at_ms = old.as_ref().and_then(|value| value.expire_at_ms);
    let reply_to_get = |old: Option<StoredValue>| if options.get { bulk_or_null(old) } else { Reply::Null };
    if (options.nx && exists) || (options.xx && !exists) {
        return Ok(reply_to_get(old));
    }
    let expire_at_ms = if options.keep_ttl { old_expire_at_ms } else { expire_at_ms };
    write_string(core, key, args[2].clone(), expire_at_ms).await?;
    Ok(if options.get { bulk_or_null(old) } else { Reply::ok() })
}

async fn setnx(core: &Rc<Core>, args: &[Bytes]) -> CommandResult {
    let key = args[1].clone();
    let _latch = lock_key(core, &key).await;
    if core.store.read(&key).await?.is_some() {
        return Ok(Reply::Integer(0));
    }
    write_string(core, key, args[2].clone(), None).await?;
    Ok(Reply::Integer(1))
}

/// SETEX and PSETEX: `key amount value`.
async fn setex(core: &Rc<Core>, args: &[Bytes], kind: ExpireKind, command: &str) -> CommandResult {
    let expire_at_ms = resolve_expire(kind, &args[2], command, now_ms())?;
    let key = args[1].clone();
    let _latch = lock_key(core, &key).await;
    write_string(core, key, args[3].clone(), Some(expire_at_ms)).await?;
    Ok(Reply::ok())
}

async fn getset(core: &Rc<Core>, args: &[Bytes]) -> CommandResult {
    let key = args[1].clone();
    let _latch = lock_key(core, &key).await;
    let old = read_string(core, &key).await?;
    write_string(core, key, args[2].clone(), None).await?;
    Ok(bulk_or_null(old))
}

async fn getdel(core: &Rc<Core>, args: &[Bytes]) -> CommandResult {
    let key = args[1].clone();
    let _latch = lock_key(core, &key).await;
    let old = read_string(core, &key).await?;
    if old.is_some() {
        core.store.write(vec![Mutation::Delete(key)]).await?;
    }
    Ok(bulk_or_null(old))
}

/// GETEX: the value, after which the expiry changes as asked. As in Redis, a missing key
/// answers nil before the expiry argument is checked.
async fn getex(core: &Rc<Core>, args: &[Bytes]) -> CommandResult {
    let options = parse_extended(&args[2..], OptionsOf::GetEx)?;
    let key = args[1].clone();
    let _latch = lock_key(core, &key).await;
    let Some(value) = read_string(core, &key).await? else { return Ok(Reply::Null) };
    let new_expire_at_ms = match &options.expire {
        Some((kind, text)) => Some(resolve_expire(*kind, text, "getex", now_ms())?),
        None if options.persist => None,
        None => return Ok(Reply::Bulk(value.payload)),
    };
    if new_expire_at_ms != value.expire_at_ms {
        write_string(core, key, value.payload.clone(), new_expire_at_ms).await?;
    }
    Ok(Reply::Bulk(value.payload))
}

// ---------------------------------------------------------------------------------------------
// MGET, MSET, MSETNX

async fn mget(core: &Rc<Core>, args: &[Bytes]) -> CommandResult {
    let reads: Vec<_> = args[1..].iter().map(|key| core.store.read(key)).collect();
    let mut replies = Vec::with_capacity(reads.len());
    for read in join_all(reads).await {
        let read = read?;
        core.stats.borrow_mut().record_lookup(read.is_some());
        replies.push(match read {
            Some(value) if value.value_type == ValueType::String => Reply::Bulk(value.payload),
            _ => Reply::Null,
        });
    }
    Ok(Reply::Array(replies))
}

/// The key/value pairs of MSET / MSETNX, the last value of a repeated key winning (as in
/// Redis, which sets them in order); the arity error when the pairs are incomplete.
fn key_value_pairs(args: &[Bytes], command: &str) -> Result<Vec<(Bytes, Bytes)>, CommandError> {
    if args.len() < 3 || args.len().is_multiple_of(2) {
        return Err(CommandError::Reply(errors::wrong_number_of_arguments(command)));
    }
    let mut pairs: Vec<(Bytes, Bytes)> = Vec::with_capacity(args.len() / 2);
    for pair in args[1..].chunks_exact(2) {
        match pairs.iter_mut().find(|(key, _)| *key == pair[0]) {
            Some(existing) => existing.1 = pair[1].clone(),
            None => pairs.push((pair[0].clone(), pair[1].clone())),
        }
    }
    Ok(pairs)
}

async fn write_pairs(core: &Core, pairs: Vec<(Bytes, Bytes)>) -> Result<(), CommandError> {
    let mutations = pairs.into_iter().map(|(key, value)| string_mutation(key, value, None)).collect();
    core.store.write_grouped(mutations).await?;
    Ok(())
}

async fn mset(core: &Rc<Core>, args: &[Bytes]) -> CommandResult {
    let pairs = key_value_pairs(args, "mset")?;
    let keys: Vec<Bytes> = pairs.iter().map(|(key, _)| key.clone()).collect();
    let _latch = core.store.lock(&keys).await;
    write_pairs(core, pairs).await?;
    Ok(Reply::ok())
}

/// MSETNX on this core: holding every key's latch, checks that none exists, then writes all.
/// (Across the regions of this core the write is atomic per region; see the module doc.)
async fn msetnx(core: &Rc<Core>, args: &[Bytes]) -> CommandResult {
    let pairs = key_value_pairs(args, "msetnx")?;
    let keys: Vec<Bytes> = pairs.iter().map(|(key, _)| key.clone()).collect();
    let _latch = core.store.lock(&keys).await;
    let reads: Vec<_> = keys.iter().map(|key| core.store.read(key)).collect();
    for read in join_all(reads).await {
        if read?.is_some() {
            return Ok(Reply::Integer(0));
        }
    }
    write_pairs(core, pairs).await?;
    Ok(Reply::Integer(1))
}

// ---------------------------------------------------------------------------------------------
// Counters

async fn incrby(core: &Rc<Core>, args: &[Bytes]) -> CommandResult {
    let increment = parse_i64(&args[2])?;
    incr_by(core, &args[1], increment).await
}

async fn decrby(core: &Rc<Core>, args: &[Bytes]) -> CommandResult {
    let decrement = parse_i64(&args[2])?;
    let increment = decrement.checked_neg().ok_or_else(|| error(DECREMENT_OVERFLOW))?;
    incr_by(core, &args[1], increment).await
}

/// INCR, DECR, INCRBY, DECRBY: adds `increment` to the integer at `key` (0 when missing),
/// keeping its expiry.
async fn incr_by(core: &Rc<Core>, key: &Bytes, increment: i64) -> CommandResult {
    let _latch = lock_key(core, key).await;
    let old = read_string(core, key).await?;
    let current = match &old {
        Some(value) => parse_i64(&value.payload)?,
        None => 0,
    };
    let new = current.checked_add(increment).ok_or_else(|| error(errors::INCR_OVERFLOW))?;
    let expire_at_ms = old.and_then(|value| value.expire_at_ms);
    write_string(core, key.clone(), Bytes::from(new.to_string()), expire_at_ms).await?;
    Ok(Reply::Integer(new))
}

/// INCRBYFLOAT: in 80-bit extended precision, replying (in RESP2 and RESP3 alike) and storing
/// the `%.17Lf` text without trailing zeros, as Redis does.
async fn incrbyfloat(core: &Rc<Core>, args: &[Bytes]) -> CommandResult {
    let key = args[1].clone();
    let _latch = lock_key(core, &key).await;
    let old = read_string(core, &key).await?;
    let not_a_float = || error(errors::NOT_A_FLOAT);
    let current = match &old {
        Some(value) => long_double::parse(&value.payload).ok_or_else(not_a_float)?,
        None => long_double::LongDouble::ZERO,
    };
    let increment = long_double::parse(&args[2]).ok_or_else(not_a_float)?;
    let Some(text) = long_double::add(current, increment).format_human() else {
        return Err(error(errors::INCR_FLOAT_NAN_OR_INFINITY));
    };
    let text = Bytes::from(text);
    write_string(core, key, text.clone(), old.and_then(|value| value.expire_at_ms)).await?;
    Ok(Reply::Bulk(text))
}

// ---------------------------------------------------------------------------------------------
// APPEND, STRLEN, GETRANGE, SETRANGE

/// Redis's `checkStringLength`: a string may not grow past `proto-max-bulk-len`.
fn check_string_length(offset: u64, append_len: usize) -> Result<(), CommandError> {
    if offset.saturating_add(append_len as u64) > STRING_MAX_BYTES {
        return Err(error(errors::STRING_TOO_LONG));
    }
    Ok(())
}

async fn append(core: &Rc<Core>, args: &[Bytes]) -> CommandResult {
    let key = args[1].clone();
    let _latch = lock_key(core, &key).await;
    let Some(old) = read_string(core, &key).await? else {
        write_string(core, key, args[2].clone(), None).await?;
        return Ok(Reply::Integer(args[2].len() as i64));
    };
    check_string_length(old.payload.len() as u64, args[2].len())?;
    let mut payload = BytesMut::with_capacity(old.payload.len() + args[2].len());
    payload.extend_from_slice(&old.payload);
    payload.extend_from_slice(&args[2]);
    let length = payload.len() as i64;
    write_string(core, key, payload.freeze(), old.expire_at_ms).await?;
    Ok(Reply::Integer(length))
}

async fn strlen(core: &Rc<Core>, args: &[Bytes]) -> CommandResult {
    let length = read_string(core, &args[1]).await?.map_or(0, |value| value.payload.len());
    Ok(Reply::Integer(length as i64))
}

async fn getrange(core: &Rc<Core>, args: &[Bytes]) -> CommandResult {
    let start = parse_i64(&args[2])?;
    let end = parse_i64(&args[3])?;
    let Some(value) = read_string(core, &args[1]).await? else { return Ok(Reply::bulk_static("")) };
    let range = byte_range(value.payload.len(), start, end);
    Ok(Reply::Bulk(range.map_or_else(Bytes::new, |range| value.payload.slice(range))))
}

/// GETRANGE's index rules (`getrangeCommand`): negative indexes count from the end, both ends
/// are clamped into the string, and an empty range is `None`.
fn byte_range(length: usize, start: i64, end: i64) -> Option<std::ops::Range<usize>> {
    if start < 0 && end < 0 && start > end {
        return None;
    }
    let length = length as i64;
    let from_end = |index: i64| if index < 0 { (length + index).max(0) } else { index };
    let (start, end) = (from_end(start), from_end(end).min(length - 1));
    if start > end || length == 0 {
        return None;
    }
    Some(start as usize..end as usize + 1)
}

async fn setrange(core: &Rc<Core>, args: &[Bytes]) -> CommandResult {
    let offset = parse_i64(&args[2])?;
    let Ok(offset) = u64::try_from(offset) else { return Err(error(errors::OFFSET_OUT_OF_RANGE)) };
    let key = args[1].clone();
    let patch = &args[3];
    let _latch = lock_key(core, &key).await;
    let old = read_string(core, &key).await?;
    let old_length = old.as_ref().map_or(0, |value| value.payload.len());
    if patch.is_empty() {
        return Ok(Reply::Integer(old_length as i64));
    }
    check_string_length(offset, patch.len())?;
    let offset = offset as usize;
    let mut payload = BytesMut::from(old.as_ref().map_or(&b""[..], |value| &value.payload[..]));
    if payload.len() < offset + patch.len() {
        payload.resize(offset + patch.len(), 0);
    }
    payload[offset..offset + patch.len()].copy_from_slice(patch);
    let length = payload.len() as i64;
    write_string(core, key, payload.freeze(), old.and_then(|value| value.expire_at_ms)).await?;
    Ok(Reply::Integer(length))
}

// ---------------------------------------------------------------------------------------------

pub mod long_double {
    //! x87 80-bit extended precision (`long double` on x86-64) in software: what Redis's
    //! INCRBYFLOAT parses with `strtold`, adds, and prints with `%.17Lf`.
    //!
    //! A finite value is `±mantissa × 2^exponent` with a 64-bit mantissa: normal values have
    //! the top bit set and `exponent` in `MIN_EXPONENT..=MAX_EXPONENT`; subnormal values have
    //! `exponent == MIN_EXPONENT` and a smaller mantissa. Every operation rounds to nearest,
    //! ties to even, as the x87 unit and glibc do.

    use std::cmp::Ordering;
    use std::fmt::Write;

    /// The exponent of the smallest subnormal (2^-16445).
    const MIN_EXPONENT: i64 = -16445;
    /// The largest exponent of a 64-bit mantissa below 2^16384 (the overflow threshold).
    const MAX_EXPONENT: i64 = 16320;
    /// Redis's `MAX_LONG_DOUBLE_CHARS`: `string2ld` rejects texts of this length or longer.
    const MAX_TEXT_BYTES: usize = 5 * 1024;
    /// Decimal exponents of a text's leading digit beyond which it surely overflows
    /// (the largest value is 1.19e4932) or rounds to zero (the smallest is 3.6e-4951).
    const MAX_DECIMAL_EXPONENT: i64 = 4933;
    const MIN_DECIMAL_EXPONENT: i64 = -4953;
    /// `%.17Lf`: digits after the point.
    const FRACTION_DIGITS: usize = 17;
    const FRACTION_SCALE: u128 = 100_000_000_000_000_000;

    /// An extended-precision value.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum LongDouble {
        /// `±mantissa × 2^exponent`; zero has mantissa 0.
        Finite { negative: bool, mantissa: u64, exponent: i64 },
        /// ±infinity.
        Infinite { negative: bool },
        /// Not a number.
        NaN,
    }

    impl LongDouble {
        /// Positive zero.
        pub const ZERO: LongDouble = LongDouble::Finite { negative: false, mantissa: 0, exponent: 0 };

        /// Redis's `ld2string(.., LD_STR_HUMAN)`: `%.17Lf` without trailing zeros (and `-0`
        /// written `0`); `None` for infinities and NaN.
        pub fn format_human(self) -> Option<String> {
            let LongDouble::Finite { negative, mantissa, exponent } = self else { return None };
            let (integer, fraction) = split_fixed(mantissa, exponent);
            let mut text = if negative { format!("-{integer}") } else { integer };
            if fraction != 0 {
                let digits = format!("{fraction:0width$}", width = FRACTION_DIGITS);
                write!(text, ".{}", digits.trim_end_matches('0')).expect("writing to a String");
            }
            if text == "-0" {
                text = "0".to_owned();
            }
            Some(text)
        }
    }

    /// The integer part's digits and the fraction rounded to 17 decimal digits (ties to even,
    /// carrying into the integer part).
    fn split_fixed(mantissa: u64, exponent: i64) -> (String, u128) {
        if exponent >= 0 {
            return (Big::from_u64(mantissa).shifted_left(exponent as u64).to_decimal(), 0);
        }
        let fraction_bits = exponent.unsigned_abs();
        let (integer, fraction) = if fraction_bits >= 64 {
            (0u128, u128::from(mantissa))
        } else {
            (u128::from(mantissa >> fraction_bits), u128::from(mantissa & ((1u64 << fraction_bits) - 1)))
        };
        let digits = shift_right_rounded(fraction * FRACTION_SCALE, fraction_bits);
        if digits == FRACTION_SCALE { ((integer + 1).to_string(), 0) } else { (integer.to_string(), digits) }
    }

    /// `value / 2^shift` rounded to nearest, ties to even.
    fn shift_right_rounded(value: u128, shift: u64) -> u128 {
        match shift {
            0 => value,
            1..=127 => {
                let quotient = value >> shift;
                let remainder = value & ((1u128 << shift) - 1);
                let half = 1u128 << (shift - 1);
                let round_up = remainder > half || (remainder == half && quotient & 1 == 1);
                quotient + u128::from(round_up)
            }
            128 => u128::from(value > 1u128 << 127),
            _ => 0,
        }
    }

    /// Rounds `±magnitude × 2^exponent` to extended precision. Bits below the rounding
    /// position may have been folded into bit 0 (a sticky bit) by the caller.
    fn round(negative: bool, magnitude: u128, exponent: i64) -> LongDouble {
        if magnitude == 0 {
            return LongDouble::Finite { negative, mantissa: 0, exponent: 0 };
        }
        let top_bit = 127 - i64::from(magnitude.leading_zeros());
        let mut shift = top_bit - 63;
        let mut result_exponent = exponent + shift;
        if result_exponent < MIN_EXPONENT {
            shift += MIN_EXPONENT - result_exponent;
            result_exponent = MIN_EXPONENT;
        }
        let mut mantissa =
            if shift <= 0 { magnitude << shift.unsigned_abs() } else { shift_right_rounded(magnitude, shift as u64) };
        if mantissa == 1u128 << 64 {
            mantissa >>= 1;
            result_exponent += 1;
        }
        if result_exponent > MAX_EXPONENT {
            return LongDouble::Infinite { negative };
        }
        let mantissa = u64::try_from(mantissa).expect("rounded to 64 bits");
        LongDouble::Finite { negative, mantissa, exponent: result_exponent }
    }

    /// `a + b`, rounded once, as the x87 unit adds.
    pub fn add(a: LongDouble, b: LongDouble) -> LongDouble {
        use LongDouble::{Finite, Infinite, NaN};
        match (a, b) {
            (NaN, _) | (_, NaN) => NaN,
            (Infinite { negative: x }, Infinite { negative: y }) if x != y => NaN,
            (Infinite { .. }, _) => a,
            (_, Infinite { .. }) => b,
            (Finite { negative: x, mantissa: 0, .. }, Finite { negative: y, mantissa: 0, .. }) => {
                Finite { negative: x && y, mantissa: 0, exponent: 0 }
            }
            (Finite { mantissa: 0, .. }, _) => b,
            (_, Finite { mantissa: 0, .. }) => a,
            (Finite { negative: x, mantissa: m, exponent: e }, Finite { negative: y, mantissa: n, exponent: f }) => {
                if e >= f { add_finite((x, m, e), (y, n, f)) } else { add_finite((y, n, f), (x, m, e)) }
            }
        }
    }

    /// Adds non-zero `big` and `small` (`big`'s exponent is at least `small`'s) in a 128-bit
    /// frame: `big`'s mantissa sits 62 bits up, so alignment is exact for exponent gaps up to
    /// 62; beyond that the lost bits are a sticky bit, and cancellation is at most one bit.
    fn add_finite(big: (bool, u64, i64), small: (bool, u64, i64)) -> LongDouble {
        const GUARD_BITS: u64 = 62;
        let big_frame = u128::from(big.1) << GUARD_BITS;
        let gap = (big.2 - small.2) as u64;
        let small_frame = if gap <= GUARD_BITS {
            u128::from(small.1) << (GUARD_BITS - gap)
        } else {
            let shift = gap - GUARD_BITS;
            let kept = if shift >= 64 { 0 } else { u128::from(small.1 >> shift) };
            kept | 1
        };
        let exponent = big.2 - GUARD_BITS as i64;
        if big.0 == small.0 {
            return round(big.0, big_frame + small_frame, exponent);
        }
        match big_frame.cmp(&small_frame) {
            Ordering::Greater => round(big.0, big_frame - small_frame, exponent),
            Ordering::Less => round(small.0, small_frame - big_frame, exponent),
            Ordering::Equal => LongDouble::ZERO,
        }
    }

    /// Parses `text` as Redis's `string2ld` does (`strtold` over the whole text, no leading
    /// space, no NaN, no overflow, no underflow to zero); `None` when Redis would reply
    /// `value is not a valid float`.
    pub fn parse(text: &[u8]) -> Option<LongDouble> {
        if text.is_empty() || text.len() >= MAX_TEXT_BYTES || is_c_space(text[0]) {
            return None;
        }
        let (negative, body) = match text[0] {
            b'-' => (true, &text[1..]),
            b'+' => (false, &text[1..]),
            _ => (false, text),
        };
        if body.eq_ignore_ascii_case(b"inf") || body.eq_ignore_ascii_case(b"infinity") {
            return Some(LongDouble::Infinite { negative });
        }
        let hex = body.len() > 2 && body[0] == b'0' && (body[1] | 0x20) == b'x';
        let number = if hex { parse_digits(&body[2..], 16, b'p')? } else { parse_digits(body, 10, b'e')? };
        number.to_long_double(negative)
    }

    /// C's `isspace` in the C locale.
    fn is_c_space(byte: u8) -> bool {
        matches!(byte, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
    }

    /// A parsed number text: `digits × radix^-fraction_digits × base^exponent`, where the
    /// exponent's base is 10 for decimal texts and 2 for hexadecimal ones.
    struct NumberText {
        radix: u32,
        /// Digit values, without leading zeros.
        digits: Vec<u8>,
        fraction_digits: i64,
        exponent: i64,
    }

    /// Largest exponent magnitude kept while parsing; anything beyond is out of range anyway.
    const EXPONENT_CLAMP: i64 = 1 << 40;

    /// Parses `digits[.digits][marker[+-]digits]` in `radix`, the whole text, at least one
    /// mantissa digit.
    fn parse_digits(text: &[u8], radix: u32, exponent_marker: u8) -> Option<NumberText> {
        let mut number = NumberText { radix, digits: Vec::new(), fraction_digits: 0, exponent: 0 };
        let mut seen_digit = false;
        let mut seen_point = false;
        let mut index = 0;
        while let Some(&byte) = text.get(index) {
            if byte == b'.' && !seen_point {
                seen_point = true;
            } else if let Some(value) = (byte as char).to_digit(radix) {
                seen_digit = true;
                if !(number.digits.is_empty() && value == 0) {
                    number.digits.push(value as u8);
                }
                number.fraction_digits += i64::from(seen_point);
            } else {
                break;
            }
            index += 1;
        }
        if !seen_digit {
            return None;
        }
        if index < text.len() {
            if text[index] | 0x20 != exponent_marker {
                return None;
            }
            number.exponent = parse_exponent(&text[index + 1..])?;
        }
        Some(number)
    }

    /// `[+-]digits`, clamped to `±EXPONENT_CLAMP`.
    fn parse_exponent(text: &[u8]) -> Option<i64> {
        let (negative, digits) = match text.first() {
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            _ => (false, text),
        };
        if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let magnitude =
            digits.iter().fold(0i64, |value, &digit| (value * 10 + i64::from(digit - b'0')).min(EXPONENT_CLAMP));
        Some(if negative { -magnitude } else { magnitude })
    }

    impl NumberText {
        /// The correctly rounded value; `None` on overflow, or on underflow of a non-zero text
        /// to zero (`strtold`'s `ERANGE` cases that `string2ld` rejects).
        fn to_long_double(&self, negative: bool) -> Option<LongDouble> {
            let mut digits = &self.digits[..];
            while let Some((0, rest)) = digits.split_last() {
                digits = rest;
            }
            if digits.is_empty() {
                return Some(LongDouble::Finite { negative, mantissa: 0, exponent: 0 });
            }
            let trailing_zeros = (self.digits.len() - digits.len()) as i64;
            let digit_exponent = trailing_zeros - self.fraction_digits;
            let value = if self.radix == 10 {
                decimal_value(negative, digits, digit_exponent + self.exponent)?
            } else {
                let mantissa = Big::from_digits(digits, 16);
                let exponent = 4 * digit_exponent + self.exponent;
                let top_bit = mantissa.bit_len() as i64 + exponent;
                if !(MIN_EXPONENT - 2..=MAX_EXPONENT + 65).contains(&top_bit) {
                    return None;
                }
                round_ratio(negative, &mantissa, &Big::from_u64(1), exponent)
            };
            match value {
                LongDouble::Finite { mantissa: 0, .. } | LongDouble::Infinite { .. } => None,
                value => Some(value),
            }
        }
    }

    /// `±digits × 10^exponent` (no leading or trailing zero digits), as
    /// `digits × 5^exponent × 2^exponent`; `None` when surely out of range.
    fn decimal_value(negative: bool, digits: &[u8], exponent: i64) -> Option<LongDouble> {
        let leading_exponent = digits.len() as i64 - 1 + exponent;
        if !(MIN_DECIMAL_EXPONENT..=MAX_DECIMAL_EXPONENT).contains(&leading_exponent) {
            return None;
        }
        let mantissa = Big::from_digits(digits, 10);
        let power = Big::power_of_five(exponent.unsigned_abs());
        Some(if exponent >= 0 {
            round_ratio(negative, &mantissa.times(&power), &Big::from_u64(1), exponent)
        } else {
            round_ratio(negative, &mantissa, &power, exponent)
        })
    }

    /// `±numerator / denominator × 2^exponent`, correctly rounded: the quotient is computed to
    /// 66 or 67 bits, plus a sticky bit for a non-zero remainder.
    fn round_ratio(negative: bool, numerator: &Big, denominator: &Big, exponent: i64) -> LongDouble {
        let scale = 66 - (numerator.bit_len() as i64 - denominator.bit_len() as i64);
        let (quotient, inexact) = if scale >= 0 {
            numerator.shifted_left(scale as u64).divide_small_quotient(denominator)
        } else {
            numerator.clone().divide_small_quotient(&denominator.shifted_left(scale.unsigned_abs()))
        };
        round(negative, quotient | u128::from(inexact), exponent - scale)
    }

    /// A non-negative integer of any size: little-endian 32-bit limbs, no zero limb on top.
    #[derive(Clone, Debug, PartialEq, Eq)]
    struct Big {
        limbs: Vec<u32>,
    }

    impl Big {
        fn from_u64(value: u64) -> Big {
            let mut big = Big { limbs: vec![value as u32, (value >> 32) as u32] };
            big.trim();
            big
        }

        /// The integer with these digit values in `radix` (10 or 16), most significant first.
        fn from_digits(digits: &[u8], radix: u32) -> Big {
            let chunk_len = if radix == 10 { 9 } else { 7 };
            let mut big = Big { limbs: Vec::new() };
            for chunk in digits.chunks(chunk_len) {
                let value = chunk.iter().fold(0u32, |value, &digit| value * radix + u32::from(digit));
                big.multiply_add(radix.pow(chunk.len() as u32), value);
            }
            big
        }

        fn power_of_five(exponent: u64) -> Big {
            const STEP: u64 = 13; // 5^13 is the largest power of five below 2^32.
            let mut big = Big::from_u64(1);
            let mut left = exponent;
            while left > 0 {
                let step = left.min(STEP);
                big.multiply_add(5u32.pow(step as u32), 0);
                left -= step;
            }
            big
        }

        fn trim(&mut self) {
            while self.limbs.last() == Some(&0) {
                self.limbs.pop();
            }
        }

        fn is_zero(&self) -> bool {
            self.limbs.is_empty()
        }

        fn bit_len(&self) -> u64 {
            self.limbs.last().map_or(0, |top| self.limbs.len() as u64 * 32 - u64::from(top.leading_zeros()))
        }

        /// `self = self × factor + addend`.
        fn multiply_add(&mut self, factor: u32, addend: u32) {
            let mut carry = u64::from(addend);
            for limb in &mut self.limbs {
                let value = u64::from(*limb) * u64::from(factor) + carry;
                *limb = value as u32;
                carry = value >> 32;
            }
            if carry != 0 {
                self.limbs.push(carry as u32);
            }
            self.trim();
        }

        fn times(&self, other: &Big) -> Big {
            let mut limbs = vec![0u32; self.limbs.len() + other.limbs.len()];
            for (i, &a) in self.limbs.iter().enumerate() {
                let mut carry = 0u64;
                for (j, &b) in other.limbs.iter().enumerate() {
                    let value = u64::from(a) * u64::from(b) + u64::from(limbs[i + j]) + carry;
                    limbs[i + j] = value as u32;
                    carry = value >> 32;
                }
                limbs[i + other.limbs.len()] = carry as u32;
            }
            let mut product = Big { limbs };
            product.trim();
            product
        }

        fn shifted_left(&self, bits: u64) -> Big {
            if self.is_zero() {
                return self.clone();
            }
            let bit_shift = (bits % 32) as u32;
            let mut limbs = vec![0u32; (bits / 32) as usize];
            let mut carry = 0u32;
            for &limb in &self.limbs {
                if bit_shift == 0 {
                    limbs.push(limb);
                } else {
                    limbs.push((limb << bit_shift) | carry);
                    carry = limb >> (32 - bit_shift);
                }
            }
            if carry != 0 {
                limbs.push(carry);
            }
            Big { limbs }
        }

        fn compare(&self, other: &Big) -> Ordering {
            self.limbs.len().cmp(&other.limbs.len()).then_with(|| self.limbs.iter().rev().cmp(other.limbs.iter().rev()))
        }

        /// `self -= other`, for `self >= other`.
        fn subtract(&mut self, other: &Big) {
            let mut borrow = 0u64;
            for (index, limb) in self.limbs.iter_mut().enumerate() {
                let subtrahend = u64::from(other.limbs.get(index).copied().unwrap_or(0)) + borrow;
                let (value, underflow) = u64::from(*limb).overflowing_sub(subtrahend);
                *limb = value as u32;
                borrow = u64::from(underflow);
            }
            self.trim();
        }

        /// `(self / divisor, remainder != 0)` for quotients below 2^68, by binary long division.
        fn divide_small_quotient(mut self, divisor: &Big) -> (u128, bool) {
            let mut quotient = 0u128;
            for bit in (0..68).rev() {
                let shifted = divisor.shifted_left(bit);
                if self.compare(&shifted) != Ordering::Less {
                    self.subtract(&shifted);
                    quotient |= 1u128 << bit;
                }
            }
            (quotient, !self.is_zero())
        }

        /// `self / divisor`, returning the remainder.
        fn divide_small(&mut self, divisor: u32) -> u32 {
            let mut remainder = 0u64;
            for limb in self.limbs.iter_mut().rev() {
                let value = (remainder << 32) | u64::from(*limb);
                *limb = (value / u64::from(divisor)) as u32;
                remainder = value % u64::from(divisor);
            }
            self.trim();
            remainder as u32
        }

        fn to_decimal(&self) -> String {
            const CHUNK: u32 = 1_000_000_000;
            let mut rest = self.clone();
            let mut chunks = Vec::new();
            while !rest.is_zero() {
                chunks.push(rest.divide_small(CHUNK));
            }
            let mut text = chunks.pop().unwrap_or(0).to_string();
            for chunk in chunks.iter().rev() {
                write!(text, "{chunk:09}").expect("writing to a String");
            }
            text
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn incr(current: &str, increment: &str) -> Option<String> {
            add(parse(current.as_bytes())?, parse(increment.as_bytes())?).format_human()
        }

        #[test]
        fn adds_and_prints_like_redis() {
            assert_eq!(incr("0", "10.5").as_deref(), Some("10.5"));
            assert_eq!(incr("10.5", "0.1").as_deref(), Some("10.6"));
            assert_eq!(incr("0.1", "0.2").as_deref(), Some("0.3"));
            assert_eq!(incr("0.3", "5.0e3").as_deref(), Some("5000.29999999999999982"));
            assert_eq!(incr("3", "-3").as_deref(), Some("0"));
            assert_eq!(incr("0", "-0.0").as_deref(), Some("0"));
            assert_eq!(incr("17179869184", "1.5").as_deref(), Some("17179869185.5"));
            assert_eq!(incr("1e30", "0").as_deref(), Some("1000000000000000000024696061952"));
            assert_eq!(incr("9223372036854775807", "1").as_deref(), Some("9223372036854775808"));
            assert_eq!(incr("-1e-20", "0").as_deref(), Some("0"));
            let sum = incr("1e308", "1e308").expect("2e308 fits 80 bits");
            assert!(sum.starts_with("199999999999999999993371759311691291321120") && sum.len() == 309, "{sum}");
        }

        #[test]
        fn rounds_ties_to_even_and_keeps_subnormals() {
            assert_eq!(incr("0x1p-18", "0").as_deref(), Some("0.00000381469726562"));
            assert_eq!(incr("0x3p-18", "0").as_deref(), Some("0.00001144409179688"));
            assert_eq!(incr("0x1p-16445", "0").as_deref(), Some("0"));
            assert_eq!(incr("0x1.8p-16446", "0").as_deref(), Some("0"));
            assert_eq!(parse(b"0x1p-16446"), None, "rounds to zero: underflow");
            assert_eq!(parse(b"1.1897315e4932"), None, "overflow");
            assert!(parse(b"1.18973149535723176502e4932").is_some());
        }

        #[test]
        fn infinities_and_nan_do_not_print() {
            assert_eq!(incr("1", "inf"), None);
            assert_eq!(incr("inf", "-inf"), None);
        }

        #[test]
        fn parse_rejects_what_string2ld_rejects() {
            for text in
                ["", " 1", "1 ", "abc", "nan", "-nan", "1e", "1e+", ".", "0x", "1e5000", "1e-5000", "1\u{0}2", "- 1"]
            {
                assert_eq!(parse(text.as_bytes()), None, "{text:?}");
            }
            for text in [".5", "5.", "+5", "0x10", "0x1p3", "-inf", "INFINITY", "1e-4940", "0e99999999999999999999"] {
                assert!(parse(text.as_bytes()).is_some(), "{text:?}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(words: &[&str]) -> Vec<Bytes> {
        words.iter().map(|word| Bytes::copy_from_slice(word.as_bytes())).collect()
    }

    fn is_syntax_error(result: Result<ExtendedOptions, CommandError>) -> bool {
        matches!(result, Err(CommandError::Reply(Reply::Error(text))) if &text[..] == errors::SYNTAX.as_bytes())
    }

    #[test]
    fn set_options_reject_redis_invalid_combinations() {
        for options in [
            &["nx", "xx"][..],
            &["xx", "nx"],
            &["ex", "10", "px", "10"],
            &["keepttl", "ex", "10"],
            &["ex", "10", "keepttl"],
            &["ex"],
            &["persist"],
            &["foo"],
        ] {
            assert!(is_syntax_error(parse_extended(&args(options), OptionsOf::Set)), "{options:?}");
        }
        for options in [&["nx", "nx"][..], &["ex", "1", "ex", "2"], &["get", "get"], &["keepttl", "keepttl", "xx"]] {
            assert!(parse_extended(&args(options), OptionsOf::Set).is_ok(), "{options:?}");
        }
    }

    #[test]
    fn getex_options_are_expiry_or_persist() {
        for options in [&["nx"][..], &["get"], &["keepttl"], &["ex", "1", "persist"], &["persist", "px", "1"]] {
            assert!(is_syntax_error(parse_extended(&args(options), OptionsOf::GetEx)), "{options:?}");
        }
        let parsed = parse_extended(&args(&["persist", "PERSIST"]), OptionsOf::GetEx).expect("persist twice");
        assert!(parsed.persist);
    }

    #[test]
    fn expiry_times_are_checked_like_redis() {
        let now_ms = 1_000_000;
        assert_eq!(resolve_expire(ExpireKind::Ex, b"10", "set", now_ms).ok(), Some(1_010_000));
        assert_eq!(resolve_expire(ExpireKind::Px, b"10", "set", now_ms).ok(), Some(1_000_010));
        assert_eq!(resolve_expire(ExpireKind::ExAt, b"10", "set", now_ms).ok(), Some(10_000));
        assert_eq!(resolve_expire(ExpireKind::PxAt, b"10", "set", now_ms).ok(), Some(10));
        for (kind, text) in [
            (ExpireKind::Ex, "0"),
            (ExpireKind::Px, "-1"),
            (ExpireKind::Ex, "9223372036854775807"),
            (ExpireKind::Px, "9223372036854775807"),
            (ExpireKind::ExAt, "9223372036854775807"),
        ] {
            let result = resolve_expire(kind, text.as_bytes(), "set", now_ms);
            assert!(
                matches!(&result, Err(CommandError::Reply(reply)) if *reply == errors::invalid_expire_time("set")),
                "{kind:?} {text}"
            );
        }
        assert!(resolve_expire(ExpireKind::PxAt, b"9223372036854775807", "set", now_ms).is_ok());
    }

    #[test]
    fn getrange_clamps_like_redis() {
        let range = |start, end| byte_range(8, start, end);
        assert_eq!(range(0, -1), Some(0..8));
        assert_eq!(range(-3, -1), Some(5..8));
        assert_eq!(range(5, 2), None);
        assert_eq!(range(100, 200), None);
        assert_eq!(range(-100, 2), Some(0..3));
        assert_eq!(range(0, -100), Some(0..1));
        assert_eq!(range(-1, -5), None);
        assert_eq!(range(i64::MAX, i64::MIN), None);
        assert_eq!(byte_range(0, 0, -1), None);
        assert_eq!(byte_range(0, -1, 0), None);
    }

    #[test]
    fn repeated_keys_keep_their_last_value() {
        let pairs = key_value_pairs(&args(&["mset", "a", "1", "b", "2", "a", "3"]), "mset").expect("pairs");
        assert_eq!(pairs, vec![(Bytes::from("a"), Bytes::from("3")), (Bytes::from("b"), Bytes::from("2"))]);
        assert!(key_value_pairs(&args(&["mset", "a", "1", "b"]), "mset").is_err());
    }
}
