//! Invitations by e-mail. An invitation is addressed to an address, not a user: whoever
//! signs in with that address verified (`email_verified`) may accept or decline it, and
//! nobody else can see it.

use std::fmt;

use serde::Serialize;
use time::OffsetDateTime;

use super::{Project, ProjectId, Role};
use crate::{Timestamp, ValidationError};

/// How long an invitation can be accepted.
pub const INVITATION_LIFETIME: time::Duration = time::Duration::days(7);

/// An e-mail address, lower-cased so that `Ann@Example.com` and `ann@example.com` are one
/// invitee. Only its shape is checked: a mailbox is proven by the user pool's verification.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    /// RFC 5321's limit on a path.
    const MAX_LEN: usize = 254;

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let email = raw.trim().to_lowercase();
        let well_formed = email.len() <= Self::MAX_LEN
            && !email.chars().any(|c| c.is_whitespace() || c.is_control())
            && email.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty() && !domain.is_empty() && !domain.contains('@')
            });
        if well_formed {
            Ok(Self(email))
        } else {
            Err(ValidationError::new(
                "email",
                "email must be an address like name@example.com (at most 254 characters)",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An invitation's id: the project's id and a random part, so the owner's revoke finds
/// the invitation in the project's partition without an index.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct InvitationId(String);

impl InvitationId {
    pub fn generate(project: &ProjectId) -> Self {
        Self(format!("{project}_{}", uuid::Uuid::new_v4().simple()))
    }

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let invalid = || {
            ValidationError::new(
                "invitationId",
                "invitationId must be an id that POST /projects/{projectId}/invitations returned",
            )
        };
        let (project, random) = raw.rsplit_once('_').ok_or_else(invalid)?;
        ProjectId::parse(project).map_err(|_| invalid())?;
        let random_ok = random.len() == 32
            && random
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if random_ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(invalid())
        }
    }

    /// The project the invitation is to.
    pub fn project(&self) -> ProjectId {
        let (project, _) = self.0.rsplit_once('_').expect("a parsed id has a project");
        ProjectId::parse(project).expect("a parsed id names a valid project id")
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for InvitationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An open invitation to join a project with a role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Invitation {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub invitation_id: InvitationId,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub project_id: ProjectId,
    /// The project's name when the invitation was sent.
    pub project_name: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Email))]
    pub email: Email,
    pub role: Role,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub expires_at: Timestamp,
}

impl Invitation {
    pub fn create(project: &Project, email: Email, role: Role, now: OffsetDateTime) -> Self {
        Self {
            invitation_id: InvitationId::generate(&project.project_id),
            project_id: project.project_id.clone(),
            project_name: project.name.clone(),
            email,
            role,
            created_at: Timestamp::from_datetime(now),
            expires_at: Timestamp::from_datetime(now + INVITATION_LIFETIME),
        }
    }

    /// Whether it can still be accepted at `now` (timestamps compare as text).
    pub fn is_open(&self, now: &Timestamp) -> bool {
        self.expires_at > *now
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_lower_cased_and_shaped_like_addresses() {
        assert_eq!(
            Email::parse(" Ann@Example.COM ").unwrap().as_str(),
            "ann@example.com"
        );
        for bad in [
            "",
            "ann",
            "@example.com",
            "ann@",
            "a@b@c",
            "a b@c.d",
            "a\0@b.c",
        ] {
            assert_eq!(Email::parse(bad).unwrap_err().field, "email", "{bad:?}");
        }
        assert!(Email::parse(&format!("{}@b.c", "a".repeat(251))).is_err());
    }

    #[test]
    fn invitation_ids_name_their_project() {
        let project = ProjectId::generate();
        let id = InvitationId::generate(&project);
        assert_eq!(InvitationId::parse(id.as_str()).unwrap().project(), project);
        for bad in [
            "",
            "x",
            "p_123",
            &format!("{project}_{}", "G".repeat(32)),
            &format!("a#b_{}", "0".repeat(32)),
        ] {
            assert!(InvitationId::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn invitations_last_seven_days() {
        let project = Project::create(crate::ProjectName::parse("p").unwrap(), Timestamp::now());
        let now = OffsetDateTime::now_utc();
        let invitation =
            Invitation::create(&project, Email::parse("a@b.c").unwrap(), Role::Editor, now);
        let later = |days| Timestamp::from_datetime(now + time::Duration::days(days));
        assert!(invitation.is_open(&later(6)));
        assert!(!invitation.is_open(&later(7)));
    }
}
