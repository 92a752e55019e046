//! Key choice: uniform or zipfian indexes into `[0, keyspace)`, and the key names sent.
//!
//! The zipfian generator is YCSB's `ZipfianGenerator` (Gray et al., "Quickly generating
//! billion-record synthetic databases", SIGMOD 1994): constant time per draw after computing
//! `zeta(n, theta) = sum_{i=1..n} 1 / i^theta` once. Rank 0 is drawn with probability
//! `1 / zeta(n, theta)`, rank 1 with `2^-theta / zeta(n, theta)`, and so on. The zeta sum is
//! exact up to [`ZETA_EXACT_TERMS`] terms and extended with the Euler-Maclaurin formula above
//! that, so a key space of billions costs no more to set up than one of a million.
//!
//! Ranks are scattered over the key space by a bijection (`rank * m + c mod n`, `m` coprime to
//! `n`), as YCSB's scrambled zipfian does, so the hottest keys are not neighbours: they land on
//! different shards and in different SSTs.
//!
//! Key names are `<prefix>key:<index, 12 digits>` (redis-benchmark's `key:__rand_int__` form) and
//! `<prefix>counter:<index>` for INCR, so INCR never meets a non-integer value.

use rand::Rng;

use super::config::KeyDist;

/// Terms of the zeta sum computed exactly; the tail beyond is integrated.
pub const ZETA_EXACT_TERMS: u64 = 1_000_000;
/// Digits of the zero-padded key index (more when the index needs them).
const KEY_INDEX_DIGITS: usize = 12;

/// `sum_{i=1..n} 1 / i^theta`.
pub fn zeta(n: u64, theta: f64) -> f64 {
    let exact_terms = n.min(ZETA_EXACT_TERMS);
    let head: f64 = (1..=exact_terms).map(|i| (i as f64).powf(-theta)).sum();
    if n <= exact_terms {
        return head;
    }
    head + zeta_tail(exact_terms as f64, n as f64, theta)
}

/// `sum_{i=m+1..n} i^-theta` by Euler-Maclaurin: the integral, the end-point correction and the
/// first derivative term. The error is far below f64 precision for `m` in the millions.
fn zeta_tail(m: f64, n: f64, theta: f64) -> f64 {
    let f = |x: f64| x.powf(-theta);
    let derivative = |x: f64| -theta * x.powf(-theta - 1.0);
    let integral = (n.powf(1.0 - theta) - m.powf(1.0 - theta)) / (1.0 - theta);
    integral + (f(n) - f(m)) / 2.0 + (derivative(n) - derivative(m)) / 12.0
}

/// YCSB's zipfian generator over ranks `[0, items)`, rank 0 the most popular.
#[derive(Clone, Debug)]
pub struct Zipfian {
    items: u64,
    theta: f64,
    zetan: f64,
    alpha: f64,
    eta: f64,
}

impl Zipfian {
    /// A generator over `items` ranks with skew `theta` in (0, 1).
    pub fn new(items: u64, theta: f64) -> Self {
        assert!(items >= 1, "a zipfian needs at least one item");
        assert!(theta > 0.0 && theta < 1.0, "zipfian theta must be in (0, 1)");
        let zetan = zeta(items, theta);
        let zeta2 = zeta(2, theta);
        let eta = (1.0 - (2.0 / items as f64).powf(1.0 - theta)) / (1.0 - zeta2 / zetan);
        Self { items, theta, zetan, alpha: 1.0 / (1.0 - theta), eta }
    }

    /// The probability of rank `rank` (exact for the model, which the draws approximate).
    pub fn probability(&self, rank: u64) -> f64 {
        ((rank + 1) as f64).powf(-self.theta) / self.zetan
    }

    /// The next rank.
    pub fn next_rank(&self, rng: &mut impl Rng) -> u64 {
        let unit: f64 = rng.random();
        let scaled = unit * self.zetan;
        if scaled < 1.0 {
            return 0;
        }
        if scaled < 1.0 + 0.5f64.powf(self.theta) {
            return 1.min(self.items - 1);
        }
        let rank = self.items as f64 * (self.eta * unit - self.eta + 1.0).powf(self.alpha);
        (rank as u64).min(self.items - 1)
    }
}

