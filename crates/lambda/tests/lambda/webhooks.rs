//! The webhook routes on AWS: with `TASKAPI_WEBHOOK_KEY_SECRET` the function reads the
//! key from Secrets Manager during init and seals each new signing secret with it (the
//! table holds no secret in plain text); without it the routes are off. On moto (an
//! endpoint and its pointer are one transaction).

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_secretsmanager::config::{BehaviorVersion, Credentials, Region};
use serde_json::json;
use taskapi_testkit::apigw::{Api, Caller, Request};
use taskapi_testkit::emulator::Emulator;

use crate::function::Function;

#[tokio::test]
async fn webhooks_are_created_with_a_sealed_secret_from_the_stacks_key() {
    let emulator = Emulator::moto();
    let secrets = aws_sdk_secretsmanager::Client::from_conf(
        aws_sdk_secretsmanager::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(emulator.endpoint_url())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("test", "test", None, None, "moto"))
            .build(),
    );
    let key = secrets
        .create_secret()
        .name(format!("webhook-key-{}", uuid::Uuid::new_v4()))
        .secret_string(format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        ))
        .send()
        .await
        .unwrap()
        .arn
        .unwrap();
    let endpoint = emulator.endpoint_url();
    let function = Function::start_with(
        emulator,
        &[
            ("TASKAPI_WEBHOOK_KEY_SECRET", key),
            ("AWS_ENDPOINT_URL_SECRETS_MANAGER", endpoint),
        ],
    )
    .await;
    let alice = Caller::new(None);
    let created = function
        .call(
            Request::new("POST", "/webhooks")
                .by(&alice)
                .json(json!({ "url": "https://1.1.1.1/taskapi", "events": ["task.created"] }))
                .event(Api::Http),
        )
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let secret = created.body["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_"), "{secret}");
    let listed = function
        .call(Request::new("GET", "/webhooks").by(&alice).event(Api::Rest))
        .await;
    assert_eq!(listed.status, 200, "{:?}", listed.body);
    assert_eq!(
        listed.body["webhooks"][0]["webhook_id"],
        created.body["webhook_id"]
    );

    // What a table read alone shows: sealed text, not the secret.
    let items = function
        .emulator
        .client()
        .scan()
        .table_name(function.store.table())
        .send()
        .await
        .unwrap()
        .items
        .unwrap_or_default();
    let plain = secret.trim_start_matches("whsec_");
    assert!(!items.is_empty());
    for item in &items {
        for value in item.values() {
            if let AttributeValue::S(text) = value {
                assert!(!text.contains(plain), "a secret in plain text in the table");
            }
        }
    }
    // The SSRF rule: a private address is refused.
    let private = function
        .call(
            Request::new("POST", "/webhooks")
                .by(&alice)
                .json(json!({ "url": "https://10.0.0.8/hook" }))
                .event(Api::Http),
        )
        .await;
    assert_eq!(private.status, 400, "{:?}", private.body);
}

#[tokio::test]
async fn without_the_key_the_webhook_routes_are_off() {
    let function = Function::start_on(Emulator::moto()).await;
    let alice = Caller::new(None);
    let reply = function
        .call(Request::new("GET", "/webhooks").by(&alice).event(Api::Http))
        .await;
    assert_eq!(reply.status, 404, "{:?}", reply.body);
}
