//! Projects, memberships and invitations as items of the one table (keys from
//! [`taskapi_domain::keys`]):
//!
//! | item | PK | SK |
//! |---|---|---|
//! | project (name, timestamps, `members` and `owners` counts) | `PROJECT#<id>` | `META` |
//! | membership | `PROJECT#<id>` | `MEMBER#<sub>` |
//! | its mirror ("my projects") | `USER#<sub>` | `PROJECT#<id>` |
//! | invitation | `PROJECT#<id>` | `INVITATION#<id>` |
//! | its mirror ("my invitations") | `INVITEE#<email>` | `INVITATION#<id>` |
//!
//! None has GSI1 keys, and none sorts under `TASK#`, so no task list sees them.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use taskapi_domain::{
    Email, Invitation, InvitationId, Membership, Project, ProjectId, Role, StoreError, Timestamp,
    ValidationError, keys,
};

use crate::item::{Item, attr, s};

pub(crate) const NAME: &str = "name";
pub(crate) const ROLE: &str = "role";
pub(crate) const USER_ID: &str = "user_id";
pub(crate) const EMAIL: &str = "email";
pub(crate) const JOINED_AT: &str = "joined_at";
/// How many members, and how many of them owners, the project has: the conditions that
/// keep a project within [`taskapi_domain::MAX_MEMBERS`] and never without an owner.
pub(crate) const MEMBERS: &str = "members";
pub(crate) const OWNERS: &str = "owners";
const INVITATION_ID: &str = "invitation_id";
const PROJECT_NAME: &str = "project_name";
/// Not `expires_at`: that is the table's TTL attribute (a number), and an invitation keeps
/// its expiry as RFC 3339 text like every other timestamp.
const INVITATION_EXPIRES_AT: &str = "invitation_expires_at";

pub(crate) fn key(pk: String, sk: String) -> Item {
    HashMap::from([(attr::PK.to_owned(), s(pk)), (attr::SK.to_owned(), s(sk))])
}

pub(crate) fn meta_key(project: &ProjectId) -> Item {
    key(keys::project_pk(project), keys::PROJECT_META_SK.to_owned())
}

pub(crate) fn member_key(project: &ProjectId, user: &str) -> Item {
    key(keys::project_pk(project), keys::member_sk(user))
}

pub(crate) fn mirror_key(project: &ProjectId, user: &str) -> Item {
    key(keys::user_pk(user), keys::project_mirror_sk(project))
}

pub(crate) fn invitation_key(id: &InvitationId) -> Item {
    key(keys::project_pk(&id.project()), keys::invitation_sk(id))
}

pub(crate) fn invitation_mirror_key(invitation: &Invitation) -> Item {
    key(
        keys::invitee_pk(&invitation.email),
        keys::invitation_sk(&invitation.invitation_id),
    )
}

fn with(
    mut item: Item,
    attributes: impl IntoIterator<Item = (&'static str, AttributeValue)>,
) -> Item {
    item.extend(
        attributes
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value)),
    );
    item
}

