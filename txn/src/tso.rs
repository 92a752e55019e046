//! The node-local timestamp oracle: one hybrid clock shared by every core of a node.
//!
//! This is the one structure in the server that cores share (`Send + Sync`: an `Arc` of atomics).
//! Per-core ranges would break snapshot isolation (a transaction on core B could start below a
//! commit already acknowledged on core A), so every core draws from the same counter; cores
//! batch their requests with [`Tso::get_ts_batch`].
//!
//! Invariants:
//! - Issued timestamps strictly increase: `next = max(now_ms << 18, last + 1)`, so a clock that
//!   goes backwards only stalls the physical part, never the sequence.
//! - No timestamp above the *persisted bound* is ever issued (nor accepted by
//!   [`Tso::advance_to`]). Before issuing past it, the oracle durably writes a new bound,
//!   `physical(max(now, last) + window_ms)`. On open it resumes above the stored bound, so a
//!   restart never reissues a timestamp, whatever the clock says.
//! - The bound file is rewritten atomically (temp file, fsync, rename, fsync of the directory).
//!   The write is a blocking `std::fs` call, made about once per `window_ms - refill_margin_ms`.
//!
//! Bound file (`tso-bound`), format version 1:
//!
//! ```text
//! +------------+------------------+-------------------------+
//! | u8 version | u64 LE bound (ts)| u32 LE masked crc32c of |
//! |     (1)    |                  | the 9 preceding bytes   |
//! +------------+------------------+-------------------------+
//! ```
//!
//! In a cluster this becomes the state machine of a dedicated raft group; the bound then
//! travels through raft instead of a file.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use nokv_engine::Error as EngineError;
use nokv_engine::codec::{Reader, masked_crc, put_u32, put_u64, verify_masked_crc};

use crate::error::{Result, TxnError};
use crate::timestamp::TimeStamp;

/// Version of the bound file format.
pub const FORMAT_VERSION: u8 = 1;

const BOUND_FILE: &str = "tso-bound";
const BOUND_TEMP_FILE: &str = "tso-bound.tmp";
const BOUND_FILE_LEN: usize = 1 + 8 + 4;

/// Options of the oracle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TsoOptions {
    /// How far ahead of the clock the persisted bound is placed.
    pub window_ms: u64,
    /// Renew the bound once the issued physical time gets this close to it, so that steady
    /// issuing rarely waits for the fsync of a new bound.
    pub refill_margin_ms: u64,
}

impl Default for TsoOptions {
    fn default() -> TsoOptions {
        TsoOptions { window_ms: 3_000, refill_margin_ms: 1_000 }
    }
}

impl TsoOptions {
    /// Checks the options.
    pub fn validate(&self) -> Result<()> {
        let invalid =
            |name, reason: &str| Err(TxnError::Engine(EngineError::InvalidOption { name, reason: reason.into() }));
        if self.window_ms == 0 {
            return invalid("tso.window_ms", "must be positive");
        }
        if self.refill_margin_ms >= self.window_ms {
            return invalid("tso.refill_margin_ms", "must be smaller than tso.window_ms");
        }
        Ok(())
    }
}

/// A source of wall-clock milliseconds (a trait so tests can move time backwards).
pub trait Clock: Send + Sync {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> u64;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> u64 {
        // A clock before 1970 is treated as 0: the oracle's `last + 1` rule keeps it monotonic.
        SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
    }
}

/// The timestamp oracle. Cheap to clone: clones share one clock.
#[derive(Clone)]
pub struct Tso {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Tso {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tso")
            .field("last", &TimeStamp::new(self.inner.last.load(Ordering::Acquire)))
            .field("bound", &TimeStamp::new(self.inner.bound.load(Ordering::Acquire)))
            .finish_non_exhaustive()
    }
}

struct Inner {
    /// The largest timestamp issued or advanced to.
    last: AtomicU64,
    /// The persisted bound: nothing above it may be issued.
    bound: AtomicU64,
    /// Serialises bound renewals (rare); the issuing path never takes it unless it must wait.
    persist: Mutex<()>,
    dir: PathBuf,
    clock: Box<dyn Clock>,
    options: TsoOptions,
}

