//! The JSON body extractor. axum's own `Json` answers bad bodies in plain text and without
//! naming the field; this one answers every bad body with an [`ApiError`] that does, reads
//! the body against a deadline, and refuses duplicate keys (which serde would settle by
//! silently keeping the last).

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Request};
use http::header;
use http_body_util::BodyExt;
use serde::de::{DeserializeOwned, Deserializer, MapAccess, Visitor};

use crate::ApiError;

/// The largest request body accepted; larger ones get 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// How much of an oversized body is read and thrown away before answering 413. A client
/// still sending when the server closes sees a broken pipe instead of the answer; reading
/// on (a lingering close) lets an ordinary client read its 413. Bounded, so a hostile one
/// costs at most this much bandwidth and no memory.
const LINGER_BYTES: usize = 8 * 1024 * 1024;

/// How long a whole request body may take to arrive, set by the entry point as a request
/// extension ([`crate::HttpConfig::body_read_timeout`]).
#[derive(Debug, Clone, Copy)]
pub struct BodyReadTimeout(pub Duration);

impl Default for BodyReadTimeout {
    fn default() -> Self {
        Self(Duration::from_secs(30))
    }
}

pub struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, ApiError> {
        if !is_json_or_unspecified(req.headers()) {
            return Err(ApiError::UnsupportedMediaType);
        }
        let timeout = req
            .extensions()
            .get::<BodyReadTimeout>()
            .copied()
            .unwrap_or_default();
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok()?.parse::<usize>().ok());
        if declared.is_some_and(|length| length > MAX_BODY_BYTES + LINGER_BYTES) {
            // Too large to be worth draining: answer now (the connection then closes).
            return Err(ApiError::PayloadTooLarge {
                limit: MAX_BODY_BYTES,
            });
        }
        let bytes = tokio::time::timeout(timeout.0, read_bounded(req.into_body()))
            .await
            .map_err(|_| ApiError::BodyTimeout)??;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::bad_request(
                "missing_body",
                "a JSON object body is required",
            ));
        }
        parse(&bytes).map(JsonBody)
    }
}

/// Reads up to [`MAX_BODY_BYTES`]; past that, drains up to [`LINGER_BYTES`] more and fails.
async fn read_bounded(mut body: Body) -> Result<Bytes, ApiError> {
    let unreadable = || ApiError::bad_request("invalid_body", "the request body could not be read");
    let mut read = Vec::new();
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame.map_err(|_| unreadable())?.into_data() else {
            continue;
        };
        if read.len() + data.len() > MAX_BODY_BYTES {
            let mut drained = read.len() + data.len();
            while drained < MAX_BODY_BYTES + LINGER_BYTES {
                match body.frame().await {
                    Some(Ok(frame)) => drained += frame.data_ref().map_or(0, Bytes::len),
                    _ => break,
                }
            }
            return Err(ApiError::PayloadTooLarge {
                limit: MAX_BODY_BYTES,
            });
        }
        read.extend_from_slice(&data);
    }
    Ok(Bytes::from(read))
}

/// Clients of the seed send `application/json`; a request without a Content-Type is read
/// as JSON too (API Gateway's test console sends none). Anything else is refused.
fn is_json_or_unspecified(headers: &http::HeaderMap) -> bool {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return true;
    };
    let Ok(value) = value.to_str() else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or("").trim();
    essence.eq_ignore_ascii_case("application/json")
        || (essence.len() > 5
            && essence[..essence.len() - 5].contains('/')
            && essence.to_ascii_lowercase().ends_with("+json"))
}

fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let object = serde_json::from_slice::<UniqueKeys>(bytes).map_err(|err| {
        let message = strip_position(&err.to_string());
        if err.is_syntax() || err.is_eof() {
            ApiError::bad_request("invalid_json", "the request body is not valid JSON")
        } else if message.starts_with(DUPLICATE) {
            ApiError::bad_request("duplicate_field", format!("request body: {message}"))
        } else {
            // serde would also read a struct from an array (`["x"]`); the API takes objects.
            ApiError::bad_request("invalid_body", "the request body must be a JSON object")
        }
    })?;
    serde_path_to_error::deserialize(serde_json::Value::Object(object.0)).map_err(|err| {
        let path = err.path().to_string();
        let message = strip_position(&err.into_inner().to_string());
        if message.starts_with("unknown field") {
            ApiError::bad_request("unknown_field", format!("request body: {message}"))
        } else if path == "." {
            ApiError::bad_request("invalid_body", format!("request body: {message}"))
        } else {
            ApiError::bad_request(format!("invalid_{path}"), format!("{path}: {message}"))
        }
    })
}

const DUPLICATE: &str = "duplicate field";

/// A JSON object whose keys are all different. (`serde_json::Value` keeps the last of two
/// equal keys without a word; a client sending both meant something we cannot know.)
struct UniqueKeys(serde_json::Map<String, serde_json::Value>);

impl<'de> serde::Deserialize<'de> for UniqueKeys {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor;

        impl<'de> Visitor<'de> for ObjectVisitor {
            type Value = UniqueKeys;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<UniqueKeys, A::Error> {
                let mut object = serde_json::Map::new();
                while let Some((key, value)) = map.next_entry::<String, serde_json::Value>()? {
                    if object.contains_key(&key) {
                        return Err(serde::de::Error::custom(format!("{DUPLICATE} `{key}`")));
                    }
                    object.insert(key, value);
                }
                Ok(UniqueKeys(object))
            }
        }

        deserializer.deserialize_map(ObjectVisitor)
    }
}

/// For optional body fields: absent is `None`, but an explicit `null` is refused (the
/// OpenAPI document says these fields are strings, not nullable).
pub fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// For optional fields that may be cleared: absent is `None`, `null` is `Some(None)`, so
/// "leave it" and "clear it" differ.
pub fn nullable<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(deserializer).map(Some)
}

/// serde_json appends " at line L column C"; the field name says more than the position.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        #[serde(default, deserialize_with = "present")]
        title: Option<String>,
    }

    fn code_of(json: &str) -> String {
        match parse::<Body>(json.as_bytes()) {
            Err(ApiError::BadRequest { code, .. }) => code,
            other => panic!("expected a bad request, got {other:?}"),
        }
    }

    #[test]
    fn names_what_is_wrong() {
        assert_eq!(code_of("{"), "invalid_json");
        assert_eq!(code_of("{} {}"), "invalid_json");
        assert_eq!(code_of("[1]"), "invalid_body");
        assert_eq!(code_of(r#"["x"]"#), "invalid_body");
        assert_eq!(code_of(r#"{"title": 5}"#), "invalid_title");
        assert_eq!(code_of(r#"{"titel": "x"}"#), "unknown_field");
        assert_eq!(
            code_of(r#"{"title": "x", "title": "y"}"#),
            "duplicate_field"
        );
        assert_eq!(code_of(r#"{"title": null}"#), "invalid_title");
        assert_eq!(code_of("5"), "invalid_body");
        assert!(parse::<Body>(br#"{"title": "x"}"#).is_ok());
        assert!(parse::<Body>(br#"{}"#).is_ok());
    }

    #[test]
    fn content_types() {
        let check = |value: &str| {
            let mut headers = http::HeaderMap::new();
            headers.insert(header::CONTENT_TYPE, value.parse().unwrap());
            is_json_or_unspecified(&headers)
        };
        assert!(check("application/json"));
        assert!(check("Application/JSON; charset=utf-8"));
        assert!(check("application/merge-patch+json"));
        assert!(!check("text/plain"));
        assert!(!check("application/x-www-form-urlencoded"));
        assert!(is_json_or_unspecified(&http::HeaderMap::new()));
    }
}
