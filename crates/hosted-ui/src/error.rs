//! The two ways the hosted UI fails: OAuth 2.0 JSON errors for the API endpoints, HTML error
//! pages for the browser. Each maps to a response in one place.

use axum::Json;
use axum::http::header::{CACHE_CONTROL, RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use taskapi_userpool::{PoolError, retry_after_seconds};

use crate::html;

/// An RFC 6749 error from `/oauth2/token` or `/oauth2/revoke`, with Cognito's codes.
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    #[error("{0}")]
    InvalidRequest(String),
    /// Unknown client or wrong secret. `basic`: the client authenticated with the
    /// Authorization header, so the answer is 401 with a challenge (RFC 6749 §5.2).
    #[error("{message}")]
    InvalidClient { message: String, basic: bool },
    #[error("{0}")]
    InvalidGrant(String),
    #[error("{0}")]
    UnauthorizedClient(String),
    #[error("grant_type must be authorization_code, refresh_token or client_credentials")]
    UnsupportedGrantType,
    #[error("{0}")]
    InvalidScope(String),
    #[error("only refresh tokens can be revoked")]
    UnsupportedTokenType,
    #[error("{0}")]
    Internal(OurFault),
}

/// A failure that is ours, not the caller's.
#[derive(Debug)]
pub enum OurFault {
    /// A bug: answered 500 with a clean message, the detail logged.
    Bug(String),
    /// The pool's storage cannot take writes now (logged once per episode by the store):
    /// answered 503 with `Retry-After`, and it clears by itself.
    Unavailable,
}

impl OurFault {
    fn status(&self) -> StatusCode {
        match self {
            Self::Bug(cause) => {
                tracing::error!(error = %cause, "hosted UI internal error");
                StatusCode::INTERNAL_SERVER_ERROR
            }
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

impl std::fmt::Display for OurFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Bug(_) => "internal error",
            Self::Unavailable => {
                "the user pool cannot store changes right now (its storage is full, failing \
                 or was replaced); try again in a moment"
            }
        })
    }
}

/// The response for `status`, with `Retry-After` when it is a 503.
fn with_retry_after(status: StatusCode, response: impl IntoResponse) -> Response {
    let mut response = (status, response).into_response();
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(retry_after_seconds()));
    }
    response
}

impl OAuthError {
    fn code(&self) -> &'static str {
        match self {
            Self::InvalidRequest(_) => "invalid_request",
            Self::InvalidClient { .. } => "invalid_client",
            Self::InvalidGrant(_) => "invalid_grant",
            Self::UnauthorizedClient(_) => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope(_) => "invalid_scope",
            Self::UnsupportedTokenType => "unsupported_token_type",
            Self::Internal(OurFault::Bug(_)) => "server_error",
            Self::Internal(OurFault::Unavailable) => "temporarily_unavailable",
        }
    }

    /// A failure of the user pool's core while serving `grant`: its own refusals become
    /// `invalid_grant`, anything else is ours.
    pub fn from_grant(error: PoolError) -> Self {
        match internal(&error) {
            Some(cause) => Self::Internal(cause),
            None => Self::InvalidGrant(error.to_string()),
        }
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let status = match &self {
            Self::Internal(fault) => fault.status(),
            Self::InvalidClient { basic: true, .. } => StatusCode::UNAUTHORIZED,
            _ => StatusCode::BAD_REQUEST,
        };
        let body = json!({ "error": self.code(), "error_description": self.to_string() });
        let mut response = with_retry_after(status, Json(body));
        let headers = response.headers_mut();
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if matches!(self, Self::InvalidClient { basic: true, .. }) {
            headers.insert(WWW_AUTHENTICATE, HeaderValue::from_static("Basic"));
        }
        response
    }
}

/// A browser request that cannot go on: an HTML page, never a redirect.
#[derive(Debug)]
pub enum PageError {
    BadRequest(String),
    Csrf,
    Internal(OurFault),
}

impl From<PoolError> for PageError {
    fn from(error: PoolError) -> Self {
        match internal(&error) {
            Some(cause) => Self::Internal(cause),
            None => Self::BadRequest(error.to_string()),
        }
    }
}

/// A failure that is ours, not the caller's (its detail is for the log, never the answer).
pub fn internal(error: &PoolError) -> Option<OurFault> {
    match error {
        PoolError::Internal(_) | PoolError::TaskFailed(_) => {
            Some(OurFault::Bug(error.cause_chain()))
        }
        PoolError::ServiceUnavailable => Some(OurFault::Unavailable),
        _ => None,
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, message) = match self {
            Self::BadRequest(message) => (StatusCode::BAD_REQUEST, message),
            Self::Csrf => (
                StatusCode::FORBIDDEN,
                "The form has expired or did not come from this site (CSRF token missing or \
                 invalid). Go back, reload the page and try again."
                    .to_owned(),
            ),
            Self::Internal(fault @ OurFault::Unavailable) => (
                fault.status(),
                "The sign-in service cannot save anything right now; try again in a moment."
                    .to_owned(),
            ),
            Self::Internal(fault) => (
                fault.status(),
                "Something went wrong on our side; the details are in the server log.".to_owned(),
            ),
        };
        with_retry_after(status, html::error("Something went wrong", &message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn json_body(response: Response) -> serde_json::Value {
        let bytes = axum::body::to_bytes(response.into_body(), 4096)
            .await
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    /// The pool's storage fault is a 503 with `Retry-After` on the pages and on the OAuth
    /// endpoints alike; a bug stays a 500 without it.
    #[tokio::test]
    async fn storage_faults_are_503s_with_retry_after() {
        let page = PageError::from(PoolError::ServiceUnavailable).into_response();
        assert_eq!(page.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(page.headers()[RETRY_AFTER], "1");

        let token = OAuthError::from_grant(PoolError::ServiceUnavailable).into_response();
        assert_eq!(token.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(token.headers()[RETRY_AFTER], "1");
        let body = json_body(token).await;
        assert_eq!(body["error"], "temporarily_unavailable", "{body}");

        let bug = OAuthError::Internal(OurFault::Bug("a bug".into())).into_response();
        assert_eq!(bug.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!bug.headers().contains_key(RETRY_AFTER));
        let body = json_body(bug).await;
        assert_eq!(body["error"], "server_error");
        assert_eq!(
            body["error_description"], "internal error",
            "no detail leaks"
        );
    }
}
