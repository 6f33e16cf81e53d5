use std::sync::OnceLock;

use axum::Json;
use axum::response::IntoResponse;
use http::header;

/// Liveness: answers without touching the store or checking a token.
pub async fn healthz() -> impl IntoResponse {
    Json(serde_json::json!({ "status": "ok" }))
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
