//! Behind a Function URL (`AuthType: NONE`) nothing verifies the caller before the
//! function runs: with `TASKAPI_JWT_ISSUER` set it verifies the ID token itself, against
//! the pool's JWKS fetched once, during init.

use std::time::Duration;

use serde_json::{Value, json};
use taskapi_testkit::apigw::{Api, Reply, Request};
use taskapi_testkit::emulator::Emulator;
use taskapi_testkit::{CLIENT_ID, Signer, TRUSTED_KID, TestPool, now, sign};

use crate::function::Function;

async fn call(function: &Function, method: &str, path: &str, token: Option<&str>) -> Reply {
    call_with(function, Request::new(method, path), token).await
}

async fn call_with(function: &Function, request: Request<'_>, token: Option<&str>) -> Reply {
    let headers = token.map(|token| [("Authorization", token)]);
    let request = match &headers {
        Some(headers) => request.header(headers),
        None => request,
    };
    function.call(request.event(Api::FunctionUrl)).await
}

fn assert_unauthorized(reply: &Reply, what: &str) {
    assert_eq!(reply.status, 401, "{what}: {:?}", reply.body);
    assert_eq!(
        reply.body,
        json!({ "message": "Unauthorized" }),
        "{what}: API Gateway's body"
    );
}

/// Claims of an ID token of `pool`, changed by `edit`.
fn claims(pool: &TestPool, edit: impl FnOnce(&mut Value)) -> Value {
    let mut claims = pool.claims("alice", &[]);
    edit(&mut claims);
    claims
}

#[tokio::test]
async fn function_url_requests_are_verified_by_the_function() {
    let pool = TestPool::start().await;
    let function = Function::start_with(
        Emulator::dynalite(),
        &[
            ("TASKAPI_JWT_ISSUER", pool.issuer.clone()),
            ("TASKAPI_JWT_AUDIENCE", CLIENT_ID.to_owned()),
        ],
    )
    .await;
    let started = std::time::Instant::now();
    while function.runtime.first_poll().is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "init never ended"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(pool.jwks_fetches(), 1, "the JWKS is fetched during init");

    let alice = pool.id_token("alice", &[]);
    let created = call_with(
        &function,
        Request::new("POST", "/tasks").json(json!({ "title": "Ship feature X" })),
        Some(&alice),
    )
    .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let listed = call(&function, "GET", "/tasks", Some(&format!("Bearer {alice}"))).await;
    assert_eq!(listed.status, 200, "{:?}", listed.body);
    assert_eq!(listed.body["count"], 1);
    assert_eq!(listed.body["tasks"][0]["task_id"], created.body["task_id"]);

    let admin = pool.id_token("root", &["admins"]);
    let admin_view = call(&function, "GET", "/admin/tasks", Some(&admin)).await;
    assert_eq!(admin_view.status, 200, "{:?}", admin_view.body);
    assert_eq!(admin_view.body["count"], 1);
    let forbidden = call(&function, "GET", "/admin/tasks", Some(&alice)).await;
    assert_eq!(forbidden.status, 403, "groups come from the verified token");

    let other_pool = TestPool::start().await;
    let refused = [
        ("no token", None),
        (
            "a token signed by a key the pool never published",
            Some(sign(&claims(&pool, |_| {}), Signer::Foreign, TRUSTED_KID)),
        ),
        (
            "an access token",
            Some(sign(
                &claims(&pool, |c| c["token_use"] = json!("access")),
                Signer::Trusted,
                TRUSTED_KID,
            )),
        ),
        (
            "another pool's ID token",
            Some(other_pool.id_token("alice", &[])),
        ),
        (
            "another app client's ID token",
            Some(sign(
                &claims(&pool, |c| c["aud"] = json!("someotherclient")),
                Signer::Trusted,
                TRUSTED_KID,
            )),
        ),
        (
            "an expired ID token",
            Some(sign(
                &claims(&pool, |c| {
                    c["iat"] = json!(now() - 7200);
                    c["exp"] = json!(now() - 3600);
                }),
                Signer::Trusted,
                TRUSTED_KID,
            )),
        ),
    ];
    for (what, token) in &refused {
        assert_unauthorized(
            &call(&function, "GET", "/tasks", token.as_deref()).await,
            what,
        );
    }
    assert_eq!(
        pool.jwks_fetches(),
        1,
        "the JWKS is fetched once and kept across invocations"
    );

    // CORS comes from the router (the Function URL has no CORS config of its own).
    let preflight = call_with(
        &function,
        Request::new("OPTIONS", "/tasks").header(&[
            ("Origin", "https://tasks.example.com"),
            ("Access-Control-Request-Method", "POST"),
            (
                "Access-Control-Request-Headers",
                "authorization,content-type",
            ),
        ]),
        None,
    )
    .await;
    assert!(preflight.status < 300, "{:?}", preflight.status);
    assert!(
        preflight.header("access-control-allow-origin").is_some(),
        "the router answers the preflight"
    );
}

#[tokio::test]
async fn without_an_issuer_only_authorizer_claims_count() {
    // A Function URL in front of a function configured for API Gateway: a valid token is
    // not enough, since nobody verified it.
    let pool = TestPool::start().await;
    let function = Function::start().await;
    let token = pool.id_token("alice", &[]);
    assert_unauthorized(
        &call(&function, "GET", "/tasks", Some(&token)).await,
        "a token without an authorizer",
    );
    assert_eq!(pool.jwks_fetches(), 0);
}
