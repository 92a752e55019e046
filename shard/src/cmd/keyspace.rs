//! Node-wide keyspace commands: SCAN, KEYS, RANDOMKEY, DBSIZE, FLUSHDB/FLUSHALL, and each
//! core's part of them.
//!
//! The connection's core coordinates: DBSIZE, KEYS, RANDOMKEY and FLUSH fan out to every core
//! (`Core::fanout`), each core walking its own regions ([`fanout_part`]); SCAN visits the slots
//! in order, asking the owner core of the next slot for one step at a time.
//!
//! SCAN cursor:
//!
//! ```text
//! +--------------------+---------------------------------------+
//! | slot (bits 40..54) | position token (bits 0..40; 0: start) |
//! +--------------------+---------------------------------------+
//! ```
//!
//! The owner core of the slot keeps a bounded table `token -> last data key returned` (per
//! core, FIFO eviction). A step resumes after that key, so a key present for the whole scan is
//! returned whatever is written meanwhile (keys are visited in data-key order). An unknown or
//! evicted token (a restart, a very old cursor) restarts its slot from the beginning: keys may
//! come twice, none is missed. A cursor whose slot is past the last slot ends the scan.
//!
//! DBSIZE, KEYS and SCAN read every record (not keys only) to hide expired keys; DBSIZE is
//! therefore O(keys) here, not O(1) as in Redis.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::hash::BuildHasher;
use std::rc::Rc;

use bytes::Bytes;
use nokv_engine::{Cf, WriteBatch};
use nokv_net::errors;
use nokv_net::frame::Reply;
use nokv_txn::mvcc::ScanEntry;

use super::{CommandError, CommandResult, into_reply, is_word, parse_i64, syntax_error};
use crate::call::{CoreCall, Fanout};
use crate::core::Core;
use crate::routing::{RegionDesc, SLOT_COUNT};
use crate::store::{StoreError, decode_live, join_all};
use crate::value::{StoredValue, now_ms};

/// Runs a keyspace command on the connection's core, or `None` if `name` is not one.
pub async fn execute(core: &Rc<Core>, name: &str, args: &[Bytes]) -> Option<CommandResult> {
    Some(match name {
        "dbsize" => dbsize(core).await,
        "keys" => keys(core, &args[1]).await,
        "scan" => scan(core, args).await,
        "randomkey" => random_key(core).await,
        "flushdb" | "flushall" => flush(core, args).await,
        _ => return None,
    })
}

/// This core's part of a keyspace fan-out, or `None` if `fanout` is not a keyspace one.
pub async fn fanout_part(core: &Rc<Core>, fanout: &Fanout) -> Option<Reply> {
    let result = match fanout {
        Fanout::DbSize => count_live_keys(core).await,
        Fanout::Keys(pattern) => matching_keys(core, pattern).await,
        Fanout::Flush => flush_regions(core).await,
        Fanout::Scan { cursor, count, pattern, type_name } => {
            scan_step(core, *cursor, *count, pattern.as_ref(), type_name.as_ref()).await
        }
        Fanout::RandomKey => random_local_key(core).await,
        _ => return None,
    };
    Some(into_reply(result))
}

/// The replies of a fan-out, or the first error among them.
fn replies_or_error(replies: Vec<Reply>) -> Result<Vec<Reply>, CommandError> {
    match replies.iter().find(|reply| reply.is_error()) {
        Some(error) => Err(CommandError::Reply(error.clone())),
        None => Ok(replies),
    }
}

fn unexpected(reply: &Reply) -> CommandError {
    CommandError::Reply(Reply::error(format!("ERR unexpected reply from a core: {reply:?}")))
}

async fn dbsize(core: &Rc<Core>) -> CommandResult {
    let mut total = 0;
    for reply in replies_or_error(core.fanout(Fanout::DbSize).await)? {
        match reply {
            Reply::Integer(count) => total += count,
            other => return Err(unexpected(&other)),
        }
    }
    Ok(Reply::Integer(total))
}

async fn keys(core: &Rc<Core>, pattern: &Bytes) -> CommandResult {
    let mut found = Vec::new();
    for reply in replies_or_error(core.fanout(Fanout::Keys(pattern.clone())).await)? {
        match reply {
            Reply::Array(keys) => found.extend(keys),
            other => return Err(unexpected(&other)),
        }
    }
    Ok(Reply::Array(found))
}

