use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use jsonwebtoken::DecodingKey;
use jsonwebtoken::jwk::JwkSet;
use tokio::sync::Mutex;

/// Where the public keys of a pool come from: its JWKS URL, or the local user pool
/// in-process.
#[async_trait]
pub trait KeySource: Send + Sync + 'static {
    /// The key with this `kid`, or `None` if the pool has no such key.
    async fn key(&self, kid: &str) -> Option<Arc<DecodingKey>>;
}

/// A JWKS fetched over HTTP (a real Cognito pool's `<issuer>/.well-known/jwks.json`).
/// Keys are kept; an unknown `kid` triggers a refetch (pools rotate keys) at most once a
/// minute, so forged `kid`s cannot make us hammer the endpoint.
pub struct RemoteJwks {
    url: String,
    client: reqwest::Client,
    state: Mutex<Fetched>,
}

#[derive(Default)]
struct Fetched {
    keys: Vec<(String, Arc<DecodingKey>)>,
    at: Option<Instant>,
}

const REFETCH_AFTER: Duration = Duration::from_secs(60);

impl RemoteJwks {
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .expect("an HTTP client with a timeout builds"),
            state: Mutex::new(Fetched::default()),
        }
    }

    /// Fetches the keys now, so the first request does not wait for them (the Lambda
    /// binary calls this during init). Returns how many usable keys the JWKS holds. A
    /// failure leaves the cache as it was, free to fetch on the first unknown `kid`.
    pub async fn prefetch(&self) -> Result<usize, reqwest::Error> {
        let keys = self.fetch().await?;
        let mut state = self.state.lock().await;
        state.keys = keys;
        state.at = Some(Instant::now());
        Ok(state.keys.len())
    }

    async fn fetch(&self) -> Result<Vec<(String, Arc<DecodingKey>)>, reqwest::Error> {
        let set: JwkSet = self
            .client
            .get(&self.url)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        Ok(decoding_keys(&set))
    }
}

#[async_trait]
impl KeySource for RemoteJwks {
    async fn key(&self, kid: &str) -> Option<Arc<DecodingKey>> {
        let mut state = self.state.lock().await;
        if let Some(key) = find(&state.keys, kid) {
            return Some(key);
        }
        if state.at.is_some_and(|at| at.elapsed() < REFETCH_AFTER) {
            return None;
        }
        state.at = Some(Instant::now());
        match self.fetch().await {
            Ok(keys) => state.keys = keys,
            Err(err) => tracing::error!(url = %self.url, error = %err, "cannot fetch the JWKS"),
        }
        find(&state.keys, kid)
    }
}

fn find(keys: &[(String, Arc<DecodingKey>)], kid: &str) -> Option<Arc<DecodingKey>> {
    keys.iter()
        .find(|(id, _)| id == kid)
        .map(|(_, key)| Arc::clone(key))
}

/// The usable RSA signing keys of a JWKS, by `kid`. Keys of other types are skipped: only
/// RS256 is ever accepted.
pub fn decoding_keys(set: &JwkSet) -> Vec<(String, Arc<DecodingKey>)> {
    set.keys
        .iter()
        .filter(|jwk| {
            matches!(
                jwk.algorithm,
                jsonwebtoken::jwk::AlgorithmParameters::RSA(_)
            )
        })
        .filter_map(|jwk| {
            let kid = jwk.common.key_id.clone()?;
            let key = DecodingKey::from_jwk(jwk).ok()?;
            Some((kid, Arc::new(key)))
        })
        .collect()
}

/// A fixed set of keys, for a pool whose keys are known at start (the local user pool).
pub struct StaticJwks {
    keys: Vec<(String, Arc<DecodingKey>)>,
}

impl StaticJwks {
    pub fn new(set: &JwkSet) -> Self {
        Self {
            keys: decoding_keys(set),
        }
    }
}

#[async_trait]
impl KeySource for StaticJwks {
    async fn key(&self, kid: &str) -> Option<Arc<DecodingKey>> {
        find(&self.keys, kid)
    }
}
