//! One HTTP attempt to deliver one signed event. The client resolves hosts through
//! [`CheckedResolver`], which applies the [`AddressPolicy`] to every address a lookup
//! returns and hands the connector only those: the addresses checked are the addresses
//! connected to, with no second lookup in between for DNS rebinding to slip into. No proxy
//! (it would connect elsewhere), no redirects (a 3xx is an answer, not a way round the
//! rule), a connect timeout, 15 s for the whole exchange, and at most
//! [`MAX_RESPONSE_READ`] bytes of the answer read before the connection is let go.

use std::error::Error as _;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::{CONTENT_TYPE, HeaderValue, USER_AGENT};
use taskapi_domain::AttemptOutcome;
use url::Host;

use crate::address::Refusal;
use crate::{AddressPolicy, SignedHeaders};

/// A delivery that is not answered within this counts as failed (Standard Webhooks).
pub const TOTAL_TIMEOUT: Duration = Duration::from_secs(15);
/// Connecting may take this long of the total.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How much of an answer is read: receivers are to answer quickly and briefly; the rest
/// is not waited for.
pub const MAX_RESPONSE_READ: usize = 64 * 1024;

/// What to send: the endpoint, the signed headers and the event JSON.
#[derive(Debug, Clone)]
pub struct Delivery<'a> {
    pub url: &'a str,
    pub headers: &'a SignedHeaders,
    pub body: Bytes,
}

/// Sends deliveries; one per process, shared (it pools connections per endpoint).
#[derive(Debug, Clone)]
pub struct Sender {
    client: reqwest::Client,
    policy: AddressPolicy,
}

impl Sender {
    pub fn new(policy: AddressPolicy) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .dns_resolver(Arc::new(CheckedResolver { policy }))
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(TOTAL_TIMEOUT)
            .https_only(!policy.allow_private)
            .build()?;
        Ok(Self { client, policy })
    }

    /// Makes one attempt and says what came of it; never fails otherwise.
    pub async fn send(&self, delivery: Delivery<'_>) -> AttemptOutcome {
        let url = match crate::url::parse(delivery.url, self.policy) {
            Ok(url) => url,
            Err(err) => return AttemptOutcome::Error(err.to_string()),
        };
        // A literal address is connected to without a lookup: check it here.
        let literal = match url.host() {
            Some(Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
            Some(Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
            _ => None,
        };
        if let Some(Err(refusal)) = literal.map(|ip| self.policy.check(ip)) {
            return AttemptOutcome::Error(refused(refusal));
        }
        let headers = delivery.headers;
        let request = self
            .client
            .post(url)
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .header(USER_AGENT, HeaderValue::from_static("taskapi-webhooks"))
            .header("webhook-id", &headers.id)
            .header("webhook-timestamp", headers.timestamp.to_string())
            .header("webhook-signature", &headers.signature)
            .body(delivery.body);
        match request.send().await {
            Ok(mut response) => {
                let status = response.status().as_u16();
                let mut read = 0;
                // Read a little of the answer so the connection can be reused; a failure
                // here does not change what the status said.
                while read < MAX_RESPONSE_READ {
                    match response.chunk().await {
                        Ok(Some(chunk)) => read += chunk.len(),
                        _ => break,
                    }
                }
                AttemptOutcome::Status(status)
            }
            Err(err) => AttemptOutcome::Error(describe(&err)),
        }
    }
}

fn refused(refusal: Refusal) -> String {
    format!("refused: the address is {refusal}")
}

/// A failed exchange in a few words for the delivery history (no URLs: they are the
/// endpoint's, already known to its owner).
fn describe(err: &reqwest::Error) -> String {
    let mut source = err.source();
    while let Some(cause) = source {
        if let Some(RefusedAddress(refusal)) = cause.downcast_ref::<RefusedAddress>() {
            return refused(*refusal);
        }
        source = cause.source();
    }
    if err.is_timeout() {
        "timed out".to_owned()
    } else if err.is_connect() {
        "could not connect".to_owned()
    } else {
        "the exchange failed".to_owned()
    }
}

/// The resolver's refusal, found again in the error chain by [`describe`].
#[derive(Debug, thiserror::Error)]
#[error("refused address: {0}")]
struct RefusedAddress(Refusal);

/// The system's lookup, with the [`AddressPolicy`] applied to every address.
struct CheckedResolver {
    policy: AddressPolicy,
}

impl Resolve for CheckedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy;
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            // One refused address refuses the name: a lookup that mixes public and
            // private answers is the shape of a rebinding attack.
            for addr in &addrs {
                policy.check(addr.ip()).map_err(RefusedAddress)?;
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use axum::Router;
    use axum::http::{HeaderMap, StatusCode};
    use axum::routing::post;

    use super::*;
    use crate::{SigningSecret, sign};

    /// A receiver on 127.0.0.1 answering `status` and keeping what it got.
    async fn receiver(status: StatusCode) -> (String, Arc<Mutex<Vec<HeaderMap>>>) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let kept = seen.clone();
        let app = Router::new().route(
            "/hook",
            post(move |headers: HeaderMap| async move {
                kept.lock().unwrap().push(headers);
                (status, "ok")
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        (format!("http://{addr}/hook"), seen)
    }

    fn headers() -> SignedHeaders {
        sign(&[&SigningSecret::generate()], "evt_1", 1_700_000_000, b"{}")
    }

    #[tokio::test]
    async fn delivers_with_the_signed_headers_and_reports_the_status() {
        let (url, seen) = receiver(StatusCode::GONE).await;
        let sender = Sender::new(AddressPolicy::ALLOW_PRIVATE).unwrap();
        let signed = headers();
        let body = Bytes::from_static(b"{}");
        let delivery = Delivery {
            url: &url,
            headers: &signed,
            body,
        };
        let outcome = sender.send(delivery).await;
        assert_eq!(outcome, AttemptOutcome::Status(410));
        assert!(outcome.gone());
        let seen = seen.lock().unwrap();
        assert_eq!(seen[0]["webhook-id"], "evt_1");
        assert_eq!(seen[0]["webhook-timestamp"], "1700000000");
        assert_eq!(seen[0]["webhook-signature"], signed.signature.as_str());
    }

    #[tokio::test]
    async fn loopback_is_refused_by_name_and_by_literal_without_the_allowance() {
        let (url, seen) = receiver(StatusCode::OK).await;
        let strict = Sender::new(AddressPolicy::PUBLIC_ONLY).unwrap();
        let signed = headers();
        let https = url.replace("http://", "https://");
        let by_name = https.replace("127.0.0.1", "localhost");
        for url in [&https, &by_name] {
            let delivery = Delivery {
                url,
                headers: &signed,
                body: Bytes::new(),
            };
            let AttemptOutcome::Error(why) = strict.send(delivery).await else {
                panic!("{url} was reached");
            };
            assert!(why.contains("loopback"), "{url}: {why}");
        }
        assert!(seen.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn redirects_are_answers_not_followed() {
        let (target, seen) = receiver(StatusCode::OK).await;
        let app = Router::new().route(
            "/hook",
            post(move || async move { (StatusCode::TEMPORARY_REDIRECT, [("location", target)]) }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        let sender = Sender::new(AddressPolicy::ALLOW_PRIVATE).unwrap();
        let url = format!("http://{addr}/hook");
        let signed = headers();
        let delivery = Delivery {
            url: &url,
            headers: &signed,
            body: Bytes::new(),
        };
        assert_eq!(sender.send(delivery).await, AttemptOutcome::Status(307));
        assert!(seen.lock().unwrap().is_empty());
    }
}
