//! Per-user attempt bookkeeping that holds under concurrency and looks the same for users
//! who do not exist:
//! - sign-in attempts for one user are decided one at a time (striped locks), so no more
//!   than the lockout limit of wrong passwords is ever evaluated before the lock;
//! - usernames that do not exist lock out like real ones (kept in memory, bounded);
//! - each client address may request a limited number of codes, and guess wrong a limited
//!   number of times, per name and hour; requesting a new code does not renew the guesses.
//!   Counted per address, a stranger's requests and guesses never spend the owner's, so
//!   nobody can jam another's recovery from their own address; behind that, each user has a
//!   larger allowance in all (many addresses together can spend only that), and each code
//!   dies after a few wrong guesses, whoever made them.
//!
//! The hourly windows follow the pool's clock, so tests can move time.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::net::IpAddr;
use std::sync::{Mutex, MutexGuard};

use crate::error::PoolError;
use crate::model::CodePurpose;

/// The longest sign-in lockout after repeated wrong passwords (Cognito: about 15 minutes).
const MAX_LOCKOUT: i64 = 900;
/// Independent sign-in locks; two users share one only by hash collision.
const STRIPES: usize = 64;
/// Unknown usernames remembered for lockout; past this the oldest are forgotten.
const MAX_PHANTOMS: usize = 10_000;

/// How many codes one client address may request, and how many wrong codes it may enter,
/// per name and hour; each user's allowance from all addresses together is
/// [`USER_ALLOWANCE`] times as large.
#[derive(Debug, Clone, Copy)]
pub struct CodeLimits {
    pub requests_per_hour: u32,
    pub wrong_codes_per_hour: u32,
}

impl Default for CodeLimits {
    /// The low end of Cognito's documented 5 to 20 attempts per hour.
    fn default() -> Self {
        Self {
            requests_per_hour: 5,
            wrong_codes_per_hour: 5,
        }
    }
}

/// How many addresses' worth of code requests and wrong codes a user has in all per hour.
const USER_ALLOWANCE: u32 = 4;

/// The failure record of a username that does not exist.
#[derive(Debug, Clone, Copy, Default)]
struct Phantom {
    failures: i64,
    locked_until: i64,
    last_seen: i64,
}

