//! A local, Cognito-compatible user pool for `taskapi serve`.
//!
//! Through its doors it speaks Cognito's own wire protocol (AWS JSON 1.1 on `POST /`), so
//! the AWS CLI, boto3 and amazon-cognito-identity-js work against it unchanged, and it
//! issues RS256 tokens with Cognito's claims and a JWKS, so the API verifies them exactly as
//! it would verify real ones.
//! State and signing keys live in one SQLite file in the data directory.
//!
//! This crate is the core, with no HTTP in it: users, their attributes and credentials
//! (`identity`, `schema`, `password`, `srp`, `totp`, `hashing`), what both doors do to
//! accounts (`accounts`), codes and their allowances (`codes`, `attempts`), the sign-in
//! rules and the one decision of what follows a proven password (`signin`), sessions and
//! tokens (`sessions`, `tokens`, `keys`), the Lambda triggers a pool configures
//! (`triggers`, invoked through a port the server fills in), and the store. Its failures are one enum,
//! [`PoolError`]. Two doors open onto it, each a crate of its own: the AWS JSON door
//! (`taskapi-userpool-aws`: Cognito's actions, the codec, the endpoint, SigV4, the quota
//! layer, the generated IAM credentials, Cognito's exception names) and the hosted UI
//! (`taskapi-hosted-ui`, which calls the core through `hosted_ui`). Request-rate quotas
//! (`quotas`) meter both doors, and both run blocking core work within one bound
//! ([`UserPools::run_blocking`]).

pub mod accounts;
pub mod attempts;
pub mod clock;
pub mod codes;
pub mod error;
pub mod expiring;
pub mod hashing;
pub mod hosted_ui;
pub mod identity;
pub mod keys;
pub mod model;
pub mod outbox;
pub mod password;
pub mod private;
pub mod providers;
pub mod quotas;
pub mod random;
pub mod schema;
pub mod sessions;
pub mod signin;
pub mod srp;
pub mod store;
pub mod tokens;
pub mod totp;
pub mod triggers;
pub mod users_csv;

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use jsonwebtoken::jwk::JwkSet;

pub use crate::attempts::CodeLimits;
pub use crate::clock::{Clock, SystemClock};
pub use crate::error::{PoolError, PoolOpenError, PoolStoreError, retry_after_seconds};
pub use crate::expiring::Expiring;
pub use crate::hashing::HashingLimits;
pub use crate::model::OAuthSettings;
pub use crate::quotas::{Category, QuotaRate};
pub use crate::triggers::{InvokeError, LambdaInvoker};
pub use crate::users_csv::{UsersCsvError, write_users_csv};

use crate::attempts::Attempts;
use crate::hashing::HashPool;
use crate::keys::TokenUse;
use crate::model::{ClientConfig, PasswordPolicy, PoolConfig, TokenValidity};
use crate::outbox::Outbox;
use crate::quotas::Quotas;
use crate::store::Store;
use crate::tokens::PoolKeys;
use crate::triggers::custom_auth::CustomChallenges;

/// Where the user pool keeps its state and how it names itself.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    pub data_dir: PathBuf,
    /// The region in new pool ids (`us-east-1_...`).
    pub region: String,
    /// The server's base URL without a trailing slash; a pool's issuer is `<base>/<pool id>`.
    pub issuer_base: String,
}

impl PoolSettings {
    /// Settings with the default region, `us-east-1`.
    pub fn new(data_dir: impl Into<PathBuf>, issuer_base: impl Into<String>) -> Self {
        Self {
            data_dir: data_dir.into(),
            region: "us-east-1".into(),
            issuer_base: issuer_base.into(),
        }
    }
}

/// Knobs that tests turn; the defaults are Cognito's.
pub struct Tuning {
    pub clock: Arc<dyn Clock>,
    /// How long a sign-up confirmation code is valid (Cognito: 24 hours).
    pub sign_up_code_ttl: Duration,
    /// How long a forgot-password code is valid (Cognito: 1 hour).
    pub reset_code_ttl: Duration,
    /// Wrong guesses a code survives before a new one must be requested.
    pub max_code_attempts: i64,
    /// Consecutive wrong passwords before sign-in is throttled; each further failure doubles
    /// the lockout, from 1 second up to 15 minutes.
    pub lockout_after: i64,
    /// How many codes a user may request and enter per hour.
    pub codes: CodeLimits,
    /// Request-rate quotas that differ from Cognito's defaults.
    pub quotas: Vec<QuotaRate>,
    /// How much password hashing may run and wait at once.
    pub hashing: HashingLimits,
    /// Where Lambda triggers are invoked (`--lambda-endpoint`); without it a pool that has
    /// triggers fails each with an error naming the setting.
    pub lambda: Option<Arc<dyn LambdaInvoker>>,
}

