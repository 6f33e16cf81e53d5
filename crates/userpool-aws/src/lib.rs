//! The local user pool's AWS JSON 1.1 door: Cognito's endpoint (`POST /`) as the AWS CLI,
//! boto3 and amazon-cognito-identity-js call it, and each pool's JWKS.
//!
//! The pool itself is the core crate, `taskapi-userpool`, which runs the actions on JSON
//! values ([`UserPools::dispatch`]). This crate is the wire around it: the codec (`codec`, a
//! leaf), the router with the SigV4 check (`sigv4`, the trusted key pairs in
//! `credentials`) and the quota layer (`metering`) in front, and Cognito's exception names
//! for the core's failures (`error`, the one place they are written). Its state is
//! [`AwsDoor`]; the hosted UI, the pool's other door, uses none of it.

mod codec;
mod credentials;
mod error;
mod metering;
mod router;
mod sigv4;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use taskapi_userpool::{PoolOpenError, UserPools};

pub use crate::credentials::{AccessKey, CREDENTIALS_FILE, PROFILE, TrustedKeys};

/// The AWS JSON door onto one [`UserPools`]: who may sign requests, and which pool each app
/// client belongs to for the quotas. Share it as `Arc<AwsDoor>`.
pub struct AwsDoor {
    pools: Arc<UserPools>,
    /// The key pairs whose SigV4 signatures admit IAM-authorized actions.
    trusted: TrustedKeys,
    /// The data directory's generated pair and the file that holds it.
    generated: (AccessKey, PathBuf),
    /// Which pool each app client belongs to, for the quotas (clients never move).
    client_pools: RwLock<HashMap<String, String>>,
}

impl AwsDoor {
    /// Opens the door onto `pools`, trusting the data directory's generated key pair (made
    /// on first start) and `extra_keys` (`taskapi serve` adds the pair in its environment).
    pub fn open(
        pools: Arc<UserPools>,
        extra_keys: Vec<AccessKey>,
    ) -> Result<Arc<Self>, PoolOpenError> {
        let generated = credentials::load_or_generate(&pools.settings().data_dir)?;
        let trusted = TrustedKeys::new(std::iter::once(generated.0.clone()).chain(extra_keys));
        Ok(Arc::new(Self {
            pools,
            trusted,
            generated,
            client_pools: RwLock::default(),
        }))
    }

    /// The key pair generated for the data directory, and the shared-credentials file
    /// (profile [`PROFILE`]) that holds it.
    pub fn generated_credentials(&self) -> (&AccessKey, &Path) {
        (&self.generated.0, &self.generated.1)
    }

    /// The Cognito endpoint (`POST /`) plus each pool's JWKS, with the pool's own CORS
    /// policy: merge it after the API's service layers, not under them. (Each pool's OpenID
    /// discovery document is the hosted UI's, which serves the endpoints it lists.)
    pub fn router(self: &Arc<Self>) -> axum::Router {
        router::router(Arc::clone(self))
    }
}
