//! The web app (`web/`), served at `/`: its built bundle from inside the binary, and
//! `/config.json`, which tells the app at run time which pool, client and endpoints to use,
//! so the same bundle runs here and on S3 + CloudFront (`scripts/deploy-web.sh`).
//!
//! Caching follows the file names: `assets/` names carry a content hash and never change,
//! so they are cached for a year; `index.html` (also at `/callback`, where the hosted UI
//! returns) and `config.json` are revalidated on every load, so a new build shows at once.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderName, HeaderValue, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rust_embed::RustEmbed;
use serde::Serialize;
use taskapi_http::ApiError;
use taskapi_userpool::DefaultPool;

use crate::config::ServeConfig;

/// `web/dist`, as `npm run build` in `web/` leaves it (committed, so no Node.js is needed
/// to build or run taskapi).
#[derive(RustEmbed)]
#[folder = "../../web/dist"]
struct Bundle;

/// What the app reads from `/config.json` (the names are those of `web/src/config.ts`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WebConfig {
    pub user_pool_id: String,
    pub user_pool_client_id: String,
    /// A Cognito-compatible endpoint instead of AWS's; relative URLs are the page's origin.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_pool_endpoint: Option<String>,
    /// The REST API's base URL; relative URLs are the page's origin.
    pub api_url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oauth: Option<HostedUi>,
    /// The live-updates WebSocket (`GET /live`); a relative URL is the page's host, with
    /// `ws:` or `wss:` as the page is `http:` or `https:`. None: the app polls nothing and
    /// shows no live state (the DynamoDB store has no live feed under `taskapi serve`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub live_url: Option<String>,
}

/// The hosted UI the app's "Sign in with the hosted UI" button goes to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HostedUi {
    /// `host[:port]`: Amplify always speaks https to it.
    pub domain: String,
    pub scopes: Vec<String>,
    pub redirect_sign_in: Vec<String>,
    pub redirect_sign_out: Vec<String>,
}

impl WebConfig {
    /// The local user pool on the API's own address, and its hosted UI on the HTTPS
    /// listener, if any. The URLs are relative, so the app works under whichever name the
    /// browser used (`localhost` or `127.0.0.1`) and never needs CORS.
    pub fn local(pool: &DefaultPool, hosted_ui: Option<SocketAddr>) -> Self {
        Self {
            user_pool_id: pool.pool_id.clone(),
            user_pool_client_id: pool.client_id.clone(),
            user_pool_endpoint: Some("/".into()),
            api_url: "/".into(),
            oauth: hosted_ui.map(|addr| HostedUi {
                domain: addr.to_string(),
                // The default app client's OAuth scopes.
                scopes: ["openid", "email", "profile"].map(String::from).to_vec(),
                redirect_sign_in: vec!["/callback".into()],
                redirect_sign_out: vec!["/".into()],
            }),
            live_url: None,
        }
    }

    /// A real Cognito pool (`--cognito-user-pool-id`) and its app client (the first
    /// `--jwt-audience`), with this server as the API; `None` when either is not given.
    pub fn remote(serve: &ServeConfig) -> Option<Self> {
        Some(Self {
            user_pool_id: serve.cognito_user_pool_id.clone()?,
            user_pool_client_id: serve.jwt_audiences.first()?.clone(),
            user_pool_endpoint: None,
            api_url: "/".into(),
            oauth: None,
            live_url: None,
        })
    }

    /// The origins the app may fetch from besides its own: the Content-Security-Policy's
    /// `connect-src`.
    fn connect_origins(&self) -> Vec<String> {
        let mut origins: Vec<String> = [
            Some(&self.api_url),
            self.user_pool_endpoint.as_ref(),
            self.live_url.as_ref(),
        ]
        .into_iter()
        .flatten()
        .filter_map(|url| origin(url))
        .collect();
        if let Some(oauth) = &self.oauth {
            origins.push(format!("https://{}", oauth.domain));
        }
        origins.sort();
        origins.dedup();
        origins
    }
}

/// `scheme://authority` of an absolute URL; `None` for a relative one.
fn origin(url: &str) -> Option<String> {
    let uri: Uri = url.parse().ok()?;
    Some(format!("{}://{}", uri.scheme_str()?, uri.authority()?))
}

/// A restrictive policy: scripts and styles only from the bundle, no inline code, no
/// plugins, no framing; fetches only to the API, the pool and the hosted UI.
fn content_security_policy(config: &WebConfig) -> String {
    let mut connect = vec!["'self'".to_owned()];
    connect.extend(config.connect_origins());
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         connect-src {}; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        connect.join(" ")
    )
}

struct Site {
    config_json: String,
    security_headers: [(HeaderName, HeaderValue); 4],
}

