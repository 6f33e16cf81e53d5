//! Cognito's hosted UI and OAuth 2.0 / OpenID Connect endpoints for the local user pool:
//! `/oauth2/authorize`, the sign-in, sign-up and password pages, `/oauth2/token`,
//! `/oauth2/userInfo`, `/oauth2/revoke`, `/logout` and each pool's discovery document.
//!
//! This is a front door of its own: it calls the user pool's core (users, passwords, codes,
//! tokens), never its AWS JSON actions. What only the hosted UI needs — sign-in sessions,
//! authorization codes, CSRF — lives here, in memory: codes live five minutes and sessions an
//! hour, so a restart costs at most one more sign-in.

mod authorize;
mod cookies;
mod csrf;
mod endpoints;
mod error;
mod html;
mod pages;
mod pkce;
mod security;
mod token;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Method};
use axum::routing::{get, post};
use taskapi_userpool::{Expiring, PoolError, UserPools};
use tower_http::cors::{AllowHeaders, AllowOrigin, CorsLayer};
use tower_http::trace::{DefaultOnFailure, TraceLayer};
use tracing::Level;

use crate::csrf::Csrf;

/// Authorization codes are single-use and live five minutes, as Cognito's.
const CODE_TTL: i64 = 300;
/// Upper bounds on what is held in memory (oldest dropped first), in all and per account:
/// one account's browsers and pending sign-ins never push out another account's.
const MAX_SESSIONS: usize = 10_000;
const MAX_CODES: usize = 10_000;
const MAX_PER_ACCOUNT: usize = 20;
/// The hosted UI's forms and the OAuth endpoints take small bodies only.
const MAX_BODY: usize = 16 * 1024;

/// The hosted UI's state, shared by every listener that serves it.
pub struct HostedUi {
    pools: Arc<UserPools>,
    csrf: Csrf,
    sessions: Expiring<SignedIn>,
    codes: Expiring<PendingCode>,
}

/// Someone who signed in through the hosted UI: the session cookie points here.
#[derive(Debug, Clone)]
struct SignedIn {
    pool_id: String,
    username: String,
    auth_time: i64,
    /// The user's sign-in generation at sign-in; the session ends when it moves on (sign
    /// out everywhere, a revoked token, a password reset) or the user is disabled or gone.
    epoch: i64,
}

impl SignedIn {
    /// Whose state this is, for the per-account caps.
    fn account(&self) -> String {
        format!("{}/{}", self.pool_id, self.username)
    }
}

/// An authorization code and everything it was issued for.
#[derive(Debug, Clone)]
struct PendingCode {
    client_id: String,
    redirect_uri: String,
    challenge: Option<String>,
    scopes: Vec<String>,
    nonce: Option<String>,
    username: String,
    auth_time: i64,
    epoch: i64,
}

/// How one listener is reached, which its pages and discovery document must know.
#[derive(Debug, Clone)]
pub struct Listener {
    /// `http://127.0.0.1:3000` or `https://127.0.0.1:3443`, without a trailing slash.
    pub base_url: String,
    /// Served over HTTPS: cookies get the `Secure` attribute.
    pub secure: bool,
}

#[derive(Clone)]
struct AppState {
    ui: Arc<HostedUi>,
    listener: Arc<Listener>,
}

impl HostedUi {
    pub fn new(pools: Arc<UserPools>) -> Arc<Self> {
        Arc::new(Self {
            pools,
            csrf: Csrf::new(),
            sessions: Expiring::new(MAX_SESSIONS, MAX_PER_ACCOUNT),
            codes: Expiring::new(MAX_CODES, MAX_PER_ACCOUNT),
        })
    }

    /// The hosted UI and OAuth endpoints as served on `listener`.
    pub fn router(self: &Arc<Self>, listener: Listener) -> Router {
        let pages = pages::Step::ALL
            .into_iter()
            .fold(Router::new(), |router, step| {
                router.route(step.path(), step.route())
            });
        pages
            .route("/oauth2/authorize", get(pages::authorize))
            .route("/authorize", get(pages::authorize))
            .route("/logout", get(endpoints::logout))
            .route("/oauth2/token", post(token::token))
            .route(
                "/oauth2/userInfo",
                get(endpoints::user_info).post(endpoints::user_info),
            )
            .route("/oauth2/revoke", post(endpoints::revoke))
            .route(
                "/{pool_id}/.well-known/openid-configuration",
                get(endpoints::discovery),
            )
            .layer(DefaultBodyLimit::max(MAX_BODY))
            .layer(axum::middleware::map_response(security::headers))
            .with_state(AppState {
                ui: Arc::clone(self),
                listener: Arc::new(listener),
            })
            // Served beside the API's layers, like the pool's own routes: browser apps on any
            // origin call the token endpoint with headers of their own (`x-amz-user-agent`).
            // 5xx are logged where they arise (storage faults once per episode), not per response.
            .layer(
                TraceLayer::new_for_http().on_failure(DefaultOnFailure::new().level(Level::DEBUG)),
            )
            .layer(cors())
    }

    fn now(&self) -> i64 {
        self.pools.now()
    }

    /// Runs a call into the user pool's core (argon2, SQLite) off the async workers, within
    /// the bound the AWS JSON door shares ([`UserPools::run_blocking`]).
    async fn core<T, E>(
        &self,
        call: impl FnOnce(&UserPools) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: Send + 'static + From<PoolError>,
    {
        self.pools.run_blocking(call).await?
    }
}

/// Cognito's CORS for its hosted UI's endpoints (token, userinfo, ...): any origin, the
/// request headers echoed back, and the error and request-id headers readable by scripts,
/// as the pool's AWS JSON endpoint answers browsers.
fn cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::any())
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allow_headers(AllowHeaders::mirror_request())
        .expose_headers([
            HeaderName::from_static("x-amzn-errortype"),
            HeaderName::from_static("x-amzn-errormessage"),
            HeaderName::from_static("x-amzn-requestid"),
        ])
        .max_age(Duration::from_secs(600))
}
