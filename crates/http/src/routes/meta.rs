use std::sync::OnceLock;

use axum::Json;
use axum::extract::State;
use axum::response::IntoResponse;
use http::{StatusCode, header};

use crate::AppState;

/// Liveness: answers without touching the store or checking a token.
pub async fn healthz() -> impl IntoResponse {
    Json(serde_json::json!({ "status": "ok" }))
}

/// Readiness: 200 when the store and every dependency (the local user pool) can be read
/// and written now, else 503 with the first reason (for a load balancer, a service manager,
/// an operator). Unauthenticated like `/healthz`; it costs one small write per store, which
/// the task store's group commit shares with other requests.
pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    match state.ready().await {
        Ok(()) => (
            StatusCode::OK,
            Json(serde_json::json!({ "status": "ready" })),
        ),
        Err(not_ready) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({ "status": "not_ready", "reason": not_ready.0 })),
        ),
    }
}

/// The OpenAPI 3.1 document, generated from the handlers' annotations once.
pub async fn openapi_json() -> impl IntoResponse {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    let document = DOCUMENT.get_or_init(|| {
        crate::openapi()
            .to_pretty_json()
            .expect("the OpenAPI document serializes")
    });
    (
        [(header::CONTENT_TYPE, "application/json")],
        document.as_str(),
    )
}