async fn random_key(core: &Rc<Core>) -> CommandResult {
    let replies = replies_or_error(core.fanout(Fanout::RandomKey).await)?;
    let candidates: Vec<Reply> = replies.into_iter().filter(|reply| matches!(reply, Reply::Bulk(_))).collect();
    if candidates.is_empty() {
        return Ok(Reply::Null);
    }
    let pick = (random_u64() % candidates.len() as u64) as usize;
    Ok(candidates.into_iter().nth(pick).expect("pick is below the candidate count"))
}

/// FLUSHDB / FLUSHALL [ASYNC | SYNC]: both delete every key before replying.
async fn flush(core: &Rc<Core>, args: &[Bytes]) -> CommandResult {
    match args {
        [_] => {}
        [_, mode] if is_word(mode, "sync") || is_word(mode, "async") => {}
        _ => return Err(syntax_error()),
    }
    replies_or_error(core.fanout(Fanout::Flush).await)?;
    Ok(Reply::ok())
}

/// A random number (SipHash of a counter under fresh random keys; enough for RANDOMKEY and
/// cursor tokens, no dependency needed).
fn random_u64() -> u64 {
    std::hash::RandomState::new().hash_one(now_ms())
}

/// The slot range `[first, end)` of a region, as the store's scan takes it.
fn slot_bounds(region: &RegionDesc) -> (u16, u16) {
    (region.start_slot, region.end_slot as u16)
}

fn owned_regions(core: &Core) -> Vec<RegionDesc> {
    core.map().regions_of_core(core.id).cloned().collect()
}

/// Records read per store scan while walking a core's keys.
const WALK_CHUNK_KEYS: usize = 1024;

/// Calls `visit` with every live key of this core's regions and its value, in data-key order.
async fn walk_live_keys(core: &Rc<Core>, mut visit: impl FnMut(&ScanEntry, &StoredValue)) -> Result<(), StoreError> {
    for region in owned_regions(core) {
        let (first_slot, end_slot) = slot_bounds(&region);
        let mut after: Option<Bytes> = None;
        loop {
            let entries = core.store.scan(first_slot, end_slot, after.as_deref(), WALK_CHUNK_KEYS, false).await?;
            let now = now_ms();
            for entry in &entries {
                if let Some(value) = decode_live(&entry.value, now) {
                    visit(entry, &value);
                }
            }
            if entries.len() < WALK_CHUNK_KEYS {
                break;
            }
            after = entries.last().map(|entry| entry.data_key.clone());
            glommio::yield_if_needed().await;
        }
    }
    Ok(())
}

async fn count_live_keys(core: &Rc<Core>) -> CommandResult {
    let mut count = 0;
    walk_live_keys(core, |_, _| count += 1).await?;
    Ok(Reply::Integer(count))
}

async fn matching_keys(core: &Rc<Core>, pattern: &Bytes) -> CommandResult {
    let all = pattern.as_ref() == b"*";
    let mut found = Vec::new();
    walk_live_keys(core, |entry, _| {
        if all || glob_match(pattern, &entry.user_key) {
            found.push(Reply::Bulk(entry.user_key.clone()));
        }
    })
    .await?;
    Ok(Reply::Array(found))
}

/// Deletes every key of this core: one raft-proposed range delete per region over its slots in
/// the Write, Default and Lock column families (locks of unfinished transactions go too).
async fn flush_regions(core: &Rc<Core>) -> CommandResult {
    let writes: Vec<_> = owned_regions(core)
        .iter()
        .map(|region| {
            let (start, end) = nokv_txn::keys::slot_range(region.start_slot, region.end_slot as u16);
            let mut batch = WriteBatch::new();
            for cf in [Cf::Write, Cf::Default, Cf::Lock] {
                batch.delete_range(cf, start.clone(), end.clone());
            }
            core.store.write_raw(region.id, batch)
        })
        .collect();
    for result in join_all(writes).await {
        result?;
    }
    Ok(Reply::ok())
}

/// Keys a RANDOMKEY probe reads per scan.
const RANDOM_PROBE_KEYS: usize = 64;

