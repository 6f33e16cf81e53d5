//! Serving HTTP connections: what `axum::serve` does, plus what a server facing slow or
//! hostile clients needs and `axum::serve` lacks: a deadline for a request's headers (and
//! for a TLS handshake), a connection that moves no bytes is closed, a cap on open
//! connections and a share of it per client address ([`admission`]), and a shutdown that
//! waits for requests in flight only as long as its grace period.
//!
//! Both listeners use it: the plain one (HTTP/1.1) and the hosted UI's HTTPS one, which
//! differs only in its [`Handshake`].

mod admission;

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tower::ServiceExt;

use self::admission::{Admission, Admitted, Refusal};

/// The limits every connection is served under (see `ServeConfig` for what each means).
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    pub header_read_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_connections: usize,
    pub max_connections_per_address: usize,
    pub shutdown_grace: Duration,
}

/// How often a full listener looks again for a connection idle between requests, when
/// every one was busy: requests end without notice.
const FULL_RECHECK: Duration = Duration::from_millis(50);

/// The HTTP versions a connection may speak once its handshake is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Http1,
    Http2,
}

/// What turns an accepted TCP stream into one that speaks HTTP: nothing for plain HTTP,
/// TLS for HTTPS. Runs under the header-read timeout, on the connection's own task.
pub trait Handshake: Clone + Send + Sync + 'static {
    type Io: AsyncRead + AsyncWrite + Unpin + Send + 'static;

    fn handshake(
        &self,
        tcp: Tracked<TcpStream>,
    ) -> impl Future<Output = io::Result<(Self::Io, Protocol)>> + Send;
}

/// Plain HTTP: HTTP/1.1 only, what browsers and every client speak without TLS. (A server
/// that also takes cleartext HTTP/2 must first wait for bytes to tell which one a client
/// speaks, and that wait has no deadline: a silent connection would be kept forever.)
#[derive(Debug, Clone, Copy)]
pub struct Plain;

impl Handshake for Plain {
    type Io = Tracked<TcpStream>;

    async fn handshake(&self, tcp: Tracked<TcpStream>) -> io::Result<(Self::Io, Protocol)> {
        Ok((tcp, Protocol::Http1))
    }
}

/// Accepts and serves connections until `shutdown` resolves; then stops accepting, lets
/// requests in flight finish for up to the grace period, closes whatever is left and
/// returns. Responses already sent were for writes already committed, so closing a
/// connection mid-request loses nothing that was acknowledged.
pub async fn serve(
    listener: TcpListener,
    handshake: impl Handshake,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    builder.http2().timer(TokioTimer::new());
    let builder = Arc::new(builder);
    let admission = Admission::new(limits.max_connections, limits.max_connections_per_address);
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    'accept: loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors, a connection reset before accept: wait a
                    // little rather than spin, and go on.
                    tracing::warn!(error = %err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let activity = Activity::new();
        // At the cap, close the connection idle longest between requests and wait for it
        // to go (or, when every one is busy, for any to end); meanwhile new clients queue in
        // the kernel's backlog instead of costing memory here.
        let admitted = loop {
            let ended = admission.ended();
            tokio::pin!(ended);
            ended.as_mut().enable();
            match admission.admit(peer.ip(), Arc::clone(&activity)) {
                Ok(admitted) => break admitted,
                Err(Refusal::AddressFull) => {
                    tracing::debug!(%peer, "closing a connection over its address's share");
                    continue 'accept;
                }
                Err(Refusal::ListenerFull) => {
                    let closing = admission.close_idlest();
                    tokio::select! {
                        () = &mut shutdown => break 'accept,
                        () = ended => {}
                        () = tokio::time::sleep(FULL_RECHECK), if !closing => {}
                    }
                }
            }
        };
        let _ = stream.set_nodelay(true);
        while connections.try_join_next().is_some() {}
        let tcp = Tracked {
            inner: stream,
            activity,
        };
        connections.spawn(serve_one(
            tcp,
            peer,
            admitted,
            handshake.clone(),
            Arc::clone(&builder),
            router.clone(),
            limits,
        ));
    }
    drop(listener);
    let open = admission.close_all();
    tracing::info!(open, "stopped accepting; finishing requests in flight");
    let finished = async { while connections.join_next().await.is_some() {} };
    tokio::select! {
        () = finished => tracing::info!("every connection closed"),
        () = tokio::time::sleep(limits.shutdown_grace) => tracing::warn!(
            still_open = connections.len(),
            grace = ?limits.shutdown_grace,
            "closing connections still open after the grace period"
        ),
    }
    connections.shutdown().await;
}

