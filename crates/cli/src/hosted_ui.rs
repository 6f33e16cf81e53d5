//! The hosted UI's own HTTPS listener. Amplify builds `https://<domain>/oauth2/...` and cannot
//! be told otherwise, so the local pool answers TLS with a self-signed certificate made on
//! first start and kept in the data directory (trust it once, or tell the browser to ignore
//! it). The plain-HTTP address serves the same endpoints for OIDC libraries that allow http.
//! Both are served by [`connections`] under the same limits; here the TLS handshake comes
//! first, within the header-read timeout.

use std::net::SocketAddr;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use taskapi_hosted_ui::{HostedUi, Listener};
use taskapi_userpool::{UserPools, private};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use crate::connections::{self, ConnectionLimits, Handshake, Protocol, Tracked};

/// The certificate and its key, next to the user pool's state.
pub const CERT_FILE: &str = "hosted-ui-cert.pem";
const KEY_FILE: &str = "hosted-ui-key.pem";

/// A shutdown signal as both listeners take it.
pub type Stop = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// The HTTPS listener, bound and ready to serve.
pub struct HttpsListener {
    listener: TcpListener,
    tls: Tls,
    router: Router,
    addr: SocketAddr,
}

/// The TLS handshake, before a connection is served like any other: HTTP/2 or HTTP/1.1, as
/// the client and ALPN agreed.
#[derive(Clone)]
struct Tls(TlsAcceptor);

impl Handshake for Tls {
    type Io = TlsStream<Tracked<TcpStream>>;

    async fn handshake(&self, tcp: Tracked<TcpStream>) -> std::io::Result<(Self::Io, Protocol)> {
        let stream = self.0.accept(tcp).await?;
        let protocol = match stream.get_ref().1.alpn_protocol() {
            Some(b"h2") => Protocol::Http2,
            _ => Protocol::Http1,
        };
        Ok((stream, protocol))
    }
}

/// The hosted UI on both addresses: the routes to add to the plain-HTTP router, and the
/// HTTPS listener.
pub async fn hosted_ui(
    pools: &Arc<UserPools>,
    plain: SocketAddr,
    https: SocketAddr,
    data_dir: &Path,
) -> anyhow::Result<(Router, HttpsListener)> {
    let listener = TcpListener::bind(https)
        .await
        .with_context(|| format!("cannot listen on {https} (--hosted-ui-addr)"))?;
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
    /// then, each under the same connection limits and grace period.
    pub async fn run_beside<F>(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
        limits: ConnectionLimits,
        plain: impl FnOnce(Stop) -> F,
    ) where
        F: Future<Output = ()>,
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
        tokio::join!(
            plain(wait(stopped.clone())),
            connections::serve(self.listener, self.tls, self.router, limits, wait(stopped))
        );
    }
}

/// The TLS settings for the kept (or a new) certificate, with HTTP/2 and HTTP/1.1.
fn tls_config(data_dir: &Path) -> anyhow::Result<Tls> {
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
    Ok(Tls(TlsAcceptor::from(Arc::new(config))))
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