/// A random live key of this core, or nil: starts at a random slot of a random owned region and
/// walks forward through the core's regions (wrapping) to the first live key.
async fn random_local_key(core: &Rc<Core>) -> CommandResult {
    let regions = owned_regions(core);
    if regions.is_empty() {
        return Ok(Reply::Null);
    }
    let first = (random_u64() % regions.len() as u64) as usize;
    let (start_slot, end_slot) = slot_bounds(&regions[first]);
    let split = start_slot + (random_u64() % u64::from(end_slot - start_slot)) as u16;
    let mut ranges = vec![(split, end_slot)];
    ranges.extend((1..regions.len()).map(|offset| slot_bounds(&regions[(first + offset) % regions.len()])));
    ranges.push((start_slot, split));
    for (first_slot, end_slot) in ranges {
        if let Some(key) = first_live_key(core, first_slot, end_slot).await? {
            return Ok(Reply::Bulk(key));
        }
    }
    Ok(Reply::Null)
}

async fn first_live_key(core: &Rc<Core>, first_slot: u16, end_slot: u16) -> Result<Option<Bytes>, StoreError> {
    if first_slot >= end_slot {
        return Ok(None);
    }
    let mut after: Option<Bytes> = None;
    loop {
        let entries = core.store.scan(first_slot, end_slot, after.as_deref(), RANDOM_PROBE_KEYS, false).await?;
        let now = now_ms();
        if let Some(entry) = entries.iter().find(|entry| decode_live(&entry.value, now).is_some()) {
            return Ok(Some(entry.user_key.clone()));
        }
        if entries.len() < RANDOM_PROBE_KEYS {
            return Ok(None);
        }
        after = entries.last().map(|entry| entry.data_key.clone());
        glommio::yield_if_needed().await;
    }
}

/// Bits of the position token in a SCAN cursor.
const TOKEN_BITS: u32 = 40;
const TOKEN_MASK: u64 = (1 << TOKEN_BITS) - 1;
/// Positions a core remembers for SCAN cursors (bounded memory; older ones restart their slot).
const SCAN_TOKENS_MAX: usize = 16384;
/// Region steps one SCAN call takes at most (an empty keyspace of many regions is walked over
/// several calls rather than in one long one).
const SCAN_MAX_STEPS: usize = 64;
/// SCAN's default COUNT.
const SCAN_DEFAULT_COUNT: usize = 10;

/// The cursor of position `token` in `slot`.
fn make_cursor(slot: u16, token: u64) -> u64 {
    (u64::from(slot) << TOKEN_BITS) | (token & TOKEN_MASK)
}

/// The slot a cursor points into, or `None` when it is past the last slot (scan done).
fn cursor_slot(cursor: u64) -> Option<u16> {
    u16::try_from(cursor >> TOKEN_BITS).ok().filter(|&slot| slot < SLOT_COUNT)
}

/// This core's remembered SCAN positions.
struct ScanTokens {
    next: u64,
    positions: HashMap<u64, Bytes>,
    order: VecDeque<u64>,
}

impl ScanTokens {
    fn new() -> ScanTokens {
        // A random start: a cursor from before a restart is then unlikely to name a new entry.
        ScanTokens { next: random_u64() & TOKEN_MASK, positions: HashMap::new(), order: VecDeque::new() }
    }

    /// Remembers `data_key` and returns its non-zero token.
    fn remember(&mut self, data_key: Bytes) -> u64 {
        self.next = (self.next + 1) & TOKEN_MASK;
        if self.next == 0 {
            self.next = 1;
        }
        if self.order.len() >= SCAN_TOKENS_MAX
            && let Some(oldest) = self.order.pop_front()
        {
            self.positions.remove(&oldest);
        }
        self.positions.insert(self.next, data_key);
        self.order.push_back(self.next);
        self.next
    }

    fn position(&self, token: u64) -> Option<Bytes> {
        self.positions.get(&token).cloned()
    }
}

thread_local! {
    // Each core is one executor thread, so this is the core's own table (it would live in `Core`,
    // which this module does not own).
    static SCAN_TOKENS: RefCell<ScanTokens> = RefCell::new(ScanTokens::new());
}

