//! `taskapi serve`: the REST API on a local store, with the trusted token issuer.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use taskapi_domain::TaskStore;
use taskapi_http::{AppState, Authenticator, HttpConfig, api_router, with_service_layers};
use taskapi_jwt::{JwtAuthenticator, RemoteJwks, TrustedPool};
use taskapi_store_sqlite::SqliteStore;
use tokio::net::TcpListener;

use crate::config::{ServeConfig, StoreKind};

/// The file of the SQLite store inside the data directory.
const TASK_DATABASE: &str = "tasks.sqlite3";

/// A server bound to its address and ready to run. Binding first lets port 0 work: the
/// chosen address is known before anything that depends on it (the pool's issuer) is set up.
pub struct Application {
    listener: TcpListener,
    router: Router,
}

impl Application {
    pub async fn build(config: ServeConfig) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(config.addr)
            .await
            .with_context(|| format!("cannot listen on {}", config.addr))?;
        let store = open_store(&config)?;
        let auth = authenticator(&config)?;
        let http = HttpConfig {
            cors_origins: config
                .cors_origins
                .iter()
                .map(|origin| origin.parse())
                .collect::<Result<_, _>>()
                .context("invalid --cors-origin")?,
        };
        let router = with_service_layers(api_router(AppState { store, auth }), &http);
        Ok(Self { listener, router })
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
    let app = Application::build(config).await?;
    println!("taskapi listening on http://{}", app.local_addr());
    app.run_until(shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

fn open_store(config: &ServeConfig) -> anyhow::Result<Arc<dyn TaskStore>> {
    match config.store {
        StoreKind::Sqlite => {
            let path = config.data_dir.join(TASK_DATABASE);
            let store = SqliteStore::open(&path)?;
            tracing::info!(path = %path.display(), "tasks stored in SQLite");
            Ok(Arc::new(store))
        }
    }
}

fn authenticator(config: &ServeConfig) -> anyhow::Result<Arc<dyn Authenticator>> {
    let issuer = config
        .jwt_issuer
        .clone()
        .context("no token issuer configured: pass --jwt-issuer")?;
    let issuer = issuer.trim_end_matches('/').to_owned();
    let keys = Arc::new(RemoteJwks::new(format!("{issuer}/.well-known/jwks.json")));
    tracing::info!(%issuer, "trusting ID tokens of this issuer");
    Ok(Arc::new(JwtAuthenticator::new(TrustedPool {
        issuer,
        audiences: config.jwt_audiences.clone(),
        keys,
    })))
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
