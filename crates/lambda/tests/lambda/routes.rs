//! Every route through both kinds of API Gateway event: status codes, bodies, isolation
//! between users, the admin group check, and a task the seed's handlers wrote.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Value, json};

use crate::function::Function;
use taskapi_testkit::apigw::{Api, Caller, Request};

#[tokio::test]
async fn every_route_through_a_rest_api_event() {
    every_route(Api::Rest, taskapi_http::ADMIN_GROUP).await;
}

#[tokio::test]
async fn every_route_through_an_http_api_event() {
    every_route(Api::Http, "[ops admins]").await;
}

async fn every_route(api: Api, admin_groups: &'static str) {
    let function = Function::start().await;
    let alice = Caller::new(None);
    let bob = Caller::new(Some("[ops, support]"));
    let admin = Caller::new(Some(admin_groups));
    let call = async |request: Request<'_>| function.call(request.event(api)).await;

    // No authorizer claims at all: the shape API Gateway's own 401 has.
    let anonymous = call(Request::new("GET", "/tasks")).await;
    assert_eq!(anonymous.status, 401);
    assert_eq!(anonymous.body, json!({ "message": "Unauthorized" }));

    // POST with a null body (API Gateway sends null, not "").
    let empty = call(Request::new("POST", "/tasks").by(&alice)).await;
    assert_eq!(empty.status, 400, "{:?}", empty.body);
    assert!(empty.body["message"].is_string());

    let created = call(
        Request::new("POST", "/tasks")
            .by(&alice)
            .json(json!({ "title": "Ship feature X", "status": "pending" })),
    )
    .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_eq!(created.body["title"], "Ship feature X");
    assert_eq!(created.body["status"], "pending");
    assert_eq!(created.body["description"], "");
    let id = created.body["task_id"].as_str().unwrap().to_owned();
    let task_path = format!("/tasks/{id}");
    assert_eq!(
        created.header("etag"),
        Some(format!("\"{}\"", created.body["updated_at"].as_str().unwrap()).as_str())
    );

    // A null queryStringParameters is no filter.
    let listed = call(Request::new("GET", "/tasks").by(&alice)).await;
    assert_eq!(listed.status, 200);
    assert_eq!(listed.body["count"], 1);
    assert_eq!(listed.body["tasks"][0]["task_id"], id.as_str());
    assert_eq!(listed.body["next_token"], Value::Null);
    let filtered = call(
        Request::new("GET", "/tasks")
            .by(&alice)
            .query(&[("status", "done"), ("limit", "5")]),
    )
    .await;
    assert_eq!((filtered.status, &filtered.body["count"]), (200, &json!(0)));
    let bad_status = call(
        Request::new("GET", "/tasks")
            .by(&alice)
            .query(&[("status", "finished")]),
    )
    .await;
    assert_eq!(bad_status.status, 400);

    let fetched = call(Request::new("GET", &task_path).by(&alice)).await;
    assert_eq!(fetched.status, 200);
    assert_eq!(fetched.body, created.body);

    // Bob sees nothing of Alice's and cannot change it.
    let peek = call(Request::new("GET", &task_path).by(&bob)).await;
    assert_eq!(peek.status, 404);
    let bobs = call(Request::new("GET", "/tasks").by(&bob)).await;
    assert_eq!(bobs.body["count"], 0);
    let hijack = call(
        Request::new("PATCH", &task_path)
            .by(&bob)
            .json(json!({ "title": "mine now" })),
    )
    .await;
    assert_eq!(hijack.status, 404);
    let vandal = call(Request::new("DELETE", &task_path).by(&bob)).await;
    assert_eq!(vandal.status, 404);

    let updated = call(
        Request::new("PATCH", &task_path)
            .by(&alice)
            .json(json!({ "status": "done" })),
    )
    .await;
    assert_eq!(updated.status, 200, "{:?}", updated.body);
    assert_eq!(updated.body["task"]["status"], "done");
    assert_eq!(updated.body["task"]["title"], "Ship feature X");
    let stale_tag = created.header("etag").unwrap().to_owned();
    let stale = call(
        Request::new("PATCH", &task_path)
            .by(&alice)
            .header(&[("If-Match", stale_tag.as_str())])
            .json(json!({ "title": "late edit" })),
    )
    .await;
    assert_eq!(stale.status, 412, "{:?}", stale.body);
    let missing = call(
        Request::new("PATCH", "/tasks/no-such-task")
            .by(&alice)
            .json(json!({ "status": "done" })),
    )
    .await;
    assert_eq!(missing.status, 404);

    // The admin view: only for the admins group.
    let not_admin = call(
        Request::new("GET", "/admin/tasks")
            .by(&bob)
            .query(&[("status", "done")]),
    )
    .await;
    assert_eq!(not_admin.status, 403);
    let as_alice = call(Request::new("GET", "/admin/tasks").by(&alice)).await;
    assert_eq!(as_alice.status, 403);
    let admin_view = call(
        Request::new("GET", "/admin/tasks")
            .by(&admin)
            .query(&[("status", "done")]),
    )
    .await;
    assert_eq!(admin_view.status, 200, "{:?}", admin_view.body);
    assert_eq!(admin_view.body["tasks"][0]["task_id"], id.as_str());

    let deleted = call(Request::new("DELETE", &task_path).by(&alice)).await;
    assert_eq!((deleted.status, &deleted.body), (204, &Value::Null));
    let again = call(Request::new("DELETE", &task_path).by(&alice)).await;
    assert_eq!(again.status, 404);
    let gone = call(Request::new("GET", &task_path).by(&alice)).await;
    assert_eq!(gone.status, 404);

    let openapi = call(Request::new("GET", "/openapi.json")).await;
    assert_eq!(openapi.status, 200);
    assert!(openapi.body["paths"]["/tasks/{taskId}"].is_object());
    let nowhere = call(Request::new("GET", "/nowhere").by(&alice)).await;
    assert_eq!(nowhere.status, 404);
}