/// Parses a SCAN cursor as Redis's `strtoul` check does: decimal, an optional sign (a minus
/// wraps), no leading space, no trailing garbage, no overflow; the empty string is 0.
pub fn parse_cursor(text: &[u8]) -> Result<u64, CommandError> {
    let invalid = || CommandError::Reply(Reply::error_static(errors::INVALID_CURSOR));
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, text),
    };
    if digits.is_empty() {
        // strtoul consumed nothing: only the empty string ends right there.
        return if text.is_empty() { Ok(0) } else { Err(invalid()) };
    }
    let mut value: u64 = 0;
    for &digit in digits {
        if !digit.is_ascii_digit() {
            return Err(invalid());
        }
        value = value.checked_mul(10).and_then(|v| v.checked_add(u64::from(digit - b'0'))).ok_or_else(invalid)?;
    }
    Ok(if negative { value.wrapping_neg() } else { value })
}

/// SCAN's options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanOptions {
    /// Keys to examine (a hint).
    pub count: usize,
    /// MATCH pattern (`None` for none or `*`).
    pub pattern: Option<Bytes>,
    /// TYPE filter.
    pub type_name: Option<Bytes>,
}

impl ScanOptions {
    /// Parses `[MATCH pattern] [COUNT count] [TYPE type]` in any order, with Redis's errors.
    pub fn parse(options: &[Bytes]) -> Result<ScanOptions, CommandError> {
        let mut parsed = ScanOptions { count: SCAN_DEFAULT_COUNT, pattern: None, type_name: None };
        let mut index = 0;
        while index < options.len() {
            let (option, value) = match (options.get(index), options.get(index + 1)) {
                (Some(option), Some(value)) => (option, value),
                _ => return Err(syntax_error()),
            };
            if is_word(option, "count") {
                let count = parse_i64(value)?;
                if count < 1 {
                    return Err(syntax_error());
                }
                parsed.count = usize::try_from(count).unwrap_or(usize::MAX);
            } else if is_word(option, "match") {
                parsed.pattern = (value.as_ref() != b"*").then(|| value.clone());
            } else if is_word(option, "type") {
                parsed.type_name = Some(value.clone());
            } else {
                return Err(syntax_error());
            }
            index += 2;
        }
        Ok(parsed)
    }
}

async fn scan(core: &Rc<Core>, args: &[Bytes]) -> CommandResult {
    let mut cursor = parse_cursor(&args[1])?;
    let options = ScanOptions::parse(&args[2..])?;
    let mut keys = Vec::new();
    let mut examined = 0;
    for _ in 0..SCAN_MAX_STEPS {
        let Some(slot) = cursor_slot(cursor) else {
            cursor = 0;
            break;
        };
        let owner = core.map().region_of_slot(slot).owner_core;
        let step = Fanout::Scan {
            cursor,
            count: options.count - examined,
            pattern: options.pattern.clone(),
            type_name: options.type_name.clone(),
        };
        let (next, step_examined, step_keys) = parse_step(core.call_core(owner, CoreCall::Fanout(step)).await)?;
        keys.extend(step_keys);
        examined += step_examined;
        cursor = next;
        if cursor == 0 || examined >= options.count {
            break;
        }
    }
    Ok(Reply::Array(vec![Reply::Bulk(Bytes::from(cursor.to_string())), Reply::Array(keys)]))
}

/// A scan step's reply: `[next cursor, keys examined, [keys]]`.
fn parse_step(reply: Reply) -> Result<(u64, usize, Vec<Reply>), CommandError> {
    match reply {
        Reply::Array(mut parts) if parts.len() == 3 => {
            let keys = match parts.pop() {
                Some(Reply::Array(keys)) => keys,
                other => return Err(unexpected(&other.unwrap_or(Reply::Null))),
            };
            match (&parts[0], &parts[1]) {
                (Reply::Integer(next), Reply::Integer(examined)) => Ok((*next as u64, *examined as usize, keys)),
                _ => Err(unexpected(&Reply::Array(parts))),
            }
        }
        Reply::Error(text) => Err(CommandError::Reply(Reply::Error(text))),
        other => Err(unexpected(&other)),
    }
}

