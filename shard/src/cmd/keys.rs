//! Key commands on the core that owns every key of the command: DEL, UNLINK, EXISTS, TOUCH,
//! TYPE, EXPIRE/PEXPIRE/EXPIREAT/PEXPIREAT, TTL/PTTL/EXPIRETIME/PEXPIRETIME, PERSIST, RENAME,
//! RENAMENX and COPY; the internal record commands `cmd::multi` uses to move a key between
//! cores; and the background reclamation of expired keys.
//!
//! Invariants:
//! - Every write holds the latches of the keys it reads and writes, from the read to the applied
//!   write, so commands on the same key are atomic and a key's commit timestamps only grow.
//! - An expired key is absent for every command (`Store::read` hides it); the sweeper
//!   ([`reclaim_expired`]) deletes it later without any client touching it.
//! - RENAME and COPY between keys of two regions of this core write each region separately
//!   (`Store::write_grouped`): atomic per region only until cross-region 2PC exists. Under the
//!   latches no command of this core sees the intermediate state; a crash between the two
//!   region writes can leave both keys (RENAME) or only the destination.

use std::collections::HashSet;
use std::rc::Rc;
use std::time::Duration;

use bytes::Bytes;
use nokv_net::errors;
use nokv_net::frame::Reply;
use nokv_txn::mvcc::Mutation;

use super::{CommandError, CommandResult, is_word, parse_i64, syntax_error};
use crate::core::Core;
use crate::store::{StoreError, join_all};
use crate::value::{self, StoredValue, now_ms};

/// Internal command (not in the command table, so clients cannot send it): the encoded record
/// of a live key, or nil. Arguments: key.
pub const RECORD_GET: &str = "nokv.record.get";
/// Internal command: writes an encoded record. Arguments: key, record, `nx` (only if the key is
/// absent) or `replace`. Replies 1 when written, 0 when `nx` found the key.
pub const RECORD_PUT: &str = "nokv.record.put";
/// Internal command: deletes a key only if its live record still equals the given one.
/// Arguments: key, record. Replies 1 when deleted, 0 otherwise.
pub const RECORD_DELETE_IF: &str = "nokv.record.delete-if";

/// `ERR source and destination objects are the same` (COPY of a key onto itself).
const SAME_OBJECT: &str = "ERR source and destination objects are the same";

/// Runs a key command, or `None` if `name` is not one.
pub async fn execute(core: &Rc<Core>, name: &str, args: &[Bytes]) -> Option<CommandResult> {
    Some(match name {
        "del" | "unlink" => del(core, &args[1..]).await,
        "exists" | "touch" => count_live(core, &args[1..]).await,
        "type" => type_of(core, &args[1]).await,
        "expire" | "pexpire" | "expireat" | "pexpireat" => expire(core, name, args).await,
        "ttl" | "pttl" | "expiretime" | "pexpiretime" => ttl(core, name, &args[1]).await,
        "persist" => persist(core, &args[1]).await,
        "rename" => rename(core, args, false).await,
        "renamenx" => rename(core, args, true).await,
        "copy" => copy(core, args).await,
        RECORD_GET => record_get(core, args).await,
        RECORD_PUT => record_put(core, args).await,
        RECORD_DELETE_IF => record_delete_if(core, args).await,
        _ => return None,
    })
}

/// The live values of `keys`, read concurrently, in order.
async fn read_all(core: &Rc<Core>, keys: &[Bytes]) -> Result<Vec<Option<StoredValue>>, StoreError> {
    join_all(keys.iter().map(|key| core.store.read(key))).await.into_iter().collect()
}