/// Serves one admitted connection: its handshake, then requests until the client goes,
/// it idles too long, or it is asked to close (to admit another, or at shutdown; a request
/// in flight is answered first).
async fn serve_one(
    tcp: Tracked<TcpStream>,
    peer: std::net::SocketAddr,
    admitted: Admitted,
    handshake: impl Handshake,
    builder: Arc<auto::Builder<TokioExecutor>>,
    router: Router,
    limits: ConnectionLimits,
) {
    let slot = Arc::clone(admitted.slot());
    let (io, protocol) =
        match tokio::time::timeout(limits.header_read_timeout, handshake.handshake(tcp)).await {
            Ok(Ok(ready)) => ready,
            Ok(Err(err)) => {
                tracing::debug!(error = %err, "handshake failed");
                return;
            }
            Err(_) => {
                tracing::debug!("no handshake within the header-read timeout");
                return;
            }
        };
    let builder = match protocol {
        Protocol::Http1 => (*builder).clone().http1_only(),
        Protocol::Http2 => (*builder).clone().http2_only(),
    };
    // Every request carries its client's address, as `axum::serve` with connect info
    // gives it: per-address limits key on it. Requests are counted while answered, so
    // only a connection between requests is closed to admit another.
    let busy = Arc::clone(&slot);
    let asked = Arc::new(AtomicBool::new(false));
    let first_request = Arc::clone(&asked);
    let service = router
        .map_request(move |mut request: axum::http::Request<_>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            request
        })
        .map_future(move |answer| {
            first_request.store(true, Ordering::Relaxed);
            let in_flight = busy.request();
            async move {
                let answered = answer.await;
                drop(in_flight);
                answered
            }
        });
    // With upgrades: `GET /live` hands its connection over to a WebSocket, which lives on
    // (in the live hub's caps) after this connection's slot is given back.
    let connection =
        builder.serve_connection_with_upgrades(TokioIo::new(io), TowerToHyperService::new(service));
    tokio::pin!(connection);
    slot.start_serving();
    let mut closing = false;
    loop {
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(err) = result {
                    tracing::debug!(error = %err, "connection ended with an error");
                }
                break;
            }
            () = slot.activity().idle_for(limits.idle_timeout) => {
                tracing::debug!("closing a connection idle for {:?}", limits.idle_timeout);
                break;
            }
            // With upgrades, hyper reads the first bytes (HTTP/1 or HTTP/2?) before its own
            // header-read timeout starts: a client that sends nothing is closed here.
            () = silent_before_a_request(slot.activity(), &asked, limits.header_read_timeout) => {
                tracing::debug!("closing a connection that sent no request in time");
                break;
            }
            () = slot.close_requested(), if !closing => {
                closing = true;
                connection.as_mut().graceful_shutdown();
            }
        }
    }
    drop(admitted);
}

/// Resolves once the connection has moved no byte for `limit` without having sent a request
/// (`asked`); never once it has.
async fn silent_before_a_request(activity: &Activity, asked: &AtomicBool, limit: Duration) {
    activity.idle_for(limit).await;
    if asked.load(Ordering::Relaxed) {
        std::future::pending::<()>().await;
    }
}

/// When a connection last moved a byte, in milliseconds since it was accepted.
struct Activity {
    since: Instant,
    last_ms: AtomicU64,
}

impl Activity {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            since: Instant::now(),
            last_ms: AtomicU64::new(0),
        })
    }

    /// When it last moved a byte.
    fn last(&self) -> Instant {
        self.since + Duration::from_millis(self.last_ms.load(Ordering::Relaxed))
    }

    fn touch(&self) {
        let now = u64::try_from(self.since.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(now, Ordering::Relaxed);
    }

    /// Resolves once no byte has moved for `limit`.
    async fn idle_for(&self, limit: Duration) {
        loop {
            let deadline = self.last() + limit;
            if Instant::now() >= deadline {
                return;
            }
            tokio::time::sleep_until(deadline.into()).await;
        }
    }
}

/// A stream that records in [`Activity`] every read or write that moved bytes.
pub struct Tracked<S> {
    inner: S,
    activity: Arc<Activity>,
}

impl<S: AsyncRead + Unpin> AsyncRead for Tracked<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.touch();
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Tracked<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(written)) if written > 0) {
            self.activity.touch();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(written)) if written > 0) {
            self.activity.touch();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
