//! The default pool, its keys and state on disk, and the router as browsers and the server
//! see it.

use super::*;

#[tokio::test]
async fn the_default_pool_and_client_have_cognitos_ids_and_the_seeds_names() {
    let server = start().await;
    let DefaultPool {
        pool_id,
        client_id,
        pool_name,
        client_name,
    } = server.default.clone();
    let (region, suffix) = pool_id.split_once('_').unwrap();
    assert_eq!(region, "us-east-1");
    assert_eq!(suffix.len(), 9);
    assert!(suffix.chars().all(|c| c.is_ascii_alphanumeric()));
    assert_eq!(client_id.len(), 26);
    assert!(
        client_id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    );
    assert_eq!(
        (pool_name.as_str(), client_name.as_str()),
        ("task-app-users", "task-app-web")
    );
}

#[tokio::test]
async fn the_default_pool_is_described_with_the_seeds_settings() {
    let server = start().await;
    let pool = server
        .ok(
            "DescribeUserPool",
            json!({"UserPoolId": server.default.pool_id}),
        )
        .await;
    assert_eq!(pool["UserPool"]["UsernameAttributes"], json!(["email"]));
    assert_eq!(pool["UserPool"]["AutoVerifiedAttributes"], json!(["email"]));
    assert_eq!(
        pool["UserPool"]["Policies"]["PasswordPolicy"]["MinimumLength"],
        10
    );
    assert!(pool["UserPool"]["CreationDate"].is_i64());
}

#[tokio::test]
async fn the_default_client_has_the_seeds_flows_and_no_secret() {
    let server = start().await;
    let client = server
        .ok(
            "DescribeUserPoolClient",
            json!({"UserPoolId": server.default.pool_id, "ClientId": server.default.client_id}),
        )
        .await;
    assert_eq!(
        client["UserPoolClient"]["ExplicitAuthFlows"],
        json!([
            "ALLOW_USER_SRP_AUTH",
            "ALLOW_REFRESH_TOKEN_AUTH",
            "ALLOW_USER_PASSWORD_AUTH"
        ])
    );
    assert!(client["UserPoolClient"].get("ClientSecret").is_none());
}

#[tokio::test]
async fn the_default_pool_and_its_keys_are_found_again_after_a_restart() {
    let server = start().await;
    let jwks = server.jwks().await;
    let kids: Vec<_> = jwks.keys.iter().map(|k| k.common.key_id.clone()).collect();
    let again = UserPools::open(PoolSettings::new(server.dir.path(), server.base.clone())).unwrap();
    assert_eq!(again.ensure_default_pool().unwrap(), server.default);
    let kids_again: Vec<_> = again
        .jwks(&server.default.pool_id)
        .unwrap()
        .keys
        .iter()
        .map(|k| k.common.key_id.clone())
        .collect();
    assert_eq!(kids, kids_again);
}

#[tokio::test]
async fn unreadable_state_is_reported_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("userpool.sqlite3");
    std::fs::write(
        &path,
        b"this is not a database, and it is not ours to delete",
    )
    .unwrap();
    let result = UserPools::open(PoolSettings::new(dir.path(), "http://127.0.0.1:1"));
    let error = result.err().expect("garbage must not open");
    assert!(matches!(error, PoolOpenError::Corrupt { .. }), "{error}");
    assert!(error.to_string().contains("userpool.sqlite3"));
    assert_eq!(
        std::fs::read(&path).unwrap(),
        b"this is not a database, and it is not ours to delete"
    );
}

/// The discovery document is the hosted UI's (crates/hosted-ui), which serves the
/// endpoints it lists; the JWKS is served here, under the issuer.
#[tokio::test]
async fn the_jwks_is_served_under_the_issuer_and_unknown_pools_are_404() {
    let server = start().await;
    let jwks: Value = server
        .http
        .get(format!("{}/.well-known/jwks.json", server.issuer()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 2);
    let missing = server
        .http
        .get(format!(
            "{}/us-east-1_nothere00/.well-known/jwks.json",
            server.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

/// The server merges this router with the API's; their routes must not collide (a
/// collision panics at the merge).
#[tokio::test]
async fn the_router_merges_with_the_apis() {
    let server = start().await;
    let pools = UserPools::open(PoolSettings::new(server.dir.path(), server.base.clone())).unwrap();
    let api = axum::Router::new()
        .route("/tasks", axum::routing::get(|| async { "tasks" }))
        .route("/tasks/{task_id}", axum::routing::get(|| async { "task" }))
        .route("/healthz", axum::routing::get(|| async { "ok" }));
    let door = AwsDoor::open(pools, Vec::new()).unwrap();
    let _merged = api.merge(taskapi_userpool_aws::router(door));
}

/// Browsers call the pool from any origin with the headers their library chooses: the
/// preflight echoes them.
#[tokio::test]
async fn a_preflight_echoes_the_headers_asked_for() {
    let server = start().await;
    let (url, asked) = (
        format!("{}/", server.base),
        "cache-control,content-type,x-amz-target,x-amz-user-agent",
    );
    let preflight = taskapi_testkit::preflight(&url, "POST", asked).await;
    let headers = preflight.headers();
    assert_eq!(headers["access-control-allow-origin"], "*");
    assert_eq!(headers["access-control-allow-headers"], asked);
    assert!(
        headers["access-control-allow-methods"]
            .to_str()
            .unwrap()
            .contains("POST")
    );
}

/// Scripts in a browser may read the error and request-id headers.
#[tokio::test]
async fn error_and_request_id_headers_are_exposed_to_scripts() {
    let server = start().await;
    let failed = server
        .http
        .post(format!("{}/", server.base))
        .header("origin", "http://localhost:5173")
        .header("x-amz-target", "AWSCognitoIdentityProviderService.GetUser")
        .body(r#"{"AccessToken":"nope"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(failed.status(), 400);
    let exposed = failed.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    for name in [
        "x-amzn-errortype",
        "x-amzn-errormessage",
        "x-amzn-requestid",
    ] {
        assert!(exposed.contains(name), "{exposed}");
    }
}