/// DEL and UNLINK (UNLINK frees nothing lazily: a delete is one tombstone either way). A key
/// named twice counts once.
async fn del(core: &Rc<Core>, keys: &[Bytes]) -> CommandResult {
    let _latch = core.store.lock(keys).await;
    let mut unique: Vec<Bytes> = Vec::with_capacity(keys.len());
    let mut seen = HashSet::new();
    for key in keys {
        if seen.insert(key) {
            unique.push(key.clone());
        }
    }
    let values = read_all(core, &unique).await?;
    let mutations: Vec<Mutation> = unique
        .into_iter()
        .zip(values)
        .filter(|(_, value)| value.is_some())
        .map(|(key, _)| Mutation::Delete(key))
        .collect();
    let deleted = mutations.len() as i64;
    core.store.write_grouped(mutations).await?;
    Ok(Reply::Integer(deleted))
}

/// EXISTS and TOUCH: the number of arguments naming a live key (a key named twice counts twice).
async fn count_live(core: &Rc<Core>, keys: &[Bytes]) -> CommandResult {
    let values = read_all(core, keys).await?;
    Ok(Reply::Integer(values.iter().filter(|value| value.is_some()).count() as i64))
}

async fn type_of(core: &Rc<Core>, key: &Bytes) -> CommandResult {
    let name = match core.store.read(key).await? {
        Some(value) => value.value_type.name(),
        None => "none",
    };
    Ok(Reply::simple(name))
}

/// The NX / XX / GT / LT options of the EXPIRE family.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ExpireCondition {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
}

impl ExpireCondition {
    /// Parses the options after the time, with Redis's errors for unknown and incompatible ones.
    pub fn parse(options: &[Bytes]) -> Result<ExpireCondition, CommandError> {
        let mut condition = ExpireCondition::default();
        for option in options {
            match option.to_ascii_lowercase().as_slice() {
                b"nx" => condition.nx = true,
                b"xx" => condition.xx = true,
                b"gt" => condition.gt = true,
                b"lt" => condition.lt = true,
                _ => {
                    let text = String::from_utf8_lossy(option);
                    return Err(CommandError::Reply(Reply::error(format!("ERR Unsupported option {text}"))));
                }
            }
        }
        if condition.nx && (condition.xx || condition.gt || condition.lt) {
            return Err(CommandError::Reply(Reply::error_static(errors::EXPIRE_NX_AND_OTHERS)));
        }
        if condition.gt && condition.lt {
            return Err(CommandError::Reply(Reply::error_static(errors::EXPIRE_GT_AND_LT)));
        }
        Ok(condition)
    }

    /// Whether a key whose expiry is `current_ms` (`None`: persistent) may get `new_ms`. A
    /// persistent key counts as an infinite TTL: GT never passes, LT always does.
    pub fn allows(self, current_ms: Option<i64>, new_ms: i64) -> bool {
        match current_ms {
            None => !self.xx && !self.gt,
            Some(current) => {
                let blocked_by_gt = self.gt && new_ms <= current;
                let blocked_by_lt = self.lt && new_ms >= current;
                !(self.nx || blocked_by_gt || blocked_by_lt)
            }
        }
    }
}

/// The absolute expiry in Unix ms of an EXPIRE-family argument, or `invalid expire time` when
/// the unit conversion or the addition of `base_ms` overflows (as Redis checks them).
pub fn expire_at_ms(time: i64, in_seconds: bool, base_ms: i64, command: &str) -> Result<i64, CommandError> {
    let invalid = || CommandError::Reply(errors::invalid_expire_time(command));
    let time_ms = if in_seconds { time.checked_mul(1000).ok_or_else(invalid)? } else { time };
    time_ms.checked_add(base_ms).ok_or_else(invalid)
}

/// A stored expiry as Redis's signed milliseconds.
fn signed_ms(at_ms: u64) -> i64 {
    i64::try_from(at_ms).unwrap_or(i64::MAX)
}

