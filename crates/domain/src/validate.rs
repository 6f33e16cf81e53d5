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

/// A task title: 1 to 200 characters as sent (the bounds the OpenAPI schema states), with
/// no control characters and at least one visible one; stored without surrounding spaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Title(String);

impl Title {
    pub const MAX_CHARS: usize = 200;
    /// The same rule as a JSON Schema `pattern`, for the OpenAPI document; the character
    /// classes are those of [`is_control`] and [`is_invisible`].
    pub const PATTERN: &'static str = concat!(
        "^[^\\u0000-\\u001f\\u007f-\\u009f]*",
        "[^\\u0000-\\u0020\\u007f-\\u00a0\\u00ad\\u034f\\u061c\\u115f\\u1160\\u1680",
        "\\u17b4\\u17b5\\u180b-\\u180f\\u2000-\\u200f\\u2028-\\u202f\\u205f-\\u206f",
        "\\u3000\\u3164\\ufe00-\\ufe0f\\ufeff\\uffa0]",
        "[^\\u0000-\\u001f\\u007f-\\u009f]*$"
    );

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        visible_text("title", raw, Self::MAX_CHARS).map(Self)
    }

    /// The rule of [`Title::parse`] as an OpenAPI schema.
    #[cfg(feature = "openapi")]
    pub fn schema() -> utoipa::openapi::Object {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::Type::String)
            .min_length(Some(1))
            .max_length(Some(Self::MAX_CHARS))
            .pattern(Some(Self::PATTERN))
            .build()
    }

    pub fn into_inner(self) -> String {
        self.0
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The rule of titles and project names: 1 to `max` characters as sent, no control
/// characters, at least one visible one; returned without surrounding spaces.
pub(crate) fn visible_text(
    field: &'static str,
    raw: &str,
    max: usize,
) -> Result<String, ValidationError> {
    let chars = raw.chars().count();
    if chars == 0 || chars > max {
        return Err(ValidationError::new(
            field,
            format!("{field} must be 1 to {max} characters"),
        ));
    }
    if raw.chars().any(is_control) {
        return Err(ValidationError::new(
            field,
            format!("{field} must not contain control characters (line breaks, tabs, NUL, ...)"),
        ));
    }
    if raw.chars().all(is_invisible) {
        return Err(ValidationError::new(
            field,
            format!("{field} must contain a visible character"),
        ));
    }
    Ok(raw.trim().to_owned())
}

/// Unicode's control characters (C0, DEL and C1).
fn is_control(c: char) -> bool {
    c.is_control()
}

/// Characters that show nothing: white space and the default-ignorable code points of the
/// Basic Multilingual Plane (zero-width spaces and joiners, direction marks, variation
/// selectors, the byte order mark, the Hangul fillers, ...).
fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || c.is_control()
        || matches!(c,
            '\u{ad}' | '\u{34f}' | '\u{61c}' | '\u{115f}' | '\u{1160}' | '\u{17b4}' | '\u{17b5}'
            | '\u{180b}'..='\u{180f}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}'
            | '\u{2060}'..='\u{206f}' | '\u{3164}' | '\u{fe00}'..='\u{fe0f}' | '\u{feff}'
            | '\u{ffa0}')
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
    fn titles_are_bounded_in_characters_as_sent_and_stored_trimmed() {
        assert_eq!(Title::parse("  Ship it ").unwrap().as_str(), "Ship it");
        assert!(Title::parse(&"é".repeat(200)).is_ok());
        assert_eq!(Title::parse(&"é".repeat(201)).unwrap_err().field, "title");
        assert!(Title::parse(&format!("x{}", " ".repeat(200))).is_err());
    }

    #[test]
    fn titles_need_a_visible_character_and_no_control_characters() {
        for bad in [
            "",
            "   ",
            "\u{200b}\u{200b}",
            "\u{feff}",
            "\u{3000}",
            "a\0b",
            "Ship\nit",
            "\tx",
            "x\u{85}",
        ] {
            assert!(Title::parse(bad).is_err(), "{bad:?} accepted");
        }
        for good in ["x", " x", "\u{200b}x", "日本", "🚀"] {
            assert!(Title::parse(good).is_ok(), "{good:?} refused");
        }
    }

    /// The OpenAPI pattern and the parser agree on every character of the BMP, alone and
    /// between visible ones.
    #[test]
    fn the_schema_pattern_lists_the_same_characters() {
        let classes = Title::PATTERN;
        let excluded = |class: &str| -> Vec<(u32, u32)> {
            let body = &classes[classes.find(class).unwrap() + class.len()..];
            let body = &body[..body.find(']').unwrap()];
            let points: Vec<u32> = body
                .split("\\u")
                .filter(|part| !part.is_empty())
                .map(|part| u32::from_str_radix(part.trim_end_matches('-'), 16).unwrap())
                .collect();
            let mut ranges = Vec::new();
            let mut rest = body;
            let mut i = 0;
            while !rest.is_empty() {
                let len = 6;
                let ranged = rest.len() > len && rest.as_bytes()[len] == b'-';
                if ranged {
                    ranges.push((points[i], points[i + 1]));
                    i += 2;
                    rest = &rest[2 * len + 1..];
                } else {
                    ranges.push((points[i], points[i]));
                    i += 1;
                    rest = &rest[len..];
                }
            }
            ranges
        };
        let control = excluded("^[^");
        let invisible = excluded("*[^");
        let within =
            |ranges: &[(u32, u32)], c: u32| ranges.iter().any(|(a, b)| (*a..=*b).contains(&c));
        for c in (0..=0xffff).filter_map(char::from_u32) {
            assert_eq!(
                is_control(c),
                within(&control, c as u32),
                "control {:x}",
                c as u32
            );
            assert_eq!(
                is_invisible(c),
                within(&invisible, c as u32),
                "invisible {:x}",
                c as u32
            );
        }
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
