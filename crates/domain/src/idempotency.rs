//! Retry-safe creates. A client that sends `POST /tasks` with an `Idempotency-Key` may
//! repeat the request (after a timeout, a dropped connection, a crash) without making a
//! second task: for [`IDEMPOTENCY_WINDOW`] the same key with the same body answers with the
//! task the first request created, and the same key with another body is refused.
//!
//! Keys belong to the caller: two users may use the same key for different tasks. The
//! store writes the task and the key's record in one transaction, so there is no window in
//! which one exists without the other, and concurrent duplicates create one task.

use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::{NewTask, Priority, Task, ValidationError};

/// How long a key is remembered, as Stripe's API and Lambda Powertools do by default.
pub const IDEMPOTENCY_WINDOW: Duration = Duration::from_secs(24 * 60 * 60);

/// The longest key accepted (Stripe's limit): a UUID fits many times over.
const MAX_KEY_LEN: usize = 255;

/// A client's idempotency key: 1 to 255 visible ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let field = "idempotency_key";
        if raw.is_empty() || raw.len() > MAX_KEY_LEN {
            return Err(ValidationError::new(
                field,
                format!("Idempotency-Key must be 1 to {MAX_KEY_LEN} characters"),
            ));
        }
        if !raw.bytes().all(|byte| byte.is_ascii_graphic()) {
            return Err(ValidationError::new(
                field,
                "Idempotency-Key must be visible ASCII characters without spaces",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A keyed create, as the store needs it: the key, a fingerprint of what was asked for
/// (so a reuse with another body is told apart), and when the key was used and lapses
/// (Unix seconds; DynamoDB's TTL attribute takes this form).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotentCreate {
    pub key: IdempotencyKey,
    pub fingerprint: String,
    pub used_at: i64,
    pub expires_at: i64,
}

impl IdempotentCreate {
    /// The fingerprint is taken over the validated request, so two bodies that ask for the
    /// same task (`{"title":"a"}` and `{"title":" a","status":"pending"}`) are the same request.
    pub fn new(key: IdempotencyKey, request: &NewTask, used_at: i64) -> Self {
        Self::over(key, &[], request, used_at)
    }

    /// A keyed create of a project task: its assignee is part of what was asked for.
    pub fn for_project_task(
        key: IdempotencyKey,
        request: &NewTask,
        assignee: Option<&str>,
        used_at: i64,
    ) -> Self {
        // Tagged, so "no assignee" and an assignee named "" cannot be the same request.
        let assignee = match assignee {
            Some(user) => format!("assignee:{user}"),
            None => "unassigned".to_owned(),
        };
        Self::over(key, &[assignee.as_str()], request, used_at)
    }

    fn over(key: IdempotencyKey, extra: &[&str], request: &NewTask, used_at: i64) -> Self {
        // The planning fields count only when set, so a request without them keeps the
        // fingerprint it had before they existed (a key used then still replays).
        let due = request
            .due_at
            .as_ref()
            .map(|due| format!("due_at:{}", due.as_str()));
        let priority = (request.priority != Priority::None)
            .then(|| format!("priority:{}", request.priority.as_str()));
        let planning: Vec<&str> = due.iter().chain(&priority).map(String::as_str).collect();
        let mut hash = Sha256::new();
        // Length-prefixed, so no two different requests can run together into one text.
        for part in [
            request.title.as_str(),
            request.description.as_str(),
            request.status.as_str(),
        ]
        .iter()
        .chain(extra)
        .chain(&planning)
        {
            hash.update((part.len() as u64).to_be_bytes());
            hash.update(part.as_bytes());
        }
        let fingerprint = hash
            .finalize()
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        let window = i64::try_from(IDEMPOTENCY_WINDOW.as_secs()).expect("a day fits in i64");
        Self {
            key,
            fingerprint,
            used_at,
            expires_at: used_at + window,
        }
    }

    /// Whether a record stored with `expires_at` still holds the key now. DynamoDB deletes
    /// expired items only eventually (within days), so stores check this themselves.
    pub fn still_holds(&self, expires_at: i64) -> bool {
        expires_at > self.used_at
    }
}

/// What a keyed create did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Created {
    /// The task was stored, with the key's record.
    New,
    /// The key was used before with the same request: nothing was stored, and this is the
    /// task that first request created, as it was answered then.
    Replayed(Box<Task>),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Description, Status, Title};

    fn request(title: &str, status: Status) -> NewTask {
        NewTask {
            title: Title::parse(title).unwrap(),
            description: Description::parse("").unwrap(),
            status,
            due_at: None,
            priority: Priority::None,
        }
    }

    #[test]
    fn planning_fields_are_part_of_the_request_only_when_set() {
        let key = || IdempotencyKey::parse("k").unwrap();
        let plain = IdempotentCreate::new(key(), &request("a", Status::Pending), 0);
        let mut urgent = request("a", Status::Pending);
        urgent.priority = Priority::Urgent;
        let mut due = request("a", Status::Pending);
        due.due_at = Some(crate::parse_instant("due_at", "2026-01-01T00:00:00Z").unwrap());
        let fingerprints = [
            plain,
            IdempotentCreate::new(key(), &urgent, 0),
            IdempotentCreate::new(key(), &due, 0),
        ]
        .map(|once| once.fingerprint);
        assert_ne!(fingerprints[0], fingerprints[1]);
        assert_ne!(fingerprints[0], fingerprints[2]);
        assert_ne!(fingerprints[1], fingerprints[2]);
    }

    #[test]
    fn keys_are_short_visible_ascii() {
        assert!(IdempotencyKey::parse("4f1c2a9e-0b7d-4c53-9a51-6f0d2b8e7c11").is_ok());
        assert!(IdempotencyKey::parse(&"k".repeat(255)).is_ok());
        for bad in ["", "has space", "tab\there", "naïve", &"k".repeat(256)] {
            assert!(IdempotencyKey::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_fingerprint_is_the_request_not_its_spelling() {
        let key = IdempotencyKey::parse("k").unwrap();
        let first = IdempotentCreate::new(key.clone(), &request("Ship it", Status::Pending), 100);
        let again = IdempotentCreate::new(key.clone(), &request(" Ship it ", Status::Pending), 200);
        let other = IdempotentCreate::new(key, &request("Ship it", Status::Done), 100);
        assert_eq!(first.fingerprint, again.fingerprint);
        assert_ne!(first.fingerprint, other.fingerprint);
        assert_eq!(first.expires_at, 100 + 86_400);
        let task = request("Ship it", Status::Pending);
        let project = |assignee| {
            IdempotentCreate::for_project_task(key_k(), &task, assignee, 100).fingerprint
        };
        assert_eq!(project(None), project(None));
        assert_ne!(project(None), project(Some("ann")));
        assert_ne!(project(Some("ann")), project(Some("bob")));
        assert_ne!(
            project(None),
            first.fingerprint,
            "the unchanged seed fingerprint"
        );
    }

    fn key_k() -> IdempotencyKey {
        IdempotencyKey::parse("k").unwrap()
    }

    #[test]
    fn a_record_holds_until_it_expires() {
        let key = IdempotencyKey::parse("k").unwrap();
        let now = IdempotentCreate::new(key, &request("t", Status::Pending), 1_000);
        assert!(now.still_holds(1_001));
        assert!(!now.still_holds(1_000));
    }
}