async fn expire(core: &Rc<Core>, name: &str, args: &[Bytes]) -> CommandResult {
    let condition = ExpireCondition::parse(&args[3..])?;
    let time = parse_i64(&args[2])?;
    let now = now_ms();
    let relative = matches!(name, "expire" | "pexpire");
    let base_ms = if relative { signed_ms(now) } else { 0 };
    let at_ms = expire_at_ms(time, matches!(name, "expire" | "expireat"), base_ms, name)?;
    let key = args[1].clone();
    let _latch = core.store.lock(std::slice::from_ref(&key)).await;
    let Some(mut value) = core.store.read(&key).await? else { return Ok(Reply::Integer(0)) };
    if !condition.allows(value.expire_at_ms.map(signed_ms), at_ms) {
        return Ok(Reply::Integer(0));
    }
    let mutation = if at_ms <= signed_ms(now) {
        Mutation::Delete(key)
    } else {
        value.expire_at_ms = Some(at_ms as u64);
        Mutation::Put(key, value.into_value())
    };
    core.store.write(vec![mutation]).await?;
    Ok(Reply::Integer(1))
}

/// TTL, PTTL, EXPIRETIME, PEXPIRETIME: -2 for a missing key, -1 without expiry; seconds are
/// rounded to the nearest, as Redis does.
async fn ttl(core: &Rc<Core>, name: &str, key: &Bytes) -> CommandResult {
    let Some(value) = core.store.read(key).await? else { return Ok(Reply::Integer(-2)) };
    let Some(at_ms) = value.expire_at_ms else { return Ok(Reply::Integer(-1)) };
    let absolute = matches!(name, "expiretime" | "pexpiretime");
    let remaining_ms = if absolute { signed_ms(at_ms) } else { signed_ms(at_ms).saturating_sub(signed_ms(now_ms())) };
    let remaining_ms = remaining_ms.max(0);
    let in_ms = matches!(name, "pttl" | "pexpiretime");
    Ok(Reply::Integer(if in_ms { remaining_ms } else { remaining_ms.saturating_add(500) / 1000 }))
}

async fn persist(core: &Rc<Core>, key: &Bytes) -> CommandResult {
    let _latch = core.store.lock(std::slice::from_ref(key)).await;
    let Some(mut value) = core.store.read(key).await? else { return Ok(Reply::Integer(0)) };
    if value.expire_at_ms.take().is_none() {
        return Ok(Reply::Integer(0));
    }
    core.store.write(vec![Mutation::Put(key.clone(), value.into_value())]).await?;
    Ok(Reply::Integer(1))
}

/// The reply of a RENAME (`OK`) or RENAMENX (1 / 0).
fn rename_reply(nx: bool, renamed: bool) -> Reply {
    if nx { Reply::Integer(i64::from(renamed)) } else { Reply::ok() }
}

/// RENAME / RENAMENX of two keys of this core; the destination keeps the source's TTL.
async fn rename(core: &Rc<Core>, args: &[Bytes], nx: bool) -> CommandResult {
    let (source, destination) = (args[1].clone(), args[2].clone());
    let _latch = core.store.lock(&[source.clone(), destination.clone()]).await;
    let Some(value) = core.store.read(&source).await? else {
        return Err(CommandError::Reply(Reply::error_static(errors::NO_SUCH_KEY)));
    };
    if source == destination {
        return Ok(rename_reply(nx, false));
    }
    if nx && core.store.read(&destination).await?.is_some() {
        return Ok(rename_reply(nx, false));
    }
    core.store.write_grouped(vec![Mutation::Put(destination, value.into_value()), Mutation::Delete(source)]).await?;
    Ok(rename_reply(nx, true))
}

/// Parses COPY's options (`DB n`, `REPLACE`); returns whether REPLACE was given. NoKV has only
/// database 0, so any other `DB` is `DB index is out of range`.
pub fn parse_copy_options(options: &[Bytes]) -> Result<bool, CommandError> {
    let mut replace = false;
    let mut index = 0;
    while index < options.len() {
        let option = &options[index];
        if is_word(option, "replace") {
            replace = true;
        } else if is_word(option, "db") && index + 1 < options.len() {
            let db = parse_i64(&options[index + 1])?;
            if i32::try_from(db).is_err() {
                return Err(CommandError::Reply(Reply::error(
                    "ERR value is out of range, value must between -2147483648 and 2147483647",
                )));
            }
            if db != 0 {
                return Err(CommandError::Reply(Reply::error_static(errors::DB_INDEX_OUT_OF_RANGE)));
            }
            index += 1;
        } else {
            return Err(syntax_error());
        }
        index += 1;
    }
    Ok(replace)
}

