//! The taskapi REST API as one axum [`Router`](axum::Router), shared by `taskapi serve`
//! and the Lambda binary. It sees a [`Principal`] and a [`TaskStore`](taskapi_domain::TaskStore);
//! which runtime and which store it runs on is decided by the entry point.
//!
//! Reading order: [`state`] (what a handler gets), [`auth`] (who is calling), [`error`]
//! (how every failure becomes a response), then [`routes`].

pub mod auth;
mod body;
mod cursor;
pub mod error;
mod layers;
mod openapi;
#[cfg(feature = "rate-limit")]
mod rate_limit;
mod routes;
mod state;

pub use auth::{ADMIN_GROUP, Authenticator, Principal, Unauthorized};
pub use body::BodyReadTimeout;
pub use error::ApiError;
pub use layers::{HttpConfig, with_service_layers};
pub use openapi::openapi;
#[cfg(feature = "rate-limit")]
pub use rate_limit::CallerLimits;
pub use routes::api_router;
pub use state::{AppState, Dependency, WebhookSettings};
