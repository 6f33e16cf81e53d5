//! Authorization: which role may do what, as data, so the router, both runtimes and the
//! tests read one table.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ValidationError;

/// A member's role in a project. A project always has at least one owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, including members, invitations, renaming and deleting the project.
    Owner,
    /// Creates, changes, assigns and deletes the project's tasks.
    Editor,
    /// Reads the project, its tasks and its members.
    Viewer,
}

/// What a member asks to do in a project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Read the project, its tasks and its members.
    Read,
    /// Create, change, assign or delete tasks.
    EditTasks,
    /// Rename the project.
    Rename,
    /// Delete the project with everything in it.
    Delete,
    /// Change another member's role or remove them; invite, list and revoke invitations.
    ManageMembers,
    /// Add, list, read and delete the project's webhooks (they receive all its events).
    ManageWebhooks,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Owner, Role::Editor, Role::Viewer];

    /// Whether a member with this role may do `action`. Leaving a project is not an
    /// action here: every member may remove themself (the last owner excepted, which the
    /// store enforces).
    pub fn allows(self, action: Action) -> bool {
        match action {
            Action::Read => true,
            Action::EditTasks => matches!(self, Role::Owner | Role::Editor),
            Action::Rename | Action::Delete | Action::ManageMembers | Action::ManageWebhooks => {
                self == Role::Owner
            }
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Editor => "editor",
            Role::Viewer => "viewer",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = ValidationError;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == raw)
            .ok_or_else(|| {
                ValidationError::new("role", "role must be one of owner, editor, viewer")
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_role_table() {
        use Action::*;
        let table = [
            (Read, [true, true, true]),
            (EditTasks, [true, true, false]),
            (Rename, [true, false, false]),
            (Delete, [true, false, false]),
            (ManageMembers, [true, false, false]),
            (ManageWebhooks, [true, false, false]),
        ];
        for (action, allowed) in table {
            for (role, allowed) in Role::ALL.into_iter().zip(allowed) {
                assert_eq!(role.allows(action), allowed, "{role} {action:?}");
            }
        }
    }

    #[test]
    fn roles_round_trip_their_wire_names() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().unwrap(), role);
        }
        assert!("Owner".parse::<Role>().is_err());
        assert!("admin".parse::<Role>().is_err());
    }
}
