//! Planning fields: when a task is due, how urgent it is, the orders a list can take, and
//! which user's Upcoming view a task belongs in. Both stores key their due-date indexes
//! with what this module decides, so they agree on what the views hold.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::{Status, Task, Timestamp, ValidationError};

/// How urgent a task is. `none` is the default, and what a task the seed wrote reads as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    #[default]
    None,
    Low,
    Medium,
    High,
    Urgent,
}

impl Priority {
    pub const ALL: [Priority; 5] = [
        Priority::None,
        Priority::Low,
        Priority::Medium,
        Priority::High,
        Priority::Urgent,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Priority::None => "none",
            Priority::Low => "low",
            Priority::Medium => "medium",
            Priority::High => "high",
            Priority::Urgent => "urgent",
        }
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Priority {
    type Err = ValidationError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Priority::ALL
            .into_iter()
            .find(|priority| priority.as_str() == s)
            .ok_or_else(|| {
                ValidationError::new(
                    "priority",
                    "priority must be one of none, low, medium, high, urgent",
                )
            })
    }
}

/// Parses an RFC 3339 date-time with an offset (`2026-03-01T09:00:00+01:00`) into the
/// UTC [`Timestamp`] form every stored instant has, so due dates sort as text. Instants
/// before 1970 or after 9999 are refused: they are typing slips, and the text form
/// only sorts correctly with four-digit years. `field` names the input in the error
/// (`due_at`, `due_before`).
pub fn parse_instant(field: &'static str, raw: &str) -> Result<Timestamp, ValidationError> {
    let invalid = || {
        ValidationError::new(
            field,
            format!(
                "{field} must be an RFC 3339 date-time with an offset between 1970 and 9999, \
                 e.g. 2026-03-01T09:00:00Z"
            ),
        )
    };
    let at = OffsetDateTime::parse(raw, &Rfc3339).map_err(|_| invalid())?;
    let utc = at
        .checked_to_offset(time::UtcOffset::UTC)
        .ok_or_else(invalid)?;
    if !(1970..=9999).contains(&utc.year()) {
        return Err(invalid());
    }
    Ok(Timestamp::from_datetime(utc))
}

/// The order of a task list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Sort {
    /// Oldest first: the seed's order (task ids are time-ordered).
    #[default]
    CreatedAt,
    /// Soonest due first, then the tasks without a due date in creation order.
    DueAt,
}

impl Sort {
    pub fn as_str(self) -> &'static str {
        match self {
            Sort::CreatedAt => "created_at",
            Sort::DueAt => "due_at",
        }
    }
}

impl FromStr for Sort {
    type Err = ValidationError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [Sort::CreatedAt, Sort::DueAt]
            .into_iter()
            .find(|sort| sort.as_str() == s)
            .ok_or_else(|| ValidationError::new("sort", "sort must be created_at or due_at"))
    }
}

impl Task {
    /// Whose Upcoming view holds this task, given who owns the partition it is in (the
    /// `sub` of a personal task's owner; ignored for a project task): an open task with a
    /// due date is in its owner's view, a project task in its assignee's. `None` for a
    /// task in nobody's view (done, no due date, or unassigned).
    pub fn upcoming_for<'a>(&'a self, owner: Option<&'a str>) -> Option<&'a str> {
        if self.status == Status::Done || self.due_at.is_none() {
            return None;
        }
        match &self.project {
            Some(project) => project.assignee.as_deref(),
            None => owner,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_dates_are_rfc3339_with_an_offset_stored_in_utc() {
        let due = parse_instant("due_at", "2026-03-01T09:30:00+01:00").unwrap();
        assert_eq!(due.as_str(), "2026-03-01T08:30:00.000000Z");
        let due = parse_instant("due_at", "2026-03-01T09:30:00.5Z").unwrap();
        assert_eq!(due.as_str(), "2026-03-01T09:30:00.500000Z");
        assert!(parse_instant("due_at", "1970-01-01T00:00:00Z").is_ok());
        assert!(parse_instant("due_at", "9999-12-31T23:59:59Z").is_ok());
    }

    #[test]
    fn bad_due_dates_name_their_field() {
        for bad in [
            "",
            "tomorrow",
            "2026-03-01",
            "2026-03-01T09:30:00",
            "2026-02-30T09:30:00Z",
            "2026-03-01T09:30:00+24:00",
            "2026-03-01T09:30:00+05:60",
            "2026-03-01T09:30:00+99:99",
            "1969-12-31T23:59:59Z",
            "1970-01-01T00:30:00+01:00",
            "9999-12-31T23:30:00-01:00",
            "+10000-01-01T00:00:00Z",
        ] {
            let err = parse_instant("due_at", bad).expect_err(bad);
            assert_eq!(err.field, "due_at", "{bad:?}");
        }
    }

    #[test]
    fn priorities_and_sorts_round_trip_their_wire_names() {
        for priority in Priority::ALL {
            assert_eq!(priority.as_str().parse::<Priority>().unwrap(), priority);
        }
        assert_eq!("urgent".parse::<Priority>().unwrap(), Priority::Urgent);
        assert_eq!("URGENT".parse::<Priority>().unwrap_err().field, "priority");
        assert_eq!("due_at".parse::<Sort>().unwrap(), Sort::DueAt);
        assert_eq!("due".parse::<Sort>().unwrap_err().field, "sort");
    }
}