/// A bijection of `[0, n)` that scatters neighbouring ranks.
#[derive(Clone, Copy, Debug)]
pub struct Scatter {
    n: u64,
    multiplier: u64,
    offset: u64,
}

impl Scatter {
    /// A scatter of `[0, n)`.
    pub fn new(n: u64) -> Self {
        assert!(n >= 1, "an empty key space has nothing to scatter");
        // The golden-ratio constant spreads consecutive ranks far apart; the first coprime
        // multiplier at or above it (mod n) makes the map a bijection.
        let mut multiplier = 0x9E37_79B9_7F4A_7C15 % n;
        while gcd(multiplier, n) != 1 {
            multiplier = (multiplier + 1) % n;
        }
        Self { n, multiplier, offset: 0x2545_F491_4F6C_DD1D % n }
    }

    /// The key index of `rank`.
    pub fn apply(&self, rank: u64) -> u64 {
        let product = u128::from(rank) * u128::from(self.multiplier) + u128::from(self.offset);
        (product % u128::from(self.n)) as u64
    }
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Draws key indexes from `[0, keyspace)`.
#[derive(Clone, Debug)]
pub enum KeyChooser {
    Uniform { keyspace: u64 },
    Zipfian { zipfian: Zipfian, scatter: Scatter },
}

impl KeyChooser {
    /// A chooser for `dist` over `keyspace` keys (the zipfian's set-up is O(min(n, 1M))).
    pub fn new(dist: KeyDist, keyspace: u64) -> Self {
        match dist {
            KeyDist::Uniform => KeyChooser::Uniform { keyspace },
            KeyDist::Zipfian { theta } => {
                KeyChooser::Zipfian { zipfian: Zipfian::new(keyspace, theta), scatter: Scatter::new(keyspace) }
            }
        }
    }

    /// The next key index.
    pub fn next_index(&self, rng: &mut impl Rng) -> u64 {
        match self {
            KeyChooser::Uniform { keyspace } => rng.random_range(0..*keyspace),
            KeyChooser::Zipfian { zipfian, scatter } => scatter.apply(zipfian.next_rank(rng)),
        }
    }
}

/// Which family a key belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyFamily {
    /// Strings written by SET/MSET and read by GET/MGET.
    Value,
    /// Integers updated by INCR.
    Counter,
}

impl KeyFamily {
    fn tag(self) -> &'static [u8] {
        match self {
            KeyFamily::Value => b"key:",
            KeyFamily::Counter => b"counter:",
        }
    }
}

/// The length of the name [`write_key_name`] writes.
pub fn key_name_len(prefix: &[u8], family: KeyFamily, index: u64) -> usize {
    let digits = index.checked_ilog10().map_or(1, |log| log as usize + 1);
    prefix.len() + family.tag().len() + digits.max(KEY_INDEX_DIGITS)
}

