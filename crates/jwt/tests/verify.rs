//! The verifier against a stand-in pool serving its JWKS over HTTP: good tokens pass,
//! every kind of forgery is refused.

use std::sync::Arc;

use serde_json::{Value, json};
use taskapi_http::{Authenticator, Principal};
use taskapi_jwt::{JwtAuthenticator, RemoteJwks, TrustedPool};
use taskapi_testkit::{
    CLIENT_ID, Signer, TRUSTED_KID, TestPool, now, sign, sign_hs256_with_public_key, unsigned,
    with_payload,
};

fn verifier(pool: &TestPool) -> JwtAuthenticator {
    JwtAuthenticator::new(TrustedPool {
        issuer: pool.issuer.clone(),
        audiences: vec![CLIENT_ID.to_owned()],
        keys: Arc::new(RemoteJwks::new(format!(
            "{}/.well-known/jwks.json",
            pool.issuer
        ))),
    })
}

async fn authenticate(verifier: &JwtAuthenticator, authorization: &str) -> Option<Principal> {
    let (parts, ()) = http::Request::builder()
        .header("authorization", authorization)
        .body(())
        .unwrap()
        .into_parts();
    verifier.authenticate(&parts).await.ok()
}

fn with(mut claims: Value, key: &str, value: Value) -> Value {
    claims[key] = value;
    claims
}

#[tokio::test]
async fn accepts_a_pool_token_bare_or_bearer() {
    let pool = TestPool::start().await;
    let verifier = verifier(&pool);
    let token = pool.id_token("alice", &["admins"]);
    let principal = authenticate(&verifier, &token).await.expect("bare token");
    assert_eq!(principal.sub, "alice");
    assert_eq!(principal.email.as_deref(), Some("alice@example.com"));
    assert_eq!(principal.groups, vec!["admins".to_owned()]);
    assert!(principal.is_admin());
    let again = authenticate(&verifier, &format!("Bearer {token}")).await;
    assert_eq!(again, Some(principal), "Bearer form, served from the cache");
}

#[tokio::test]
async fn refuses_forgeries_and_wrong_tokens() {
    let pool = TestPool::start().await;
    let verifier = verifier(&pool);
    let good = pool.claims("alice", &[]);
    let valid = sign(&good, Signer::Trusted, TRUSTED_KID);
    let cases = [
        ("alg none", unsigned(&good)),
        (
            "HS256 keyed with the public key",
            sign_hs256_with_public_key(&good),
        ),
        (
            "tampered payload",
            with_payload(&valid, &with(good.clone(), "sub", json!("mallory"))),
        ),
        (
            "foreign key under the pool's kid",
            sign(&good, Signer::Foreign, TRUSTED_KID),
        ),
        (
            "foreign key, unknown kid",
            sign(&good, Signer::Foreign, "foreign-key"),
        ),
        (
            "another pool",
            sign(
                &with(good.clone(), "iss", json!("http://127.0.0.1:1/other-pool")),
                Signer::Trusted,
                TRUSTED_KID,
            ),
        ),
        (
            "another app client",
            sign(
                &with(good.clone(), "aud", json!("someoneelse")),
                Signer::Trusted,
                TRUSTED_KID,
            ),
        ),
        (
            "access token",
            sign(
                &with(good.clone(), "token_use", json!("access")),
                Signer::Trusted,
                TRUSTED_KID,
            ),
        ),
        (
            "expired",
            sign(
                &with(good.clone(), "exp", json!(now() - 120)),
                Signer::Trusted,
                TRUSTED_KID,
            ),
        ),
        (
            "issued in the future",
            sign(
                &with(good.clone(), "iat", json!(now() + 3600)),
                Signer::Trusted,
                TRUSTED_KID,
            ),
        ),
        ("garbage", "not-a-token".to_owned()),
        ("empty bearer", "Bearer ".to_owned()),
        ("basic auth", "Basic YWxpY2U6cHc=".to_owned()),
    ];
    for (what, token) in cases {
        assert_eq!(
            authenticate(&verifier, &token).await,
            None,
            "{what} was accepted"
        );
    }
    assert!(
        authenticate(&verifier, &valid).await.is_some(),
        "the original still works"
    );
}

/// Invitations go only to a verified address, so the flag must be read exactly: Cognito's
/// boolean, or the string some tools send; anything else is "not verified".
#[tokio::test]
async fn email_verified_is_read_as_cognito_sends_it() {
    let pool = TestPool::start().await;
    let verifier = verifier(&pool);
    for (flag, verified) in [
        (json!(true), true),
        (json!("true"), true),
        (json!(false), false),
        (json!("false"), false),
        (json!("yes"), false),
        (Value::Null, false),
    ] {
        let claims = with(pool.claims("carol", &[]), "email_verified", flag.clone());
        let token = sign(&claims, Signer::Trusted, TRUSTED_KID);
        let principal = authenticate(&verifier, &token)
            .await
            .expect("a valid token");
        assert_eq!(principal.email_verified, verified, "{flag}");
        assert_eq!(
            principal.verified_email().is_some(),
            verified,
            "{flag}: the address counts only when verified"
        );
    }
    let mut claims = pool.claims("dave", &[]);
    claims.as_object_mut().unwrap().remove("email_verified");
    let token = sign(&claims, Signer::Trusted, TRUSTED_KID);
    let principal = authenticate(&verifier, &token).await.unwrap();
    assert!(!principal.email_verified, "no claim: not verified");
}
