//! The JSON body extractor. axum's own `Json` answers bad bodies in plain text and without
//! naming the field; this one answers every bad body with an [`ApiError`] that does.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use http::header;
use serde::de::DeserializeOwned;

use crate::ApiError;

/// The largest request body accepted; larger ones get 413 before they are buffered.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

pub struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        if !is_json_or_unspecified(req.headers()) {
            return Err(ApiError::UnsupportedMediaType);
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge {
                    limit: MAX_BODY_BYTES,
                }
            } else {
                ApiError::bad_request("invalid_body", "the request body could not be read")
            }
        })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::bad_request(
                "missing_body",
                "a JSON object body is required",
            ));
        }
        parse(&bytes).map(JsonBody)
    }
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
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|_| ApiError::bad_request("invalid_json", "the request body is not valid JSON"))?;
    // serde would also read a struct from an array (`["x"]`); the API takes objects only.
    if !value.is_object() {
        return Err(ApiError::bad_request(
            "invalid_body",
            "the request body must be a JSON object",
        ));
    }
    serde_path_to_error::deserialize(value).map_err(|err| {
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
        assert!(parse::<Body>(br#"{"title": "x"}"#).is_ok());
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
