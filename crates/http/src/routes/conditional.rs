//! Conditional requests (RFC 9110 section 13): a task's version as its `ETag`, and what
//! `If-Match` and `If-None-Match` ask for.

use axum::Json;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use taskapi_domain::{Task, Timestamp};

pub(super) fn etag(task: &Task) -> [(header::HeaderName, HeaderValue); 1] {
    let value = HeaderValue::from_str(&task.etag()).expect("an ETag is a valid header value");
    [(header::ETAG, value)]
}

/// The version an `If-Match` asks for: `None` for no header or `*` (any existing task).
/// A value that is not a well-formed ETag is compared as it is, so it matches nothing
/// (412), as RFC 9110 has it for a tag naming no current version.
pub(super) fn if_match(headers: &HeaderMap) -> Option<Timestamp> {
    let value = header_text(headers, header::IF_MATCH)?;
    (value != "*").then(|| Timestamp::from_stored(entity_tag(value).unwrap_or(value).to_owned()))
}

/// What an `If-None-Match` lists: the versions the caller already has.
pub(super) enum Cached {
    None,
    Any,
    Tags(Vec<String>),
}

impl Cached {
    /// Weak comparison (RFC 9110 13.1.2): `W/"x"` and `"x"` name the same version.
    /// The answer to a GET of `task`: 304 with its ETag if the caller has this version,
    /// else the task with its ETag.
    pub(super) fn answer(&self, task: Task) -> Response {
        if self.matches(&task.updated_at) {
            return (StatusCode::NOT_MODIFIED, etag(&task)).into_response();
        }
        (etag(&task), Json(task)).into_response()
    }

    pub(super) fn matches(&self, version: &Timestamp) -> bool {
        match self {
            Self::None => false,
            Self::Any => true,
            Self::Tags(tags) => tags.iter().any(|tag| tag == version.as_str()),
        }
    }
}

/// The tags of an `If-None-Match`; one that is not a well-formed ETag matches nothing.
pub(super) fn if_none_match(headers: &HeaderMap) -> Cached {
    match header_text(headers, header::IF_NONE_MATCH) {
        None => Cached::None,
        Some("*") => Cached::Any,
        Some(value) => Cached::Tags(
            value
                .split(',')
                .filter_map(|tag| entity_tag(tag.trim_matches([' ', '\t'])))
                .map(str::to_owned)
                .collect(),
        ),
    }
}

/// A header's value as text; a value that is not text is as good as absent text: it can
/// name no version.
fn header_text(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers
        .get(name)
        .map(|value| value.to_str().unwrap_or("\u{0}").trim())
}

/// The opaque part of an entity tag, `"x"` or `W/"x"` (RFC 9110 8.8.3: visible ASCII
/// but `"`; the OpenAPI document's header patterns say the same).
fn entity_tag(value: &str) -> Option<&str> {
    let tag = value.strip_prefix("W/").unwrap_or(value);
    tag.strip_prefix('"')
        .and_then(|tag| tag.strip_suffix('"'))
        .filter(|inner| {
            inner
                .bytes()
                .all(|b| b == b'!' || (b'#'..=b'~').contains(&b))
        })
}
