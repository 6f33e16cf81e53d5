//! Which list a page key may continue. A `next_token` comes back from the client, so the
//! key inside it is untrusted: it is accepted only for the list it came from (the caller's
//! own partition, their project's, or the same admin status view), so no token can reach
//! into another user's tasks. The rule is the table's, so it lives beside its keys.

use crate::{PageKey, ProjectId, Status, keys};

/// The list a page key belongs to.
pub enum PageScope<'a> {
    /// The caller's own tasks.
    Owner { sub: &'a str },
    /// Every task in one status (the admin view, on GSI1).
    Status(Status),
    /// A project's tasks.
    Project(&'a ProjectId),
    /// The caller's projects (their membership mirrors).
    Projects { sub: &'a str },
}

impl PageKey {
    /// Whether this key is a place in `scope`'s list, and nowhere else.
    pub fn belongs_to(&self, scope: &PageScope<'_>) -> bool {
        let table_key = self.gsi1pk.is_none() && self.gsi1sk.is_none();
        let a_task = self.sk.starts_with(keys::TASK_PREFIX);
        match scope {
            PageScope::Owner { sub } => a_task && table_key && self.pk == keys::user_pk(sub),
            PageScope::Project(project) => {
                a_task && table_key && self.pk == keys::project_pk(project)
            }
            PageScope::Projects { sub } => {
                table_key
                    && self.pk == keys::user_pk(sub)
                    && self.sk.starts_with(keys::PROJECT_PREFIX)
            }
            PageScope::Status(status) => {
                a_task
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
        PageKey {
            pk,
            sk,
            gsi1pk: None,
            gsi1sk: None,
        }
    }

    #[test]
    fn an_owners_key_stays_with_its_owner() {
        let key = table_key(keys::user_pk("alice"), "TASK#0193".into());
        assert!(key.belongs_to(&PageScope::Owner { sub: "alice" }));
        assert!(!key.belongs_to(&PageScope::Owner { sub: "mallory" }));
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
        assert!(!key.belongs_to(&PageScope::Owner { sub: "alice" }));
    }

    #[test]
    fn project_keys_stay_in_their_project() {
        let project = ProjectId::generate();
        let key = table_key(keys::project_pk(&project), "TASK#1".into());
        assert!(key.belongs_to(&PageScope::Project(&project)));
        assert!(!key.belongs_to(&PageScope::Project(&ProjectId::generate())));
        assert!(!key.belongs_to(&PageScope::Owner { sub: "alice" }));
        let mine = table_key(keys::user_pk("alice"), keys::project_mirror_sk(&project));
        assert!(mine.belongs_to(&PageScope::Projects { sub: "alice" }));
        assert!(!mine.belongs_to(&PageScope::Projects { sub: "bob" }));
        assert!(!mine.belongs_to(&PageScope::Owner { sub: "alice" }));
    }
}
