//! The WebSocket API's routes: `$connect` verifies the ID token in the function and records
//! the socket until the token expires; nothing else gets a socket; `$disconnect` forgets
//! it; anything a client sends is answered with an error frame.

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Value, json};
use taskapi_testkit::{Signer, TRUSTED_KID, TestPool, now, sign};

use crate::harness::{Stack, connect_event, connection_id, disconnect_event, message_event};

/// The items of partition `pk` whose sort key starts with `prefix`.
async fn items(
    stack: &Stack,
    pk: &str,
    prefix: &str,
) -> Vec<std::collections::HashMap<String, AttributeValue>> {
    stack
        .emulator
        .client()
        .query()
        .table_name(stack.store.table())
        .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
        .expression_attribute_values(":pk", AttributeValue::S(pk.to_owned()))
        .expression_attribute_values(":prefix", AttributeValue::S(prefix.to_owned()))
        .send()
        .await
        .unwrap()
        .items
        .unwrap_or_default()
}

fn number(item: &std::collections::HashMap<String, AttributeValue>, name: &str) -> i64 {
    item[name].as_n().unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_a_valid_id_token_opens_a_socket_until_it_expires() {
    let stack = Stack::start(&[("TASKAPI_MAX_SOCKETS_PER_USER", "2".to_owned())]).await;
    let claims = stack.pool.claims("alice", &[]);
    let id = connection_id();
    let token = stack.pool.id_token("alice", &[]);
    let reply = stack
        .websocket
        .invoke(connect_event(&id, Some(&token)))
        .await;
    assert_eq!(reply["statusCode"], 200, "{reply}");
    assert_eq!(stack.pool.jwks_fetches(), 1, "the JWKS is fetched in init");

    let sockets = items(&stack, "USER#alice", "CONNECTION#").await;
    assert_eq!(sockets.len(), 1);
    assert_eq!(
        sockets[0]["SK"].as_s().unwrap(),
        &format!("CONNECTION#{id}")
    );
    let expires_at = number(&sockets[0], "expires_at");
    let exp = claims["exp"].as_i64().unwrap();
    assert!(
        (exp - 5..=exp + 5).contains(&expires_at),
        "the TTL is the token's expiry: {expires_at} vs {exp}"
    );
    let lookup = items(&stack, &format!("CONNECTION#{id}"), "CONNECTION").await;
    assert_eq!(lookup.len(), 1);
    assert_eq!(lookup[0]["user"].as_s().unwrap(), "alice");
    assert_eq!(number(&lookup[0], "expires_at"), expires_at);

    let other_pool = TestPool::start().await;
    let edited = |edit: &dyn Fn(&mut Value)| {
        let mut claims = stack.pool.claims("mallory", &[]);
        edit(&mut claims);
        sign(&claims, Signer::Trusted, TRUSTED_KID)
    };
    let refused: [(&str, Option<String>); 6] = [
        ("no token", None),
        (
            "a key the pool never published",
            Some(sign(
                &stack.pool.claims("mallory", &[]),
                Signer::Foreign,
                TRUSTED_KID,
            )),
        ),
        (
            "another pool's token",
            Some(other_pool.id_token("mallory", &[])),
        ),
        (
            "an expired token",
            Some(edited(&|c| {
                c["iat"] = json!(now() - 7200);
                c["exp"] = json!(now() - 3600);
            })),
        ),
        (
            "an access token",
            Some(edited(&|c| c["token_use"] = json!("access"))),
        ),
        ("garbage", Some("not.a.token".to_owned())),
    ];
    for (what, token) in &refused {
        let reply = stack
            .websocket
            .invoke(connect_event(&connection_id(), token.as_deref()))
            .await;
        assert_eq!(reply["statusCode"], 401, "{what}: {reply}");
    }
    assert!(
        items(&stack, "USER#mallory", "CONNECTION#")
            .await
            .is_empty(),
        "a refused handshake records nothing"
    );

    // The per-user cap.
    let second = stack.connect("alice").await;
    let third = stack
        .websocket
        .invoke(connect_event(&connection_id(), Some(&token)))
        .await;
    assert_eq!(third["statusCode"], 429, "{third}");
    assert_eq!(items(&stack, "USER#alice", "CONNECTION#").await.len(), 2);

    // Clients have nothing to say.
    let answer = stack
        .websocket
        .invoke(message_event(&id, r#"{"subscribe":"PROJECT#x"}"#))
        .await;
    assert_eq!(answer["statusCode"], 400);
    let frame: Value = serde_json::from_str(answer["body"].as_str().unwrap()).unwrap();
    assert_eq!(frame["type"], "error", "{frame}");

    // $disconnect forgets both items, and may come twice.
    for _ in 0..2 {
        let reply = stack.websocket.invoke(disconnect_event(&id)).await;
        assert_eq!(reply["statusCode"], 200);
    }
    let left = items(&stack, "USER#alice", "CONNECTION#").await;
    assert_eq!(left.len(), 1);
    assert_eq!(
        left[0]["SK"].as_s().unwrap(),
        &format!("CONNECTION#{second}")
    );
    assert!(
        items(&stack, &format!("CONNECTION#{id}"), "CONNECTION")
            .await
            .is_empty()
    );
    // A freed slot can be used again.
    stack.connect("alice").await;
    assert_eq!(
        stack.pool.jwks_fetches(),
        1,
        "the JWKS is kept across invocations"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_table_that_cannot_be_reached_refuses_the_handshake_with_503() {
    let stack = Stack::start(&[]).await;
    // A second socket function whose table is nowhere: nothing listens on the port.
    let nowhere = format!(
        "http://127.0.0.1:{}",
        taskapi_testkit::emulator::free_port()
    );
    let function = crate::harness::Function::start(
        &stack.emulator,
        stack.store.table(),
        &[
            ("TASKAPI_EVENTS_FUNCTION", "websocket".to_owned()),
            ("TASKAPI_JWT_ISSUER", stack.pool.issuer.clone()),
            ("AWS_ENDPOINT_URL_DYNAMODB", nowhere),
        ],
    )
    .await;
    let token = stack.pool.id_token("alice", &[]);
    let reply = function
        .invoke(connect_event(&connection_id(), Some(&token)))
        .await;
    assert_eq!(reply["statusCode"], 503, "{reply}");
    // A disconnect cannot be refused; what it could not delete, TTL removes.
    let reply = function.invoke(disconnect_event(&connection_id())).await;
    assert_eq!(reply["statusCode"], 200, "{reply}");
}
