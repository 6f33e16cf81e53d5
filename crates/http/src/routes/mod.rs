use axum::Router;
use axum::routing::get;

use crate::{ApiError, AppState};

mod access;
pub(crate) mod admin;
mod conditional;
pub(crate) mod invitations;
pub(crate) mod meta;
mod params;
pub(crate) mod project_tasks;
pub(crate) mod projects;
pub(crate) mod tasks;
pub(crate) mod upcoming;
pub(crate) mod webhooks;

/// Every route of the REST API, with the state applied. Entry points add the service
/// layers (CORS, request ids, tracing) with [`crate::with_service_layers`], after merging
/// any routes of their own.
pub fn api_router(state: AppState) -> Router {
    Router::new()
        .merge(tasks::router())
        .merge(upcoming::router())
        .merge(projects::router())
        .merge(project_tasks::router())
        .merge(invitations::router())
        .merge(admin::router())
        .merge(webhooks::router())
        .route("/healthz", get(meta::healthz))
        .route("/readyz", get(meta::readyz))
        .route("/openapi.json", get(meta::openapi_json))
        .fallback(|| async { ApiError::RouteNotFound })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .with_state(state)
}
