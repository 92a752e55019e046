//! The checker's model: for every key the soak writes, the state the server must hold now, the
//! writes sent but not yet acknowledged, and after a crash the states the server may hold.
//!
//! Each key is written by exactly one client connection (see [`super::workload`]), and a
//! connection's commands run in the order sent, so a key's writes form one sequence: an
//! acknowledged prefix, folded into [`KeyModel::settled`], and an unacknowledged suffix,
//! [`KeyModel::pending`]. While the server runs, every reply is checked against `settled` (a
//! GET must read exactly it). When the server is killed, the pending writes may or may not have
//! reached the journal, but a write on a key never lands without the writes sent before it on
//! that key (one owner core, one journal, appended in order), so the acceptable states are
//! `settled` followed by any prefix of `pending` ([`KeyModel::candidates`]). INCR counters
//! therefore read at least their acknowledged value and at most that plus the in-flight
//! increments, and a deleted key stays deleted unless a later write was sent.
//!
//! TTLs are modelled as a deadline window: the server computes `now + ttl` when it executes the
//! write, somewhere between the client's send and the reply (or the kill), so the key must still
//! be live before the window, must be gone after it, and may be either inside it
//! ([`EXPIRY_SLACK_MS`] covers millisecond rounding on both sides).
//!
//! Invariant: `pending` holds writes in send order, and a reply settles its key's oldest pending
//! write (replies come in request order).

use std::collections::VecDeque;
use std::fmt;

use super::values::{Values, describe_bytes};

/// Milliseconds of tolerance around a TTL deadline (clock reads and rounding on both sides).
pub const EXPIRY_SLACK_MS: u64 = 50;

/// A value the soak wrote: the write that sent it and its length; [`Values`] makes its bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ValueId {
    pub write: u64,
    pub len_bytes: usize,
}

/// Where a key's expiry deadline lies (wall-clock milliseconds): the server computed it between
/// the request's send and its reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deadline {
    pub earliest_ms: u64,
    pub latest_ms: u64,
}

/// What a key holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyState {
    Absent,
    Value {
        value: ValueId,
        deadline: Option<Deadline>,
    },
    /// An INCR counter (never 0: a counter that was never incremented is absent).
    Counter(i64),
}

/// What a write does to one key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// SET or one key of an MSET (no TTL), or SET ... PX `ttl_ms`.
    Set {
        value: ValueId,
        ttl_ms: Option<u64>,
    },
    Delete,
    /// EXPIRE: sets a TTL if the key is live. Sent only to keys without a short TTL.
    Expire {
        ttl_ms: u64,
    },
    Incr,
}

/// A write sent on one key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Write {
    pub effect: Effect,
    pub sent_ms: u64,
}

impl KeyState {
    /// The state after `write`, whose reply arrived (or whose server was killed) at `settled_ms`.
    pub fn apply(self, write: Write, settled_ms: u64) -> KeyState {
        let deadline = |ttl_ms: u64| Deadline { earliest_ms: write.sent_ms + ttl_ms, latest_ms: settled_ms + ttl_ms };
        match (write.effect, self) {
            (Effect::Set { value, ttl_ms }, _) => KeyState::Value { value, deadline: ttl_ms.map(deadline) },
            (Effect::Delete, _) => KeyState::Absent,
            (Effect::Expire { ttl_ms }, KeyState::Value { value, .. }) => {
                KeyState::Value { value, deadline: Some(deadline(ttl_ms)) }
            }
            (Effect::Expire { .. }, other) => other,
            (Effect::Incr, KeyState::Counter(count)) => KeyState::Counter(count + 1),
            (Effect::Incr, _) => KeyState::Counter(1),
        }
    }

