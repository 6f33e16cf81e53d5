use std::sync::Arc;

use taskapi_domain::TaskStore;

use crate::Authenticator;

/// What every handler can reach. Both are trait objects so one router serves every
/// runtime: the entry point picks the store adapter and the way callers are authenticated.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn TaskStore>,
    pub auth: Arc<dyn Authenticator>,
}
