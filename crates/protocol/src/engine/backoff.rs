//! Retry delays with full jitter, and the small random source behind them.

/// A seeded pseudo-random source (SplitMix64). Not for secrets: it spreads
/// retries and makes request ids unique, and being seeded makes every test
/// of the engine repeatable.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A whole number in `0..=max`.
    pub fn up_to(&mut self, max: u64) -> u64 {
        match max.checked_add(1) {
            Some(bound) => self.next_u64() % bound,
            None => self.next_u64(),
        }
    }
}

/// The exponential ceiling for a retry: `min(cap, base * 2^attempt)`.
///
/// `attempt` counts the failed tries since the last healthy connection, so
/// the first retry after a healthy connection waits at most `base`.
pub fn ceiling(base_ms: u64, cap_ms: u64, attempt: u32) -> u64 {
    let factor = 1u64.checked_shl(attempt).unwrap_or(u64::MAX);
    base_ms.saturating_mul(factor).min(cap_ms)
}

/// The rate at which a crowd dropped together (by one server restart)
/// should come back, in connections per second: a fraction of what one
/// instance accepts when all come at once (5,000–10,000 a second on a
/// 2-core machine, `roster-loadgen reconnect-storm --backoff fixed`), so
/// the crowd never arrives as one wave. At 2,000 a second the busiest
/// 100 ms still reached 4,000 a second on this shared machine (a stall,
/// then twice the connects), over a third of the fixed-delay peak.
pub const CROWD_CONNECTS_PER_S: u64 = 1_000;

/// The longest a crowd spreads its retries over, whatever its size.
pub const CROWD_SPREAD_MAX_MS: u64 = 30_000;

/// The window a retry's delay is drawn from: the exponential ceiling
/// (never past the cap), widened so that `crowd` clients (the viewer count
/// the server last reported) spread at [`CROWD_CONNECTS_PER_S`], up to
/// [`CROWD_SPREAD_MAX_MS`]. The cap is kept short (5 s) so that a page is
/// back soon after a partition heals; the crowd's spread is what protects
/// a restarted server, so it is not cut short by the cap.
///
/// Alone on a server the first retry still comes within `base`; one of
/// 10,000 viewers waits up to 10 s (5 s on average), which is what keeps a
/// restarted server from meeting all 10,000 in the same second.
pub fn retry_window(base_ms: u64, cap_ms: u64, attempt: u32, crowd: u64) -> u64 {
    let spread = crowd.saturating_mul(1_000) / CROWD_CONNECTS_PER_S;
    ceiling(base_ms, cap_ms, attempt).max(spread.min(CROWD_SPREAD_MAX_MS))
}

/// A full-jitter delay: uniform in `0..=retry_window(..)`. Many clients
/// dropped at once spread their retries over the whole window instead of
/// arriving together.
pub fn retry_delay(rng: &mut Rng, base_ms: u64, cap_ms: u64, attempt: u32, crowd: u64) -> u64 {
    rng.up_to(retry_window(base_ms, cap_ms, attempt, crowd))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ceiling_doubles_until_the_cap() {
        let ceilings: Vec<_> = (0..9).map(|n| ceiling(500, 30_000, n)).collect();
        assert_eq!(
            ceilings,
            [500, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]
        );
        assert_eq!(ceiling(500, 30_000, 200), 30_000, "no overflow");
    }

    #[test]
    fn delays_stay_within_the_ceiling_and_spread_over_it() {
        let mut rng = Rng::new(7);
        for attempt in 0..12 {
            let top = ceiling(500, 30_000, attempt);
            let delays: Vec<_> = (0..2_000)
                .map(|_| retry_delay(&mut rng, 500, 30_000, attempt, 0))
                .collect();
            assert!(delays.iter().all(|d| *d <= top), "attempt {attempt}");
            // Spread: both the lowest and the highest fifth of the window
            // are used, and the mean is near the middle.
            assert!(delays.iter().any(|d| *d < top / 5), "attempt {attempt}");
            assert!(
                delays.iter().any(|d| *d > top - top / 5),
                "attempt {attempt}"
            );
            let mean = delays.iter().sum::<u64>() as f64 / delays.len() as f64;
            let middle = top as f64 / 2.0;
            assert!(
                (mean - middle).abs() < top as f64 * 0.05,
                "attempt {attempt}: mean {mean}"
            );
        }
    }

    #[test]
    fn a_crowd_widens_the_window_to_its_rate_up_to_the_cap() {
        // Few viewers: the exponential ceiling decides.
        assert_eq!(retry_window(500, 30_000, 0, 1), 500);
        assert_eq!(retry_window(500, 30_000, 0, 500), 500);
        // 10,000 viewers at 1,000 a second: 10 s, whatever the attempt
        // until the ceiling passes it.
        assert_eq!(retry_window(500, 30_000, 0, 10_000), 10_000);
        assert_eq!(retry_window(500, 30_000, 4, 10_000), 10_000);
        assert_eq!(retry_window(500, 30_000, 5, 10_000), 16_000);
        // Never past the cap, even for a huge crowd.
        assert_eq!(retry_window(500, 30_000, 0, u64::MAX), 30_000);
        let mut rng = Rng::new(3);
        let delays: Vec<_> = (0..10_000)
            .map(|_| retry_delay(&mut rng, 500, 30_000, 0, 10_000))
            .collect();
        // A crowd of 10,000 drawn once each: no 100 ms window gets more
        // than a third of what 10,000 per second would put in it.
        let mut per_window = [0usize; 101];
        for delay in &delays {
            per_window[(*delay / 100) as usize] += 1;
        }
        assert!(per_window.iter().all(|n| *n < 1_000 / 3), "{per_window:?}");
    }

    #[test]
    fn one_seed_gives_one_sequence() {
        let draw = |seed| {
            let mut rng = Rng::new(seed);
            (0..5).map(|_| rng.next_u64()).collect::<Vec<_>>()
        };
        assert_eq!(draw(1), draw(1));
        assert_ne!(draw(1), draw(2));
    }
}
