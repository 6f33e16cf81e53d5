//! The door's state: the core it opens onto, who may sign requests, and which pool each
//! app client belongs to.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use taskapi_userpool::{PoolOpenError, UserPools};

use crate::credentials::{self, AccessKey, TrustedKeys};

/// The AWS JSON door onto one [`UserPools`]: who may sign requests, and which pool each app
/// client belongs to for the quotas. Share it as `Arc<AwsDoor>`.
pub struct AwsDoor {
    pub(crate) pools: Arc<UserPools>,
    /// The key pairs whose SigV4 signatures admit IAM-authorized actions.
    pub(crate) trusted: TrustedKeys,
    /// The data directory's generated pair and the file that holds it.
    generated: (AccessKey, PathBuf),
    /// Which pool each app client belongs to, for the quotas (clients never move).
    pub(crate) client_pools: RwLock<HashMap<String, String>>,
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
}
