//! Short-lived server-side state of the hosted UI (sign-in sessions and authorization codes),
//! kept in memory: both live an hour at most, and a restart only means signing in again.

use std::collections::HashMap;
use std::sync::Mutex;

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// A map from unguessable random keys to values that expire. It holds at most `capacity`
/// entries: expired ones are dropped first, then the oldest, so no caller can grow it
/// without bound.
pub struct Expiring<T> {
    entries: Mutex<HashMap<String, Entry<T>>>,
    capacity: usize,
}

struct Entry<T> {
    value: T,
    expires_at: i64,
}

impl<T: Clone> Expiring<T> {
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            capacity,
        }
    }

    /// Stores `value` until `expires_at` and returns its new key.
    pub fn insert(&self, value: T, now: i64, expires_at: i64) -> String {
        let key = random_key();
        let mut entries = self.lock();
        if entries.len() >= self.capacity {
            entries.retain(|_, e| e.expires_at > now);
        }
        if entries.len() >= self.capacity {
            // Still full of live entries: the one closest to expiring goes.
            if let Some(oldest) = entries
                .iter()
                .min_by_key(|(_, e)| e.expires_at)
                .map(|(k, _)| k.clone())
            {
                entries.remove(&oldest);
            }
        }
        entries.insert(key.clone(), Entry { value, expires_at });
        key
    }

    /// The live value under `key`.
    pub fn get(&self, key: &str, now: i64) -> Option<T> {
        self.lock()
            .get(key)
            .filter(|e| e.expires_at > now)
            .map(|e| e.value.clone())
    }

    /// Removes and returns the value under `key`; `None` if absent or expired. Either way the
    /// key is gone afterwards, which makes authorization codes single-use.
    pub fn take(&self, key: &str, now: i64) -> Option<T> {
        self.lock()
            .remove(key)
            .filter(|e| e.expires_at > now)
            .map(|e| e.value)
    }

    pub fn remove(&self, key: &str) {
        self.lock().remove(key);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry<T>>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// 32 random bytes, base64url: a session id, an authorization code or a CSRF secret.
pub fn random_key() -> String {
    let mut bytes = [0u8; 32];
    SystemRandom::new()
        .fill(&mut bytes)
        .expect("the system random source works");
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn take_is_single_use_and_respects_expiry() {
        let map = Expiring::new(10);
        let key = map.insert("v", 0, 100);
        assert_eq!(map.get(&key, 50), Some("v"));
        assert_eq!(map.take(&key, 50), Some("v"));
        assert_eq!(map.take(&key, 50), None);
        let late = map.insert("w", 0, 100);
        assert_eq!(map.take(&late, 100), None);
    }

    #[test]
    fn capacity_is_a_hard_bound() {
        let map = Expiring::new(3);
        let first = map.insert(1, 0, 10);
        for i in 2..=5 {
            map.insert(i, 0, 10 + i64::from(i));
        }
        assert_eq!(map.lock().len(), 3);
        assert_eq!(map.get(&first, 0), None);
    }
}