/// COPY of two keys of this core; the copy keeps the source's TTL.
async fn copy(core: &Rc<Core>, args: &[Bytes]) -> CommandResult {
    let replace = parse_copy_options(&args[3..])?;
    let (source, destination) = (args[1].clone(), args[2].clone());
    if source == destination {
        return Err(CommandError::Reply(Reply::error_static(SAME_OBJECT)));
    }
    let _latch = core.store.lock(&[source.clone(), destination.clone()]).await;
    let Some(value) = core.store.read(&source).await? else { return Ok(Reply::Integer(0)) };
    if !replace && core.store.read(&destination).await?.is_some() {
        return Ok(Reply::Integer(0));
    }
    core.store.write(vec![Mutation::Put(destination, value.into_value())]).await?;
    Ok(Reply::Integer(1))
}

fn internal_arity(args: &[Bytes], arity: usize) -> Result<(), CommandError> {
    if args.len() == arity {
        return Ok(());
    }
    Err(CommandError::Reply(errors::wrong_number_of_arguments(&super::lowercase_name(args))))
}

async fn record_get(core: &Rc<Core>, args: &[Bytes]) -> CommandResult {
    internal_arity(args, 2)?;
    Ok(core.store.read(&args[1]).await?.map_or(Reply::Null, |value| Reply::Bulk(value.encode())))
}

async fn record_put(core: &Rc<Core>, args: &[Bytes]) -> CommandResult {
    internal_arity(args, 4)?;
    let (key, record) = (args[1].clone(), args[2].clone());
    let Some(decoded) = StoredValue::decode(&record) else {
        return Err(CommandError::Reply(Reply::error("ERR invalid record")));
    };
    if decoded.expire_at_ms.is_some() {
        value::note_expiring_record();
    }
    let only_if_absent = is_word(&args[3], "nx");
    let _latch = core.store.lock(std::slice::from_ref(&key)).await;
    if only_if_absent && core.store.read(&key).await?.is_some() {
        return Ok(Reply::Integer(0));
    }
    core.store.write(vec![Mutation::Put(key, record.into())]).await?;
    Ok(Reply::Integer(1))
}

async fn record_delete_if(core: &Rc<Core>, args: &[Bytes]) -> CommandResult {
    internal_arity(args, 3)?;
    let key = args[1].clone();
    let _latch = core.store.lock(std::slice::from_ref(&key)).await;
    let unchanged = core.store.read(&key).await?.is_some_and(|value| value.encode() == args[2]);
    if unchanged {
        core.store.write(vec![Mutation::Delete(key)]).await?;
    }
    Ok(Reply::Integer(i64::from(unchanged)))
}

/// Keys the sweeper examines per step.
const SWEEP_STEP_KEYS: usize = 200;
/// Pause between sweep steps: bounds the sweeper to `SWEEP_STEP_KEYS` per pause per core.
const SWEEP_PAUSE: Duration = Duration::from_millis(100);
/// After a pass over all of a core's regions that found no key with an expiry, the sweeper
/// rests until a record with an expiry is written ([`value::expiring_records`]) or this long
/// has passed. The second bound covers keys whose TTL was written by another node and that this
/// core now leads: they are hidden from every read anyway and wait at most this long (plus a
/// pass) for their space to be reclaimed.
const IDLE_PASS_INTERVAL: Duration = Duration::from_secs(600);

/// Where the sweeper is: a region of this core and the last data key it examined there.
#[derive(Debug, Default)]
struct SweepCursor {
    region_index: usize,
    after: Option<Bytes>,
    /// Keys with an expiry (expired or not) examined in this pass.
    expiring_seen: u64,
}

