//! Every task route needs a valid ID token of the trusted pool; the answer otherwise is
//! API Gateway's exact 401.

use reqwest::{Method, StatusCode};
use serde_json::json;
use taskapi_testkit::{Signer, TRUSTED_KID, now, sign, unsigned};

use crate::helpers::{User, error_of, spawn_app};

const ROUTES: [(&str, &str); 6] = [
    ("POST", "/tasks"),
    ("GET", "/tasks"),
    ("GET", "/tasks/0193f0e4-0000-7000-8000-000000000000"),
    ("PATCH", "/tasks/0193f0e4-0000-7000-8000-000000000000"),
    ("DELETE", "/tasks/0193f0e4-0000-7000-8000-000000000000"),
    ("GET", "/admin/tasks"),
];

#[tokio::test]
async fn every_route_refuses_missing_and_bad_tokens() {
    let app = spawn_app().await;
    let good = app.pool.claims("alice", &["admins"]);
    let mut expired = good.clone();
    expired["exp"] = json!(now() - 60);
    let bad_tokens = [
        None,
        Some("garbage".to_owned()),
        Some(unsigned(&good)),
        Some(sign(&expired, Signer::Trusted, TRUSTED_KID)),
        Some(sign(&good, Signer::Foreign, TRUSTED_KID)),
    ];
    for (method, path) in ROUTES {
        for token in &bad_tokens {
            let mut request = app
                .anonymous(method.parse::<Method>().unwrap(), path)
                .json(&json!({"title": "sneaky"}));
            if let Some(token) = token {
                request = request.header("authorization", token);
            }
            let (status, body) = error_of(request.send().await.unwrap()).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path}");
            assert_eq!(
                body,
                json!({"message": "Unauthorized"}),
                "API Gateway's shape"
            );
        }
    }
}

#[tokio::test]
async fn bearer_and_bare_tokens_both_work() {
    let app = spawn_app().await;
    let alice = app.user();
    let bearer = User {
        sub: alice.sub.clone(),
        token: format!("Bearer {}", alice.token),
    };
    app.create_ok(&alice, "bare").await;
    app.create_ok(&bearer, "bearer").await;
    assert_eq!(
        app.tasks_of(&alice).await.len(),
        2,
        "the same user either way"
    );
}

#[tokio::test]
async fn unauthenticated_routes_stay_open() {
    let app = spawn_app().await;
    for path in ["/healthz", "/openapi.json"] {
        let response = app.anonymous(Method::GET, path).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
    }
}
