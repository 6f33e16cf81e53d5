//! The hosted UI's own HTTPS listener. Amplify builds `https://<domain>/oauth2/...` and cannot
//! be told otherwise, so the local pool answers TLS with a self-signed certificate made on
//! first start and kept in the data directory (trust it once, or tell the browser to ignore
//! it). The plain-HTTP address serves the same endpoints for OIDC libraries that allow http.

use std::net::SocketAddr;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum_server::Handle;
use axum_server::tls_rustls::RustlsConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use taskapi_hosted_ui::{HostedUi, Listener};
use taskapi_userpool::{UserPools, private};

/// The certificate and its key, next to the user pool's state.
pub const CERT_FILE: &str = "hosted-ui-cert.pem";
const KEY_FILE: &str = "hosted-ui-key.pem";

/// A shutdown signal as both listeners take it.
pub type Stop = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// The HTTPS listener, bound and ready to serve.
pub struct HttpsListener {
    listener: std::net::TcpListener,
    tls: RustlsConfig,
    router: Router,
    addr: SocketAddr,
}

/// The hosted UI on both addresses: the routes to add to the plain-HTTP router, and the
/// HTTPS listener.
pub fn hosted_ui(
    pools: &Arc<UserPools>,
    plain: SocketAddr,
    https: SocketAddr,
    data_dir: &Path,
) -> anyhow::Result<(Router, HttpsListener)> {
    let listener = std::net::TcpListener::bind(https)
        .with_context(|| format!("cannot listen on {https} (--hosted-ui-addr)"))?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let ui = HostedUi::new(Arc::clone(pools));
    let plain_routes = ui.router(Listener {
        base_url: format!("http://{plain}"),
        secure: false,
    });
    let router = ui.router(Listener {
        base_url: format!("https://{addr}"),
        secure: true,
    });
    Ok((
        plain_routes,
        HttpsListener {
            tls: tls_config(data_dir)?,
            listener,
            router,
            addr,
        },
    ))
}

impl HttpsListener {
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves HTTPS next to the plain-HTTP server `plain` until `shutdown` resolves; both stop
    /// then, letting requests in flight finish within `grace`.
    pub async fn run_beside<F>(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
        grace: Duration,
        plain: impl FnOnce(Stop) -> F,
    ) -> std::io::Result<()>
    where
        F: Future<Output = std::io::Result<()>>,
    {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            shutdown.await;
            let _ = stop.send(true);
        });
        let wait = |mut stopped: tokio::sync::watch::Receiver<bool>| -> Stop {
            Box::pin(async move {
                let _ = stopped.wait_for(|stop| *stop).await;
            })
        };
        let (plain, https) = tokio::join!(
            plain(wait(stopped.clone())),
            self.run_until(wait(stopped), grace)
        );
        plain.and(https)
    }

    /// Serves until `shutdown` resolves, then lets requests in flight finish within `grace`.
    async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
        grace: Duration,
    ) -> std::io::Result<()> {
        let handle = Handle::new();
        let stopper = handle.clone();
        tokio::spawn(async move {
            shutdown.await;
            stopper.graceful_shutdown(Some(grace));
        });
        axum_server::from_tcp_rustls(self.listener, self.tls)?
            .handle(handle)
            .serve(self.router.into_make_service())
            .await
    }
}

/// The TLS settings for the kept (or a new) certificate, with HTTP/2 and HTTP/1.1.
fn tls_config(data_dir: &Path) -> anyhow::Result<RustlsConfig> {
    let (cert_pem, key_pem) = certificate(data_dir)?;
    let certs = CertificateDer::pem_slice_iter(cert_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .context("the hosted UI certificate is unreadable")?;
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes())
        .context("the hosted UI key is unreadable")?;
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .context("the hosted UI certificate does not match its key")?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(RustlsConfig::from_config(Arc::new(config)))
}

/// The certificate and key PEMs in the data directory, made on first start. The certificate
/// names `localhost` and `127.0.0.1`, where the server listens by default.
fn certificate(data_dir: &Path) -> anyhow::Result<(String, String)> {
    let (cert_path, key_path) = (data_dir.join(CERT_FILE), data_dir.join(KEY_FILE));
    if cert_path.exists() && key_path.exists() {
        let cert = std::fs::read_to_string(&cert_path)
            .with_context(|| format!("cannot read {}", cert_path.display()))?;
        let key = std::fs::read_to_string(&key_path)
            .with_context(|| format!("cannot read {}", key_path.display()))?;
        return Ok((cert, key));
    }
    let made = rcgen::generate_simple_self_signed(vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ])
    .context("cannot make the hosted UI certificate")?;
    let (cert, key) = (made.cert.pem(), made.signing_key.serialize_pem());
    // Both 0600, as every file of the data directory: the key is a secret, and the rest of
    // the directory is kept private whole.
    for (path, contents) in [(&key_path, &key), (&cert_path, &cert)] {
        private::ensure_file(path)?;
        std::fs::write(path, contents)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    tracing::info!(path = %cert_path.display(), "made a self-signed certificate for the hosted UI");
    Ok((cert, key))
}
