//! The two ways the hosted UI fails: OAuth 2.0 JSON errors for the API endpoints, HTML error
//! pages for the browser. Each maps to a response in one place.

use axum::Json;
use axum::http::header::{CACHE_CONTROL, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use taskapi_userpool::CognitoError;
use tokio::task::JoinError;

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
    #[error("internal error")]
    Internal(String),
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
            Self::Internal(_) => "server_error",
        }
    }

    /// A failure of the user pool's core while serving `grant`: its own refusals become
    /// `invalid_grant`, anything else is ours.
    pub fn from_grant(error: CognitoError) -> Self {
        match internal(&error) {
            Some(cause) => Self::Internal(cause),
            None => Self::InvalidGrant(error.to_string()),
        }
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let status = match &self {
            Self::Internal(cause) => {
                tracing::error!(error = %cause, "hosted UI internal error");
                StatusCode::INTERNAL_SERVER_ERROR
            }
            Self::InvalidClient { basic: true, .. } => StatusCode::UNAUTHORIZED,
            _ => StatusCode::BAD_REQUEST,
        };
        let body = json!({ "error": self.code(), "error_description": self.to_string() });
        let mut response = (status, Json(body)).into_response();
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
    Internal(String),
}

impl From<CognitoError> for PageError {
    fn from(error: CognitoError) -> Self {
        match internal(&error) {
            Some(cause) => Self::Internal(cause),
            None => Self::BadRequest(error.to_string()),
        }
    }
}

impl From<JoinError> for PageError {
    fn from(error: JoinError) -> Self {
        Self::Internal(error.to_string())
    }
}

impl From<JoinError> for OAuthError {
    fn from(error: JoinError) -> Self {
        Self::Internal(error.to_string())
    }
}

/// The detail of a failure that is ours, not the caller's (for the log, never the answer).
pub fn internal(error: &CognitoError) -> Option<String> {
    match error {
        CognitoError::Internal(_) | CognitoError::TaskFailed(_) => Some(format!("{error:?}")),
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
            Self::Internal(cause) => {
                tracing::error!(error = %cause, "hosted UI internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong on our side; the details are in the server log."
                        .to_owned(),
                )
            }
        };
        (status, html::error("Something went wrong", &message)).into_response()
    }
}
