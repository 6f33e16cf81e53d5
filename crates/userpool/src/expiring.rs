//! Short-lived server-side state kept in memory: the hosted UI's sign-in sessions and
//! authorization codes, and the server half of SRP sign-ins. Each lives an hour at most, and
//! a restart only means signing in again; none of it costs a stranger's request any disk.

use std::collections::HashMap;
use std::sync::Mutex;

/// A map from unguessable keys to values that expire, each owned by an account. It
/// holds at most `capacity` entries, and at most `per_owner` of one owner's: an owner at
/// its own cap loses its oldest entry, and when the map is full (after expired entries are
/// dropped) the owner holding the most loses its oldest. So no caller grows it without
/// bound, and no account, however busy, pushes out another account's sign-in or code.
pub struct Expiring<T> {
    entries: Mutex<HashMap<String, Entry<T>>>,
    capacity: usize,
    per_owner: usize,
}

struct Entry<T> {
    owner: String,
    value: T,
    expires_at: i64,
}

impl<T: Clone> Expiring<T> {
    pub fn new(capacity: usize, per_owner: usize) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            capacity,
            per_owner,
        }
    }

    /// Stores `value` under `key` (unguessable: the caller's random value) for `owner`
    /// until `expires_at`.
    pub fn insert(&self, key: String, owner: &str, value: T, now: i64, expires_at: i64) {
        let mut entries = self.lock();
        if owned(&entries, owner) >= self.per_owner {
            evict_oldest(&mut entries, owner);
        }
        if entries.len() >= self.capacity {
            entries.retain(|_, e| e.expires_at > now);
        }
        if entries.len() >= self.capacity {
            let mut counts: HashMap<&str, usize> = HashMap::new();
            for entry in entries.values() {
                *counts.entry(entry.owner.as_str()).or_default() += 1;
            }
            if let Some(busiest) = counts
                .into_iter()
                .max_by_key(|(_, count)| *count)
                .map(|(owner, _)| owner.to_owned())
            {
                evict_oldest(&mut entries, &busiest);
            }
        }
        entries.insert(
            key,
            Entry {
                owner: owner.to_owned(),
                value,
                expires_at,
            },
        );
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

/// How many live entries `owner` has.
fn owned<T>(entries: &HashMap<String, Entry<T>>, owner: &str) -> usize {
    entries.values().filter(|e| e.owner == owner).count()
}

/// Removes `owner`'s entry closest to expiring.
fn evict_oldest<T>(entries: &mut HashMap<String, Entry<T>>, owner: &str) {
    if let Some(oldest) = entries
        .iter()
        .filter(|(_, e)| e.owner == owner)
        .min_by_key(|(_, e)| e.expires_at)
        .map(|(k, _)| k.clone())
    {
        entries.remove(&oldest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Inserts under a key of its own and returns it.
    fn put<T: Clone>(map: &Expiring<T>, owner: &str, value: T, expires_at: i64) -> String {
        let key = format!("{owner}-{expires_at}-{}", map.lock().len());
        map.insert(key.clone(), owner, value, 0, expires_at);
        key
    }

    #[test]
    fn take_is_single_use_and_respects_expiry() {
        let map = Expiring::new(10, 10);
        let key = put(&map, "a", "v", 100);
        assert_eq!(map.get(&key, 50), Some("v"));
        assert_eq!(map.take(&key, 50), Some("v"));
        assert_eq!(map.take(&key, 50), None);
        let late = put(&map, "a", "w", 100);
        assert_eq!(map.take(&late, 100), None);
    }

    #[test]
    fn capacity_is_a_hard_bound() {
        let map = Expiring::new(3, 3);
        let first = put(&map, "a", 1, 10);
        for i in 2..=5 {
            put(&map, "a", i, 10 + i64::from(i));
        }
        assert_eq!(map.lock().len(), 3);
        assert_eq!(map.get(&first, 0), None);
    }

    #[test]
    fn one_owner_never_evicts_another() {
        let map = Expiring::new(10, 4);
        let victim = put(&map, "victim", 0, 5);
        let busy: Vec<String> = (0..10_000)
            .map(|i| put(&map, "busy", i, 100 + i64::from(i)))
            .collect();
        assert_eq!(
            map.get(&victim, 1),
            Some(0),
            "the other account's entry stays"
        );
        assert_eq!(
            owned(&map.lock(), "busy"),
            4,
            "the busy account keeps its newest 4"
        );
        assert_eq!(map.get(&busy[9_999], 1), Some(9_999));
        // Full of many owners' live entries: the owner with the most gives one up.
        for n in 0..3 {
            put(&map, &format!("other{n}"), 1, 1_000);
        }
        assert_eq!(map.lock().len(), 8);
        put(&map, "more", 1, 1_000);
        put(&map, "more2", 1, 1_000);
        put(&map, "more3", 1, 1_000);
        assert_eq!(map.lock().len(), 10);
        assert_eq!(
            map.get(&victim, 1),
            Some(0),
            "the victim's one entry outlives the busiest's"
        );
    }
}