/// Where a step starts: after the remembered key, or at the start of the cursor's slot.
fn step_start(slot: u16, token: u64) -> Option<Bytes> {
    if token == 0 {
        return None;
    }
    let key = SCAN_TOKENS.with(|tokens| tokens.borrow().position(token))?;
    (key.get(..2) == Some(&slot.to_be_bytes()[..])).then_some(key)
}

/// One SCAN step on the owner core of the cursor's slot: examines up to `count` keys from the
/// cursor to the end of the slot's region; replies `[next cursor, examined, [keys]]`.
async fn scan_step(
    core: &Rc<Core>,
    cursor: u64,
    count: usize,
    pattern: Option<&Bytes>,
    type_name: Option<&Bytes>,
) -> CommandResult {
    let slot = cursor_slot(cursor).ok_or_else(|| CommandError::Reply(Reply::error_static(errors::INVALID_CURSOR)))?;
    let region = core.map().region_of_slot(slot).clone();
    if region.owner_core != core.id {
        return Err(CommandError::Reply(Reply::error("ERR scan step sent to a core that does not own the slot")));
    }
    let after = step_start(slot, cursor & TOKEN_MASK);
    let count = count.max(1);
    let entries = core.store.scan(slot, region.end_slot as u16, after.as_deref(), count, false).await?;
    let next = match entries.last() {
        Some(last) if entries.len() >= count => {
            let last_slot = u16::from_be_bytes([last.data_key[0], last.data_key[1]]);
            let token = SCAN_TOKENS.with(|tokens| tokens.borrow_mut().remember(last.data_key.clone()));
            make_cursor(last_slot, token)
        }
        _ if region.end_slot >= u32::from(SLOT_COUNT) => 0,
        _ => make_cursor(region.end_slot as u16, 0),
    };
    let examined = entries.len() as i64;
    let now = now_ms();
    let keys: Vec<Reply> = entries
        .into_iter()
        .filter(|entry| {
            let Some(value) = decode_live(&entry.value, now) else { return false };
            type_name.is_none_or(|wanted| is_word(wanted, value.value_type.name()))
                && pattern.is_none_or(|pattern| glob_match(pattern, &entry.user_key))
        })
        .map(|entry| Reply::Bulk(entry.user_key))
        .collect();
    Ok(Reply::Array(vec![Reply::Integer(next as i64), Reply::Integer(examined), Reply::Array(keys)]))
}

/// Deepest `*` nesting the matcher follows before giving up (no match), bounding its stack.
const GLOB_MAX_NESTING: usize = 1000;

/// Redis's glob (`stringmatchlen`, case-sensitive): `*`, `?`, `[abc]`, `[^abc]`, `[a-z]`
/// (reversed ranges allowed), `\x` escapes, and Redis's treatment of unterminated classes.
/// The `*` pattern alone does not match the empty string here; KEYS and SCAN short-cut it.
pub fn glob_match(pattern: &[u8], string: &[u8]) -> bool {
    let mut skip_longer_matches = false;
    glob_match_from(pattern, string, &mut skip_longer_matches, 0)
}

fn glob_match_from(pattern: &[u8], string: &[u8], skip_longer_matches: &mut bool, nesting: usize) -> bool {
    if nesting > GLOB_MAX_NESTING {
        return false;
    }
    let (mut p, mut s) = (0, 0);
    while p < pattern.len() && s < string.len() {
        match pattern[p] {
            b'*' => return glob_star(pattern, p, &string[s..], skip_longer_matches, nesting),
            b'?' => {}
            b'[' => {
                let (matched, class_end) = glob_class(pattern, p + 1, string[s]);
                if !matched {
                    return false;
                }
                p = class_end;
            }
            b'\\' => {
                if pattern.len() - p >= 2 {
                    p += 1;
                }
                if pattern[p] != string[s] {
                    return false;
                }
            }
            byte if byte != string[s] => return false,
            _ => {}
        }
        s += 1;
        p += 1;
        if s == string.len() {
            while p < pattern.len() && pattern[p] == b'*' {
                p += 1;
            }
        }
    }
    p == pattern.len() && s == string.len()
}