type CodeKey = (String, String, &'static str);

/// Counts per key in hour-long windows that start with a key's first count.
struct HourlyCounts {
    limit: u32,
    counts: Mutex<HashMap<CodeKey, (i64, u32)>>,
}

impl HourlyCounts {
    fn new(limit: u32) -> Self {
        Self {
            limit,
            counts: Mutex::default(),
        }
    }

    /// The key's count in its current window.
    fn current(&self, key: &CodeKey, now: i64) -> u32 {
        self.counts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(key)
            .filter(|(start, _)| now - start < 3600)
            .map_or(0, |(_, count)| *count)
    }

    /// Refuses with [`PoolError::LimitExceeded`] once the window's count is spent.
    fn check(&self, key: &CodeKey, now: i64) -> Result<(), PoolError> {
        if self.current(key, now) >= self.limit {
            return Err(PoolError::LimitExceeded);
        }
        Ok(())
    }

    fn count(&self, key: CodeKey, now: i64) {
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        if counts.len() >= MAX_PHANTOMS {
            counts.retain(|_, (start, _)| now - *start < 3600);
        }
        if counts.len() >= MAX_PHANTOMS {
            // Still full of live windows (a flood of made-up names): the older half goes, so
            // memory stays bounded. Refilling it takes the pool's recovery quota minutes.
            let mut starts: Vec<i64> = counts.values().map(|(start, _)| *start).collect();
            starts.sort_unstable();
            let cutoff = starts[starts.len() / 2];
            counts.retain(|_, (start, _)| *start > cutoff);
        }
        let window = counts.entry(key).or_insert((now, 0));
        if now - window.0 >= 3600 {
            *window = (now, 0);
        }
        window.1 += 1;
    }
}

pub struct Attempts {
    stripes: Vec<Mutex<()>>,
    hasher: RandomState,
    phantoms: Mutex<HashMap<(String, String), Phantom>>,
    code_requests: HourlyCounts,
    wrong_codes: HourlyCounts,
    caller_requests: HourlyCounts,
    caller_wrong_codes: HourlyCounts,
}

/// The lock a run of `failures` wrong passwords earns with a limit of `limit`: none below
/// it, then 1 second doubling with each further failure up to [`MAX_LOCKOUT`].
pub fn lockout(failures: i64, limit: i64) -> Option<i64> {
    let excess = failures - limit;
    (excess >= 0).then(|| {
        1i64.checked_shl(u32::try_from(excess).unwrap_or(u32::MAX))
            .unwrap_or(MAX_LOCKOUT)
            .min(MAX_LOCKOUT)
    })
}

impl Attempts {
    pub fn new(codes: CodeLimits) -> Self {
        Self {
            stripes: (0..STRIPES).map(|_| Mutex::new(())).collect(),
            hasher: RandomState::new(),
            phantoms: Mutex::default(),
            code_requests: HourlyCounts::new(codes.requests_per_hour * USER_ALLOWANCE),
            wrong_codes: HourlyCounts::new(codes.wrong_codes_per_hour * USER_ALLOWANCE),
            caller_requests: HourlyCounts::new(codes.requests_per_hour),
            caller_wrong_codes: HourlyCounts::new(codes.wrong_codes_per_hour),
        }
    }

    /// Holds `user`'s sign-in turn: attempts for one user are decided one at a time.
    pub fn turn(&self, pool_id: &str, user: &str) -> MutexGuard<'_, ()> {
        let stripe = self.hasher.hash_one((pool_id, user)) as usize % STRIPES;
        self.stripes[stripe]
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// Until when an unknown username is locked out (0: not locked).
    pub fn phantom_locked_until(&self, pool_id: &str, name: &str) -> i64 {
        self.phantoms
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&(pool_id.to_owned(), name.to_lowercase()))
            .map_or(0, |p| p.locked_until)
    }

    /// Counts a wrong password for an unknown username, returning its failure count so the
    /// caller answers exactly as for a known user.
    pub fn phantom_failure(&self, pool_id: &str, name: &str, now: i64, limit: i64) -> i64 {
        let mut phantoms = self.phantoms.lock().unwrap_or_else(|p| p.into_inner());
        if phantoms.len() >= MAX_PHANTOMS {
            // Forget the half seen longest ago; they would have unlocked by now anyway.
            let mut seen: Vec<i64> = phantoms.values().map(|p| p.last_seen).collect();
            seen.sort_unstable();
            let cutoff = seen[seen.len() / 2];
            phantoms.retain(|_, p| p.last_seen > cutoff);
        }
        let phantom = phantoms
            .entry((pool_id.to_owned(), name.to_lowercase()))
            .or_default();
        phantom.failures += 1;
        phantom.last_seen = now;
        if let Some(seconds) = lockout(phantom.failures, limit) {
            phantom.locked_until = now + seconds;
        }
        phantom.failures
    }

    /// One user's code allowances for one purpose, from every address together.
    pub fn codes(&self, pool_id: &str, user: &str, purpose: CodePurpose) -> CodeAllowance<'_> {
        CodeAllowance {
            requests: &self.code_requests,
            wrong_codes: &self.wrong_codes,
            key: (pool_id.to_owned(), user.to_lowercase(), purpose.as_str()),
        }
    }

    /// One client address's code allowances for one name (as given) and purpose.
    pub fn caller_codes(
        &self,
        caller: IpAddr,
        pool_id: &str,
        name: &str,
        purpose: CodePurpose,
    ) -> CodeAllowance<'_> {
        CodeAllowance {
            requests: &self.caller_requests,
            wrong_codes: &self.caller_wrong_codes,
            key: (
                format!("{pool_id} {caller}"),
                name.to_lowercase(),
                purpose.as_str(),
            ),
        }
    }
}

/// The hourly allowances of codes for one key: a user's, or one address's for one name.
pub struct CodeAllowance<'a> {
    requests: &'a HourlyCounts,
    wrong_codes: &'a HourlyCounts,
    key: CodeKey,
}