impl Default for Tuning {
    fn default() -> Self {
        Self {
            clock: Arc::new(SystemClock),
            sign_up_code_ttl: Duration::from_secs(24 * 3600),
            reset_code_ttl: Duration::from_secs(3600),
            max_code_attempts: 5,
            lockout_after: 5,
            codes: CodeLimits::default(),
            quotas: Vec::new(),
            hashing: HashingLimits::default(),
            lambda: None,
        }
    }
}

/// The pool and app client `taskapi serve` creates on first start, as `template.yaml` does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefaultPool {
    pub pool_id: String,
    pub client_id: String,
    pub pool_name: String,
    pub client_name: String,
}

pub const DEFAULT_POOL_NAME: &str = "task-app-users";
pub const DEFAULT_CLIENT_NAME: &str = "task-app-web";

/// All user pools of one data directory. Share it as `Arc<UserPools>`.
pub struct UserPools {
    settings: PoolSettings,
    tuning: Tuning,
    store: Store,
    outbox: Outbox,
    /// Signing keys by pool id, loaded once; keys never change after a pool is created.
    keys: RwLock<HashMap<String, Arc<PoolKeys>>>,
    quotas: Quotas,
    hashing: HashPool,
    /// Permits for core calls running on blocking threads, from either door (the AWS JSON
    /// actions and the hosted UI): enough to keep the hashing pool and its queue busy with
    /// some cheap calls beside, and no more. See [`UserPools::run_blocking`].
    blocking_permits: Arc<tokio::sync::Semaphore>,
    attempts: Attempts,
    /// Custom-authentication sign-ins between their steps.
    custom: CustomChallenges,
}

