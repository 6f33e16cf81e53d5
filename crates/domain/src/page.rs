//! Which list a page key may continue. A `next_token` comes back from the client, so the
//! key inside it is untrusted: it is accepted only for the list it came from (the caller's
//! own partition, their project's, or the same admin status view), so no token can reach
//! into another user's tasks. The rule is the table's, so it lives beside its keys.

use crate::{PageKey, ProjectId, Sort, Status, TaskFilter, keys};

/// The list a page key belongs to.
pub enum PageScope<'a> {
    /// The caller's own tasks, so filtered and sorted.
    Owner { sub: &'a str, list: &'a TaskFilter },
    /// Every task in one status (the admin view, on GSI1).
    Status(Status),
    /// A project's tasks, so filtered and sorted.
    Project(&'a ProjectId, &'a TaskFilter),
    /// The caller's projects (their membership mirrors).
    Projects { sub: &'a str },
    /// The caller's Upcoming view (its index partition is the caller's whatever the key
    /// says, so only the task key and the due position are checked).
    Upcoming,
}

impl PageKey {
    /// Whether this key is a place in `scope`'s list, and nowhere else.
    pub fn belongs_to(&self, scope: &PageScope<'_>) -> bool {
        let no_gsi1 = self.gsi1pk.is_none() && self.gsi1sk.is_none();
        let table_key = no_gsi1 && self.due_sk.is_none();
        let a_task = self.sk.starts_with(keys::TASK_PREFIX);
        // DynamoDB refuses an empty key value, and no key of ours has one.
        let due_position = self.due_sk.as_deref().map(|due| !due.is_empty());
        // A task list's key: a due position only in due order.
        let of_list = |list: &TaskFilter| {
            a_task && no_gsi1 && due_position.is_none_or(|ok| ok && list.sort == Sort::DueAt)
        };
        match scope {
            PageScope::Owner { sub, list } => of_list(list) && self.pk == keys::user_pk(sub),
            PageScope::Project(project, list) => {
                of_list(list) && self.pk == keys::project_pk(project)
            }
            PageScope::Upcoming => {
                a_task
                    && no_gsi1
                    && due_position == Some(true)
                    && (self.pk.starts_with(keys::USER_PREFIX)
                        || self.pk.starts_with(keys::PROJECT_PREFIX))
            }
            PageScope::Projects { sub } => {
                table_key
                    && self.pk == keys::user_pk(sub)
                    && self.sk.starts_with(keys::PROJECT_PREFIX)
            }
            PageScope::Status(status) => {
                a_task
                    && self.due_sk.is_none()
                    && (self.pk.starts_with(keys::USER_PREFIX)
                        || self.pk.starts_with(keys::PROJECT_PREFIX))
                    && self.gsi1pk.as_deref() == Some(keys::status_gsi1pk(*status).as_str())
                    && self.gsi1sk.is_some()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table_key(pk: String, sk: String) -> PageKey {
        PageKey::table(pk, sk)
    }

    const PLAIN: TaskFilter = TaskFilter {
        status: None,
        assignee: None,
        due_before: None,
        sort: Sort::CreatedAt,
    };

    #[test]
    fn an_owners_key_stays_with_its_owner() {
        let key = table_key(keys::user_pk("alice"), "TASK#0193".into());
        assert!(key.belongs_to(&PageScope::Owner {
            sub: "alice",
            list: &PLAIN
        }));
        assert!(!key.belongs_to(&PageScope::Owner {
            sub: "mallory",
            list: &PLAIN
        }));
        assert!(!key.belongs_to(&PageScope::Status(Status::Pending)));
        assert!(!key.belongs_to(&PageScope::Projects { sub: "alice" }));
    }

    #[test]
    fn a_status_key_stays_in_its_status() {
        let key = PageKey {
            gsi1pk: Some(keys::status_gsi1pk(Status::Done)),
            gsi1sk: Some("2026-01-01T00:00:00.000000Z".into()),
            ..table_key(keys::user_pk("alice"), "TASK#1".into())
        };
        assert!(key.belongs_to(&PageScope::Status(Status::Done)));
        assert!(!key.belongs_to(&PageScope::Status(Status::Pending)));
        assert!(!key.belongs_to(&PageScope::Owner {
            sub: "alice",
            list: &PLAIN
        }));
    }

    #[test]
    fn project_keys_stay_in_their_project() {
        let project = ProjectId::generate();
        let key = table_key(keys::project_pk(&project), "TASK#1".into());
        assert!(key.belongs_to(&PageScope::Project(&project, &PLAIN)));
        assert!(!key.belongs_to(&PageScope::Project(&ProjectId::generate(), &PLAIN)));
        assert!(!key.belongs_to(&PageScope::Owner {
            sub: "alice",
            list: &PLAIN
        }));
        let mine = table_key(keys::user_pk("alice"), keys::project_mirror_sk(&project));
        assert!(mine.belongs_to(&PageScope::Projects { sub: "alice" }));
        assert!(!mine.belongs_to(&PageScope::Projects { sub: "bob" }));
        assert!(!mine.belongs_to(&PageScope::Owner {
            sub: "alice",
            list: &PLAIN
        }));
    }

    #[test]
    fn due_positions_belong_to_due_order_and_the_upcoming_view() {
        let by_due = TaskFilter {
            sort: Sort::DueAt,
            ..PLAIN
        };
        let mut key = table_key(keys::user_pk("alice"), "TASK#1".into());
        key.due_sk = Some("2030-01-01T00:00:00.000000Z#1".into());
        assert!(key.belongs_to(&PageScope::Owner {
            sub: "alice",
            list: &by_due
        }));
        assert!(!key.belongs_to(&PageScope::Owner {
            sub: "alice",
            list: &PLAIN
        }));
        assert!(key.belongs_to(&PageScope::Upcoming));
        assert!(!key.belongs_to(&PageScope::Status(Status::Pending)));
        key.due_sk = Some(String::new());
        assert!(!key.belongs_to(&PageScope::Upcoming), "an empty position");
        assert!(!key.belongs_to(&PageScope::Owner {
            sub: "alice",
            list: &by_due
        }));
    }
}
