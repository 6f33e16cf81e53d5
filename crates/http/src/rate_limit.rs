//! Per-caller rate limits, as API Gateway's usage-plan throttling gives each caller on AWS:
//! a token bucket per user (`sub`), refilled at a steady rate up to a burst. A caller over
//! the limit gets 429 with `Retry-After`; nobody else is slowed down. The same buckets,
//! keyed by client address, limit failed authentications (which have no user).

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::ApiError;

/// How often (in checks) buckets of callers who have gone quiet are dropped, so the map
/// holds only recent callers.
const SWEEP_EVERY: u32 = 4096;

pub struct CallerLimits {
    buckets: DefaultKeyedRateLimiter<String>,
    checks: AtomicU32,
}

impl CallerLimits {
    /// `per_second` requests per second per caller, with bursts of up to `burst`.
    pub fn new(per_second: NonZeroU32, burst: NonZeroU32) -> Self {
        Self {
            buckets: RateLimiter::keyed(Quota::per_second(per_second).allow_burst(burst)),
            checks: AtomicU32::new(0),
        }
    }

    /// Takes one token from `caller`'s bucket, or says how long until one is there.
    pub fn check(&self, caller: &str) -> Result<(), ApiError> {
        if self
            .checks
            .fetch_add(1, Ordering::Relaxed)
            .is_multiple_of(SWEEP_EVERY)
        {
            self.buckets.retain_recent();
            self.buckets.shrink_to_fit();
        }
        // Owned key only for a new caller would need the entry API; a sub is short.
        self.buckets
            .check_key(&caller.to_owned())
            .map_err(|not_until| {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                ApiError::TooManyRequests {
                    retry_after: wait.max(Duration::from_secs(1)),
                }
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_caller_has_a_bucket_of_its_own() {
        let limits = CallerLimits::new(NonZeroU32::new(1).unwrap(), NonZeroU32::new(3).unwrap());
        for _ in 0..3 {
            limits.check("alice").unwrap();
        }
        match limits.check("alice") {
            Err(ApiError::TooManyRequests { retry_after }) => {
                assert!(retry_after >= Duration::from_secs(1))
            }
            other => panic!("the fourth request in a burst of 3 is refused: {other:?}"),
        }
        limits
            .check("bob")
            .expect("another caller is not slowed down");
    }
}