/// The routes of the web app: `/`, `/index.html`, `/callback`, `/config.json`, `/assets/*`.
pub fn router(config: &WebConfig) -> anyhow::Result<Router> {
    let csp = HeaderValue::from_str(&content_security_policy(config))?;
    let site = Arc::new(Site {
        config_json: serde_json::to_string(config)?,
        security_headers: [
            (HeaderName::from_static("content-security-policy"), csp),
            (
                HeaderName::from_static("x-content-type-options"),
                HeaderValue::from_static("nosniff"),
            ),
            (
                HeaderName::from_static("x-frame-options"),
                HeaderValue::from_static("DENY"),
            ),
            (
                HeaderName::from_static("referrer-policy"),
                HeaderValue::from_static("strict-origin-when-cross-origin"),
            ),
        ],
    });
    anyhow::ensure!(
        Bundle::get("index.html").is_some(),
        "the web app's bundle has no index.html (build it: cd web && npm ci && npm run build)"
    );
    Ok(Router::new()
        .route("/", get(index))
        .route("/index.html", get(index))
        .route("/callback", get(index))
        .route("/config.json", get(config_json))
        .route("/assets/{file}", get(asset))
        .with_state(site))
}

const REVALIDATE: HeaderValue = HeaderValue::from_static("no-cache");
const IMMUTABLE: HeaderValue = HeaderValue::from_static("public, max-age=31536000, immutable");

async fn index(State(site): State<Arc<Site>>) -> Response {
    embedded(&site, "index.html", REVALIDATE)
}

async fn asset(State(site): State<Arc<Site>>, Path(file): Path<String>) -> Response {
    embedded(&site, &format!("assets/{file}"), IMMUTABLE)
}

async fn config_json(State(site): State<Arc<Site>>) -> Response {
    let headers = [
        (CONTENT_TYPE, HeaderValue::from_static("application/json")),
        (CACHE_CONTROL, REVALIDATE),
    ];
    (
        site.security_headers.clone(),
        headers,
        site.config_json.clone(),
    )
        .into_response()
}

fn embedded(site: &Site, path: &str, cache: HeaderValue) -> Response {
    let Some(file) = Bundle::get(path) else {
        return ApiError::RouteNotFound.into_response();
    };
    let content_type = HeaderValue::from_str(file.metadata.mimetype())
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    (
        site.security_headers.clone(),
        [(CONTENT_TYPE, content_type), (CACHE_CONTROL, cache)],
        file.data.into_owned(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(pool_id: &str) -> DefaultPool {
        DefaultPool {
            pool_id: pool_id.into(),
            client_id: "client".into(),
            pool_name: "task-app-users".into(),
            client_name: "task-app-web".into(),
        }
    }

    #[test]
    fn the_local_hosted_ui_is_its_https_listener() {
        let config = WebConfig::local(&pool("us-east-1_abc"), Some(([127, 0, 0, 1], 3443).into()));
        let oauth = config.oauth.as_ref().unwrap();
        assert_eq!(oauth.domain, "127.0.0.1:3443");
        assert_eq!(oauth.redirect_sign_in, ["/callback"]);
        assert!(
            content_security_policy(&config).contains("connect-src 'self' https://127.0.0.1:3443;")
        );
    }

    fn config() -> WebConfig {
        WebConfig {
            api_url: "https://abc.execute-api.eu-west-1.amazonaws.com/prod".into(),
            user_pool_endpoint: None,
            oauth: Some(HostedUi {
                domain: "tasks.auth.eu-west-1.amazoncognito.com".into(),
                scopes: vec!["openid".into()],
                redirect_sign_in: vec!["/callback".into()],
                redirect_sign_out: vec!["/".into()],
            }),
            ..WebConfig::local(&pool("eu-west-1_abc"), None)
        }
    }

    #[test]
    fn the_policy_allows_fetches_to_the_api_and_hosted_ui_only() {
        let csp = content_security_policy(&config());
        assert!(csp.contains(
            "connect-src 'self' https://abc.execute-api.eu-west-1.amazonaws.com \
             https://tasks.auth.eu-west-1.amazoncognito.com;"
        ));
        assert!(csp.contains("script-src 'self';"));
        assert!(!csp.contains("unsafe"));
    }

    #[test]
    fn relative_endpoints_need_nothing_beyond_self() {
        let local = WebConfig::local(&pool("us-east-1_abc"), None);
        assert!(local.connect_origins().is_empty());
        assert!(content_security_policy(&local).contains("connect-src 'self';"));
    }

    #[test]
    fn a_live_url_elsewhere_is_allowed_by_the_policy() {
        let mut remote = config();
        remote.live_url = Some("wss://ws.example.com/prod".into());
        assert!(content_security_policy(&remote).contains(" wss://ws.example.com"));
        let mut local = WebConfig::local(&pool("us-east-1_abc"), None);
        local.live_url = Some("/live".into());
        assert!(content_security_policy(&local).contains("connect-src 'self';"));
        assert_eq!(serde_json::to_value(&local).unwrap()["liveUrl"], "/live");
    }

    #[test]
    fn the_config_uses_the_apps_field_names() {
        let json = serde_json::to_value(config()).unwrap();
        assert_eq!(json["userPoolId"], "eu-west-1_abc");
        assert_eq!(json["userPoolClientId"], "client");
        assert_eq!(json["oauth"]["redirectSignIn"][0], "/callback");
        assert!(json.get("userPoolEndpoint").is_none());
    }
}
