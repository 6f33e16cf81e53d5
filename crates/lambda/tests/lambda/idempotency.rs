//! `POST /tasks` with an `Idempotency-Key` through the real binary, on moto (the key's
//! record and the task are written in one `TransactWriteItems`, which dynalite lacks).

use serde_json::{Value, json};
use taskapi_testkit::apigw::{Api, Caller, Request};
use taskapi_testkit::emulator::Emulator;

use crate::function::Function;

#[tokio::test]
async fn a_retried_create_through_a_rest_api_event() {
    retried_create(Api::Rest).await;
}

#[tokio::test]
async fn a_retried_create_through_an_http_api_event() {
    retried_create(Api::Http).await;
}

async fn retried_create(api: Api) {
    let function = Function::start_on(Emulator::moto()).await;
    let alice = Caller::new(None);
    let call = async |request: Request<'_>| function.call(request.event(api)).await;
    let post = async |headers: &[(&str, &str)], body: Value| {
        call(
            Request::new("POST", "/tasks")
                .by(&alice)
                .header(headers)
                .json(body),
        )
        .await
    };
    let key = [("Idempotency-Key", "8e0f6a52-retry")];
    let body = json!({ "title": "Pay the invoice" });

    let first = post(&key, body.clone()).await;
    assert_eq!(first.status, 201, "{:?}", first.body);
    assert_eq!(first.header("idempotent-replayed"), None);

    let retry = post(&key, body).await;
    assert_eq!(retry.status, 201, "{:?}", retry.body);
    assert_eq!(retry.body, first.body, "the first answer, again");
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    assert_eq!(retry.header("etag"), first.header("etag"));

    let other = post(&key, json!({ "title": "Pay another invoice" })).await;
    assert_eq!(other.status, 422, "{:?}", other.body);
    assert_eq!(other.body["code"], "idempotency_key_reused");

    let bad_key = [("Idempotency-Key", "")];
    let refused = post(&bad_key, json!({ "title": "x" })).await;
    assert_eq!(refused.status, 400, "{:?}", refused.body);
    assert_eq!(refused.body["code"], "invalid_idempotency_key");

    let listed = call(Request::new("GET", "/tasks").by(&alice)).await;
    assert_eq!(listed.body["count"], 1, "{:?}", listed.body);
    assert_eq!(listed.body["tasks"][0], first.body);
}