/// Deletes expired keys in the background, forever (until shutdown): walks this core's regions
/// in order, `SWEEP_STEP_KEYS` keys per step and a pause between steps, and deletes the keys
/// whose record has expired, so their space is reclaimed without any client reading them.
///
/// A pass that finds no key with an expiry is followed by a rest (see [`IDLE_PASS_INTERVAL`]),
/// as Redis samples only the keys that have a TTL: a data set without TTLs costs no scanning
/// once a pass is over. A step that finds an empty region goes on to the next without a pause,
/// so the first pass of a server that starts empty ends at once. (With a pass over all keys at
/// 2,000 keys a second, a core holding 600k keys of 1 KiB spent about 7% of its CPU reading
/// them again and again.)
pub async fn reclaim_expired(core: Rc<Core>) {
    let regions: Vec<(u16, u16)> =
        core.map().regions_of_core(core.id).map(|region| (region.start_slot, region.end_slot as u16)).collect();
    let mut cursor = SweepCursor::default();
    let mut expiring_at_pass_start = value::expiring_records();
    while !core.node.shutting_down() {
        if !regions.is_empty() {
            match sweep_step(&core, &regions, &mut cursor).await {
                Ok(Step { pass_done: true, .. }) => {
                    if cursor.expiring_seen == 0 {
                        rest_until_expiring_write(&core, expiring_at_pass_start).await;
                    }
                    cursor.expiring_seen = 0;
                    expiring_at_pass_start = value::expiring_records();
                }
                Ok(Step { examined: 0, .. }) => continue,
                Ok(_) => {}
                Err(error) => tracing::debug!(%error, core = core.id, "expired-key sweep step failed; retrying later"),
            }
        }
        glommio::timer::sleep(SWEEP_PAUSE).await;
    }
}

/// Waits until a record with an expiry has been written since `expiring_before` was read, or
/// [`IDLE_PASS_INTERVAL`] has passed, or the node shuts down.
async fn rest_until_expiring_write(core: &Core, expiring_before: u64) {
    let started = std::time::Instant::now();
    while value::expiring_records() == expiring_before
        && started.elapsed() < IDLE_PASS_INTERVAL
        && !core.node.shutting_down()
    {
        glommio::timer::sleep(SWEEP_PAUSE).await;
    }
}

/// What one sweep step did.
struct Step {
    /// Keys examined.
    examined: usize,
    /// The step finished a pass over all the regions.
    pass_done: bool,
}

/// Examines the next step's keys and deletes the expired ones.
async fn sweep_step(core: &Rc<Core>, regions: &[(u16, u16)], cursor: &mut SweepCursor) -> Result<Step, StoreError> {
    let (first_slot, end_slot) = regions[cursor.region_index % regions.len()];
    let entries = core.store.scan(first_slot, end_slot, cursor.after.as_deref(), SWEEP_STEP_KEYS, false).await?;
    let region_done = entries.len() < SWEEP_STEP_KEYS;
    let step = Step { examined: entries.len(), pass_done: region_done && cursor.region_index + 1 >= regions.len() };
    if region_done {
        cursor.region_index = (cursor.region_index + 1) % regions.len();
        cursor.after = None;
    } else {
        cursor.after = entries.last().map(|entry| entry.data_key.clone());
    }
    let now = now_ms();
    let mut expired = Vec::new();
    for entry in entries {
        let Some(record) = StoredValue::decode(&entry.value) else { continue };
        cursor.expiring_seen += u64::from(record.expire_at_ms.is_some());
        if record.is_expired(now) {
            expired.push(entry.user_key);
        }
    }
    delete_expired(core, expired).await?;
    Ok(step)
}