pub(crate) fn number(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// A new project's item: one member, its owner.
pub(crate) fn meta_item(project: &Project) -> Item {
    with(
        meta_key(&project.project_id),
        [
            (attr::PROJECT_ID, s(project.project_id.as_str())),
            (NAME, s(&project.name)),
            (attr::CREATED_AT, s(project.created_at.as_str())),
            (attr::UPDATED_AT, s(project.updated_at.as_str())),
            (MEMBERS, number(1)),
            (OWNERS, number(1)),
        ],
    )
}

pub(crate) fn member_item(member: &Membership) -> Item {
    let mut item = with(
        member_key(&member.project_id, &member.user_id),
        [
            (attr::PROJECT_ID, s(member.project_id.as_str())),
            (USER_ID, s(&member.user_id)),
            (ROLE, s(member.role.as_str())),
            (JOINED_AT, s(member.joined_at.as_str())),
        ],
    );
    if let Some(email) = &member.email {
        item.insert(EMAIL.to_owned(), s(email));
    }
    item
}

pub(crate) fn mirror_item(member: &Membership) -> Item {
    with(
        mirror_key(&member.project_id, &member.user_id),
        [
            (attr::PROJECT_ID, s(member.project_id.as_str())),
            (ROLE, s(member.role.as_str())),
            (JOINED_AT, s(member.joined_at.as_str())),
        ],
    )
}

/// The invitation under `key` (its own or its mirror's).
pub(crate) fn invitation_item(key: Item, invitation: &Invitation) -> Item {
    with(
        key,
        [
            (INVITATION_ID, s(invitation.invitation_id.as_str())),
            (attr::PROJECT_ID, s(invitation.project_id.as_str())),
            (PROJECT_NAME, s(&invitation.project_name)),
            (EMAIL, s(invitation.email.as_str())),
            (ROLE, s(invitation.role.as_str())),
            (attr::CREATED_AT, s(invitation.created_at.as_str())),
            (INVITATION_EXPIRES_AT, s(invitation.expires_at.as_str())),
        ],
    )
}

/// Reads the items above back; an item missing an attribute is a broken item (a 500).
pub(crate) struct Reader<'a>(pub(crate) &'a Item);

impl Reader<'_> {
    fn text(&self, name: &str) -> Result<String, StoreError> {
        self.0
            .get(name)
            .and_then(|value| value.as_s().ok())
            .cloned()
            .ok_or_else(|| StoreError::internal(format!("project item without {name}")))
    }

    fn parsed<T>(
        &self,
        name: &str,
        parse: impl FnOnce(&str) -> Result<T, ValidationError>,
    ) -> Result<T, StoreError> {
        parse(&self.text(name)?).map_err(StoreError::internal)
    }

    fn timestamp(&self, name: &str) -> Result<Timestamp, StoreError> {
        self.text(name).map(Timestamp::from_stored)
    }

    pub(crate) fn project(&self) -> Result<Project, StoreError> {
        Ok(Project {
            project_id: self.parsed(attr::PROJECT_ID, ProjectId::parse)?,
            name: self.text(NAME)?,
            created_at: self.timestamp(attr::CREATED_AT)?,
            updated_at: self.timestamp(attr::UPDATED_AT)?,
        })
    }

    pub(crate) fn role(&self) -> Result<Role, StoreError> {
        self.parsed(ROLE, str::parse)
    }

    pub(crate) fn member(&self) -> Result<Membership, StoreError> {
        Ok(Membership {
            project_id: self.parsed(attr::PROJECT_ID, ProjectId::parse)?,
            user_id: self.text(USER_ID)?,
            email: self.text(EMAIL).ok(),
            role: self.role()?,
            joined_at: self.timestamp(JOINED_AT)?,
        })
    }

    /// A membership's mirror in `user`'s partition: it holds no e-mail.
    pub(crate) fn mirror(&self, user: &str) -> Result<Membership, StoreError> {
        Ok(Membership {
            project_id: self.parsed(attr::PROJECT_ID, ProjectId::parse)?,
            user_id: user.to_owned(),
            email: None,
            role: self.role()?,
            joined_at: self.timestamp(JOINED_AT)?,
        })
    }

    /// A number attribute (the member counts of a project).
    pub(crate) fn number(&self, name: &str) -> Result<i64, StoreError> {
        self.0
            .get(name)
            .and_then(|value| value.as_n().ok())
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| StoreError::internal(format!("project item without {name}")))
    }

    pub(crate) fn invitation(&self) -> Result<Invitation, StoreError> {
        Ok(Invitation {
            invitation_id: self.parsed(INVITATION_ID, InvitationId::parse)?,
            project_id: self.parsed(attr::PROJECT_ID, ProjectId::parse)?,
            project_name: self.text(PROJECT_NAME)?,
            email: self.parsed(EMAIL, Email::parse)?,
            role: self.role()?,
            created_at: self.timestamp(attr::CREATED_AT)?,
            expires_at: self.timestamp(INVITATION_EXPIRES_AT)?,
        })
    }
}