    /// Whether the key is live at every moment of `[from_ms, to_ms]` (`Some(true)`), at none
    /// (`Some(false)`), or it may expire within the window (`None`).
    pub fn live_between(&self, from_ms: u64, to_ms: u64) -> Option<bool> {
        match self {
            KeyState::Absent => Some(false),
            KeyState::Counter(_) | KeyState::Value { deadline: None, .. } => Some(true),
            KeyState::Value { deadline: Some(deadline), .. } => {
                if from_ms > deadline.latest_ms + EXPIRY_SLACK_MS {
                    Some(false)
                } else if to_ms + EXPIRY_SLACK_MS < deadline.earliest_ms {
                    Some(true)
                } else {
                    None
                }
            }
        }
    }

    /// Whether `observed` is what a server holding this state may answer.
    pub fn admits(&self, observed: &Observed, values: &Values) -> bool {
        let live = self.live_between(observed.from_ms, observed.to_ms);
        let Some(bytes) = &observed.value else {
            return live != Some(true) && matches!(observed.pttl_ms, None | Some(-2));
        };
        match self {
            KeyState::Absent => false,
            KeyState::Counter(count) => parse_counter(bytes) == Some(*count),
            KeyState::Value { value, deadline } => {
                live != Some(false) && values.matches(*value, bytes) && pttl_admits(*deadline, observed)
            }
        }
    }

    /// A line for a violation report.
    pub fn describe(&self) -> String {
        match self {
            KeyState::Absent => "absent".to_owned(),
            KeyState::Counter(count) => format!("counter {count}"),
            KeyState::Value { value, deadline: None } => {
                format!("value of write {:#x} ({} B), no TTL", value.write, value.len_bytes)
            }
            KeyState::Value { value, deadline: Some(deadline) } => format!(
                "value of write {:#x} ({} B), expiring in [{}, {}] ms (unix)",
                value.write, value.len_bytes, deadline.earliest_ms, deadline.latest_ms
            ),
        }
    }
}

/// Whether the PTTL read fits the deadline: -1 without one; with one, the remaining time the
/// window allows, or -2 if the key may have expired between the GET and the PTTL.
fn pttl_admits(deadline: Option<Deadline>, observed: &Observed) -> bool {
    let Some(pttl_ms) = observed.pttl_ms else { return true };
    let Some(deadline) = deadline else { return pttl_ms == -1 };
    if pttl_ms == -2 {
        return deadline.earliest_ms <= observed.to_ms + EXPIRY_SLACK_MS;
    }
    let Ok(remaining_ms) = u64::try_from(pttl_ms) else { return false };
    let lowest_ms = deadline.earliest_ms.saturating_sub(observed.to_ms + EXPIRY_SLACK_MS);
    let highest_ms = (deadline.latest_ms + EXPIRY_SLACK_MS).saturating_sub(observed.from_ms);
    (lowest_ms..=highest_ms).contains(&remaining_ms)
}

fn parse_counter(bytes: &[u8]) -> Option<i64> {
    std::str::from_utf8(bytes).ok()?.parse().ok()
}

/// What was read of a key: GET's value, PTTL's answer (not asked for counters), and the
/// wall-clock window in which both were read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Observed {
    pub value: Option<Vec<u8>>,
    pub pttl_ms: Option<i64>,
    pub from_ms: u64,
    pub to_ms: u64,
}

impl Observed {
    /// A line for a violation report.
    pub fn describe(&self) -> String {
        let value = self.value.as_deref().map_or_else(|| "nil".to_owned(), describe_bytes);
        match self.pttl_ms {
            Some(pttl_ms) => format!("{value}, PTTL {pttl_ms} (read in [{}, {}] ms)", self.from_ms, self.to_ms),
            None => format!("{value} (read in [{}, {}] ms)", self.from_ms, self.to_ms),
        }
    }
}

/// The kinds of keys, each with its own commands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// SET, MSET, DEL, EXPIRE (long TTL), GET.
    Value,
    /// INCR and GET only, so a counter never goes backwards.
    Counter,
    /// SET ... PX (short TTL), DEL, GET.
    ShortTtl,
}

/// One key: its name, what is known to be in it, and the writes on their way.
#[derive(Clone, Debug)]
pub struct KeyModel {
    pub name: Vec<u8>,
    pub family: Family,
    pub settled: KeyState,
    pub pending: VecDeque<Write>,
}