/// Deletes the keys that are still expired under their latches (a command may have written a
/// new value since the scan saw them).
async fn delete_expired(core: &Rc<Core>, keys: Vec<Bytes>) -> Result<(), StoreError> {
    if keys.is_empty() {
        return Ok(());
    }
    let _latch = core.store.lock(&keys).await;
    let values = read_all(core, &keys).await?;
    let mutations: Vec<Mutation> = keys
        .into_iter()
        .zip(values)
        .filter(|(_, value)| value.is_none())
        .map(|(key, _)| Mutation::Delete(key))
        .collect();
    let expired = mutations.len() as u64;
    core.store.write_grouped(mutations).await?;
    core.stats.borrow_mut().record_expired(expired);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(list: &[&str]) -> Vec<Bytes> {
        list.iter().map(|w| Bytes::copy_from_slice(w.as_bytes())).collect()
    }

    fn error_text(result: Result<impl std::fmt::Debug, CommandError>) -> String {
        match result {
            Err(CommandError::Reply(Reply::Error(text))) => String::from_utf8_lossy(&text).into_owned(),
            other => panic!("expected an error reply, got {other:?}"),
        }
    }

    #[test]
    fn expire_options_follow_redis_compatibility_rules() {
        assert_eq!(
            ExpireCondition::parse(&words(&["nx"])).ok(),
            Some(ExpireCondition { nx: true, ..Default::default() })
        );
        assert!(ExpireCondition::parse(&words(&["XX", "gt"])).is_ok());
        assert_eq!(error_text(ExpireCondition::parse(&words(&["nx", "xx"]))), errors::EXPIRE_NX_AND_OTHERS);
        assert_eq!(error_text(ExpireCondition::parse(&words(&["gt", "lt"]))), errors::EXPIRE_GT_AND_LT);
        assert_eq!(error_text(ExpireCondition::parse(&words(&["foo"]))), "ERR Unsupported option foo");
    }

    #[test]
    fn expire_conditions_treat_no_ttl_as_infinite() {
        let parse = |list: &[&str]| ExpireCondition::parse(&words(list)).expect("valid");
        assert!(parse(&["nx"]).allows(None, 5));
        assert!(!parse(&["nx"]).allows(Some(10), 5));
        assert!(!parse(&["xx"]).allows(None, 5));
        assert!(!parse(&["gt"]).allows(None, 5));
        assert!(parse(&["gt"]).allows(Some(4), 5));
        assert!(!parse(&["gt"]).allows(Some(5), 5));
        assert!(parse(&["lt"]).allows(None, 5));
        assert!(!parse(&["lt"]).allows(Some(5), 5));
        assert!(parse(&["xx", "lt"]).allows(Some(6), 5));
    }

    #[test]
    fn expire_time_overflow_is_an_error() {
        assert_eq!(expire_at_ms(10, true, 1000, "expire").ok(), Some(11_000));
        assert_eq!(expire_at_ms(-10, false, 0, "pexpireat").ok(), Some(-10));
        assert_eq!(
            error_text(expire_at_ms(i64::MAX / 1000 + 1, true, 0, "expire")),
            "ERR invalid expire time in 'expire' command"
        );
        assert!(expire_at_ms(i64::MAX, false, 1, "pexpire").is_err());
        assert!(expire_at_ms(i64::MIN, false, 1, "pexpire").is_ok());
    }

    #[test]
    fn copy_options() {
        assert_eq!(parse_copy_options(&words(&[])).ok(), Some(false));
        assert_eq!(parse_copy_options(&words(&["replace", "db", "0"])).ok(), Some(true));
        assert_eq!(error_text(parse_copy_options(&words(&["db"]))), errors::SYNTAX);
        assert_eq!(error_text(parse_copy_options(&words(&["db", "1"]))), errors::DB_INDEX_OUT_OF_RANGE);
        assert_eq!(error_text(parse_copy_options(&words(&["db", "x"]))), errors::NOT_AN_INTEGER);
        assert!(
            error_text(parse_copy_options(&words(&["db", "99999999999"]))).starts_with("ERR value is out of range")
        );
    }
}