/// Matches the `*` at `pattern[star]` against every suffix of `rest`. Once the remainder failed
/// to match from every position, no earlier `*` can help either (Redis's `skipLongerMatches`).
fn glob_star(pattern: &[u8], mut star: usize, rest: &[u8], skip_longer_matches: &mut bool, nesting: usize) -> bool {
    while star + 1 < pattern.len() && pattern[star + 1] == b'*' {
        star += 1;
    }
    if star + 1 == pattern.len() {
        return true;
    }
    for start in 0..rest.len() {
        if glob_match_from(&pattern[star + 1..], &rest[start..], skip_longer_matches, nesting + 1) {
            return true;
        }
        if *skip_longer_matches {
            return false;
        }
    }
    *skip_longer_matches = true;
    false
}

/// Matches `byte` against the class starting at `pattern[p]` (after its `[`); returns whether it
/// matched and the index of the class's last pattern byte. Ranges compare bytes as C's signed
/// `char`, as Redis does.
fn glob_class(pattern: &[u8], mut p: usize, byte: u8) -> (bool, usize) {
    let negate = pattern.get(p) == Some(&b'^');
    if negate {
        p += 1;
    }
    let mut matched = false;
    loop {
        let left = pattern.len() - p;
        if left >= 2 && pattern[p] == b'\\' {
            p += 1;
            matched |= pattern[p] == byte;
        } else if left >= 1 && pattern[p] == b']' {
            break;
        } else if left == 0 {
            // Unterminated class: Redis steps back so the outer loop ends at the pattern's end.
            p -= 1;
            break;
        } else if left >= 3 && pattern[p + 1] == b'-' {
            let (low, high) = ordered(pattern[p] as i8, pattern[p + 2] as i8);
            matched |= (low..=high).contains(&(byte as i8));
            p += 2;
        } else {
            matched |= pattern[p] == byte;
        }
        p += 1;
    }
    (matched != negate, p)
}