impl CodeAllowance<'_> {
    /// Takes one code request from the hour's allowance.
    pub fn request(&self, now: i64) -> Result<(), PoolError> {
        self.requests.check(&self.key, now)?;
        self.requests.count(self.key.clone(), now);
        Ok(())
    }

    /// Refuses a code entry once the hour's wrong guesses ran out.
    pub fn may_enter(&self, now: i64) -> Result<(), PoolError> {
        self.wrong_codes.check(&self.key, now)
    }

    /// Counts a wrong code against the hour's allowance.
    pub fn wrong(&self, now: i64) {
        self.wrong_codes.count(self.key.clone(), now);
    }
}

/// Whether a code flow's step asks for a code or enters one.
#[derive(Debug, Clone, Copy)]
pub enum CodeStep {
    Request,
    Entry,
}

/// Who sends a code step, about whom: a client address, a pool and a name as given.
pub struct CodeRequest<'a> {
    pub caller: Option<IpAddr>,
    pub pool_id: &'a str,
    pub name: &'a str,
    pub purpose: CodePurpose,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_of_made_up_names_keeps_the_counts_bounded() {
        let counts = HourlyCounts::new(5);
        for n in 0..3 * MAX_PHANTOMS {
            let key = ("pool".to_owned(), format!("nobody{n}"), "forgot-password");
            counts.count(key, i64::try_from(n / 100).unwrap());
        }
        let held = counts.counts.lock().unwrap().len();
        assert!(held <= MAX_PHANTOMS, "{held} windows held");
    }

    #[test]
    fn lockouts_start_at_the_limit_and_double_up_to_fifteen_minutes() {
        assert_eq!(lockout(4, 5), None);
        assert_eq!(lockout(5, 5), Some(1));
        assert_eq!(lockout(6, 5), Some(2));
        assert_eq!(lockout(9, 5), Some(16));
        assert_eq!(lockout(15, 5), Some(900));
        assert_eq!(lockout(500, 5), Some(900));
    }

    #[test]
    fn unknown_names_lock_like_known_ones() {
        let attempts = Attempts::new(CodeLimits::default());
        for n in 1..5 {
            assert_eq!(attempts.phantom_failure("p", "Nobody@x.com", 100, 5), n);
            assert_eq!(attempts.phantom_locked_until("p", "nobody@x.com"), 0);
        }
        assert_eq!(attempts.phantom_failure("p", "nobody@x.com", 100, 5), 5);
        assert_eq!(attempts.phantom_locked_until("p", "NOBODY@x.com"), 101);
    }

    #[test]
    fn code_budgets_are_per_address_name_and_purpose_and_hourly() {
        let attempts = Attempts::new(CodeLimits {
            requests_per_hour: 2,
            wrong_codes_per_hour: 1,
        });
        let forgot = CodePurpose::ForgotPassword;
        let (stranger, owner): (IpAddr, IpAddr) =
            ("127.0.0.2".parse().unwrap(), "127.0.0.3".parse().unwrap());
        let from = |caller, name, purpose| attempts.caller_codes(caller, "p", name, purpose);
        from(stranger, "a", forgot).request(0).unwrap();
        from(stranger, "A", forgot).request(10).unwrap();
        let refused = from(stranger, "a", forgot).request(20).unwrap_err();
        assert!(matches!(refused, PoolError::LimitExceeded));
        from(owner, "a", forgot).request(20).unwrap();
        from(stranger, "b", forgot).request(20).unwrap();
        from(stranger, "a", CodePurpose::SignUp)
            .request(20)
            .unwrap();
        from(stranger, "a", forgot).request(3600).unwrap();
        let codes = from(stranger, "a", forgot);
        codes.may_enter(0).unwrap();
        codes.wrong(0);
        assert!(codes.may_enter(3599).is_err());
        from(owner, "a", forgot).may_enter(3599).unwrap();
        codes.may_enter(3600).unwrap();
    }

    #[test]
    fn a_user_has_four_addresses_worth_in_all() {
        let attempts = Attempts::new(CodeLimits {
            requests_per_hour: 2,
            wrong_codes_per_hour: 1,
        });
        let user = attempts.codes("p", "a", CodePurpose::ForgotPassword);
        for _ in 0..8 {
            user.request(0).unwrap();
        }
        assert!(user.request(0).is_err());
    }
}
