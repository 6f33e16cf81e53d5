//! `taskapi serve`: the REST API on a local store, with the trusted token issuer.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use taskapi_domain::{NotReady, Store};
use taskapi_http::{
    AppState, Authenticator, BodyReadTimeout, CallerLimits, Dependency, HttpConfig,
    WebhookSettings, api_router, with_service_layers,
};
use taskapi_jwt::{JwtAuthenticator, RemoteJwks, StaticJwks, TrustedPool};
use taskapi_live::Hub;
use taskapi_store_dynamodb::DynamoConfig;
use taskapi_store_sqlite::SqliteStore;
use taskapi_userpool::{DefaultPool, LambdaInvoker, PoolSettings, Tuning, UserPools, private};

use crate::lambda_invoke::InvokeApi;
use taskapi_userpool_aws::{AccessKey, AwsDoor, PROFILE};
use taskapi_webhooks::{AddressPolicy, Sender};
use tokio::net::TcpListener;

use crate::config::{ServeConfig, StoreKind};
use crate::connections::{self, ConnectionLimits};
use crate::delivery::{self, Delivering};
use crate::hosted_ui::{HttpsListener, hosted_ui};
use crate::web::{self, WebConfig};
use crate::webhook_key;

/// The file of the SQLite store inside the data directory.
pub(crate) const TASK_DATABASE: &str = "tasks.sqlite3";
/// The file of the local user pool inside the data directory.
pub(crate) const USER_POOL_DATABASE: &str = "userpool.sqlite3";

/// A server bound to its address and ready to run. Binding first lets port 0 work: the
/// chosen address is known before anything that depends on it (the pool's issuer) is set up.
pub struct Application {
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    /// The local user pool and its default pool and client, when it is the token issuer.
    user_pool: Option<LocalPool>,
    /// The hosted UI's HTTPS listener, with the local user pool.
    hosted_ui: Option<HttpsListener>,
    /// The live sockets (`GET /live`), on the SQLite store.
    live: Option<Arc<Hub>>,
}