impl Tso {
    /// Opens the oracle whose bound lives in `dir` (created if missing), on the system clock.
    pub fn open(dir: &Path, options: TsoOptions) -> Result<Tso> {
        Tso::open_with_clock(dir, options, Box::new(SystemClock))
    }

    /// Opens the oracle on a given clock.
    pub fn open_with_clock(dir: &Path, options: TsoOptions, clock: Box<dyn Clock>) -> Result<Tso> {
        options.validate()?;
        fs::create_dir_all(dir).map_err(|e| EngineError::io(dir, e))?;
        let stored = read_bound(dir)?.unwrap_or(TimeStamp::ZERO);
        let inner = Inner {
            last: AtomicU64::new(stored.into_inner()),
            bound: AtomicU64::new(stored.into_inner()),
            persist: Mutex::new(()),
            dir: dir.to_path_buf(),
            clock,
            options,
        };
        Ok(Tso { inner: Arc::new(inner) })
    }

    /// One new timestamp, greater than every one issued before.
    pub fn get_ts(&self) -> Result<TimeStamp> {
        self.get_ts_batch(1)
    }

    /// `count` consecutive new timestamps: returns the first; `[first, first + count)` are the
    /// caller's. `count` must be positive.
    pub fn get_ts_batch(&self, count: u32) -> Result<TimeStamp> {
        if count == 0 {
            return Err(TxnError::Engine(EngineError::InvalidArgument("get_ts_batch(0)".into())));
        }
        loop {
            let last = self.inner.last.load(Ordering::Acquire);
            let now = TimeStamp::compose(self.inner.clock.now_ms(), 0).into_inner();
            let first = now.max(last.saturating_add(1));
            let end = first.checked_add(u64::from(count) - 1).ok_or_else(exhausted)?;
            if !self.within_bound(TimeStamp::new(end))? {
                continue;
            }
            let swapped = self.inner.last.compare_exchange(last, end, Ordering::AcqRel, Ordering::Acquire);
            if swapped.is_ok() {
                return Ok(TimeStamp::new(first));
            }
        }
    }

    /// Makes every later timestamp greater than `ts` (called with a commit_ts before its write is
    /// acknowledged: external consistency).
    pub fn advance_to(&self, ts: TimeStamp) -> Result<()> {
        while !self.within_bound(ts)? {}
        self.inner.last.fetch_max(ts.into_inner(), Ordering::AcqRel);
        Ok(())
    }

    /// The largest timestamp issued or advanced to.
    pub fn last(&self) -> TimeStamp {
        TimeStamp::new(self.inner.last.load(Ordering::Acquire))
    }

    /// The persisted bound.
    pub fn bound(&self) -> TimeStamp {
        TimeStamp::new(self.inner.bound.load(Ordering::Acquire))
    }

    /// True when `end` may be issued now. Renews the bound first when `end` passes it (then
    /// returns false so the caller re-reads the clock state) or comes within the margin.
    fn within_bound(&self, end: TimeStamp) -> Result<bool> {
        let bound = self.bound();
        if end > bound {
            self.renew_bound(end)?;
            return Ok(false);
        }
        let margin_ms = self.inner.options.refill_margin_ms;
        if end.physical() + margin_ms >= bound.physical()
            && let Ok(_guard) = self.inner.persist.try_lock()
        {
            // Someone else renewing means the bound is about to move: no need to wait for it.
            self.persist_bound_for(end)?;
        }
        Ok(true)
    }

    /// Waits for the renewal lock and makes the bound cover `end`.
    fn renew_bound(&self, end: TimeStamp) -> Result<()> {
        let _guard = self.inner.persist.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if end <= self.bound() {
            return Ok(());
        }
        self.persist_bound_for(end)
    }

