//! The AWS JSON door's quota layer: each request is charged to the pool it names, in its
//! action's category (the core holds the rates and the buckets, which the hosted UI's
//! forms are charged to as well).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use serde::Deserialize;

use taskapi_userpool::Category;

use crate::door::AwsDoor;

/// The one bucket for requests naming no known pool: they fail anyway, and unknown names
/// must not create state.
const UNKNOWN_POOL: &str = "";

/// The layer: charges each request to its pool's allowance in its action's category.
pub(crate) async fn layer(
    State(door): State<Arc<AwsDoor>>,
    request: Request,
    next: Next,
) -> Response {
    let Some(action) = crate::codec::action(request.headers()).map(str::to_owned) else {
        return next.run(request).await;
    };
    let category = Category::of(&action);
    let caller = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    let (parts, body) = match crate::codec::buffered(request).await {
        Ok(buffered) => buffered,
        Err(error) => return crate::codec::error_response(&error),
    };
    let pool = Arc::clone(&door).pool_named_in(&body).await;
    // Public actions take the caller's share first; signed ones come from the pool's admins.
    let caller = caller.filter(|_| !crate::sigv4::needs_iam(&action));
    if let Err(error) = door.pools.meter(category, &pool, caller) {
        tracing::warn!(%category, pool, "request-rate quota exceeded");
        return crate::codec::error_response(&error.into());
    }
    next.run(Request::from_parts(parts, Body::from(body))).await
}

/// The members that say which pool a request is for.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Names {
    user_pool_id: Option<String>,
    client_id: Option<String>,
    access_token: Option<String>,
}

impl AwsDoor {
    /// The id of the known pool a request names, by app client, pool id or access token, in
    /// that order: a made-up `UserPoolId` beside a real `ClientId` is charged to the client's
    /// pool, not to another bucket.
    async fn pool_named_in(self: Arc<Self>, body: &[u8]) -> String {
        let Ok(names) = serde_json::from_slice::<Names>(body) else {
            return UNKNOWN_POOL.into();
        };
        if let Some(client_id) = names.client_id {
            let pool = Arc::clone(&self).pool_of_client(client_id).await;
            if pool != UNKNOWN_POOL {
                return pool;
            }
        }
        if let Some(id) = names.user_pool_id {
            return if self.pools.has_pool(&id) {
                id
            } else {
                UNKNOWN_POOL.into()
            };
        }
        names
            .access_token
            .and_then(|token| self.pools.pool_of_access_token(&token))
            .unwrap_or_else(|| UNKNOWN_POOL.into())
    }

    async fn pool_of_client(self: Arc<Self>, client_id: String) -> String {
        let cached = self
            .client_pools
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&client_id)
            .cloned();
        if let Some(pool) = cached {
            return pool;
        }
        // A store read, so off the async workers; only clients that exist are remembered.
        tokio::task::spawn_blocking(move || match self.pools.pool_of_client(&client_id) {
            Ok(Some(pool)) => {
                self.client_pools
                    .write()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(client_id, pool.clone());
                pool
            }
            _ => UNKNOWN_POOL.into(),
        })
        .await
        .unwrap_or_else(|_| UNKNOWN_POOL.into())
    }
}