impl UserPools {
    /// Runs core work (argon2id hashing, tens of milliseconds; SQLite) on a blocking
    /// thread, once one of the permits both doors share is free: a burst waits here as
    /// futures, not as threads with their own stacks and allocator caches, and neither door
    /// can crowd the hashing pool out for the other.
    pub async fn run_blocking<T: Send + 'static>(
        self: &Arc<Self>,
        work: impl FnOnce(&Self) -> T + Send + 'static,
    ) -> Result<T, PoolError> {
        let _turn = Arc::clone(&self.blocking_permits)
            .acquire_owned()
            .await
            .map_err(|_| PoolStoreError::WorkersStopped)?;
        let pools = Arc::clone(self);
        Ok(tokio::task::spawn_blocking(move || work(&pools)).await?)
    }

    /// Opens (or creates) the state in `settings.data_dir`.
    pub fn open(settings: PoolSettings) -> Result<Arc<Self>, PoolOpenError> {
        Self::open_with(settings, Tuning::default())
    }

    /// [`UserPools::open`] with non-default timing, for tests.
    pub fn open_with(settings: PoolSettings, tuning: Tuning) -> Result<Arc<Self>, PoolOpenError> {
        private::ensure_dir(&settings.data_dir)?;
        let path = settings.data_dir.join(users_csv::POOL_FILE);
        private::ensure_file(&path)?;
        let store = Store::open(&path)?;
        let corrupt = |reason: String| PoolOpenError::Corrupt {
            path: path.display().to_string(),
            reason,
        };
        let mut rows: HashMap<String, (Option<_>, Option<_>)> = HashMap::new();
        for row in store.keys().map_err(|e| corrupt(e.to_string()))? {
            let key = keys::load(&row).map_err(|e| corrupt(e.to_string()))?;
            let slot = rows.entry(row.pool_id.clone()).or_default();
            match row.token_use.as_str() {
                "id" => slot.0 = Some(key),
                "access" => slot.1 = Some(key),
                other => return Err(corrupt(format!("unknown key use {other}"))),
            }
        }
        let mut loaded = HashMap::new();
        for pool in store.pools().map_err(|e| corrupt(e.to_string()))? {
            match rows.remove(&pool.id) {
                Some((Some(id), Some(access))) => {
                    loaded.insert(pool.id, Arc::new(PoolKeys { id, access }));
                }
                _ => return Err(corrupt(format!("pool {} has no signing keys", pool.id))),
            }
        }
        let outbox = settings.data_dir.join("outbox.jsonl");
        private::ensure_file(&outbox)?;
        Ok(Arc::new(Self {
            outbox: Outbox::new(outbox),
            quotas: Quotas::new(&tuning.quotas),
            hashing: HashPool::new(tuning.hashing),
            blocking_permits: Arc::new(tokio::sync::Semaphore::new(
                2 * tuning.hashing.workers + tuning.hashing.queue,
            )),
            attempts: Attempts::new(tuning.codes),
            custom: CustomChallenges::default(),
            settings,
            tuning,
            store,
            keys: RwLock::new(loaded),
        }))
    }

    /// Finds the default pool, client and `admins` group, creating them on first start.
    pub fn ensure_default_pool(&self) -> Result<DefaultPool, PoolStoreError> {
        let pool = match self
            .store
            .pools()?
            .into_iter()
            .find(|p| p.name == DEFAULT_POOL_NAME)
        {
            Some(pool) => pool,
            None => self.create_pool(
                DEFAULT_POOL_NAME,
                PoolConfig {
                    password_policy: PasswordPolicy::SEED,
                    username_attributes: vec!["email".into()],
                    auto_verified_attributes: vec!["email".into()],
                    ..PoolConfig::default()
                },
                None,
            )?,
        };
        // The web app served on this address (`taskapi serve`) signs in and out through it.
        let own_callback = format!("{}/callback", self.settings.issuer_base);
        let own_logout = format!("{}/", self.settings.issuer_base);
        let client = match self
            .store
            .clients(&pool.id)?
            .into_iter()
            .find(|c| c.name == DEFAULT_CLIENT_NAME)
        {
            Some(mut client) => {
                // The server's own address may differ from the last start's.
                let oauth = &mut client.config.oauth;
                let mut changed = false;
                if !oauth.callback_urls.contains(&own_callback) {
                    oauth.callback_urls.push(own_callback);
                    changed = true;
                }
                if !oauth.logout_urls.contains(&own_logout) {
                    oauth.logout_urls.push(own_logout);
                    changed = true;
                }
                if changed {
                    self.store.update_client_config(&client)?;
                }
                client
            }
            None => self.create_client(
                &pool.id,
                DEFAULT_CLIENT_NAME,
                false,
                ClientConfig {
                    explicit_auth_flows: vec![
                        "ALLOW_USER_SRP_AUTH".into(),
                        "ALLOW_REFRESH_TOKEN_AUTH".into(),
                        "ALLOW_USER_PASSWORD_AUTH".into(),
                    ],
                    prevent_user_existence_errors: "ENABLED".into(),
                    enable_token_revocation: true,
                    validity: TokenValidity::default(),
                    token_validity_units: serde_json::json!({
                        "AccessToken": "hours", "IdToken": "hours", "RefreshToken": "days"
                    }),
                    echo: Default::default(),
                    oauth: default_client_oauth(own_callback, own_logout),
                },
            )?,
        };
        let now = self.now();
        // Inserted only if missing, so a restart keeps the group and its members.
        self.store.insert_group(&model::Group {
            pool_id: pool.id.clone(),
            name: taskapi_domain::ADMIN_GROUP.into(),
            description: Some("May use GET /admin/tasks (all users' tasks by status).".into()),
            precedence: None,
            role_arn: None,
            created: now,
            modified: now,
        })?;
        Ok(DefaultPool {
            pool_id: pool.id,
            client_id: client.id,
            pool_name: pool.name,
            client_name: client.name,
        })
    }

    /// Where the pool keeps its state and how it names itself.
    pub fn settings(&self) -> &PoolSettings {
        &self.settings
    }

    /// Whether the pool's state can be read and written now, for `/readyz`: its file is
    /// still the one opened and a one-row write commits and reads back (on a blocking
    /// thread, as every action's SQLite work).
    pub async fn ready(self: &Arc<Self>) -> Result<(), taskapi_domain::NotReady> {
        let pools = Arc::clone(self);
        tokio::task::spawn_blocking(move || pools.store.ready(pools.now()))
            .await
            .unwrap_or_else(|err| {
                Err(taskapi_domain::NotReady(format!(
                    "user pool: the readiness check failed: {err}"
                )))
            })
    }

    /// The `iss` of a pool's tokens.
    pub fn issuer(&self, pool_id: &str) -> String {
        format!("{}/{pool_id}", self.settings.issuer_base)
    }

    /// A pool's public keys (the ID-token key and the access-token key).
    pub fn jwks(&self, pool_id: &str) -> Option<JwkSet> {
        let keys = self.pool_keys(pool_id)?;
        Some(JwkSet {
            keys: vec![keys.id.jwk.clone(), keys.access.jwk.clone()],
        })
    }

    /// Whether a pool with this id exists (its keys are loaded).
    pub fn has_pool(&self, pool_id: &str) -> bool {
        self.pool_keys(pool_id).is_some()
    }

    /// The pool that issued an access token, by its key id, without verifying it: for
    /// charging a request to a pool, never for trusting the token.
    pub fn pool_of_access_token(&self, token: &str) -> Option<String> {
        tokens::kid(token)
            .and_then(|kid| self.pool_for_access_kid(&kid))
            .map(|(id, _)| id)
    }

    /// The pool an app client belongs to, if the client exists. Reads the store: call it
    /// off the async workers.
    pub fn pool_of_client(&self, client_id: &str) -> Result<Option<String>, PoolStoreError> {
        Ok(self.store.client(client_id)?.map(|client| client.pool_id))
    }

    /// Takes one request of `category` from the pool's quota, and first from `caller`'s
    /// share of it where the door names a caller (public actions: a stranger's flood from
    /// one address leaves the pool's other half to everybody else).
    pub fn meter(
        &self,
        category: Category,
        pool_id: &str,
        caller: Option<IpAddr>,
    ) -> Result<(), PoolError> {
        if let Some(caller) = caller {
            self.quotas.check_share(category, pool_id, caller)?;
        }
        self.quotas.check(category, pool_id)
    }

    /// "Now" by the pool's clock, in seconds since the epoch.
    pub fn now(&self) -> i64 {
        self.tuning.clock.now()
    }

    /// The pool's state in SQLite, for the actions that read and write it as they are.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Where "e-mails" go: the log and the outbox file.
    pub fn outbox(&self) -> &Outbox {
        &self.outbox
    }

    /// Each user's and caller's allowances of codes and wrong guesses.
    pub fn attempts(&self) -> &Attempts {
        &self.attempts
    }

    /// The knobs the pool was opened with (its clock, code lifetimes, limits).
    pub fn tuning(&self) -> &Tuning {
        &self.tuning
    }

    pub fn pool_keys(&self, pool_id: &str) -> Option<Arc<PoolKeys>> {
        self.keys
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(pool_id)
            .cloned()
    }

    /// Drops a deleted pool's keys, so its tokens stop verifying at once.
    pub fn forget_keys(&self, pool_id: &str) {
        self.keys
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(pool_id);
    }

    /// The pool whose access-token key has this `kid`.
    pub fn pool_for_access_kid(&self, kid: &str) -> Option<(String, Arc<PoolKeys>)> {
        self.keys
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .find(|(_, keys)| keys.access.kid == kid)
            .map(|(id, keys)| (id.clone(), Arc::clone(keys)))
    }

    /// Creates a pool whose id (and ARN) names `region`, or the configured one.
    pub fn create_pool(
        &self,
        name: &str,
        config: PoolConfig,
        region: Option<&str>,
    ) -> Result<model::Pool, PoolStoreError> {
        let now = self.now();
        let pool = model::Pool {
            id: random::pool_id(region.unwrap_or(&self.settings.region)),
            name: name.to_owned(),
            config,
            created: now,
            modified: now,
        };
        let rows = [
            keys::generate(&pool.id, TokenUse::Id)?,
            keys::generate(&pool.id, TokenUse::Access)?,
        ];
        let loaded = PoolKeys {
            id: keys::load(&rows[0])?,
            access: keys::load(&rows[1])?,
        };
        self.store.insert_pool(&pool, &rows)?;
        self.keys
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(pool.id.clone(), Arc::new(loaded));
        Ok(pool)
    }

    pub fn create_client(
        &self,
        pool_id: &str,
        name: &str,
        generate_secret: bool,
        config: ClientConfig,
    ) -> Result<model::Client, PoolStoreError> {
        let now = self.now();
        let client = model::Client {
            id: random::client_id(),
            pool_id: pool_id.to_owned(),
            name: name.to_owned(),
            secret: generate_secret.then(random::client_secret),
            config,
            created: now,
            modified: now,
        };
        self.store.insert_client(&client)?;
        Ok(client)
    }
}

/// The default client's hosted-UI settings, as `template.yaml` gives `task-app-web`, plus the
/// server's own `/callback` for the web app it serves.
fn default_client_oauth(own_callback: String, own_logout: String) -> OAuthSettings {
    OAuthSettings {
        callback_urls: vec![
            "https://tasks.example.com/callback".into(),
            "http://localhost:3000/callback".into(),
            own_callback,
        ],
        logout_urls: vec![
            "https://tasks.example.com/".into(),
            "http://localhost:3000/".into(),
            own_logout,
        ],
        default_redirect_uri: None,
        flows: vec!["code".into()],
        scopes: vec!["openid".into(), "email".into(), "profile".into()],
        enabled: true,
        identity_providers: vec!["COGNITO".into()],
    }
}