impl Application {
    pub async fn build(config: ServeConfig) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(config.addr)
            .await
            .with_context(|| format!("cannot listen on {}", config.addr))?;
        check_data_dir(&config)?;
        let (store, local_store) = open_store(&config).await?;
        let addr = listener
            .local_addr()
            .context("the listener has no address")?;
        let (auth, local_pool) = match trusted_issuer(&config)? {
            Some(issuer) => (authenticator(&issuer, &config), None),
            None => {
                let (auth, local) = local_user_pool(&config, addr)?;
                (auth, Some(local))
            }
        };
        let http = HttpConfig {
            cors_origins: config
                .cors_origins
                .iter()
                .map(|origin| origin.parse())
                .collect::<Result<_, _>>()
                .context("invalid --cors-origin")?,
            body_read_timeout: BodyReadTimeout(config.connections.body_read_timeout),
        };
        let mut state = AppState::new(store, auth);
        let webhooks = webhook_settings(&config)?;
        state.webhooks = Some(Arc::clone(&webhooks));
        if let Some(local) = &local_pool {
            state
                .dependencies
                .push(Arc::new(PoolReadiness(Arc::clone(&local.pools))));
        }
        state.limits = config
            .rate_limit
            .quota()
            .map(|(rate, burst)| Arc::new(CallerLimits::new(rate, burst)));
        state.auth_failures = config
            .rate_limit
            .auth_failure_quota()
            .map(|(rate, burst)| Arc::new(CallerLimits::new(rate, burst)));
        let live = local_store.as_ref().map(|store| {
            let hub = Hub::new(config.live.limits());
            hub.start(SqliteStore::clone(store));
            hub
        });
        let mut api = api_router(state.clone());
        if let Some(hub) = &live {
            api = api.merge(taskapi_live::router(state.clone(), Arc::clone(hub)));
        }
        let mut router = with_service_layers(api, &http);
        let mut https = None;
        let mut web_config = WebConfig::remote(&config);
        if let Some(local) = &local_pool {
            // Beside the API's layers, not under them: the pool's two doors (its AWS JSON
            // endpoint and its hosted UI) have Cognito's own CORS.
            let (hosted, listener) =
                hosted_ui(&local.pools, addr, config.hosted_ui_addr, &config.data_dir).await?;
            router = router
                .merge(taskapi_userpool_aws::router(Arc::clone(&local.aws)))
                .merge(hosted);
            web_config = Some(WebConfig::local(
                &local.default,
                Some(listener.local_addr()),
            ));
            https = Some(listener);
        }
        if let Some(web_config) = &mut web_config
            && live.is_some()
        {
            web_config.live_url = Some("/live".into());
        }
        if let Some(web_config) = web_config {
            // The app's `GET /` shares its path with the pool's `POST /`; the pool's routes
            // come second, so an `OPTIONS /` preflight gets the pool's CORS.
            router = with_service_layers(web::router(&web_config)?, &http).merge(router);
        }
        // Everything the server touches in the data directory is open now: if any of it
        // cost the databases their locks (issue 28), or a store cannot commit, say so
        // instead of listening.
        state
            .ready()
            .await
            .map_err(|not_ready| anyhow::anyhow!("not ready to serve: {}", not_ready.0))?;
        // On DynamoDB the table's stream feeds the AWS delivery functions instead.
        if let Some(store) = local_store {
            delivery::start(Delivering {
                store,
                sender: Sender::new(webhooks.policy).context("cannot set up webhook delivery")?,
                cipher: webhooks.cipher.clone(),
                schedule: config.webhooks.webhook_retry_scale,
                opened: Default::default(),
            })
            .await
            .context("cannot start webhook delivery")?;
        }
        let connections = &config.connections;
        Ok(Self {
            listener,
            router,
            limits: ConnectionLimits {
                header_read_timeout: connections.header_read_timeout,
                idle_timeout: connections.idle_timeout,
                max_connections: connections.max_connections,
                max_connections_per_address: connections.per_address(),
                shutdown_grace: connections.shutdown_grace,
            },
            user_pool: local_pool,
            hosted_ui: https,
            live,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Where the hosted UI answers HTTPS, when the local user pool runs.
    pub fn hosted_ui_addr(&self) -> Option<SocketAddr> {
        self.hosted_ui.as_ref().map(HttpsListener::local_addr)
    }

    /// Serves until `shutdown` resolves, then lets requests in flight finish within the
    /// grace period; the hosted UI's HTTPS listener, when there is one, stops alongside,
    /// and the live sockets are closed (1001) within the same grace period.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) {
        let (listener, router, limits) = (self.listener, self.router, self.limits);
        let live = self.live;
        let closing = live.clone();
        let shutdown = async move {
            shutdown.await;
            if let Some(hub) = closing {
                tokio::spawn(async move { hub.shut_down(limits.shutdown_grace).await });
            }
        };
        let plain = |stop: crate::hosted_ui::Stop| {
            connections::serve(listener, connections::Plain, router, limits, stop)
        };
        match self.hosted_ui {
            Some(https) => https.run_beside(shutdown, limits, plain).await,
            None => plain(Box::pin(shutdown)).await,
        }
        if let Some(hub) = live {
            hub.shut_down(limits.shutdown_grace).await;
        }
    }
}

pub async fn run(config: ServeConfig) -> anyhow::Result<()> {
    let data_dir = config.data_dir.clone();
    let app = Application::build(config).await?;
    let shutdown = shutdown_signal()?;
    let endpoint = format!("http://{}", app.local_addr());
    if let (Some(local), Some(https)) = (&app.user_pool, app.hosted_ui_addr()) {
        let pool = &local.default;
        println!("web app: {endpoint}/ (sign up there; the code is in this log)");
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
        println!(
            "hosted UI domain: {https} (https://{https}/login, self-signed certificate \
             {}; also on {endpoint})",
            data_dir.join(crate::hosted_ui::CERT_FILE).display()
        );
        print_credentials(&local.aws);
    }
    println!("taskapi listening on {endpoint}");
    app.run_until(shutdown).await;
    tracing::info!("stopped");
    Ok(())
}

/// Refuses a data directory where one of the two local databases is missing while the
/// other holds data: a file lost or deleted, which starting would silently replace with
/// an empty one (every account, or every task, gone). `--start-afresh` accepts it.
fn check_data_dir(config: &ServeConfig) -> anyhow::Result<()> {
    let local_pool = config.cognito_user_pool_id.is_none() && config.jwt_issuer.is_none();
    if config.store != StoreKind::Sqlite || !local_pool || config.start_afresh {
        return Ok(());
    }
    let tasks = config.data_dir.join(TASK_DATABASE);
    let pool = config.data_dir.join(USER_POOL_DATABASE);
    // An empty file holds nothing either (a crash between creating it and the schema's
    // first commit leaves one): it counts as missing.
    let holds_data = |path: &Path| std::fs::metadata(path).is_ok_and(|meta| meta.len() > 0);
    match (holds_data(&tasks), holds_data(&pool)) {
        (true, false) => anyhow::bail!(
            "{} holds tasks but no user pool ({} is missing or empty): every account would be new and \
             no task's owner could sign in. Restore the file, or pass --start-afresh to \
             create an empty user pool.",
            tasks.display(),
            pool.display()
        ),
        (false, true) => anyhow::bail!(
            "{} holds a user pool but no tasks ({} is missing or empty): every task would be gone. \
             Restore the file, or pass --start-afresh to create an empty task database.",
            pool.display(),
            tasks.display()
        ),
        _ => Ok(()),
    }
}

/// How to sign admin actions: the generated profile, and the environment's pair if trusted.
fn print_credentials(door: &AwsDoor) {
    let (key, file) = door.generated_credentials();
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

/// The webhook routes' settings: the sealing key from the data directory, and whether
/// private addresses are accepted.
fn webhook_settings(config: &ServeConfig) -> anyhow::Result<Arc<WebhookSettings>> {
    let policy = if config.webhooks.allow_private_webhooks {
        tracing::warn!("webhooks may reach loopback and private addresses (development only)");
        AddressPolicy::ALLOW_PRIVATE
    } else {
        AddressPolicy::PUBLIC_ONLY
    };
    Ok(Arc::new(WebhookSettings {
        cipher: webhook_key::load_or_create(&config.data_dir)?,
        policy,
    }))
}

/// The store, and the same store as SQLite when it is one (for local webhook delivery and
/// the live sockets).
async fn open_store(
    config: &ServeConfig,
) -> anyhow::Result<(Arc<dyn Store>, Option<Arc<SqliteStore>>)> {
    match config.store {
        StoreKind::Sqlite => {
            let path = config.data_dir.join(TASK_DATABASE);
            private::ensure_dir(&config.data_dir)?;
            private::ensure_file(&path)?;
            let store = SqliteStore::open(&path)
                .context("cannot open the task database (see --data-dir)")?;
            tracing::info!(path = %path.display(), "tasks stored in SQLite");
            let store = Arc::new(store);
            Ok((store.clone(), Some(store)))
        }
        StoreKind::Dynamodb => {
            let dynamo = DynamoConfig {
                table: config.table.table_name.clone(),
                status_shards: config.status_shards,
            };
            let store = dynamo.store().await;
            // Fail at start, not on the first request, if the table or credentials are wrong.
            store.warm_up().await.with_context(|| {
                format!(
                    "cannot reach DynamoDB table {} (create it with `taskapi table create`)",
                    dynamo.table
                )
            })?;
            tracing::info!(
                table = %dynamo.table,
                status_shards = %dynamo.status_shards,
                "tasks stored in DynamoDB"
            );
            Ok((Arc::new(store), None))
        }
    }
}

/// The local user pool as `/readyz` checks it.
struct PoolReadiness(Arc<UserPools>);

#[async_trait::async_trait]
impl Dependency for PoolReadiness {
    async fn ready(&self) -> Result<(), NotReady> {
        self.0.ready().await
    }
}

/// The local user pool `taskapi serve` runs: its core, its AWS JSON door (the hosted UI, its
/// other door, is opened beside the server's listeners) and the pool it made on first start.
struct LocalPool {
    pools: Arc<UserPools>,
    aws: Arc<AwsDoor>,
    default: DefaultPool,
}

/// Opens the local user pool in the data directory and trusts its default pool's ID tokens.
fn local_user_pool(
    config: &ServeConfig,
    addr: SocketAddr,
) -> anyhow::Result<(Arc<dyn Authenticator>, LocalPool)> {
    let settings = PoolSettings::new(&config.data_dir, format!("http://{addr}"));
    let tuning = Tuning {
        quotas: config.cognito_quotas.clone(),
        lambda: config
            .lambda_endpoint
            .as_deref()
            .map(|endpoint| Arc::new(InvokeApi::new(endpoint)) as Arc<dyn LambdaInvoker>),
        ..Tuning::default()
    };
    let pools = UserPools::open_with(settings, tuning)?;
    let aws = AwsDoor::open(
        Arc::clone(&pools),
        AccessKey::from_env().into_iter().collect(),
    )?;
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
    Ok((
        auth,
        LocalPool {
            pools,
            aws,
            default,
        },
    ))
}

/// The issuer named on the command line, if any; `None` means the local user pool.
fn trusted_issuer(config: &ServeConfig) -> anyhow::Result<Option<String>> {
    if let Some(pool_id) = &config.cognito_user_pool_id {
        let issuer = taskapi_jwt::cognito_issuer(pool_id)
            .with_context(|| format!("--cognito-user-pool-id {pool_id} is not <region>_<id>"))?;
        return Ok(Some(issuer));
    }
    Ok(config.jwt_issuer.clone())
}

fn authenticator(issuer: &str, config: &ServeConfig) -> Arc<dyn Authenticator> {
    let issuer = issuer.trim_end_matches('/').to_owned();
    let keys = Arc::new(RemoteJwks::new(taskapi_jwt::jwks_url(&issuer)));
    tracing::info!(%issuer, "trusting ID tokens of this issuer");
    Arc::new(JwtAuthenticator::new(TrustedPool {
        issuer,
        audiences: config.jwt_audiences.clone(),
        keys,
    }))
}

/// Resolves on SIGTERM or SIGINT (Ctrl-C). The handlers are installed here, before the
/// server says it is listening: a signal sent right after that line must stop it gracefully,
/// not kill it.
fn shutdown_signal() -> anyhow::Result<impl Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
    let mut interrupt = signal(SignalKind::interrupt()).context("cannot handle SIGINT")?;
    Ok(async move {
        tokio::select! {
            _ = terminate.recv() => {},
            _ = interrupt.recv() => {},
        }
        tracing::info!("shutting down");
    })
}
