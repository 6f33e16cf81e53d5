//! Why `GET /live` refuses a socket, and the one place where that becomes a response.

use std::time::Duration;

use axum::Json;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use taskapi_http::ApiError;
use taskapi_http::error::ErrorBody;

/// Every refusal, before the upgrade: nothing is opened or registered.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    /// Authentication or the store failed as it would on any REST route (401, 429, 503).
    #[error(transparent)]
    Api(#[from] ApiError),
    /// A plain HTTP request, or a WebSocket handshake that is not well formed.
    #[error("GET /live is a WebSocket: send a WebSocket upgrade request")]
    NotWebSocket,
    /// The caller has the most sockets one user may open.
    #[error("This user has {0} live sockets open, the most allowed; close one first")]
    UserFull(usize),
    /// The server has the most sockets it serves.
    #[error("The server has the most live sockets it serves open; retry later")]
    ServerFull,
    /// The server is shutting down.
    #[error("The server is shutting down; retry later")]
    ShuttingDown,
}

/// How long a refused client waits before trying again.
const RETRY_AFTER: Duration = Duration::from_secs(5);

impl IntoResponse for LiveError {
    fn into_response(self) -> Response {
        let message = self.to_string();
        let (status, code, retry) = match self {
            Self::Api(api) => return api.into_response(),
            Self::NotWebSocket => (StatusCode::UPGRADE_REQUIRED, "websocket_required", false),
            Self::UserFull(_) => (StatusCode::TOO_MANY_REQUESTS, "too_many_sockets", true),
            Self::ServerFull => (StatusCode::SERVICE_UNAVAILABLE, "live_full", true),
            Self::ShuttingDown => (StatusCode::SERVICE_UNAVAILABLE, "shutting_down", true),
        };
        let body = ErrorBody {
            message,
            code: Some(code.to_owned()),
        };
        let mut response = (status, Json(body)).into_response();
        let headers = response.headers_mut();
        if retry {
            headers.insert(
                header::RETRY_AFTER,
                HeaderValue::from(RETRY_AFTER.as_secs()),
            );
        } else {
            headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        }
        response
    }
}