/// Appends the name of key `index` of `family` to `out`.
pub fn write_key_name(out: &mut Vec<u8>, prefix: &[u8], family: KeyFamily, index: u64) {
    out.extend_from_slice(prefix);
    out.extend_from_slice(family.tag());
    let mut digits = [b'0'; 20];
    let mut rest = index;
    let mut used = 0;
    while rest > 0 || used < KEY_INDEX_DIGITS {
        digits[digits.len() - 1 - used] = b'0' + (rest % 10) as u8;
        rest /= 10;
        used += 1;
    }
    out.extend_from_slice(&digits[digits.len() - used..]);
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::SmallRng;

    use super::*;

    fn shares(chooser_draw: impl Fn(&mut SmallRng) -> u64, buckets: usize, draws: usize) -> Vec<f64> {
        let mut rng = SmallRng::seed_from_u64(42);
        let mut counts = vec![0u64; buckets];
        for _ in 0..draws {
            counts[chooser_draw(&mut rng) as usize] += 1;
        }
        counts.into_iter().map(|count| count as f64 / draws as f64).collect()
    }

    #[test]
    fn hottest_key_share_matches_theory() {
        let zipfian = Zipfian::new(1000, 0.99);
        let shares = shares(|rng| zipfian.next_rank(rng), 1000, 400_000);
        for rank in [0, 1] {
            let expected = zipfian.probability(rank);
            let relative_error = (shares[rank as usize] - expected).abs() / expected;
            assert!(relative_error < 0.03, "rank {rank}: share {} expected {expected}", shares[rank as usize]);
        }
        // theta 0.99 over 1000 keys: the hottest key takes about 13% of the draws.
        assert!((0.12..0.14).contains(&zipfian.probability(0)));
    }

    #[test]
    fn popularity_falls_with_rank() {
        let zipfian = Zipfian::new(1000, 0.99);
        let shares = shares(|rng| zipfian.next_rank(rng), 1000, 400_000);
        let head: f64 = shares[..10].iter().sum();
        let tail: f64 = shares[990..].iter().sum();
        assert!(head > 0.3, "the top 1% of keys take {head}");
        assert!(tail < 0.01, "the bottom 1% take {tail}");
        let expected_head: f64 = (0..10).map(|rank| zipfian.probability(rank)).sum();
        assert!((head - expected_head).abs() / expected_head < 0.05, "head {head} vs {expected_head}");
    }

    #[test]
    fn lower_theta_is_flatter() {
        let steep = Zipfian::new(10_000, 0.99);
        let flat = Zipfian::new(10_000, 0.5);
        assert!(flat.probability(0) < steep.probability(0) / 10.0);
        let shares = shares(|rng| flat.next_rank(rng), 10_000, 200_000);
        let relative_error = (shares[0] - flat.probability(0)).abs() / flat.probability(0);
        assert!(relative_error < 0.15, "share {} vs {}", shares[0], flat.probability(0));
    }

    #[test]
    fn ranks_stay_in_range_for_tiny_key_spaces() {
        let mut rng = SmallRng::seed_from_u64(1);
        for items in [1, 2, 3] {
            let zipfian = Zipfian::new(items, 0.99);
            assert!((0..10_000).all(|_| zipfian.next_rank(&mut rng) < items));
        }
    }

    #[test]
    fn zeta_tail_approximation_matches_the_exact_sum() {
        let n = 3 * ZETA_EXACT_TERMS;
        let exact: f64 = (1..=n).map(|i| (i as f64).powf(-0.99)).sum();
        let approximated = zeta(n, 0.99);
        assert!((exact - approximated).abs() / exact < 1e-9, "{exact} vs {approximated}");
    }

    #[test]
    fn zeta_of_a_billion_keys_is_quick_and_sane() {
        let big = zeta(1_000_000_000, 0.99);
        let million = zeta(1_000_000, 0.99);
        assert!(big > million && big < 2.0 * million, "{big}");
    }

    #[test]
    fn scatter_is_a_bijection() {
        for n in [1, 2, 10, 97, 1000, 1024] {
            let scatter = Scatter::new(n);
            let mut seen = vec![false; n as usize];
            for rank in 0..n {
                let index = scatter.apply(rank) as usize;
                assert!(!seen[index], "n {n}: index {index} hit twice");
                seen[index] = true;
            }
        }
        let scatter = Scatter::new(1_000_000);
        assert!(scatter.apply(0).abs_diff(scatter.apply(1)) > 1000, "neighbouring ranks are scattered");
    }

    #[test]
    fn uniform_covers_the_key_space_evenly() {
        let chooser = KeyChooser::new(KeyDist::Uniform, 10);
        let shares = shares(|rng| chooser.next_index(rng), 10, 100_000);
        assert!(shares.iter().all(|share| (share - 0.1).abs() < 0.01), "{shares:?}");
    }

    #[test]
    fn key_names_are_zero_padded_like_redis_benchmark() {
        let mut out = Vec::new();
        write_key_name(&mut out, b"", KeyFamily::Value, 42);
        assert_eq!(out, b"key:000000000042");
        out.clear();
        write_key_name(&mut out, b"{a}", KeyFamily::Counter, 0);
        assert_eq!(out, b"{a}counter:000000000000");
        out.clear();
        write_key_name(&mut out, b"", KeyFamily::Value, 12_345_678_901_234);
        assert_eq!(out, b"key:12345678901234");
        for (prefix, family, index) in [(&b""[..], KeyFamily::Value, 0), (b"{a}", KeyFamily::Counter, 10u64.pow(13))] {
            out.clear();
            write_key_name(&mut out, prefix, family, index);
            assert_eq!(out.len(), key_name_len(prefix, family, index));
        }
    }
}