    /// Persists `physical(max(now, end) + window)` and publishes it. Caller holds `persist`.
    fn persist_bound_for(&self, end: TimeStamp) -> Result<()> {
        let physical_ms = self.inner.clock.now_ms().max(end.physical());
        let new_bound = TimeStamp::compose(physical_ms + self.inner.options.window_ms, 0);
        if new_bound <= self.bound() {
            return Ok(());
        }
        write_bound(&self.inner.dir, new_bound)?;
        self.inner.bound.fetch_max(new_bound.into_inner(), Ordering::AcqRel);
        tracing::debug!(bound = %new_bound, "timestamp oracle bound renewed");
        Ok(())
    }
}

fn exhausted() -> TxnError {
    TxnError::Engine(EngineError::InvalidArgument("timestamp space exhausted".into()))
}

fn encode_bound(bound: TimeStamp) -> Vec<u8> {
    let mut out = Vec::with_capacity(BOUND_FILE_LEN);
    out.push(FORMAT_VERSION);
    put_u64(&mut out, bound.into_inner());
    let crc = masked_crc(&out);
    put_u32(&mut out, crc);
    out
}

fn decode_bound(bytes: &[u8]) -> Result<TimeStamp> {
    let corrupt = |detail: &str| TxnError::Engine(EngineError::corruption("tso bound file", detail));
    if bytes.len() != BOUND_FILE_LEN {
        return Err(corrupt("wrong length"));
    }
    let mut reader = Reader::new(bytes);
    let version = reader.u8().ok_or_else(|| corrupt("truncated"))?;
    let bound = reader.u64().ok_or_else(|| corrupt("truncated"))?;
    let crc = reader.u32().ok_or_else(|| corrupt("truncated"))?;
    if !verify_masked_crc(&bytes[..BOUND_FILE_LEN - 4], crc) {
        return Err(corrupt("checksum mismatch"));
    }
    if version != FORMAT_VERSION {
        return Err(TxnError::Engine(EngineError::UnsupportedVersion {
            what: "tso bound file",
            version: version.into(),
        }));
    }
    Ok(TimeStamp::new(bound))
}

/// The stored bound, or `None` for a fresh directory. A damaged file is an error: starting from
/// zero could reissue timestamps.
fn read_bound(dir: &Path) -> Result<Option<TimeStamp>> {
    let path = dir.join(BOUND_FILE);
    match fs::read(&path) {
        Ok(bytes) => decode_bound(&bytes).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(EngineError::io(path, e).into()),
    }
}

fn write_bound(dir: &Path, bound: TimeStamp) -> Result<()> {
    let temp = dir.join(BOUND_TEMP_FILE);
    let path = dir.join(BOUND_FILE);
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |e| TxnError::Engine(EngineError::io(path, e))
    };
    match write_temp(&temp, bound) {
        Ok(()) => {}
        Err(error) if error.kind() == std::io::ErrorKind::StorageFull && path.exists() => {
            // A full disk has no block for the temp file, but reads need new bounds too: the
            // bound file's own block is rewritten in place. Its 13 bytes lie in one sector, whose
            // write is atomic, and its checksum would catch anything else.
            let _ = fs::remove_file(&temp);
            return overwrite_bound(&path, bound).map_err(io(&path));
        }
        Err(error) => return Err(io(&temp)(error)),
    }
    fs::rename(&temp, &path).map_err(io(&path))?;
    fs::File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))?;
    Ok(())
}

fn write_temp(temp: &Path, bound: TimeStamp) -> std::io::Result<()> {
    let mut file = fs::File::create(temp)?;
    file.write_all(&encode_bound(bound))?;
    file.sync_all()
}

