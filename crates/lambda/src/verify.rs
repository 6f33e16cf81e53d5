//! Who is calling, for each front door: API Gateway's verified claims, or (behind a
//! Function URL, where nothing verifies anything before the function runs) the ID token
//! verified here with `taskapi serve`'s verifier, against the pool's JWKS fetched in init.

use std::sync::Arc;
use std::time::Instant;

use taskapi_http::Authenticator;
use taskapi_jwt::{JwtAuthenticator, RemoteJwks, TrustedPool};

use crate::claims::ApiGatewayClaims;
use crate::config::Auth;

/// The authenticator for `auth`. For [`Auth::Verify`] the JWKS is fetched now, during init
/// (not billed to the first caller's latency), and kept for the life of the environment;
/// if the fetch fails, the first token with an unknown `kid` fetches it again.
pub async fn authenticator(auth: Auth) -> Arc<dyn Authenticator> {
    match auth {
        Auth::ApiGateway => Arc::new(ApiGatewayClaims),
        Auth::Verify { issuer, audiences } => {
            let keys = Arc::new(RemoteJwks::new(taskapi_jwt::jwks_url(&issuer)));
            let started = Instant::now();
            match keys.prefetch().await {
                Ok(count) => tracing::info!(
                    %issuer,
                    keys = count,
                    elapsed_ms = started.elapsed().as_millis(),
                    "JWKS fetched; verifying ID tokens in the function"
                ),
                Err(err) => tracing::warn!(%issuer, error = %err, "JWKS fetch at init failed"),
            }
            Arc::new(JwtAuthenticator::new(TrustedPool {
                issuer,
                audiences,
                keys,
            }))
        }
    }
}
