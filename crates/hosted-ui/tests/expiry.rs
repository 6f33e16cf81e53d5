//! Time-dependent rules of the hosted UI, with the user pool's clock under the test's control:
//! authorization codes die after five minutes, sign-in sessions after an hour.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response, StatusCode, header};
use taskapi_hosted_ui::{HostedUi, Listener};
use taskapi_userpool::{Clock, DefaultPool, PoolSettings, Tuning, UserPools};
use tower::ServiceExt;

const CALLBACK: &str = "http://localhost:3000/callback";
const PASSWORD: &str = "TestPass123!";

struct ManualClock(AtomicI64);

impl Clock for ManualClock {
    fn now(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

struct Harness {
    router: Router,
    clock: Arc<ManualClock>,
    pool: DefaultPool,
    _dir: tempfile::TempDir,
}

impl Harness {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(ManualClock(AtomicI64::new(1_800_000_000)));
        let pools = UserPools::open_with(
            PoolSettings::new(dir.path(), "http://localhost"),
            Tuning {
                clock: clock.clone(),
                ..Tuning::default()
            },
        )
        .unwrap();
        let pool = pools.ensure_default_pool().unwrap();
        pools
            .self_sign_up(&pool.client_id, "ann@example.com", PASSWORD)
            .unwrap();
        let outbox = std::fs::read_to_string(dir.path().join("outbox.jsonl")).unwrap();
        let message: serde_json::Value =
            serde_json::from_str(outbox.lines().last().unwrap()).unwrap();
        pools
            .confirm_self_sign_up(
                &pool.client_id,
                "ann@example.com",
                message["code"].as_str().unwrap(),
                None,
            )
            .unwrap();
        let router = HostedUi::new(pools).router(Listener {
            base_url: "http://localhost".into(),
            secure: false,
        });
        Self {
            router,
            clock,
            pool,
            _dir: dir,
        }
    }

    fn advance(&self, seconds: i64) {
        self.clock.0.fetch_add(seconds, Ordering::SeqCst);
    }

    async fn send(&self, request: Request<Body>) -> Response<Body> {
        self.router.clone().oneshot(request).await.unwrap()
    }

    fn authorize_query(&self) -> String {
        format!(
            "client_id={}&redirect_uri={}&response_type=code&scope=openid",
            self.pool.client_id, "http%3A%2F%2Flocalhost%3A3000%2Fcallback"
        )
    }

    /// Signs in through the login form; returns the session cookie and the code.
    async fn sign_in(&self) -> (String, String) {
        let query = self.authorize_query();
        let page = self.send(get(&format!("/login?{query}"), None)).await;
        assert_eq!(page.status(), StatusCode::OK);
        let csrf_cookie = cookie(&page, "XSRF-TOKEN");
        let html = text(page).await;
        let token = html
            .split("name=\"_csrf\" value=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap()
            .to_owned();
        let body = format!("_csrf={token}&username=ann%40example.com&password=TestPass123%21");
        let response = self
            .send(
                Request::post(format!("/login?{query}"))
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .header(header::COOKIE, format!("XSRF-TOKEN={csrf_cookie}"))
                    .body(Body::from(body))
                    .unwrap(),
            )
            .await;
        assert_eq!(response.status(), StatusCode::FOUND);
        let session = cookie(&response, "cognito");
        (session, code_of(&response))
    }

    async fn exchange(&self, code: &str) -> Response<Body> {
        let body = format!(
            "grant_type=authorization_code&client_id={}&code={code}&redirect_uri={}",
            self.pool.client_id, "http%3A%2F%2Flocalhost%3A3000%2Fcallback"
        );
        self.send(
            Request::post("/oauth2/token")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(body))
                .unwrap(),
        )
        .await
    }
}

fn get(uri: &str, session: Option<&str>) -> Request<Body> {
    let mut request = Request::get(uri);
    if let Some(session) = session {
        request = request.header(header::COOKIE, format!("cognito={session}"));
    }
    request.body(Body::empty()).unwrap()
}

fn cookie(response: &Response<Body>, name: &str) -> String {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix(&format!("{name}=")))
        .and_then(|v| v.split(';').next())
        .unwrap_or_else(|| panic!("no {name} cookie set"))
        .to_owned()
}

fn code_of(response: &Response<Body>) -> String {
    let location = response.headers()[header::LOCATION].to_str().unwrap();
    assert!(location.starts_with(CALLBACK), "{location}");
    location
        .split("code=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_owned()
}

async fn text(response: Response<Body>) -> String {
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[tokio::test]
async fn a_code_is_good_for_five_minutes() {
    let app = Harness::new();
    let (_, code) = app.sign_in().await;
    app.advance(299);
    assert_eq!(app.exchange(&code).await.status(), StatusCode::OK);

    let (_, late) = app.sign_in().await;
    app.advance(300);
    let expired = app.exchange(&late).await;
    assert_eq!(expired.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = serde_json::from_str(&text(expired).await).unwrap();
    assert_eq!(body["error"], "invalid_grant");
}

#[tokio::test]
async fn a_session_lasts_one_hour() {
    let app = Harness::new();
    let (session, _) = app.sign_in().await;
    let query = app.authorize_query();
    app.advance(3599);
    let again = app
        .send(get(&format!("/oauth2/authorize?{query}"), Some(&session)))
        .await;
    assert_eq!(again.status(), StatusCode::FOUND);
    assert!(!code_of(&again).is_empty());
    app.advance(1);
    let expired = app
        .send(get(&format!("/oauth2/authorize?{query}"), Some(&session)))
        .await;
    let location = expired.headers()[header::LOCATION].to_str().unwrap();
    assert!(location.starts_with("/login?"), "{location}");
}
