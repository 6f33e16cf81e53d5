//! Parse, don't validate: each input value gets a type that can only hold a valid value.

use std::fmt;

/// A rejected input value, naming the field it came from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ValidationError {
    pub field: &'static str,
    pub message: String,
}

impl ValidationError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

/// A task title: 1 to 200 characters once surrounding whitespace is trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Title(String);

impl Title {
    pub const MAX_CHARS: usize = 200;

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let trimmed = raw.trim();
        let chars = trimmed.chars().count();
        if chars == 0 || chars > Self::MAX_CHARS {
            return Err(ValidationError::new(
                "title",
                format!("title must be 1 to {} characters", Self::MAX_CHARS),
            ));
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn into_inner(self) -> String {
        self.0
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A task description: up to 4000 characters; empty when not given, as in the seed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Description(String);

impl Description {
    pub const MAX_CHARS: usize = 4000;

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        if raw.chars().count() > Self::MAX_CHARS {
            return Err(ValidationError::new(
                "description",
                format!("description must be at most {} characters", Self::MAX_CHARS),
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn into_inner(self) -> String {
        self.0
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The page size of a list: 1 to 100, 20 when not given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit(u16);

impl Limit {
    pub const MAX: u16 = 100;

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        match raw.parse::<u16>() {
            Ok(n) if (1..=Self::MAX).contains(&n) => Ok(Self(n)),
            _ => Err(ValidationError::new(
                "limit",
                format!("limit must be an integer from 1 to {}", Self::MAX),
            )),
        }
    }

    pub fn get(self) -> usize {
        usize::from(self.0)
    }
}

impl Default for Limit {
    fn default() -> Self {
        Self(20)
    }
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_are_trimmed_and_bounded_in_characters() {
        assert_eq!(Title::parse("  Ship it \n").unwrap().as_str(), "Ship it");
        assert!(Title::parse("   ").is_err());
        assert!(Title::parse(&"é".repeat(200)).is_ok());
        assert_eq!(Title::parse(&"é".repeat(201)).unwrap_err().field, "title");
    }

    #[test]
    fn descriptions_are_bounded() {
        assert!(Description::parse("").is_ok());
        assert!(Description::parse(&"x".repeat(4000)).is_ok());
        assert_eq!(
            Description::parse(&"x".repeat(4001)).unwrap_err().field,
            "description"
        );
    }

    #[test]
    fn limits_are_1_to_100() {
        assert_eq!(Limit::parse("1").unwrap().get(), 1);
        assert_eq!(Limit::parse("100").unwrap().get(), 100);
        for bad in ["0", "101", "-1", "ten", "", "1.5", "99999999999"] {
            assert!(Limit::parse(bad).is_err(), "{bad:?} accepted");
        }
    }
}
