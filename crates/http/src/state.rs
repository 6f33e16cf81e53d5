use std::sync::Arc;

use taskapi_domain::{NotReady, ProjectStore, Store, TaskStore, WebhookStore};
use taskapi_webhooks::{AddressPolicy, SecretCipher};

use crate::Authenticator;

/// What every handler can reach. The store and the authenticator are trait objects so one
/// router serves every runtime: the entry point picks the store adapter and the way
/// callers are authenticated.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn TaskStore>,
    /// The same store, seen through its project port.
    pub projects: Arc<dyn ProjectStore>,
    /// The same store, seen through its webhook port.
    pub webhook_store: Arc<dyn WebhookStore>,
    /// What the webhook routes need besides the store; `None` turns them off (they
    /// answer 404 `no_route`), for an entry point given no secret key.
    pub webhooks: Option<Arc<WebhookSettings>>,
    pub auth: Arc<dyn Authenticator>,
    /// What else `/readyz` checks after the store: services the same process hosts and
    /// requests need (the local user pool under `taskapi serve`); none in Lambda.
    pub dependencies: Vec<Arc<dyn Dependency>>,
    /// Per-caller rate limits; `None` where something in front (API Gateway) throttles.
    #[cfg(feature = "rate-limit")]
    pub limits: Option<Arc<crate::rate_limit::CallerLimits>>,
    /// Limits on failed authentications per client address (the request's `ConnectInfo`);
    /// `None` where something in front (API Gateway) throttles.
    #[cfg(feature = "rate-limit")]
    pub auth_failures: Option<Arc<crate::rate_limit::CallerLimits>>,
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, auth: Arc<dyn Authenticator>) -> Self {
        Self {
            store: store.clone(),
            projects: store.clone(),
            webhook_store: store,
            webhooks: None,
            auth,
            dependencies: Vec::new(),
            #[cfg(feature = "rate-limit")]
            limits: None,
            #[cfg(feature = "rate-limit")]
            auth_failures: None,
        }
    }

    /// Whether the store and then each dependency can be read and written now; the first
    /// reason why not, if not (`/readyz`, and `taskapi serve` before it says it listens).
    pub async fn ready(&self) -> Result<(), NotReady> {
        self.store.ready().await?;
        for dependency in &self.dependencies {
            dependency.ready().await?;
        }
        Ok(())
    }
}

/// How webhook endpoints are accepted and their secrets kept.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// Seals each signing secret before the store sees it.
    pub cipher: SecretCipher,
    /// Which addresses an endpoint URL may resolve to (private ones only for local
    /// development).
    pub policy: AddressPolicy,
}

/// A service besides the task store that must work for the API to be ready.
#[async_trait::async_trait]
pub trait Dependency: Send + Sync {
    /// As [`TaskStore::ready`]: whether it can be read and written now; why not, naming
    /// itself, if not.
    async fn ready(&self) -> Result<(), NotReady>;
}
