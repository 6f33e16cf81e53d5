//! The door's state: the core it opens onto, who may sign requests, and which pool each
//! app client belongs to.

use std::collections::HashMap;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use taskapi_userpool::{Expiring, PoolOpenError, UserPools};

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
    /// Pending USER_SRP_AUTH exchanges by SECRET_BLOCK, in memory and bounded in all and
    /// per account.
    pub(crate) srp_blocks: Expiring<SrpBlock>,
}

/// Pending SRP sign-ins held at once, in all and per account (one account's flood never
/// pushes out another's sign-in).
const MAX_SRP_BLOCKS: usize = 10_000;
const MAX_SRP_BLOCKS_PER_ACCOUNT: usize = 20;

/// The actions are the door's and call the core: `self.now()`, `self.store()` and the
/// rest of the core's face read as they would inside it.
impl Deref for AwsDoor {
    type Target = UserPools;

    fn deref(&self) -> &UserPools {
        &self.pools
    }
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
            srp_blocks: Expiring::new(MAX_SRP_BLOCKS, MAX_SRP_BLOCKS_PER_ACCOUNT),
        }))
    }

    /// The key pair generated for the data directory, and the shared-credentials file
    /// (profile [`PROFILE`]) that holds it.
    pub fn generated_credentials(&self) -> (&AccessKey, &Path) {
        (&self.generated.0, &self.generated.1)
    }
}

/// The server half of one USER_SRP_AUTH exchange, kept in memory (a stranger's abandoned
/// sign-ins cost no disk), found by its SECRET_BLOCK: the client's `A`, our secret `b` and
/// public `B` (hex). `username` is empty for a decoy handed out for an unknown user, which
/// can never verify.
#[derive(Clone)]
pub(crate) struct SrpBlock {
    pub pool_id: String,
    pub client_id: String,
    pub username: String,
    pub a_hex: String,
    pub b_hex: String,
    pub big_b_hex: String,
}
