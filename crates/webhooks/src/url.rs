//! An endpoint URL as accepted at creation: absolute, `https` (plain `http` only where
//! private addresses are allowed, for local receivers), no credentials in it, at most
//! [`MAX_URL_LEN`] bytes, and a host whose every address passes the [`AddressPolicy`].

use std::net::IpAddr;
use std::time::Duration;

use url::{Host, Url};

use crate::AddressPolicy;
use crate::address::Refusal;

/// The longest URL accepted.
pub const MAX_URL_LEN: usize = 2048;
/// How long the lookup at creation may take before the host counts as unresolvable (the
/// request that creates an endpoint waits for it).
pub const LOOKUP_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a URL cannot be an endpoint (the API answers 400 `invalid_webhook_url`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("url must be an absolute URL of at most {MAX_URL_LEN} characters")]
    Malformed,
    #[error("url must use https")]
    NotHttps,
    #[error("url must not carry a user name or password")]
    Credentials,
    #[error("url's host does not resolve")]
    Unresolvable,
    #[error("url's host resolves to {0}, which webhooks may not reach")]
    Refused(Refusal),
}

/// `raw` as an endpoint URL, if it is one under `policy`. Resolves the host (DNS), so the
/// answer holds for now only: deliveries check again.
pub async fn check_url(raw: &str, policy: AddressPolicy) -> Result<Url, UrlError> {
    let url = parse(raw, policy)?;
    let port = url.port_or_known_default().ok_or(UrlError::Malformed)?;
    match url.host() {
        Some(Host::Ipv4(ip)) => policy.check(IpAddr::V4(ip)).map_err(UrlError::Refused)?,
        Some(Host::Ipv6(ip)) => policy.check(IpAddr::V6(ip)).map_err(UrlError::Refused)?,
        Some(Host::Domain(name)) => {
            let lookup = tokio::net::lookup_host((name, port));
            let addrs: Vec<_> = tokio::time::timeout(LOOKUP_TIMEOUT, lookup)
                .await
                .map_err(|_| UrlError::Unresolvable)?
                .map_err(|_| UrlError::Unresolvable)?
                .collect();
            if addrs.is_empty() {
                return Err(UrlError::Unresolvable);
            }
            for addr in addrs {
                policy.check(addr.ip()).map_err(UrlError::Refused)?;
            }
        }
        None => return Err(UrlError::Malformed),
    }
    Ok(url)
}

/// The checks that need no lookup.
pub(crate) fn parse(raw: &str, policy: AddressPolicy) -> Result<Url, UrlError> {
    if raw.len() > MAX_URL_LEN {
        return Err(UrlError::Malformed);
    }
    let url = Url::parse(raw).map_err(|_| UrlError::Malformed)?;
    match url.scheme() {
        "https" => {}
        "http" if policy.allow_private => {}
        _ => return Err(UrlError::NotHttps),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(UrlError::Credentials);
    }
    if url.host().is_none() {
        return Err(UrlError::Malformed);
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn public_https_urls_pass_and_the_rest_are_told_apart() {
        let strict = AddressPolicy::PUBLIC_ONLY;
        assert!(
            check_url("https://93.184.216.34/hook", strict)
                .await
                .is_ok()
        );
        let cases = [
            ("not a url", UrlError::Malformed),
            ("/relative", UrlError::Malformed),
            ("http://93.184.216.34/hook", UrlError::NotHttps),
            ("ftp://93.184.216.34/", UrlError::NotHttps),
            ("https://user:pw@93.184.216.34/", UrlError::Credentials),
            (
                "https://169.254.169.254/latest/meta-data/",
                UrlError::Refused(Refusal::Metadata),
            ),
            (
                "https://[fd00:ec2::254]/",
                UrlError::Refused(Refusal::Metadata),
            ),
            (
                "https://127.0.0.1:8443/",
                UrlError::Refused(Refusal::Loopback),
            ),
            ("https://10.0.0.5/", UrlError::Refused(Refusal::Private)),
            ("https://localhost/", UrlError::Refused(Refusal::Loopback)),
            // `.invalid` never resolves (RFC 2606).
            ("https://no-such-host.invalid/", UrlError::Unresolvable),
        ];
        for (raw, expected) in cases {
            assert_eq!(check_url(raw, strict).await.unwrap_err(), expected, "{raw}");
        }
        let long = format!("https://93.184.216.34/{}", "a".repeat(MAX_URL_LEN));
        assert_eq!(
            check_url(&long, strict).await.unwrap_err(),
            UrlError::Malformed
        );
    }

    #[tokio::test]
    async fn allowing_private_admits_local_http_but_never_metadata() {
        let open = AddressPolicy::ALLOW_PRIVATE;
        assert!(check_url("http://127.0.0.1:9000/hook", open).await.is_ok());
        assert!(check_url("http://localhost:9000/hook", open).await.is_ok());
        assert_eq!(
            check_url("http://169.254.169.254/", open)
                .await
                .unwrap_err(),
            UrlError::Refused(Refusal::Metadata)
        );
    }
}
