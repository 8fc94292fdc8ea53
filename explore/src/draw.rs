//! Drawing numbers from a seed's stream: the one place a schedule's randomness is shaped,
//! so the plan's faults and the schedule draw alike.

use rand_chacha::ChaCha8Rng;
use rand_core::Rng;

pub(crate) fn uniform(rng: &mut ChaCha8Rng, lo: u64, hi: u64) -> u64 {
    if hi <= lo {
        return lo;
    }
    let span = hi - lo;
    if span == u64::MAX {
        return rng.next_u64();
    }
    lo + rng.next_u64() % (span + 1)
}

pub(crate) fn chance(rng: &mut ChaCha8Rng, p: f64) -> bool {
    if p <= 0.0 {
        return false;
    }
    // 53 random bits as a number in [0, 1).
    ((rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64) < p
}

pub(crate) const MS: u64 = 1_000_000;

/// A time in `[lo, hi]` nanoseconds, to the millisecond (both ends reachable).
pub(crate) fn time_in(rng: &mut ChaCha8Rng, (lo, hi): (u64, u64)) -> u64 {
    if hi <= lo {
        return lo;
    }
    let lo_ms = lo.div_ceil(MS);
    let hi_ms = hi / MS;
    if hi_ms < lo_ms {
        return lo;
    }
    uniform(rng, lo_ms, hi_ms) * MS
}
