//! `next_token`: an opaque encoding of where a list left off ([`PageKey`]), bound to the
//! list it came from. A token is only accepted for the same caller's list (its `PK` must be
//! the caller's partition) or the same admin status view, so no token can reach into
//! another user's tasks; a task list's token also binds its order and filters, so a token
//! of one sort or filter is refused by another (a 400, as any foreign token).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use taskapi_domain::{PageKey, ProjectId, Sort, Status, TaskFilter, keys};

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

/// The list a token belongs to.
pub enum Scope<'a> {
    /// The caller's tasks, so filtered and sorted.
    Owner {
        sub: &'a str,
        list: &'a TaskFilter,
    },
    Status(Status),
    /// A project's tasks, so filtered and sorted.
    Project(&'a ProjectId, &'a TaskFilter),
    /// The caller's projects (their membership mirrors).
    Projects {
        sub: &'a str,
    },
    /// The caller's Upcoming view (its index partition is the caller's, whatever the
    /// token says, so only the task key and due position are checked).
    Upcoming,
}

/// The binding of the Upcoming view's tokens.
const UPCOMING: &str = "upcoming";

/// What a task list's token is bound to besides its partition: its sort and filters, in
/// one canonical text. `None` for the plain list (oldest first, unfiltered), whose tokens
/// are as they were before lists could be sorted.
pub fn binding(list: &TaskFilter) -> Option<String> {
    if *list == TaskFilter::default() {
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

/// The token of a plain list (no binding): the admin view, the projects list.
pub fn encode(key: &PageKey) -> String {
    encode_bound(key, None)
}

/// The token of a page of the task list `list`.
pub fn encode_for(key: &PageKey, list: &TaskFilter) -> String {
    encode_bound(key, binding(list))
}

/// The token of a page of the Upcoming view.
pub fn encode_upcoming(key: &PageKey) -> String {
    encode_bound(key, Some(UPCOMING.to_owned()))
}

fn encode_bound(key: &PageKey, binding: Option<String>) -> String {
    let wire = Wire {
        pk: key.pk.clone(),
        sk: key.sk.clone(),
        g1pk: key.gsi1pk.clone(),
        g1sk: key.gsi1sk.clone(),
        ds: key.due_sk.clone(),
        l: binding,
    };
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&wire).expect("a page key serializes"))
}