fn overwrite_bound(path: &Path, bound: TimeStamp) -> std::io::Result<()> {
    use std::os::unix::fs::FileExt;
    let file = fs::OpenOptions::new().write(true).open(path)?;
    file.write_all_at(&encode_bound(bound), 0)?;
    file.sync_data()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A clock tests can set.
    #[derive(Clone, Default)]
    struct ManualClock(Arc<AtomicU64>);

    impl ManualClock {
        fn set(&self, ms: u64) {
            self.0.store(ms, Ordering::SeqCst);
        }
    }

    impl Clock for ManualClock {
        fn now_ms(&self) -> u64 {
            self.0.load(Ordering::SeqCst)
        }
    }

    fn manual(dir: &Path, ms: u64) -> (Tso, ManualClock) {
        let clock = ManualClock::default();
        clock.set(ms);
        let tso = Tso::open_with_clock(dir, TsoOptions::default(), Box::new(clock.clone())).expect("open");
        (tso, clock)
    }

    #[test]
    fn timestamps_strictly_increase_across_threads() {
        let dir = tempfile::tempdir().expect("tempdir");
        let tso = Tso::open(dir.path(), TsoOptions::default()).expect("open");
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let tso = tso.clone();
                std::thread::spawn(move || (0..5_000).map(|_| tso.get_ts().expect("ts")).collect::<Vec<_>>())
            })
            .collect();
        let mut all = Vec::new();
        for thread in threads {
            let issued = thread.join().expect("thread");
            assert!(issued.windows(2).all(|w| w[0] < w[1]), "each thread sees increasing timestamps");
            all.extend(issued);
        }
        let count = all.len();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), count, "no timestamp is issued twice");
    }

    #[test]
    fn batch_reserves_a_contiguous_range() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (tso, _clock) = manual(dir.path(), 1_000);
        let first = tso.get_ts_batch(10).expect("batch");
        assert_eq!(first, TimeStamp::compose(1_000, 0));
        assert_eq!(tso.get_ts().expect("ts"), TimeStamp::compose(1_000, 10));
        assert!(tso.get_ts_batch(0).is_err());
    }

    #[test]
    fn clock_going_backwards_still_increases() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (tso, clock) = manual(dir.path(), 50_000);
        let before = tso.get_ts().expect("ts");
        clock.set(10_000);
        let after = tso.get_ts().expect("ts");
        assert!(after > before);
        assert_eq!(after.physical(), 50_000);
    }

    #[test]
    fn restart_never_reissues_even_if_the_clock_went_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (tso, clock) = manual(dir.path(), 100_000);
        let mut issued = Vec::new();
        for step in 0..20 {
            clock.set(100_000 + step * 700);
            issued.push(tso.get_ts().expect("ts"));
        }
        let newest = *issued.last().expect("issued");
        assert!(tso.bound() >= newest, "never issues above the persisted bound");
        drop(tso);
        let (reopened, _clock) = manual(dir.path(), 1_000);
        assert!(reopened.get_ts().expect("ts") > newest);
    }

    #[test]
    fn advance_to_pushes_later_timestamps_past_a_commit() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (tso, _clock) = manual(dir.path(), 1_000);
        let commit_ts = TimeStamp::compose(60_000, 7);
        tso.advance_to(commit_ts).expect("advance");
        assert!(tso.bound() >= commit_ts, "the bound covers every advanced-to timestamp");
        assert!(tso.get_ts().expect("ts") > commit_ts);
        drop(tso);
        let (reopened, _clock) = manual(dir.path(), 1_000);
        assert!(reopened.get_ts().expect("ts") > commit_ts, "even after a restart");
    }

    #[test]
    fn damaged_bound_file_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (tso, _clock) = manual(dir.path(), 1_000);
        tso.get_ts().expect("ts");
        drop(tso);
        let path = dir.path().join(BOUND_FILE);
        let mut bytes = fs::read(&path).expect("read");
        bytes[3] ^= 0x40;
        fs::write(&path, &bytes).expect("write");
        let reopened = Tso::open_with_clock(dir.path(), TsoOptions::default(), Box::new(ManualClock::default()));
        assert!(matches!(reopened, Err(TxnError::Engine(e)) if e.is_corruption()));
        assert!(decode_bound(&[]).is_err());
    }

    #[test]
    fn options_validate() {
        assert!(TsoOptions::default().validate().is_ok());
        assert!(TsoOptions { window_ms: 0, refill_margin_ms: 0 }.validate().is_err());
        assert!(TsoOptions { window_ms: 100, refill_margin_ms: 100 }.validate().is_err());
    }
}
