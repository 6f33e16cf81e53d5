//! HTTP: Cognito's AWS JSON 1.1 endpoint and each pool's JWKS (its OpenID discovery
//! document belongs to the hosted UI, which serves the endpoints it lists).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Extension;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE, RETRY_AFTER};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use tower_http::cors::{AllowHeaders, AllowOrigin, CorsLayer};
use tower_http::trace::{DefaultOnFailure, TraceLayer};
use tracing::Level;

use crate::UserPools;
use crate::error::{CognitoError, PoolStoreError};

const TARGET_PREFIX: &str = "AWSCognitoIdentityProviderService.";

/// The largest request body the endpoint reads (Cognito's biggest requests, a pool with
/// message templates and a schema, stay far below it).
const MAX_BODY: usize = 128 * 1024;

/// The pool's routes with their own CORS policy and request tracing. Serve them beside the
/// API's router, not inside its layers: browsers call Cognito from any origin with headers
/// of their own choosing (`x-amz-target`, `x-amz-user-agent`, `cache-control`, ...).
pub(crate) fn router(pools: Arc<UserPools>) -> Router {
    // Layers run outermost first: the request id on every answer, then the signature check
    // (it buffers the body, within MAX_BODY), then the quotas, then the action.
    let endpoint = Router::new()
        .route("/", post(call))
        .route_layer(middleware::from_fn_with_state(
            Arc::clone(&pools),
            crate::quotas::layer,
        ))
        .route_layer(middleware::from_fn_with_state(
            Arc::clone(&pools),
            crate::sigv4::layer,
        ))
        .route_layer(middleware::map_response(with_request_id));
    Router::new()
        .merge(endpoint)
        .route("/{pool_id}/.well-known/jwks.json", get(jwks))
        .with_state(pools)
        // 5xx are logged where they arise (storage faults once per episode), not per response.
        .layer(TraceLayer::new_for_http().on_failure(DefaultOnFailure::new().level(Level::DEBUG)))
        .layer(cors())
}

/// Cognito's CORS: any origin, the request headers echoed back (Amplify and
/// amazon-cognito-identity-js send different ones), and the error and request-id headers
/// readable by scripts. The hosted UI's endpoints answer browsers the same way.
pub fn cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::any())
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allow_headers(AllowHeaders::mirror_request())
        .expose_headers([
            HeaderName::from_static("x-amzn-errortype"),
            HeaderName::from_static("x-amzn-errormessage"),
            HeaderName::from_static("x-amzn-requestid"),
        ])
        .max_age(Duration::from_secs(600))
}

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

async fn with_request_id(mut response: Response) -> Response {
    if let Ok(value) = HeaderValue::from_str(&crate::random::uuid()) {
        response.headers_mut().insert("x-amzn-requestid", value);
    }
    response
}

/// The request with its body read into memory, refusing bodies over [`MAX_BODY`]. Layers
/// that need the body call it and pass the request on with the bytes.
pub(crate) async fn buffered(request: Request) -> Result<(Parts, Bytes), CognitoError> {
    let (parts, body) = request.into_parts();
    let too_large = || {
        CognitoError::InvalidParameter(format!("The request body is larger than {MAX_BODY} bytes"))
    };
    let declared = parts
        .headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_BODY) {
        return Err(too_large());
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

/// `POST /` with `X-Amz-Target: AWSCognitoIdentityProviderService.<Action>`; signatures
/// and quotas have been checked by the layers in front.
async fn call(
    State(pools): State<Arc<UserPools>>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let caller = connect.map(|Extension(ConnectInfo(addr))| addr.ip());
    match run(pools, &headers, &body, caller).await {
        Ok(value) => (StatusCode::OK, amz_json(&value)).into_response(),
        Err(error) => error_response(&error),
    }
}

async fn run(
    pools: Arc<UserPools>,
    headers: &HeaderMap,
    body: &[u8],
    caller: Option<IpAddr>,
) -> Result<Value, CognitoError> {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let action = action(headers)
        .ok_or_else(|| {
            CognitoError::UnknownOperation(if target.is_empty() {
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
        serde_json::from_slice(body).map_err(|e| {
            CognitoError::Serialization(format!("Request body is not valid JSON: {e}"))
        })?
    };
    if !body.is_object() {
        return Err(CognitoError::Serialization(
            "Request body must be a JSON object".into(),
        ));
    }
    let region = signed_region(headers);
    // Actions hash passwords (argon2id, tens of milliseconds) and use SQLite: keep them off
    // the async workers, on a bounded number of blocking threads (a burst waits here as
    // futures, not as threads with their own stacks and allocator caches).
    let _turn = Arc::clone(&pools.action_threads)
        .acquire_owned()
        .await
        .map_err(|_| PoolStoreError::WorkersStopped)?;
    tokio::task::spawn_blocking(move || pools.dispatch(&action, body, region.as_deref(), caller))
        .await?
}

/// The region of a SigV4 `Authorization` header's credential scope
/// (`Credential=<key>/<date>/<region>/cognito-idp/aws4_request`), if it is a plausible one.
fn signed_region(headers: &HeaderMap) -> Option<String> {
    let authorization = headers.get("authorization")?.to_str().ok()?;
    let scope = authorization.split("Credential=").nth(1)?;
    let region = scope.split(['/', ',']).nth(2)?;
    let plausible = !region.is_empty()
        && region.len() <= 32
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    plausible.then(|| region.to_owned())
}

/// The one mapping from a failed action to Cognito's error response: HTTP 400 (500 for our
/// own failures, logged with their whole cause chain; 503 with `Retry-After` for a storage
/// fault, which the store logs once per episode) with `__type` and `message` in the body
/// and the same two in `x-amzn-ErrorType` / `x-amzn-ErrorMessage`.
pub(crate) fn error_response(error: &CognitoError) -> Response {
    let status = match error {
        CognitoError::Internal(_) | CognitoError::TaskFailed(_) => {
            tracing::error!(error = %error.cause_chain(), "user pool internal error");
            StatusCode::INTERNAL_SERVER_ERROR
        }
        CognitoError::ServiceUnavailable => StatusCode::SERVICE_UNAVAILABLE,
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

/// `Retry-After` for a storage fault: the task store's wait, in whole seconds.
pub fn retry_after() -> HeaderValue {
    HeaderValue::from(taskapi_store_sqlite::fault::RETRY_AFTER.as_secs().max(1))
}

async fn jwks(State(pools): State<Arc<UserPools>>, Path(pool_id): Path<String>) -> Response {
    match pools.jwks(&pool_id) {
        Some(set) => axum::Json(set).into_response(),
        None => pool_not_found(&pool_id),
    }
}

fn pool_not_found(pool_id: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(json!({ "message": format!("User pool {pool_id} does not exist.") })),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use rusqlite::ffi;

    use super::*;

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
            let error = CognitoError::from(PoolStoreError::from(sqlite_error(code)));
            assert!(
                matches!(error, CognitoError::ServiceUnavailable),
                "code {code}"
            );
            let response = error_response(&error);
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
            let error = CognitoError::from(PoolStoreError::from(error));
            assert!(matches!(
                error,
                CognitoError::Internal(PoolStoreError::Sqlite(_))
            ));
            let response = error_response(&error);
            assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
            let headers = response.headers();
            assert!(!headers.contains_key(RETRY_AFTER));
            assert_eq!(headers["x-amzn-errortype"], "InternalErrorException");
            assert_eq!(headers["x-amzn-errormessage"], "Internal error");
        }
    }
}
