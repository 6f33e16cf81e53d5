//! `taskapi serve`: the REST API on a local store, with the trusted token issuer.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use taskapi_domain::TaskStore;
use taskapi_http::{AppState, Authenticator, HttpConfig, api_router, with_service_layers};
use taskapi_jwt::{JwtAuthenticator, RemoteJwks, StaticJwks, TrustedPool};
use taskapi_store_dynamodb::DynamoConfig;
use taskapi_store_sqlite::SqliteStore;
use taskapi_userpool::{AccessKey, DefaultPool, PROFILE, PoolSettings, Tuning, UserPools, private};
use tokio::net::TcpListener;

use crate::config::{ServeConfig, StoreKind};

/// The file of the SQLite store inside the data directory.
const TASK_DATABASE: &str = "tasks.sqlite3";

/// A server bound to its address and ready to run. Binding first lets port 0 work: the
/// chosen address is known before anything that depends on it (the pool's issuer) is set up.
pub struct Application {
    listener: TcpListener,
    router: Router,
    /// The local user pool and its default pool and client, when it is the token issuer.
    user_pool: Option<(Arc<UserPools>, DefaultPool)>,
}

impl Application {
    pub async fn build(config: ServeConfig) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(config.addr)
            .await
            .with_context(|| format!("cannot listen on {}", config.addr))?;
        let store = open_store(&config).await?;
        let addr = listener
            .local_addr()
            .context("the listener has no address")?;
        let (auth, local_pool) = match trusted_issuer(&config)? {
            Some(issuer) => (authenticator(&issuer, &config), None),
            None => {
                let (auth, pools, default) = local_user_pool(&config, addr)?;
                (auth, Some((pools, default)))
            }
        };
        let http = HttpConfig {
            cors_origins: config
                .cors_origins
                .iter()
                .map(|origin| origin.parse())
                .collect::<Result<_, _>>()
                .context("invalid --cors-origin")?,
        };
        let mut router = with_service_layers(api_router(AppState { store, auth }), &http);
        if let Some((pools, _)) = &local_pool {
            // Beside the API's layers, not under them: the pool has Cognito's own CORS.
            router = router.merge(pools.router());
        }
        Ok(Self {
            listener,
            router,
            user_pool: local_pool,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Serves until `shutdown` resolves, then lets requests in flight finish.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown)
            .await
    }
}

pub async fn run(config: ServeConfig) -> anyhow::Result<()> {
    let data_dir = config.data_dir.clone();
    let app = Application::build(config).await?;
    let endpoint = format!("http://{}", app.local_addr());
    if let Some((pools, pool)) = &app.user_pool {
        println!(
            "local user pool endpoint: {endpoint} (aws cognito-idp --endpoint-url {endpoint})"
        );
        println!("user pool id: {}", pool.pool_id);
        println!("app client id: {}", pool.client_id);
        println!(
            "sign up: aws cognito-idp sign-up --endpoint-url {endpoint} --client-id {} \
             --username you@example.com --password 'TestPass123!'",
            pool.client_id
        );
        println!(
            "confirmation codes: this log (outbox lines) and {}",
            data_dir.join("outbox.jsonl").display()
        );
        print_credentials(pools);
    }
    println!("taskapi listening on {endpoint}");
    app.run_until(shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

/// How to sign admin actions: the generated profile, and the environment's pair if trusted.
fn print_credentials(pools: &UserPools) {
    let (key, file) = pools.generated_credentials();
    let file = std::fs::canonicalize(file).unwrap_or_else(|_| file.to_owned());
    println!(
        "IAM credentials for signed (admin) actions: access key {} in {} (profile {PROFILE})",
        key.id,
        file.display()
    );
    println!(
        "sign admin actions: export AWS_SHARED_CREDENTIALS_FILE={} AWS_PROFILE={PROFILE}",
        file.display()
    );
    if let Some(env) = AccessKey::from_env() {
        println!(
            "also trusted for signed actions: AWS_ACCESS_KEY_ID {} from this server's environment",
            env.id
        );
    }
}

async fn open_store(config: &ServeConfig) -> anyhow::Result<Arc<dyn TaskStore>> {
    match config.store {
        StoreKind::Sqlite => {
            let path = config.data_dir.join(TASK_DATABASE);
            private::ensure_dir(&config.data_dir)?;
            private::ensure_file(&path)?;
            let store = SqliteStore::open(&path)?;
            tracing::info!(path = %path.display(), "tasks stored in SQLite");
            Ok(Arc::new(store))
        }
        StoreKind::Dynamodb => {
            let dynamo = DynamoConfig {
                table: config.table.table_name.clone(),
                endpoint_url: None,
            };
            let store = dynamo.store().await;
            // Fail at start, not on the first request, if the table or credentials are wrong.
            store.warm_up().await.with_context(|| {
                format!(
                    "cannot reach DynamoDB table {} (create it with `taskapi table create`)",
                    dynamo.table
                )
            })?;
            tracing::info!(table = %dynamo.table, "tasks stored in DynamoDB");
            Ok(Arc::new(store))
        }
    }
}

/// Opens the local user pool in the data directory and trusts its default pool's ID tokens.
fn local_user_pool(
    config: &ServeConfig,
    addr: SocketAddr,
) -> anyhow::Result<(Arc<dyn Authenticator>, Arc<UserPools>, DefaultPool)> {
    let settings = PoolSettings {
        extra_keys: AccessKey::from_env().into_iter().collect(),
        ..PoolSettings::new(&config.data_dir, format!("http://{addr}"))
    };
    let tuning = Tuning {
        quotas: config.cognito_quotas.clone(),
        ..Tuning::default()
    };
    let pools = UserPools::open_with(settings, tuning)?;
    let default = pools.ensure_default_pool()?;
    let jwks = pools
        .jwks(&default.pool_id)
        .context("the default user pool has no signing keys")?;
    let audiences = if config.jwt_audiences.is_empty() {
        vec![default.client_id.clone()]
    } else {
        config.jwt_audiences.clone()
    };
    let issuer = pools.issuer(&default.pool_id);
    tracing::info!(%issuer, "trusting ID tokens of the local user pool");
    let auth = Arc::new(JwtAuthenticator::new(TrustedPool {
        issuer,
        audiences,
        keys: Arc::new(StaticJwks::new(&jwks)),
    }));
    Ok((auth, pools, default))
}

/// The issuer named on the command line, if any; `None` means the local user pool.
fn trusted_issuer(config: &ServeConfig) -> anyhow::Result<Option<String>> {
    if let Some(pool_id) = &config.cognito_user_pool_id {
        let (region, _) = pool_id
            .split_once('_')
            .filter(|(region, id)| !region.is_empty() && !id.is_empty())
            .with_context(|| format!("--cognito-user-pool-id {pool_id} is not <region>_<id>"))?;
        return Ok(Some(format!(
            "https://cognito-idp.{region}.amazonaws.com/{pool_id}"
        )));
    }
    Ok(config.jwt_issuer.clone())
}

fn authenticator(issuer: &str, config: &ServeConfig) -> Arc<dyn Authenticator> {
    let issuer = issuer.trim_end_matches('/').to_owned();
    let keys = Arc::new(RemoteJwks::new(format!("{issuer}/.well-known/jwks.json")));
    tracing::info!(%issuer, "trusting ID tokens of this issuer");
    Arc::new(JwtAuthenticator::new(TrustedPool {
        issuer,
        audiences: config.jwt_audiences.clone(),
        keys,
    }))
}

async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
