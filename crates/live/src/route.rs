//! `GET /live`: everything is checked before the upgrade (the token exactly as the REST
//! routes check it, the caps), and the caller's projects are read, so that by the time the
//! client sees the socket open every event it may see reaches it.

use std::collections::HashSet;
use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRequestParts, Request, State, WebSocketUpgrade};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::request::Parts;
use http::{HeaderValue, header};
use taskapi_domain::{Limit, ListQuery, ProjectId};
use taskapi_http::auth::authorization_token;
use taskapi_http::{ApiError, AppState, Principal};

use crate::{Hub, LiveError, socket, token};

/// The largest message or frame a client may send (it has nothing to send; this only
/// bounds what a misbehaving one costs).
pub const MAX_MESSAGE: usize = 16 * 1024;

/// What a socket reads from its connection at a time.
const READ_BUFFER: usize = 4 * 1024;

#[derive(Clone)]
struct Live {
    api: AppState,
    hub: Arc<Hub>,
}

/// `GET /live` on `api`'s authenticator and store, with sockets held by `hub`.
pub fn router(api: AppState, hub: Arc<Hub>) -> Router {
    Router::new()
        .route("/live", get(connect))
        .with_state(Live { api, hub })
}

async fn connect(State(live): State<Live>, request: Request) -> Response {
    let (mut parts, _body) = request.into_parts();
    match open(&live, &mut parts).await {
        Ok(response) => response,
        Err(err) => err.into_response(),
    }
}

async fn open(live: &Live, parts: &mut Parts) -> Result<Response, LiveError> {
    token_from_query(parts);
    let principal = Principal::from_request_parts(parts, &live.api).await?;
    let expires_at = authorization_token(&parts.headers).and_then(token::expires_at);
    let upgrade = WebSocketUpgrade::from_request_parts(parts, &())
        .await
        .map_err(|_| LiveError::NotWebSocket)?;
    let registration = live.hub.join(&principal.sub)?;
    let projects = projects_of(live, &principal.sub).await?;
    live.hub.know_projects(&principal.sub, projects);
    let ping_interval = live.hub.limits().ping_interval;
    Ok(upgrade
        // Small buffers: an idle socket then costs little (tungstenite's defaults are
        // 128 KiB each way); clients send nothing, and each event is written at once.
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(0)
        .max_message_size(MAX_MESSAGE)
        .max_frame_size(MAX_MESSAGE)
        .on_upgrade(move |ws| socket::serve(ws, registration, expires_at, ping_interval)))
}

/// Browsers cannot set headers on a WebSocket: a `token` in the query string stands for
/// the `Authorization` header when that is absent.
fn token_from_query(parts: &mut Parts) {
    if parts.headers.contains_key(header::AUTHORIZATION) {
        return;
    }
    let Some(query) = parts.uri.query() else {
        return;
    };
    let Ok(pairs) = serde_urlencoded::from_str::<Vec<(String, String)>>(query) else {
        return;
    };
    let token = pairs.into_iter().find(|(name, _)| name == "token");
    if let Some(value) = token.and_then(|(_, token)| HeaderValue::try_from(token).ok()) {
        parts.headers.insert(header::AUTHORIZATION, value);
    }
}

/// Every project `sub` belongs to, page by page.
async fn projects_of(live: &Live, sub: &str) -> Result<HashSet<ProjectId>, LiveError> {
    let mut projects = HashSet::new();
    let mut query = ListQuery {
        limit: Limit::parse(&Limit::MAX.to_string()).map_err(ApiError::from)?,
        start_after: None,
    };
    loop {
        let page = live
            .api
            .projects
            .list_projects(sub, &query)
            .await
            .map_err(ApiError::from)?;
        projects.extend(
            page.projects
                .into_iter()
                .map(|view| view.project.project_id),
        );
        match page.next {
            Some(next) => query.start_after = Some(next),
            None => return Ok(projects),
        }
    }
}
