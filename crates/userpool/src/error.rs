//! Every failure the user pool can report, and its one mapping to Cognito's wire format.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// A failed Cognito action. Each variant is one Cognito exception type; the messages are the
/// ones the real service sends, because client code (Amplify, scripts) matches on them.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    NotAuthorized(String),
    #[error("{0}")]
    InvalidParameter(String),
    #[error("{0}")]
    InvalidPassword(String),
    #[error("User does not exist.")]
    UserNotFound,
    #[error("User is not confirmed.")]
    UserNotConfirmed,
    #[error("{0}")]
    UsernameExists(String),
    #[error("Invalid verification code provided, please try again.")]
    CodeMismatch,
    #[error("Invalid code provided, please request a code again.")]
    ExpiredCode,
    #[error("Attempt limit exceeded, please try after some time.")]
    LimitExceeded,
    #[error("{0}")]
    ResourceNotFound(String),
    #[error("A group with the name already exists.")]
    GroupExists,
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    UnsupportedUserState(String),
    #[error("{0}")]
    UnknownOperation(String),
    #[error("{0}")]
    Serialization(String),
    #[error("Missing Authentication Token")]
    MissingAuthenticationToken,
    #[error("The security token included in the request is invalid.")]
    UnrecognizedClient,
    #[error("{0}")]
    IncompleteSignature(String),
    #[error("{0}")]
    InvalidSignature(String),
    #[error("{0}")]
    TooManyRequests(String),
    #[error("Internal error")]
    Internal(#[from] StoreError),
}

impl ApiError {
    pub(crate) fn incorrect_credentials() -> Self {
        Self::NotAuthorized("Incorrect username or password.".into())
    }

    pub(crate) fn pool_not_found(pool_id: &str) -> Self {
        Self::ResourceNotFound(format!("User pool {pool_id} does not exist."))
    }

    pub(crate) fn client_not_found(client_id: &str) -> Self {
        Self::ResourceNotFound(format!("User pool client {client_id} does not exist."))
    }

    /// The exception name clients key on (`__type`, `x-amzn-ErrorType`).
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::NotAuthorized(_) => "NotAuthorizedException",
            Self::InvalidParameter(_) => "InvalidParameterException",
            Self::InvalidPassword(_) => "InvalidPasswordException",
            Self::UserNotFound => "UserNotFoundException",
            Self::UserNotConfirmed => "UserNotConfirmedException",
            Self::UsernameExists(_) => "UsernameExistsException",
            Self::CodeMismatch => "CodeMismatchException",
            Self::ExpiredCode => "ExpiredCodeException",
            Self::LimitExceeded => "LimitExceededException",
            Self::ResourceNotFound(_) => "ResourceNotFoundException",
            Self::GroupExists => "GroupExistsException",
            Self::Unauthorized(_) => "UnauthorizedException",
            Self::UnsupportedUserState(_) => "UnsupportedUserStateException",
            Self::UnknownOperation(_) => "UnknownOperationException",
            Self::Serialization(_) => "SerializationException",
            Self::MissingAuthenticationToken => "MissingAuthenticationTokenException",
            Self::UnrecognizedClient => "UnrecognizedClientException",
            Self::IncompleteSignature(_) => "IncompleteSignatureException",
            Self::InvalidSignature(_) => "InvalidSignatureException",
            Self::TooManyRequests(_) => "TooManyRequestsException",
            Self::Internal(_) => "InternalErrorException",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match self {
            Self::Internal(ref cause) => {
                tracing::error!(error = %cause, "user pool internal error");
                StatusCode::INTERNAL_SERVER_ERROR
            }
            _ => StatusCode::BAD_REQUEST,
        };
        let kind = self.type_name();
        let message = self.to_string();
        let body = serde_json::json!({ "__type": kind, "message": message });
        let mut response = (status, crate::wire::amz_json(&body)).into_response();
        let headers = response.headers_mut();
        headers.insert("x-amzn-errortype", HeaderValue::from_static(kind));
        if let Ok(value) = HeaderValue::from_str(&message) {
            headers.insert("x-amzn-errormessage", value);
        }
        response
    }
}

/// The persistence layer failed; always a bug or a broken disk, never the caller's fault.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("stored JSON is unreadable: {0}")]
    Json(#[from] serde_json::Error),
    #[error("signing key: {0}")]
    Key(String),
    #[error("background task failed: {0}")]
    Join(String),
}

/// Why the user pool state in the data directory could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    NotPrivate(#[from] crate::private::NotPrivate),
    #[error(
        "user pool state {path} is unreadable ({reason}); it was left untouched, move it away to start fresh"
    )]
    Corrupt { path: String, reason: String },
    #[error(
        "user pool state {path} has schema version {found}, newer than this taskapi understands ({supported})"
    )]
    TooNew {
        path: String,
        found: i64,
        supported: i64,
    },
}