pub fn decode(token: &str, scope: Scope<'_>) -> Result<PageKey, ApiError> {
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
    // DynamoDB refuses an empty key value (a 500 if it reached it): no token of ours has one.
    if wire.ds.as_deref() == Some("") {
        return Err(invalid());
    }
    let table_key = wire.g1pk.is_none() && wire.g1sk.is_none() && wire.ds.is_none();
    let a_task = wire.sk.starts_with(keys::TASK_PREFIX);
    // A task list's token: bound to the same list; a due position only in due order.
    let of_list = |list: &TaskFilter| {
        let due_position = wire.ds.is_none() || list.sort == Sort::DueAt;
        a_task
            && wire.g1pk.is_none()
            && wire.g1sk.is_none()
            && due_position
            && wire.l == binding(list)
    };
    let in_scope = match scope {
        Scope::Owner { sub, list } => of_list(list) && wire.pk == keys::user_pk(sub),
        Scope::Project(project, list) => of_list(list) && wire.pk == keys::project_pk(project),
        Scope::Projects { sub } => {
            table_key
                && wire.l.is_none()
                && wire.pk == keys::user_pk(sub)
                && wire.sk.starts_with(keys::PROJECT_PREFIX)
        }
        Scope::Status(status) => {
            a_task
                && wire.l.is_none()
                && wire.ds.is_none()
                && (wire.pk.starts_with(keys::USER_PREFIX)
                    || wire.pk.starts_with(keys::PROJECT_PREFIX))
                && wire.g1pk.as_deref() == Some(keys::status_gsi1pk(status).as_str())
                && wire.g1sk.is_some()
        }
        Scope::Upcoming => {
            a_task
                && wire.g1pk.is_none()
                && wire.g1sk.is_none()
                && wire.ds.is_some()
                && wire.l.as_deref() == Some(UPCOMING)
                && (wire.pk.starts_with(keys::USER_PREFIX)
                    || wire.pk.starts_with(keys::PROJECT_PREFIX))
        }
    };
    if !in_scope {
        return Err(invalid());
    }
    Ok(PageKey {
        pk: wire.pk,
        sk: wire.sk,
        gsi1pk: wire.g1pk,
        gsi1sk: wire.g1sk,
        due_sk: wire.ds,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain() -> TaskFilter {
        TaskFilter::default()
    }

    #[test]
    fn task_list_tokens_bind_their_sort_and_filters() {
        let by_due = TaskFilter {
            sort: Sort::DueAt,
            ..plain()
        };
        let mut key = PageKey::table(keys::user_pk("alice"), "TASK#1".into());
        key.due_sk = Some("2030-01-01T00:00:00.000000Z#1".into());
        let token = encode_for(&key, &by_due);
        let owner = |list| Scope::Owner { sub: "alice", list };
        assert_eq!(decode(&token, owner(&by_due)).unwrap(), key);
        let unsorted = plain();
        assert!(decode(&token, owner(&unsorted)).is_err(), "another sort");
        let done_by_due = TaskFilter {
            status: Some(Status::Done),
            ..by_due.clone()
        };
        assert!(
            decode(&token, owner(&done_by_due)).is_err(),
            "another filter"
        );
        let created = encode_for(
            &PageKey::table(keys::user_pk("alice"), "TASK#1".into()),
            &plain(),
        );
        assert!(
            decode(&created, owner(&by_due)).is_err(),
            "a created_at token"
        );
        assert!(decode(&token, Scope::Upcoming).is_err());
    }

    #[test]
    fn upcoming_tokens_are_only_upcoming_tokens() {
        let mut key = PageKey::table(keys::user_pk("alice"), "TASK#1".into());
        key.due_sk = Some("2030-01-01T00:00:00.000000Z#1".into());
        let token = encode_upcoming(&key);
        assert_eq!(decode(&token, Scope::Upcoming).unwrap(), key);
        let by_due = TaskFilter {
            sort: Sort::DueAt,
            ..plain()
        };
        let owner = Scope::Owner {
            sub: "alice",
            list: &by_due,
        };
        assert!(decode(&token, owner).is_err());
        let plain_token = encode(&PageKey::table(keys::user_pk("alice"), "TASK#1".into()));
        assert!(decode(&plain_token, Scope::Upcoming).is_err());
        key.due_sk = Some(String::new());
        assert!(
            decode(&encode_upcoming(&key), Scope::Upcoming).is_err(),
            "an empty position"
        );
    }

    fn owner_key(sub: &str) -> PageKey {
        PageKey::table(keys::user_pk(sub), "TASK#0193".into())
    }

    #[test]
    fn round_trips_for_its_own_list() {
        let key = owner_key("alice");
        let token = encode(&key);
        assert_eq!(
            decode(
                &token,
                Scope::Owner {
                    sub: "alice",
                    list: &plain()
                }
            )
            .unwrap(),
            key
        );
    }

    #[test]
    fn another_callers_token_is_refused() {
        let token = encode(&owner_key("alice"));
        assert!(
            decode(
                &token,
                Scope::Owner {
                    sub: "mallory",
                    list: &plain()
                }
            )
            .is_err()
        );
        assert!(decode(&token, Scope::Status(Status::Pending)).is_err());
    }

    #[test]
    fn status_tokens_stay_in_their_status() {
        let key = PageKey {
            pk: keys::user_pk("alice"),
            sk: "TASK#1".into(),
            gsi1pk: Some(keys::status_gsi1pk(Status::Done)),
            gsi1sk: Some("2026-01-01T00:00:00.000000Z".into()),
            due_sk: None,
        };
        let token = encode(&key);
        assert_eq!(decode(&token, Scope::Status(Status::Done)).unwrap(), key);
        assert!(decode(&token, Scope::Status(Status::Pending)).is_err());
        assert!(
            decode(
                &token,
                Scope::Owner {
                    sub: "alice",
                    list: &plain()
                }
            )
            .is_err()
        );
    }

    #[test]
    fn project_tokens_stay_in_their_project() {
        let project = ProjectId::generate();
        let key = PageKey::table(keys::project_pk(&project), "TASK#1".into());
        let token = encode(&key);
        assert_eq!(
            decode(&token, Scope::Project(&project, &plain())).unwrap(),
            key
        );
        assert!(decode(&token, Scope::Project(&ProjectId::generate(), &plain())).is_err());
        assert!(
            decode(
                &token,
                Scope::Owner {
                    sub: "alice",
                    list: &plain()
                }
            )
            .is_err()
        );
        let mine = PageKey::table(keys::user_pk("alice"), keys::project_mirror_sk(&project));
        let token = encode(&mine);
        assert_eq!(
            decode(&token, Scope::Projects { sub: "alice" }).unwrap(),
            mine
        );
        assert!(decode(&token, Scope::Projects { sub: "bob" }).is_err());
        assert!(
            decode(
                &token,
                Scope::Owner {
                    sub: "alice",
                    list: &plain()
                }
            )
            .is_err()
        );
    }

    #[test]
    fn garbage_is_refused() {
        for token in ["", "!!!", "e30", &"A".repeat(5000)] {
            assert!(
                decode(
                    token,
                    Scope::Owner {
                        sub: "a",
                        list: &plain()
                    }
                )
                .is_err(),
                "{token:?}"
            );
        }
    }
}