impl KeyModel {
    /// A key never written.
    pub fn new(name: Vec<u8>, family: Family) -> Self {
        Self { name, family, settled: KeyState::Absent, pending: VecDeque::new() }
    }

    /// Records the reply to the oldest pending write, received at `settled_ms`.
    pub fn settle_oldest(&mut self, settled_ms: u64) {
        let write = self.pending.pop_front().expect("a reply settles a write that was sent");
        self.settled = self.settled.apply(write, settled_ms);
    }

    /// The states the key may hold after the server was killed at `killed_ms`: the settled
    /// state, then after each pending write in turn.
    pub fn candidates(&self, killed_ms: u64) -> Vec<KeyState> {
        let mut states = Vec::with_capacity(self.pending.len() + 1);
        let mut state = self.settled;
        states.push(state);
        for write in &self.pending {
            state = state.apply(*write, killed_ms);
            states.push(state);
        }
        states
    }

    /// After a restart: checks `observed` against the candidates and, if one admits it, makes
    /// it the settled state and returns how many pending writes it took (`None`: a violation;
    /// the model is left as it was).
    pub fn resolve(&mut self, observed: &Observed, killed_ms: u64, values: &Values) -> Option<usize> {
        let candidates = self.candidates(killed_ms);
        let applied = candidates.iter().position(|state| state.admits(observed, values))?;
        self.settled = candidates[applied];
        self.pending.clear();
        Some(applied)
    }

    /// The key's name, printable.
    pub fn display_name(&self) -> String {
        String::from_utf8_lossy(&self.name).into_owned()
    }
}

