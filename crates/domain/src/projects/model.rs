//! What a project is: its id and name, a member's place in it, and the fields a task gains
//! when it lives in one.

use serde::Serialize;

use super::Role;
use crate::task::key_safe_id;
use crate::validate::visible_text;
use crate::{Timestamp, ValidationError};

key_safe_id!(
    /// A project's identifier: "my projects" lists in creation order.
    ProjectId,
    "projectId"
);

/// A project's name: the rules of a task title, 1 to 100 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectName(String);

impl ProjectName {
    pub const MAX_CHARS: usize = 100;

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        visible_text("name", raw, Self::MAX_CHARS).map(Self)
    }

    /// The rule of [`ProjectName::parse`] as an OpenAPI schema.
    #[cfg(feature = "openapi")]
    pub fn schema() -> utoipa::openapi::Object {
        crate::validate::visible_text_schema(Self::MAX_CHARS)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A project as stored: its name and when it was created and last renamed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Project {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub project_id: ProjectId,
    pub name: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub updated_at: Timestamp,
}

impl Project {
    pub fn create(name: ProjectName, now: Timestamp) -> Self {
        Self {
            project_id: ProjectId::generate(),
            name: name.into_inner(),
            created_at: now.clone(),
            updated_at: now,
        }
    }
}

/// A project as one member sees it: the project and their role in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProjectView {
    #[serde(flatten)]
    pub project: Project,
    pub role: Role,
}

/// A user's place in a project. `email` is the verified address they joined with (none
/// for the creator whose token carried no verified address).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Membership {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub project_id: ProjectId,
    pub user_id: String,
    pub email: Option<String>,
    pub role: Role,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub joined_at: Timestamp,
}

/// What a task in a project carries besides a personal task's fields: the project, who
/// created it, and the member it is assigned to (`null` for nobody).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProjectFields {
    pub project_id: ProjectId,
    pub created_by: String,
    pub assignee: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_title_rules_up_to_100_characters() {
        assert_eq!(ProjectName::parse("  Launch ").unwrap().as_str(), "Launch");
        assert!(ProjectName::parse(&"é".repeat(100)).is_ok());
        for bad in ["", "   ", "a\nb", "\u{200b}", &"x".repeat(101)] {
            assert_eq!(
                ProjectName::parse(bad).unwrap_err().field,
                "name",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn project_ids_reject_key_separators() {
        assert!(ProjectId::parse(ProjectId::generate().as_str()).is_ok());
        for bad in ["", "a#b", "a/b", &"x".repeat(65)] {
            assert!(ProjectId::parse(bad).is_err(), "{bad:?}");
        }
    }
}
