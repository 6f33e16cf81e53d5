//! The one error type of the API and the one place where errors become responses.

use std::time::Duration;

use axum::Json;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde::Serialize;
use taskapi_domain::{StoreError, ValidationError, cause_chain};
use utoipa::ToSchema;

/// Every failure a handler can answer with. Client mistakes carry what to fix; server
/// faults carry detail for the log only.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    Validation(#[from] ValidationError),
    /// A request that is malformed as a whole (body, query string, headers).
    #[error("{message}")]
    BadRequest { code: String, message: String },
    #[error("Unauthorized")]
    Unauthorized,
    #[error("Forbidden")]
    Forbidden,
    #[error("Task not found")]
    TaskNotFound,
    /// Something else that is not there (or that the caller may not know is there).
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error(
        "The project's last owner cannot leave or stop being an owner; make another member an owner first"
    )]
    LastOwner,
    #[error("Already a member of this project")]
    AlreadyMember,
    #[error(
        "The project has the most members it may have ({})",
        taskapi_domain::MAX_MEMBERS
    )]
    ProjectFull,
    /// A webhook URL that is not https, not a URL, or whose host resolves to an address
    /// webhooks may not reach.
    #[error("{0}")]
    InvalidWebhookUrl(String),
    #[error(
        "The most webhooks allowed ({}) are registered already",
        taskapi_domain::MAX_WEBHOOKS
    )]
    TooManyWebhooks,
    #[error("Changed by another request meanwhile; read it again and retry")]
    Conflict,
    #[error("No route for this path")]
    RouteNotFound,
    #[error("Method not allowed")]
    MethodNotAllowed,
    #[error("The task was changed since it was read (stale If-Match)")]
    PreconditionFailed,
    #[error("This Idempotency-Key was used for a different request within the last 24 hours")]
    IdempotencyKeyReused,
    #[error("Request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("Content-Type must be application/json")]
    UnsupportedMediaType,
    #[error("The request body did not arrive in time")]
    BodyTimeout,
    #[error("Too many requests from this caller, retry later")]
    TooManyRequests { retry_after: Duration },
    #[error("Storage is temporarily unavailable, retry later")]
    Unavailable { retry_after: Duration },
    /// A bug or an unexpected fault. Logged with its cause; the caller gets a bare 500.
    #[error("internal error: {0}")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// The JSON body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// What went wrong, for a person.
    pub message: String,
    /// What went wrong, for a program: e.g. `invalid_title`, `not_found`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

impl ApiError {
    pub fn bad_request(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::BadRequest {
            code: code.into(),
            message: message.into(),
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            Self::Validation(_) | Self::BadRequest { .. } | Self::InvalidWebhookUrl(_) => {
                StatusCode::BAD_REQUEST
            }
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::TaskNotFound | Self::NotFound(_) | Self::RouteNotFound => StatusCode::NOT_FOUND,
            Self::LastOwner
            | Self::AlreadyMember
            | Self::ProjectFull
            | Self::TooManyWebhooks
            | Self::Conflict => StatusCode::CONFLICT,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            Self::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::BodyTimeout => StatusCode::REQUEST_TIMEOUT,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> Option<String> {
        let code = match self {
            Self::Validation(err) => return Some(format!("invalid_{}", err.field)),
            Self::BadRequest { code, .. } => return Some(code.clone()),
            // API Gateway's authorizer answers exactly {"message":"Unauthorized"}; so do we,
            // so that clients see one shape locally and on AWS.
            Self::Unauthorized => return None,
            Self::Forbidden => "forbidden",
            Self::TaskNotFound | Self::NotFound(_) => "not_found",
            Self::LastOwner => "last_owner",
            Self::AlreadyMember => "already_member",
            Self::ProjectFull => "project_full",
            Self::InvalidWebhookUrl(_) => "invalid_webhook_url",
            Self::TooManyWebhooks => "too_many_webhooks",
            Self::Conflict => "conflict",
            Self::RouteNotFound => "no_route",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::PreconditionFailed => "precondition_failed",
            Self::IdempotencyKeyReused => "idempotency_key_reused",
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::BodyTimeout => "body_timeout",
            Self::TooManyRequests { .. } => "too_many_requests",
            Self::Unavailable { .. } => "storage_unavailable",
            Self::Internal(_) => "internal_error",
        };
        Some(code.to_owned())
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound => Self::TaskNotFound,
            StoreError::PreconditionFailed => Self::PreconditionFailed,
            StoreError::IdempotencyKeyReused => Self::IdempotencyKeyReused,
            StoreError::LastOwner => Self::LastOwner,
            StoreError::AlreadyMember => Self::AlreadyMember,
            StoreError::ProjectFull => Self::ProjectFull,
            StoreError::TooManyWebhooks => Self::TooManyWebhooks,
            StoreError::Conflict => Self::Conflict,
            StoreError::Unavailable { retry_after } => Self::Unavailable { retry_after },
            // A fresh UUIDv7 colliding is not a client's mistake: it is ours.
            err @ (StoreError::AlreadyExists | StoreError::Internal(_)) => {
                Self::Internal(Box::new(err))
            }
        }
    }
}

impl ApiError {
    /// Maps a store error where a missing thing is `what` (a project, a member, ...).
    pub(crate) fn missing(what: &'static str) -> impl Fn(StoreError) -> Self {
        move |err| match err {
            StoreError::NotFound => Self::NotFound(what),
            other => other.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        // A storage fault is logged by the store, once per episode, not here per request.
        let message = match &self {
            Self::Internal(cause) => {
                tracing::error!(error = %cause_chain(cause.as_ref()), "request failed");
                "Internal server error".to_owned()
            }
            other => other.to_string(),
        };
        let body = ErrorBody {
            message,
            code: self.code(),
        };
        let mut response = (status, Json(body)).into_response();
        if let Self::Unavailable { retry_after } | Self::TooManyRequests { retry_after } = self {
            // Whole seconds, rounded up: a client that waits as told is let through.
            let seconds = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
        }
        response
    }
}