fn ordered(a: i8, b: i8) -> (i8, i8) {
    if a <= b { (a, b) } else { (b, a) }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Keys and, per pattern, the keys Redis 7.0.15's KEYS returned for them.
    const KEYS: &[&str] = &[
        "a", "b", "c", "ab", "abc", "abd", "hello", "hallo", "hllo", "heeeello", "hxllo", "h[llo", "h]llo", "a*b",
        "a?b", "a\\b", "^", "-", "x-y", "[", "A", "",
    ];

    const REDIS_RESULTS: &[(&str, &[&str])] = &[
        ("h?llo", &["h]llo", "hxllo", "hallo", "h[llo", "hello"]),
        ("h*llo", &["h]llo", "hllo", "heeeello", "hxllo", "hallo", "h[llo", "hello"]),
        ("h[ae]llo", &["hallo", "hello"]),
        ("h[^e]llo", &["h]llo", "hxllo", "hallo", "h[llo"]),
        ("h[a-b]llo", &["hallo"]),
        ("h[b-a]llo", &["hallo"]),
        ("a\\*b", &["a*b"]),
        ("a\\?b", &["a?b"]),
        ("a\\\\b", &["a\\b"]),
        ("[", &[]),
        ("[^", &["A", "a", "b", "[", "c", "-", "^"]),
        ("[a", &["a"]),
        ("[]", &[]),
        ("[^]", &["A", "a", "b", "[", "c", "-", "^"]),
        ("[\\]]", &[]),
        ("h\\[llo", &["h[llo"]),
        ("[\\-]", &["-"]),
        ("[a-]", &["a", "^"]),
        ("[-a]", &["a", "-"]),
        ("a[bc", &["ab"]),
        ("**b", &["a*b", "b", "ab", "a\\b", "a?b"]),
        ("*b*", &["abc", "a*b", "b", "abd", "ab", "a\\b", "a?b"]),
        ("?", &["A", "a", "b", "[", "c", "-", "^"]),
        ("??", &["ab"]),
        ("", &[""]),
        ("\\", &[]),
        ("a\\", &[]),
        ("*[", &[]),
        ("[*]", &[]),
        ("x[-]y", &["x-y"]),
        ("x[!-z]y", &["x-y"]),
        ("[a-c]", &["a", "b", "c"]),
        ("[A-a]", &["A", "a", "[", "^"]),
        ("h[l]*", &["hllo"]),
        ("*c", &["abc", "c"]),
        ("abc*", &["abc"]),
        ("a*c", &["abc"]),
        ("a*d*", &["abd"]),
        ("[[]llo", &[]),
        ("h[[]llo", &["h[llo"]),
        ("h[]]llo", &[]),
    ];

    #[test]
    fn glob_matches_what_redis_keys_returns() {
        for (pattern, expected) in REDIS_RESULTS {
            for key in KEYS {
                let want = expected.contains(key);
                assert_eq!(glob_match(pattern.as_bytes(), key.as_bytes()), want, "pattern {pattern:?} key {key:?}");
            }
        }
    }

    #[test]
    fn glob_escapes_inside_classes_and_pathological_patterns() {
        assert!(glob_match(b"[\\]]]", b"]]"));
        assert!(glob_match(b"*a*a*a*a*a*a*a*b", b"aaaaaaaaaaaaaaaaaaaaaaaaab"));
        assert!(!glob_match(b"*a*a*a*a*a*a*a*a*a*a*a*b", &[b'a'; 200]), "must finish quickly");
        // Redis 7.0.15 also gives up past 1000 nested stars (KEYS returns nothing here).
        let deep: Vec<u8> = b"*a".repeat(2000);
        assert!(!glob_match(&deep, &[b'a'; 3000]), "deep nesting stays bounded");
        assert!(glob_match(b"user:*", b"user:42"));
        assert!(!glob_match(b"user:*", b"usr:42"));
    }

    #[test]
    fn cursors_parse_like_strtoul() {
        assert_eq!(parse_cursor(b"0").ok(), Some(0));
        assert_eq!(parse_cursor(b"").ok(), Some(0));
        assert_eq!(parse_cursor(b"+5").ok(), Some(5));
        assert_eq!(parse_cursor(b"-1").ok(), Some(u64::MAX));
        assert_eq!(parse_cursor(b"18446744073709551615").ok(), Some(u64::MAX));
        for bad in [&b" 1"[..], b"1 ", b"x", b"18446744073709551616", b"-", b"1.5"] {
            assert!(parse_cursor(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn cursor_layout_round_trips() {
        let cursor = make_cursor(16383, TOKEN_MASK);
        assert_eq!(cursor_slot(cursor), Some(16383));
        assert_eq!(cursor & TOKEN_MASK, TOKEN_MASK);
        assert_eq!(cursor_slot(make_cursor(5, 0)), Some(5));
        assert_eq!(cursor_slot(u64::MAX), None);
        assert_eq!(cursor_slot(u64::from(SLOT_COUNT) << TOKEN_BITS), None);
    }

    #[test]
    fn scan_options_parse_with_redis_errors() {
        let words = |list: &[&str]| list.iter().map(|w| Bytes::copy_from_slice(w.as_bytes())).collect::<Vec<_>>();
        let parsed = ScanOptions::parse(&words(&["MATCH", "a*", "count", "5", "TYPE", "string"])).expect("valid");
        assert_eq!(parsed.count, 5);
        assert_eq!(parsed.pattern.as_deref(), Some(&b"a*"[..]));
        assert_eq!(parsed.type_name.as_deref(), Some(&b"string"[..]));
        assert_eq!(ScanOptions::parse(&words(&["match", "*"])).expect("valid").pattern, None);
        for bad in [&["count", "0"][..], &["count"], &["foo", "bar"], &["count", "x"]] {
            assert!(ScanOptions::parse(&words(bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn scan_tokens_are_bounded_and_nonzero() {
        let mut tokens = ScanTokens { next: TOKEN_MASK - 1, positions: HashMap::new(), order: VecDeque::new() };
        let first = tokens.remember(Bytes::from_static(b"k1"));
        let second = tokens.remember(Bytes::from_static(b"k2"));
        assert_eq!(first, TOKEN_MASK);
        assert_eq!(second, 1, "wraps past zero");
        for index in 0..SCAN_TOKENS_MAX {
            tokens.remember(Bytes::from(format!("x{index}")));
        }
        assert_eq!(tokens.positions.len(), SCAN_TOKENS_MAX);
        assert_eq!(tokens.position(first), None, "oldest evicted");
    }
}