/// HTTP APIs on a named stage put it in `rawPath`; the route must still match.
#[tokio::test]
async fn http_api_paths_on_a_named_stage() {
    let function = Function::start().await;
    let alice = Caller::new(None);
    let request = Request::new("POST", "/tasks")
        .by(&alice)
        .json(json!({ "title": "staged" }));
    let created = function.call(request.http_event_on_stage("prod")).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let listed = function
        .call(
            Request::new("GET", "/tasks")
                .by(&alice)
                .query(&[("limit", "10")])
                .http_event_on_stage("prod"),
        )
        .await;
    assert_eq!((listed.status, &listed.body["count"]), (200, &json!(1)));
}

/// A task the seed's `create_task.py` wrote is served, and updated under its ETag.
#[tokio::test]
async fn a_task_written_by_the_seed_is_served() {
    let function = Function::start().await;
    let alice = Caller::new(None);
    let task_id = uuid::Uuid::new_v4().to_string();
    let now = "2026-03-04T05:06:07.891011";
    let s = |v: &str| AttributeValue::S(v.to_owned());
    let item = HashMap::from([
        ("PK".to_owned(), s(&format!("USER#{}", alice.sub))),
        ("SK".to_owned(), s(&format!("TASK#{task_id}"))),
        ("GSI1PK".to_owned(), s("STATUS#pending")),
        ("GSI1SK".to_owned(), s(now)),
        ("task_id".to_owned(), s(&task_id)),
        ("title".to_owned(), AttributeValue::N("42".to_owned())),
        ("status".to_owned(), s("pending")),
        ("created_at".to_owned(), s(now)),
        ("updated_at".to_owned(), s(now)),
    ]);
    function
        .emulator
        .client()
        .put_item()
        .table_name(function.store.table())
        .set_item(Some(item))
        .send()
        .await
        .unwrap();

    let path = format!("/tasks/{task_id}");
    let fetched = function
        .call(Request::new("GET", &path).by(&alice).event(Api::Rest))
        .await;
    assert_eq!(fetched.status, 200, "{:?}", fetched.body);
    assert_eq!(fetched.body["title"], "42");
    assert_eq!(fetched.body["description"], "");
    assert_eq!(fetched.body["created_at"], "2026-03-04T05:06:07.891011Z");
    let etag = fetched.header("etag").unwrap().to_owned();
    let updated = function
        .call(
            Request::new("PATCH", &path)
                .by(&alice)
                .header(&[("If-Match", etag.as_str())])
                .json(json!({ "status": "in_progress" }))
                .event(Api::Rest),
        )
        .await;
    assert_eq!(updated.status, 200, "{:?}", updated.body);
    assert_eq!(updated.body["task"]["status"], "in_progress");
}

/// Init opens the DynamoDB connection, and every log line of an invocation is JSON that
/// names its request id.
#[tokio::test]
async fn init_warms_dynamodb_and_logs_carry_the_request_id() {
    let function = Function::start().await;
    let alice = Caller::new(None);
    let reply = function
        .call(Request::new("GET", "/tasks").by(&alice).event(Api::Rest))
        .await;
    assert_eq!(reply.status, 200);
    eprintln!("init took {:?}", function.init_duration());
    assert!(function.runtime.init_error().is_none());

    let logs = function.logs();
    assert!(
        logs.iter()
            .any(|line| line["fields"]["message"] == "DynamoDB connection ready"),
        "no warm-up line in {logs:#?}"
    );
    let in_invocation: Vec<&Value> = logs
        .iter()
        .filter(|line| {
            line["spans"]
                .as_array()
                .is_some_and(|spans| !spans.is_empty())
        })
        .collect();
    assert!(
        !in_invocation.is_empty(),
        "no log line inside an invocation: {logs:#?}"
    );
    for line in in_invocation {
        let invoke = &line["spans"][0];
        assert_eq!(invoke["name"], "Lambda runtime invoke", "{line}");
        assert!(invoke["requestId"].is_string(), "{line}");
    }
}
