//! The middleware every entry point puts around the router: CORS, request ids, tracing,
//! the body size limit and a panic guard. One function, so local and Lambda behave alike.

use std::any::Any;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Router};
use http::{HeaderName, HeaderValue, Method, Request, header};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnFailure, TraceLayer};
use tracing::Level;

use crate::ApiError;
use crate::body::{BodyReadTimeout, MAX_BODY_BYTES};
use crate::routes::tasks::{IDEMPOTENCY_KEY, IDEMPOTENT_REPLAYED};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Settings of the HTTP layer that differ between deployments.
#[derive(Debug, Clone, Default)]
pub struct HttpConfig {
    /// Origins allowed by CORS; empty means any (`*`), as the seed's handlers answer.
    pub cors_origins: Vec<HeaderValue>,
    /// How long a whole request body may take to arrive (a slow sender gets 408).
    pub body_read_timeout: BodyReadTimeout,
}

pub fn with_service_layers(router: Router, config: &HttpConfig) -> Router {
    router
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(Extension(config.body_read_timeout))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(
            // A 5xx is logged where it arises (a 500 with its cause by `ApiError`, a storage
            // fault once per episode by the store), not again for every response here.
            TraceLayer::new_for_http()
                .on_failure(DefaultOnFailure::new().level(Level::DEBUG))
                .make_span_with(|request: &Request<_>| {
                    let request_id = request
                        .headers()
                        .get(&REQUEST_ID)
                        .and_then(|id| id.to_str().ok())
                        .unwrap_or("-");
                    tracing::info_span!(
                        "request",
                        method = %request.method(),
                        path = %request.uri().path(),
                        request_id,
                    )
                }),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(cors(config))
}

fn cors(config: &HttpConfig) -> CorsLayer {
    let origin = if config.cors_origins.is_empty() {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(config.cors_origins.clone())
    };
    CorsLayer::new()
        .allow_origin(origin)
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_MATCH,
            header::IF_NONE_MATCH,
            IDEMPOTENCY_KEY,
            HeaderName::from_static("x-amz-date"),
            HeaderName::from_static("x-amz-security-token"),
        ])
        .expose_headers([
            header::ETAG,
            header::RETRY_AFTER,
            REQUEST_ID,
            IDEMPOTENT_REPLAYED,
        ])
        .max_age(Duration::from_secs(600))
}

/// A panic is a bug: log it, answer the same clean 500 as any other internal error.
fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("non-string panic payload");
    ApiError::Internal(format!("handler panicked: {detail}").into()).into_response()
}
