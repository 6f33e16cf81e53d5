//! Every route through both kinds of API Gateway event, one test per behaviour: status
//! codes, bodies, isolation between users, the admin group check, and a task the seed's
//! handlers wrote.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Value, json};

use crate::function::Function;
use taskapi_testkit::apigw::{Api, Caller, Reply, Request};

/// Both event shapes, with the `cognito:groups` claim as each API type stringifies it.
const APIS: [(Api, &str); 2] = [
    (Api::Rest, taskapi_http::ADMIN_GROUP),
    (Api::Http, "[ops admins]"),
];

/// Alice, on one API, with a task she has just created through it, and Bob, a user in
/// other groups than the admins: where every test of one task starts.
struct AlicesTask<'f> {
    function: &'f Function,
    api: Api,
    alice: Caller,
    bob: Caller,
    id: String,
    /// `/tasks/{id}`.
    path: String,
    /// The answer to the create.
    created: Reply,
}

impl<'f> AlicesTask<'f> {
    async fn create(function: &'f Function, api: Api, title: &str) -> Self {
        let alice = Caller::new(None);
        let request = Request::new("POST", "/tasks")
            .by(&alice)
            .json(json!({ "title": title, "status": "pending" }));
        let created = function.call(request.event(api)).await;
        assert_eq!(created.status, 201, "{api:?}: {:?}", created.body);
        let id = created.body["task_id"].as_str().unwrap().to_owned();
        let path = format!("/tasks/{id}");
        Self {
            function,
            api,
            alice,
            bob: Caller::new(Some("[ops, support]")),
            id,
            path,
            created,
        }
    }

    /// Sends `request` through this task's API.
    async fn call(&self, request: Request<'_>) -> Reply {
        self.function.call(request.event(self.api)).await
    }
}

#[tokio::test]
async fn requests_without_claims_and_bad_input_are_refused() {
    let function = Function::start().await;
    let alice = Caller::new(None);
    for (api, _) in APIS {
        let call = async |request: Request<'_>| function.call(request.event(api)).await;
        // No authorizer claims at all: the shape API Gateway's own 401 has.
        let anonymous = call(Request::new("GET", "/tasks")).await;
        assert_eq!(anonymous.status, 401);
        assert_eq!(anonymous.body, json!({ "message": "Unauthorized" }));
        // POST with a null body (API Gateway sends null, not "").
        let empty = call(Request::new("POST", "/tasks").by(&alice)).await;
        assert_eq!(empty.status, 400, "{api:?}: {:?}", empty.body);
        assert!(empty.body["message"].is_string());
        let bad_status = Request::new("GET", "/tasks").by(&alice);
        for (what, request, status) in [
            (
                "unknown status",
                bad_status.query(&[("status", "finished")]),
                400,
            ),
            ("no route", Request::new("GET", "/nowhere").by(&alice), 404),
        ] {
            let reply = call(request).await;
            assert_eq!(reply.status, status, "{api:?} {what}: {:?}", reply.body);
        }
        let openapi = call(Request::new("GET", "/openapi.json")).await;
        assert_eq!(openapi.status, 200);
        assert!(openapi.body["paths"]["/tasks/{taskId}"].is_object());
    }
}

#[tokio::test]
async fn created_tasks_are_listed_filtered_and_fetched() {
    let function = Function::start().await;
    for (api, _) in APIS {
        let task = AlicesTask::create(&function, api, "Ship feature X").await;
        let (alice, created) = (&task.alice, &task.created);
        assert_eq!(created.body["title"], "Ship feature X");
        assert_eq!(created.body["status"], "pending");
        assert_eq!(created.body["description"], "");
        assert_eq!(
            created.header("etag"),
            Some(format!("\"{}\"", created.body["updated_at"].as_str().unwrap()).as_str())
        );
        // A null queryStringParameters is no filter.
        let listed = task.call(Request::new("GET", "/tasks").by(alice)).await;
        assert_eq!(listed.status, 200);
        assert_eq!(listed.body["count"], 1);
        assert_eq!(listed.body["tasks"][0]["task_id"], task.id.as_str());
        assert_eq!(listed.body["next_token"], Value::Null);
        let filtered = task
            .call(
                Request::new("GET", "/tasks")
                    .by(alice)
                    .query(&[("status", "done"), ("limit", "5")]),
            )
            .await;
        assert_eq!((filtered.status, &filtered.body["count"]), (200, &json!(0)));
        let fetched = task.call(Request::new("GET", &task.path).by(alice)).await;
        assert_eq!(fetched.status, 200);
        assert_eq!(fetched.body, created.body);
    }
}

