use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use http::request::Parts;
use jsonwebtoken::{Algorithm, Validation, decode, decode_header};
use serde::Deserialize;
use taskapi_http::auth::authorization_token;
use taskapi_http::{Authenticator, Principal, Unauthorized};

use crate::KeySource;

/// Seconds of clock skew tolerated on `exp` and `iat`.
const LEEWAY_SECS: u64 = 5;
/// Verified tokens remembered, so a client's repeated calls skip the RSA check (API
/// Gateway caches authorizer results the same way). Measured in BENCHMARKS.md part 5: a
/// known token saves about 0.013 ms of a warm Lambda call's 0.85, and on `taskapi serve`
/// the RSA check per request. Bounded; when full, `quick_cache` evicts by recency and
/// frequency (S3-FIFO), so a flood of one-off tokens cannot push out the regular callers'.
const CACHE_CAPACITY: usize = 10_000;

/// The pool whose tokens are trusted.
pub struct TrustedPool {
    /// `iss` of its tokens, e.g. `https://cognito-idp.<region>.amazonaws.com/<poolId>`.
    pub issuer: String,
    /// App client ids accepted as `aud`; empty accepts any client of the pool.
    pub audiences: Vec<String>,
    pub keys: Arc<dyn KeySource>,
}

pub struct JwtAuthenticator {
    pool: TrustedPool,
    validation: Validation,
    /// Each verified token's principal and `exp`; expired entries are never answered.
    cache: quick_cache::sync::Cache<String, (Principal, u64)>,
}

/// The claims of a Cognito ID token that the API uses or checks.
#[derive(Deserialize)]
struct IdClaims {
    sub: String,
    token_use: String,
    iat: u64,
    exp: u64,
    email: Option<String>,
    /// Cognito issues a boolean; some pools (and tools) send the string `"true"`.
    #[serde(default, deserialize_with = "boolean_or_text")]
    email_verified: bool,
    #[serde(rename = "cognito:groups", default)]
    groups: Vec<String>,
}

impl JwtAuthenticator {
    pub fn new(pool: TrustedPool) -> Self {
        // Pinning RS256 is what refuses `alg: none` and HS256-signed-with-the-public-key.
        let mut validation = Validation::new(Algorithm::RS256);
        validation.leeway = LEEWAY_SECS;
        validation.set_issuer(&[&pool.issuer]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        if pool.audiences.is_empty() {
            validation.validate_aud = false;
        } else {
            validation.set_audience(&pool.audiences);
        }
        Self {
            pool,
            validation,
            cache: quick_cache::sync::Cache::new(CACHE_CAPACITY),
        }
    }

    async fn verify(&self, token: &str) -> Result<(Principal, u64), &'static str> {
        let header = decode_header(token).map_err(|_| "malformed token header")?;
        if header.alg != Algorithm::RS256 {
            return Err("algorithm is not RS256");
        }
        let kid = header.kid.ok_or("token has no kid")?;
        let key = self.pool.keys.key(&kid).await.ok_or("unknown kid")?;
        let claims = decode::<IdClaims>(token, &key, &self.validation)
            .map_err(|_| "signature, issuer, audience or expiry check failed")?
            .claims;
        if claims.token_use != "id" {
            return Err("not an ID token");
        }
        if claims.iat > now() + LEEWAY_SECS {
            return Err("issued in the future");
        }
        let principal = Principal {
            sub: claims.sub,
            email: claims.email,
            email_verified: claims.email_verified,
            groups: claims.groups,
        };
        Ok((principal, claims.exp))
    }

    fn cached(&self, token: &str) -> Option<Principal> {
        let (principal, exp) = self.cache.get(token)?;
        (exp > now()).then_some(principal)
    }

    fn remember(&self, token: &str, principal: &Principal, exp: u64) {
        self.cache
            .insert(token.to_owned(), (principal.clone(), exp));
    }
}

#[async_trait]
impl Authenticator for JwtAuthenticator {
    async fn authenticate(&self, parts: &Parts) -> Result<Principal, Unauthorized> {
        let token = authorization_token(&parts.headers).ok_or_else(|| {
            tracing::debug!("no token in Authorization");
            Unauthorized
        })?;
        if let Some(principal) = self.cached(token) {
            return Ok(principal);
        }
        match self.verify(token).await {
            Ok((principal, exp)) => {
                self.remember(token, &principal, exp);
                Ok(principal)
            }
            Err(reason) => {
                tracing::info!(reason, "token refused");
                Err(Unauthorized)
            }
        }
    }
}

/// `true`, `"true"`: verified; anything else (false, other text, null): not.
fn boolean_or_text<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Flag {
        Boolean(bool),
        Text(String),
        Other(serde::de::IgnoredAny),
    }
    Ok(match Flag::deserialize(deserializer)? {
        Flag::Boolean(flag) => flag,
        Flag::Text(text) => text == "true",
        Flag::Other(_) => false,
    })
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}
