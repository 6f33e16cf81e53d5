//! Time as the user pool sees it, injectable so that expiry can be tested without sleeping.

use std::time::{SystemTime, UNIX_EPOCH};

/// A source of "now" in whole seconds since the Unix epoch (the unit of every Cognito
/// timestamp and JWT claim).
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> i64;
}

/// The wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
    }
}