#[tokio::test]
async fn users_see_and_change_only_their_own_tasks() {
    let function = Function::start().await;
    for (api, _) in APIS {
        let task = AlicesTask::create(&function, api, "Alice's").await;
        let bob = &task.bob;
        let bobs = task.call(Request::new("GET", "/tasks").by(bob)).await;
        assert_eq!(bobs.body["count"], 0);
        let hijack = Request::new("PATCH", &task.path).json(json!({ "title": "mine now" }));
        for (what, request) in [
            ("peek", Request::new("GET", &task.path)),
            ("hijack", hijack),
            ("vandal", Request::new("DELETE", &task.path)),
        ] {
            let reply = task.call(request.by(bob)).await;
            assert_eq!(reply.status, 404, "{api:?} {what}: {:?}", reply.body);
        }
        let intact = task
            .call(Request::new("GET", &task.path).by(&task.alice))
            .await;
        assert_eq!(intact.body["title"], "Alice's");
    }
}

#[tokio::test]
async fn updates_are_partial_and_honour_if_match() {
    let function = Function::start().await;
    for (api, _) in APIS {
        let task = AlicesTask::create(&function, api, "Ship feature X").await;
        let patch = |path| Request::new("PATCH", path).by(&task.alice);
        let updated = task
            .call(patch(&task.path).json(json!({ "status": "done" })))
            .await;
        assert_eq!(updated.status, 200, "{api:?}: {:?}", updated.body);
        assert_eq!(updated.body["task"]["status"], "done");
        assert_eq!(updated.body["task"]["title"], "Ship feature X");
        let stale_tag = task.created.header("etag").unwrap().to_owned();
        let stale = task
            .call(
                patch(&task.path)
                    .header(&[("If-Match", stale_tag.as_str())])
                    .json(json!({ "title": "late edit" })),
            )
            .await;
        assert_eq!(stale.status, 412, "{api:?}: {:?}", stale.body);
        let missing = task
            .call(patch("/tasks/no-such-task").json(json!({ "status": "done" })))
            .await;
        assert_eq!(missing.status, 404);
    }
}

#[tokio::test]
async fn the_admin_view_is_for_the_admins_group_only() {
    let function = Function::start().await;
    for (api, admin_groups) in APIS {
        let task = AlicesTask::create(&function, api, "for the admins").await;
        let admin = Caller::new(Some(admin_groups));
        let pending = Request::new("GET", "/admin/tasks").query(&[("status", "pending")]);
        for (what, request) in [
            ("other groups", pending.by(&task.bob)),
            (
                "no groups",
                Request::new("GET", "/admin/tasks").by(&task.alice),
            ),
        ] {
            let reply = task.call(request).await;
            assert_eq!(reply.status, 403, "{api:?} {what}: {:?}", reply.body);
        }
        let admin_view = task
            .call(
                Request::new("GET", "/admin/tasks")
                    .by(&admin)
                    .query(&[("status", "pending"), ("limit", "100")]),
            )
            .await;
        assert_eq!(admin_view.status, 200, "{api:?}: {:?}", admin_view.body);
        let listed: Vec<&Value> = admin_view.body["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|task| &task["task_id"])
            .collect();
        assert!(listed.contains(&&json!(task.id)), "{api:?}: {listed:?}");
    }
}

#[tokio::test]
async fn deletes_answer_204_once_then_404() {
    let function = Function::start().await;
    for (api, _) in APIS {
        let task = AlicesTask::create(&function, api, "short-lived").await;
        let as_alice = |method| Request::new(method, &task.path).by(&task.alice);
        let deleted = task.call(as_alice("DELETE")).await;
        assert_eq!((deleted.status, &deleted.body), (204, &Value::Null));
        let again = task.call(as_alice("DELETE")).await;
        assert_eq!(again.status, 404);
        let gone = task.call(as_alice("GET")).await;
        assert_eq!(gone.status, 404);
    }
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
