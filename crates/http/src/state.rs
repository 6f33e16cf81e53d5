use std::sync::Arc;

use taskapi_domain::TaskStore;

use crate::Authenticator;

/// What every handler can reach. The store and the authenticator are trait objects so one
/// router serves every runtime: the entry point picks the store adapter and the way
/// callers are authenticated.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn TaskStore>,
    pub auth: Arc<dyn Authenticator>,
    /// Per-caller rate limits; `None` where something in front (API Gateway) throttles.
    #[cfg(feature = "rate-limit")]
    pub limits: Option<Arc<crate::rate_limit::CallerLimits>>,
}

impl AppState {
    pub fn new(store: Arc<dyn TaskStore>, auth: Arc<dyn Authenticator>) -> Self {
        Self {
            store,
            auth,
            #[cfg(feature = "rate-limit")]
            limits: None,
        }
    }
}
