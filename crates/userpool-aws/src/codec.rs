//! The AWS JSON 1.1 codec of Cognito's endpoint: what a request names (`X-Amz-Target`,
//! a JSON object body within [`MAX_BODY`]) and how a failure is answered. A leaf: the
//! router and the layers in front of the actions (SigV4, quotas) all use it, and it uses
//! none of them.

use axum::body::Bytes;
use axum::extract::Request;
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE, RETRY_AFTER};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use taskapi_userpool::PoolError;

use crate::error::AwsError;

const TARGET_PREFIX: &str = "AWSCognitoIdentityProviderService.";

/// The largest request body the endpoint reads (Cognito's biggest requests, a pool with
/// message templates and a schema, stay far below it).
const MAX_BODY: usize = 128 * 1024;

/// A JSON body with AWS JSON 1.1's content type.
pub(crate) fn amz_json(body: &Value) -> ([(axum::http::HeaderName, HeaderValue); 1], String) {
    (
        [(
            CONTENT_TYPE,
            HeaderValue::from_static("application/x-amz-json-1.1"),
        )],
        body.to_string(),
    )
}

/// The request with its body read into memory, refusing bodies over [`MAX_BODY`]. Layers
/// that need the body call it and pass the request on with the bytes.
pub(crate) async fn buffered(request: Request) -> Result<(Parts, Bytes), AwsError> {
    let (parts, body) = request.into_parts();
    let too_large =
        || PoolError::InvalidParameter(format!("The request body is larger than {MAX_BODY} bytes"));
    let declared = parts
        .headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_BODY) {
        return Err(too_large().into());
    }
    let bytes = axum::body::to_bytes(body, MAX_BODY)
        .await
        .map_err(|_| too_large())?;
    Ok((parts, bytes))
}

/// The action an AWS JSON request names in `X-Amz-Target`, if it names one.
pub(crate) fn action(headers: &HeaderMap) -> Option<&str> {
    headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .and_then(|t| t.strip_prefix(TARGET_PREFIX))
        .filter(|a| !a.is_empty())
}

/// The action a request names and its body, a JSON object (an empty body is `{}`).
pub(crate) fn decode(headers: &HeaderMap, body: &[u8]) -> Result<(String, Value), AwsError> {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let action = action(headers)
        .ok_or_else(|| {
            PoolError::UnknownOperation(if target.is_empty() {
                "Missing X-Amz-Target header: expected AWSCognitoIdentityProviderService.<Action>"
                    .to_owned()
            } else {
                format!(
                    "Unknown X-Amz-Target {target}: this endpoint serves {TARGET_PREFIX}<Action>"
                )
            })
        })?
        .to_owned();
    let body: Value = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        serde_json::from_slice(body)
            .map_err(|e| AwsError::Serialization(format!("Request body is not valid JSON: {e}")))?
    };
    if !body.is_object() {
        return Err(AwsError::Serialization(
            "Request body must be a JSON object".into(),
        ));
    }
    Ok((action, body))
}

/// The one mapping from a failed action to Cognito's error response: HTTP 400 (500 for our
/// own failures, logged with their whole cause chain; 503 with `Retry-After` for a storage
/// fault, which the store logs once per episode) with `__type` and `message` in the body
/// and the same two in `x-amzn-ErrorType` / `x-amzn-ErrorMessage`.
pub(crate) fn error_response(error: &AwsError) -> Response {
    let status = match error {
        AwsError::Pool(cause @ (PoolError::Internal(_) | PoolError::TaskFailed(_))) => {
            tracing::error!(error = %cause.cause_chain(), "user pool internal error");
            StatusCode::INTERNAL_SERVER_ERROR
        }
        AwsError::Pool(PoolError::ServiceUnavailable) => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_REQUEST,
    };
    let kind = error.type_name();
    let message = error.to_string();
    let body = json!({ "__type": kind, "message": message });
    let mut response = (status, amz_json(&body)).into_response();
    let headers = response.headers_mut();
    if status == StatusCode::SERVICE_UNAVAILABLE {
        headers.insert(RETRY_AFTER, retry_after());
    }
    headers.insert("x-amzn-errortype", HeaderValue::from_static(kind));
    if let Ok(value) = HeaderValue::from_str(&message) {
        headers.insert("x-amzn-errormessage", value);
    }
    response
}

/// `Retry-After` for a storage fault: the core's wait, in whole seconds.
fn retry_after() -> HeaderValue {
    HeaderValue::from(taskapi_userpool::retry_after_seconds())
}

#[cfg(test)]
mod tests {
    use rusqlite::ffi;

    use super::*;
    use taskapi_userpool::PoolStoreError;

    fn sqlite_error(code: std::ffi::c_int) -> rusqlite::Error {
        rusqlite::Error::SqliteFailure(ffi::Error::new(code), None)
    }

    /// A full disk, an I/O error, a busy or locked database, an unopenable, corrupt or
    /// read-only (lost) file: 503 with `Retry-After` and AWS's `ServiceUnavailableException`.
    #[test]
    fn storage_faults_are_503s_with_retry_after() {
        for code in [
            ffi::SQLITE_FULL,
            ffi::SQLITE_IOERR,
            ffi::SQLITE_BUSY,
            ffi::SQLITE_LOCKED,
            ffi::SQLITE_CANTOPEN,
            ffi::SQLITE_CORRUPT,
            ffi::SQLITE_NOTADB,
            ffi::SQLITE_READONLY,
        ] {
            let error = PoolError::from(PoolStoreError::from(sqlite_error(code)));
            assert!(
                matches!(error, PoolError::ServiceUnavailable),
                "code {code}"
            );
            let response = error_response(&AwsError::Pool(error));
            assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(response.headers()[RETRY_AFTER], "1");
            assert_eq!(
                response.headers()["x-amzn-errortype"],
                "ServiceUnavailableException"
            );
            let message = response.headers()["x-amzn-errormessage"].to_str().unwrap();
            assert!(message.contains("retry later"), "{message}");
        }
    }

    /// Anything else SQLite reports is our bug: a 500 without `Retry-After`, saying nothing
    /// of the cause.
    #[test]
    fn other_sqlite_failures_stay_internal_errors() {
        for error in [
            sqlite_error(ffi::SQLITE_CONSTRAINT),
            sqlite_error(ffi::SQLITE_ERROR),
            rusqlite::Error::QueryReturnedNoRows,
        ] {
            let error = PoolError::from(PoolStoreError::from(error));
            assert!(matches!(
                error,
                PoolError::Internal(PoolStoreError::Sqlite(_))
            ));
            let response = error_response(&AwsError::Pool(error));
            assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
            let headers = response.headers();
            assert!(!headers.contains_key(RETRY_AFTER));
            assert_eq!(headers["x-amzn-errortype"], "InternalErrorException");
            assert_eq!(headers["x-amzn-errormessage"], "Internal error");
        }
    }
}
