//! The WebSocket API's routes. `$connect` is the only door: browsers cannot set headers on
//! a WebSocket, so the ID token comes as `?token=` (or in `Authorization`), verified here
//! as `taskapi serve` verifies it, against the pool's JWKS fetched in init; a refusal
//! answers the handshake with its status and no socket opens. A socket is recorded until
//! its token expires (at most API Gateway's two-hour connection limit); the fan-out closes
//! it then, and the client reconnects with a fresh token. `$disconnect` forgets it.
//! Clients have nothing to say (the server decides what a socket hears), so anything they
//! send reaches `$default` and is answered with an error frame.

use std::sync::Arc;
use std::time::Instant;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use taskapi_http::Authenticator;
use taskapi_jwt::{JwtAuthenticator, RemoteJwks, TrustedPool};

use crate::config::SocketAuth;
use crate::connections::Connections;
use crate::error::Refusal;
use crate::fanout::unix_now;

/// API Gateway closes every WebSocket connection after two hours.
const MAX_CONNECTION_SECS: i64 = 2 * 60 * 60;

pub struct Routes {
    connections: Connections,
    verifier: JwtAuthenticator,
    max_sockets_per_user: usize,
}

impl Routes {
    /// The JWKS is fetched now, during init (not billed to the first handshake); if that
    /// fails, the first token with an unknown `kid` fetches it again.
    pub async fn init(connections: Connections, auth: SocketAuth) -> Self {
        let keys = Arc::new(RemoteJwks::new(taskapi_jwt::jwks_url(&auth.issuer)));
        let started = Instant::now();
        match keys.prefetch().await {
            Ok(count) => tracing::info!(
                issuer = auth.issuer,
                keys = count,
                elapsed_ms = started.elapsed().as_millis(),
                "JWKS fetched"
            ),
            Err(err) => {
                tracing::warn!(issuer = auth.issuer, error = %err, "JWKS fetch at init failed")
            }
        }
        Self {
            connections,
            verifier: JwtAuthenticator::new(TrustedPool {
                issuer: auth.issuer,
                audiences: auth.audiences,
                keys,
            }),
            max_sockets_per_user: auth.max_sockets_per_user,
        }
    }

    /// One route event; the answer is API Gateway's (`statusCode`, and a frame's `body`).
    pub async fn handle(&self, event: &Value) -> Value {
        let context = &event["requestContext"];
        let route = context["routeKey"].as_str().unwrap_or_default();
        let Some(id) = context["connectionId"].as_str() else {
            return json!({ "statusCode": 400, "body": "not a WebSocket API event" });
        };
        match route {
            "$connect" => match self.connect(event, id).await {
                Ok(()) => json!({ "statusCode": 200 }),
                Err(refusal) => {
                    tracing::info!(connection = id, reason = %refusal, "socket refused");
                    json!({ "statusCode": refusal.status(), "body": refusal.to_string() })
                }
            },
            "$disconnect" => {
                // A disconnect cannot be refused; what a failure leaves, TTL removes.
                if let Err(err) = self.connections.forget(id).await {
                    tracing::warn!(connection = id, error = %err, "connection items left to TTL");
                }
                json!({ "statusCode": 200 })
            }
            _ => json!({
                "statusCode": 400,
                "body": json!({
                    "type": "error",
                    "message": "this socket only receives events; messages are not accepted"
                })
                .to_string(),
            }),
        }
    }

    async fn connect(&self, event: &Value, id: &str) -> Result<(), Refusal> {
        let token = token_of(event).ok_or(Refusal::NoToken)?;
        let request = http::Request::builder()
            .header(http::header::AUTHORIZATION, format!("Bearer {token}"))
            .body(())
            .map_err(|_| Refusal::InvalidToken)?;
        let (parts, ()) = request.into_parts();
        let principal = self
            .verifier
            .authenticate(&parts)
            .await
            .map_err(|_| Refusal::InvalidToken)?;
        let now = unix_now();
        let expires_at = expiry_of(token)
            .ok_or(Refusal::InvalidToken)?
            .min(now + MAX_CONNECTION_SECS);
        // A soft cap: two handshakes of one user racing may both pass it, which costs a
        // socket, not a leak (each still expires).
        let open = self.connections.live_count(&principal.sub, now).await?;
        if open >= self.max_sockets_per_user {
            return Err(Refusal::TooManySockets(open));
        }
        self.connections
            .open(&principal.sub, id, now, expires_at)
            .await?;
        tracing::info!(
            connection = id,
            sub = principal.sub,
            expires_at,
            "socket opened"
        );
        Ok(())
    }
}

/// The ID token of a `$connect` event: `?token=`, else the `Authorization` header.
fn token_of(event: &Value) -> Option<&str> {
    let from_query = event["queryStringParameters"]["token"].as_str();
    let from_header = || {
        let headers = event["headers"].as_object()?;
        let (_, value) = headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("authorization"))?;
        let value = value.as_str()?.trim();
        Some(
            value
                .strip_prefix("Bearer ")
                .or_else(|| value.strip_prefix("bearer "))
                .unwrap_or(value),
        )
    };
    from_query
        .or_else(from_header)
        .map(str::trim)
        .filter(|token| !token.is_empty())
}

/// The `exp` of a token the verifier has already accepted (so its payload is the signed one).
fn expiry_of(token: &str) -> Option<i64> {
    let payload = token.split('.').nth(1)?;
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    claims["exp"].as_i64()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_comes_from_the_query_or_the_header() {
        let query = json!({ "queryStringParameters": { "token": "abc" }, "headers": {} });
        assert_eq!(token_of(&query), Some("abc"));
        let header = json!({ "headers": { "Authorization": "Bearer xyz" } });
        assert_eq!(token_of(&header), Some("xyz"));
        let lower = json!({ "headers": { "authorization": "xyz" } });
        assert_eq!(token_of(&lower), Some("xyz"));
        let none = json!({ "queryStringParameters": { "token": " " }, "headers": null });
        assert_eq!(token_of(&none), None);
    }

    #[test]
    fn the_expiry_is_read_from_the_payload() {
        let payload = URL_SAFE_NO_PAD.encode(r#"{"exp":1767225600}"#);
        assert_eq!(expiry_of(&format!("h.{payload}.s")), Some(1_767_225_600));
        assert_eq!(expiry_of("garbage"), None);
    }
}
