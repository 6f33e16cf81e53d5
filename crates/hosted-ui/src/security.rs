//! The security headers of every hosted-UI response, as the web app's pages have them: no
//! framing (a sign-in form inside another site's frame is a clickjacking target), no
//! content-type sniffing, and no full URL (its query names the client and the state) in
//! the `Referer` of another origin.

use std::sync::LazyLock;

use aws_lc_rs::digest::{SHA256, digest};
use axum::http::HeaderValue;
use axum::http::header::{
    CONTENT_SECURITY_POLICY, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// Nothing but the pages' own inline style (named by its hash: no injected style runs),
/// no framing. No `form-action`: a signed-in form is answered with a redirect to the
/// app's callback on another origin, which browsers check against `form-action` too.
static POLICY: LazyLock<HeaderValue> = LazyLock::new(|| {
    let style = STANDARD.encode(digest(&SHA256, crate::html::STYLE.as_bytes()));
    HeaderValue::from_str(&format!(
        "default-src 'none'; style-src 'sha256-{style}'; base-uri 'none'; \
         frame-ancestors 'none'"
    ))
    .expect("a base64 hash is a valid header value")
});

/// Adds the headers to a response (`axum::middleware::map_response`).
pub(crate) async fn headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(CONTENT_SECURITY_POLICY, POLICY.clone());
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    response
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{Method, Request};
    use taskapi_userpool::{PoolSettings, Tuning, UserPools};
    use tower::ServiceExt;

    use crate::pages::Step;
    use crate::{HostedUi, Listener};

    #[tokio::test]
    async fn every_page_and_endpoint_sends_the_security_headers() {
        let dir = tempfile::tempdir().unwrap();
        let pools = UserPools::open_with(
            PoolSettings::new(dir.path(), "http://localhost"),
            Tuning::default(),
        )
        .unwrap();
        let pool = pools.ensure_default_pool().unwrap();
        let router = HostedUi::new(pools).router(Listener {
            base_url: "http://localhost".into(),
            secure: false,
        });
        let query = format!(
            "?client_id={}&redirect_uri=http%3A%2F%2Flocalhost%3A3000%2Fcallback\
             &response_type=code&scope=openid",
            pool.client_id
        );
        let mut requests: Vec<(Method, String)> = Step::ALL
            .into_iter()
            .flat_map(|step| {
                [Method::GET, Method::POST]
                    .map(|method| (method, format!("{}{query}", step.path())))
            })
            .collect();
        requests.extend([
            (Method::GET, format!("/oauth2/authorize{query}")),
            (Method::GET, format!("/authorize{query}")),
            (Method::GET, "/oauth2/authorize".into()),
            (Method::GET, "/logout".into()),
            (Method::POST, "/oauth2/token".into()),
            (Method::GET, "/oauth2/userInfo".into()),
            (Method::POST, "/oauth2/revoke".into()),
            (
                Method::GET,
                format!("/{}/.well-known/openid-configuration", pool.pool_id),
            ),
        ]);
        for (method, uri) in requests {
            let request = Request::builder()
                .method(method.clone())
                .uri(&uri)
                .body(Body::empty())
                .unwrap();
            let response = router.clone().oneshot(request).await.unwrap();
            let what = format!("{method} {uri}: {}", response.status());
            assert!(!response.status().is_server_error(), "{what}");
            let headers = response.headers();
            assert_eq!(headers["x-frame-options"], "DENY", "{what}");
            assert_eq!(headers["x-content-type-options"], "nosniff", "{what}");
            assert_eq!(
                headers["referrer-policy"], "strict-origin-when-cross-origin",
                "{what}"
            );
            let policy = headers["content-security-policy"].to_str().unwrap();
            assert!(policy.contains("frame-ancestors 'none'"), "{what}");
            assert!(policy.starts_with("default-src 'none'"), "{what}");
        }
    }
}
