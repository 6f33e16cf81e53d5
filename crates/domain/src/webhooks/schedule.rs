//! When a failed delivery is tried again: the Standard Webhooks schedule (about 5 s, 5 min,
//! 30 min, 2 h, 5 h, 10 h, 10 h), each delay spread by jitter so that the retries of one
//! outage do not arrive together when the endpoint comes back.

use std::time::Duration;

/// The delay after the first, second, ... failed attempt; after the last, the delivery
/// is given up (eight attempts over about 28 hours).
pub const RETRY_SCHEDULE: [Duration; 7] = [
    Duration::from_secs(5),
    Duration::from_secs(5 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(2 * 60 * 60),
    Duration::from_secs(5 * 60 * 60),
    Duration::from_secs(10 * 60 * 60),
    Duration::from_secs(10 * 60 * 60),
];

/// How far jitter moves a delay either way, as a fraction of it.
const JITTER: f64 = 0.2;

/// The schedule in force: [`RETRY_SCHEDULE`] times `scale`. A scale below 1 is for tests
/// and development only (`--webhook-retry-scale`), so retries come in seconds, not hours.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetrySchedule {
    scale: f64,
}

impl Default for RetrySchedule {
    fn default() -> Self {
        Self { scale: 1.0 }
    }
}

impl RetrySchedule {
    /// `None` unless `scale` is a finite number above 0 and at most 1.
    pub fn scaled(scale: f64) -> Option<Self> {
        (scale.is_finite() && scale > 0.0 && scale <= 1.0).then_some(Self { scale })
    }

    /// The total number of attempts a delivery gets.
    pub fn attempts(&self) -> u32 {
        RETRY_SCHEDULE.len() as u32 + 1
    }

    /// How long to wait after failed attempt number `attempt` (1 for the first), or `None`
    /// once it was the last. `jitter` is a uniform random number in `[0, 1)`; it moves the
    /// delay by up to 20 % either way.
    pub fn delay_after(&self, attempt: u32, jitter: f64) -> Option<Duration> {
        let index = usize::try_from(attempt.checked_sub(1)?).ok()?;
        let base = RETRY_SCHEDULE.get(index)?.as_secs_f64() * self.scale;
        let spread = 1.0 - JITTER + 2.0 * JITTER * jitter.clamp(0.0, 1.0);
        Some(Duration::from_secs_f64(base * spread))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eight_attempts_with_the_standard_delays_between_them() {
        let schedule = RetrySchedule::default();
        assert_eq!(schedule.attempts(), 8);
        let middle: Vec<u64> = (1..=7)
            .map(|attempt| schedule.delay_after(attempt, 0.5).unwrap().as_secs())
            .collect();
        assert_eq!(middle, [5, 300, 1800, 7200, 18000, 36000, 36000]);
        assert_eq!(schedule.delay_after(8, 0.5), None, "the eighth is the last");
        assert_eq!(schedule.delay_after(0, 0.5), None, "attempts count from 1");
    }

    #[test]
    fn jitter_spreads_a_delay_by_a_fifth_either_way() {
        let schedule = RetrySchedule::default();
        let low = schedule.delay_after(2, 0.0).unwrap().as_secs_f64();
        let high = schedule.delay_after(2, 0.999_999).unwrap().as_secs_f64();
        assert!((low - 240.0).abs() < 1e-6, "{low}");
        assert!((high - 360.0).abs() < 1e-3, "{high}");
    }

    #[test]
    fn a_scale_shortens_every_delay_and_must_be_within_zero_and_one() {
        let fast = RetrySchedule::scaled(0.001).unwrap();
        let delay = fast.delay_after(2, 0.5).unwrap();
        assert_eq!(delay, Duration::from_millis(300));
        for bad in [0.0, -1.0, 1.5, f64::NAN, f64::INFINITY] {
            assert_eq!(RetrySchedule::scaled(bad), None, "{bad}");
        }
    }
}