/// A read the model does not admit: the key, when, what was acceptable and what was read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub key: String,
    pub when: String,
    pub expected: Vec<String>,
    pub read: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "VIOLATION on key {} ({})", self.key, self.when)?;
        for state in &self.expected {
            writeln!(f, "  acceptable: {state}")?;
        }
        write!(f, "  read:       {}", self.read)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SENT_MS: u64 = 1_000_000;

    fn values() -> Values {
        Values::new(7, 1024)
    }

    fn id(write: u64) -> ValueId {
        ValueId { write, len_bytes: 40 }
    }

    fn write(effect: Effect) -> Write {
        Write { effect, sent_ms: SENT_MS }
    }

    fn set(write_id: u64) -> Write {
        write(Effect::Set { value: id(write_id), ttl_ms: None })
    }

    fn read(values: &Values, value: Option<ValueId>, pttl_ms: Option<i64>, at_ms: u64) -> Observed {
        Observed { value: value.map(|value| values.bytes(value)), pttl_ms, from_ms: at_ms, to_ms: at_ms + 1 }
    }

    fn counter_read(count: Option<i64>) -> Observed {
        Observed { value: count.map(|c| c.to_string().into_bytes()), pttl_ms: None, from_ms: 0, to_ms: 1 }
    }

    #[test]
    fn after_a_crash_the_last_acknowledged_value_or_an_in_flight_one_is_acceptable() {
        let values = values();
        let mut key = KeyModel::new(b"k".to_vec(), Family::Value);
        key.pending.push_back(set(1));
        key.settle_oldest(SENT_MS + 1);
        key.pending.extend([set(2), set(3)]);
        let at = SENT_MS + 10;
        for (write_id, applied) in [(1, 0), (2, 1), (3, 2)] {
            let mut copy = key.clone();
            assert_eq!(copy.resolve(&read(&values, Some(id(write_id)), Some(-1), at), at, &values), Some(applied));
            assert_eq!(copy.settled, KeyState::Value { value: id(write_id), deadline: None });
            assert!(copy.pending.is_empty());
        }
        assert_eq!(key.clone().resolve(&read(&values, None, Some(-2), at), at, &values), None, "acked write lost");
        assert_eq!(key.clone().resolve(&read(&values, Some(id(4)), Some(-1), at), at, &values), None, "never sent");
        let mut corrupt = values.bytes(id(2));
        corrupt[30] ^= 1;
        let observed = Observed { value: Some(corrupt), pttl_ms: Some(-1), from_ms: at, to_ms: at };
        assert_eq!(key.resolve(&observed, at, &values), None, "a changed byte is caught");
    }

    #[test]
    fn deleted_keys_stay_deleted_unless_a_later_write_was_sent() {
        let values = values();
        let mut key = KeyModel::new(b"k".to_vec(), Family::Value);
        key.pending.extend([set(1), write(Effect::Delete)]);
        key.settle_oldest(SENT_MS);
        key.settle_oldest(SENT_MS);
        assert_eq!(key.settled, KeyState::Absent);
        let at = SENT_MS + 5;
        assert_eq!(key.clone().resolve(&read(&values, Some(id(1)), Some(-1), at), at, &values), None, "resurrected");
        key.pending.push_back(set(2));
        assert_eq!(key.clone().resolve(&read(&values, None, Some(-2), at), at, &values), Some(0));
        assert_eq!(key.resolve(&read(&values, Some(id(2)), Some(-1), at), at, &values), Some(1));
    }

    #[test]
    fn counters_never_go_backwards_nor_past_the_in_flight_increments() {
        let values = values();
        let mut key = KeyModel::new(b"c".to_vec(), Family::Counter);
        for _ in 0..5 {
            key.pending.push_back(write(Effect::Incr));
            key.settle_oldest(SENT_MS);
        }
        key.pending.extend([write(Effect::Incr), write(Effect::Incr)]);
        let resolved = |count: Option<i64>| key.clone().resolve(&counter_read(count), SENT_MS, &values);
        assert_eq!((resolved(Some(5)), resolved(Some(6)), resolved(Some(7))), (Some(0), Some(1), Some(2)));
        assert_eq!((resolved(Some(4)), resolved(Some(8)), resolved(None)), (None, None, None));
    }

    #[test]
    fn ttl_keys_must_live_before_their_deadline_and_be_gone_after_it() {
        let values = values();
        let short = write(Effect::Set { value: id(1), ttl_ms: Some(1000) });
        let state = KeyState::Absent.apply(short, SENT_MS + 20);
        assert_eq!(
            state,
            KeyState::Value {
                value: id(1),
                deadline: Some(Deadline { earliest_ms: SENT_MS + 1000, latest_ms: SENT_MS + 1020 })
            }
        );
        let before = SENT_MS + 500;
        assert!(state.admits(&read(&values, Some(id(1)), Some(500), before), &values));
        assert!(!state.admits(&read(&values, None, Some(-2), before), &values), "expired early");
        assert!(!state.admits(&read(&values, Some(id(1)), Some(-1), before), &values), "lost its TTL");
        assert!(!state.admits(&read(&values, Some(id(1)), Some(3000), before), &values), "TTL too long");
        let after = SENT_MS + 2000;
        assert!(state.admits(&read(&values, None, Some(-2), after), &values));
        assert!(!state.admits(&read(&values, Some(id(1)), Some(5), after), &values), "outlived its deadline");
        let inside = SENT_MS + 1005;
        assert!(state.admits(&read(&values, None, Some(-2), inside), &values));
        assert!(state.admits(&read(&values, Some(id(1)), Some(10), inside), &values));
    }

    #[test]
    fn expire_sets_a_ttl_only_on_a_live_key() {
        let expire = write(Effect::Expire { ttl_ms: 3_600_000 });
        assert_eq!(KeyState::Absent.apply(expire, SENT_MS), KeyState::Absent);
        let live = KeyState::Absent.apply(set(1), SENT_MS).apply(expire, SENT_MS + 3);
        let deadline = Deadline { earliest_ms: SENT_MS + 3_600_000, latest_ms: SENT_MS + 3_600_003 };
        assert_eq!(live, KeyState::Value { value: id(1), deadline: Some(deadline) });
        assert_eq!(live.apply(set(2), SENT_MS), KeyState::Value { value: id(2), deadline: None }, "SET clears the TTL");
    }
}
