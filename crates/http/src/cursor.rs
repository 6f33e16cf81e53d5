//! `next_token`: an opaque encoding of where a list left off ([`PageKey`]), accepted only
//! for the list it came from (the domain's rule, [`PageKey::belongs_to`]). A task list's
//! token also binds its order and filters, so a token of one sort or filter is refused by
//! another (a 400, as any foreign token).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use taskapi_domain::{PageKey, PageScope, Status, TaskFilter};

use crate::ApiError;

/// Longer tokens than this are not ours; refuse them before decoding. (The OpenAPI
/// document states the same bound.)
pub const MAX_TOKEN_LEN: usize = 2048;

#[derive(Serialize, Deserialize)]
struct Wire {
    pk: String,
    sk: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    g1pk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    g1sk: Option<String>,
    /// The position in a due-date index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ds: Option<String>,
    /// What the list was besides its partition ([`binding`]); absent for a plain list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    l: Option<String>,
}

/// The binding of the Upcoming view's tokens.
const UPCOMING: &str = "upcoming";

/// What a list's token is bound to besides its partition: a task list's sort and filters,
/// in one canonical text, or the Upcoming view. `None` for a plain list (a task list
/// oldest first and unfiltered, whose tokens are as they were before lists could be
/// sorted; the admin view; the projects).
fn binding(scope: &PageScope<'_>) -> Option<String> {
    let list = match scope {
        PageScope::Owner { list, .. } | PageScope::Project(_, list) => list,
        PageScope::Upcoming => return Some(UPCOMING.to_owned()),
        PageScope::Status(_) | PageScope::Projects { .. } => return None,
    };
    if **list == TaskFilter::default() {
        return None;
    }
    let pairs = [
        ("sort", Some(list.sort.as_str())),
        ("status", list.status.map(Status::as_str)),
        (
            "due_before",
            list.due_before.as_ref().map(|due| due.as_str()),
        ),
        ("assignee", list.assignee.as_deref()),
    ];
    let text = serde_urlencoded::to_string(
        pairs
            .iter()
            .filter_map(|(name, value)| value.map(|value| (name, value)))
            .collect::<Vec<_>>(),
    )
    .expect("text pairs encode");
    Some(text)
}

/// The token of the page after `key` in `scope`'s list.
pub fn encode(key: &PageKey, scope: &PageScope<'_>) -> String {
    let wire = Wire {
        pk: key.pk.clone(),
        sk: key.sk.clone(),
        g1pk: key.gsi1pk.clone(),
        g1sk: key.gsi1sk.clone(),
        ds: key.due_sk.clone(),
        l: binding(scope),
    };
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&wire).expect("a page key serializes"))
}

pub fn decode(token: &str, scope: &PageScope<'_>) -> Result<PageKey, ApiError> {
    let invalid = || {
        ApiError::bad_request(
            "invalid_next_token",
            "next_token is not a token this list returned",
        )
    };
    if token.is_empty() || token.len() > MAX_TOKEN_LEN {
        return Err(invalid());
    }
    let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| invalid())?;
    let wire: Wire = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    if wire.l != binding(scope) {
        return Err(invalid());
    }
    let key = PageKey {
        pk: wire.pk,
        sk: wire.sk,
        gsi1pk: wire.g1pk,
        gsi1sk: wire.g1sk,
        due_sk: wire.ds,
    };
    if !key.belongs_to(scope) {
        return Err(invalid());
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use taskapi_domain::{ProjectId, Sort, keys};

    use super::*;

    const PLAIN: TaskFilter = TaskFilter {
        status: None,
        assignee: None,
        due_before: None,
        sort: Sort::CreatedAt,
    };

    fn owner(sub: &str) -> PageScope<'_> {
        PageScope::Owner { sub, list: &PLAIN }
    }

    #[test]
    fn round_trips_for_its_own_list() {
        let key = PageKey::table(keys::user_pk("alice"), "TASK#0193".into());
        let token = encode(&key, &owner("alice"));
        assert_eq!(decode(&token, &owner("alice")).unwrap(), key);
        assert!(decode(&token, &owner("mallory")).is_err());
        assert!(decode(&token, &PageScope::Status(Status::Pending)).is_err());
    }

    #[test]
    fn project_tokens_stay_in_their_project() {
        let project = ProjectId::generate();
        let key = PageKey::table(keys::project_pk(&project), "TASK#1".into());
        let scope = PageScope::Project(&project, &PLAIN);
        let token = encode(&key, &scope);
        assert_eq!(decode(&token, &scope).unwrap(), key);
        let other = ProjectId::generate();
        assert!(decode(&token, &PageScope::Project(&other, &PLAIN)).is_err());
    }

    #[test]
    fn task_list_tokens_bind_their_sort_and_filters() {
        let by_due = TaskFilter {
            sort: Sort::DueAt,
            ..PLAIN
        };
        let done_by_due = TaskFilter {
            status: Some(Status::Done),
            ..by_due.clone()
        };
        let mut key = PageKey::table(keys::user_pk("alice"), "TASK#1".into());
        key.due_sk = Some("2030-01-01T00:00:00.000000Z#1".into());
        let sorted = |list| PageScope::Owner { sub: "alice", list };
        let token = encode(&key, &sorted(&by_due));
        assert_eq!(decode(&token, &sorted(&by_due)).unwrap(), key);
        assert!(decode(&token, &sorted(&PLAIN)).is_err(), "another sort");
        assert!(
            decode(&token, &sorted(&done_by_due)).is_err(),
            "another filter"
        );
        assert!(decode(&token, &PageScope::Upcoming).is_err());
        let plain = PageKey::table(keys::user_pk("alice"), "TASK#1".into());
        let created = encode(&plain, &owner("alice"));
        assert!(
            decode(&created, &sorted(&by_due)).is_err(),
            "a created_at token"
        );
    }

    #[test]
    fn upcoming_tokens_are_only_upcoming_tokens() {
        let mut key = PageKey::table(keys::user_pk("alice"), "TASK#1".into());
        key.due_sk = Some("2030-01-01T00:00:00.000000Z#1".into());
        let token = encode(&key, &PageScope::Upcoming);
        assert_eq!(decode(&token, &PageScope::Upcoming).unwrap(), key);
        key.due_sk = Some(String::new());
        let empty = encode(&key, &PageScope::Upcoming);
        assert!(
            decode(&empty, &PageScope::Upcoming).is_err(),
            "an empty position"
        );
    }

    #[test]
    fn garbage_is_refused() {
        for token in ["", "!!!", "e30", &"A".repeat(5000)] {
            assert!(decode(token, &owner("a")).is_err(), "{token:?}");
        }
    }
}
