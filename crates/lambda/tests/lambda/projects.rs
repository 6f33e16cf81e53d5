//! Projects through the real binary with both API Gateway event shapes, on moto (every
//! membership change is a `TransactWriteItems`, which dynalite lacks): the e-mail claim
//! as the authorizers report it (`email_verified` the string `"true"`) finds the
//! invitation, roles hold, and a deleted project is gone for its members.

use serde_json::{Value, json};
use taskapi_testkit::apigw::{Api, Caller, Request};
use taskapi_testkit::emulator::Emulator;

use crate::function::Function;

#[tokio::test]
async fn a_project_is_shared_through_rest_api_events() {
    shared_project(Api::Rest).await;
}

#[tokio::test]
async fn a_project_is_shared_through_http_api_events() {
    shared_project(Api::Http).await;
}

async fn shared_project(api: Api) {
    let function = Function::start_on(Emulator::moto()).await;
    let call = async |request: Request<'_>| function.call(request.event(api)).await;
    let (ann, bob, eve) = (Caller::new(None), Caller::new(None), Caller::new(None));

    let created = call(
        Request::new("POST", "/projects")
            .by(&ann)
            .json(json!({"name": "Launch"})),
    )
    .await;
    assert_eq!(created.status, 201, "{api:?}: {:?}", created.body);
    let path = format!("/projects/{}", created.body["project_id"].as_str().unwrap());
    let invitations = format!("{path}/invitations");
    let invite = json!({"email": format!("{}@example.com", bob.sub), "role": "viewer"});
    let invited = call(Request::new("POST", &invitations).by(&ann).json(invite)).await;
    assert_eq!(invited.status, 201, "{api:?}: {:?}", invited.body);

    let mine = call(Request::new("GET", "/invitations").by(&bob)).await;
    assert_eq!(mine.body["count"], 1, "{api:?}: {:?}", mine.body);
    let id = mine.body["invitations"][0]["invitation_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let accept = format!("/invitations/{id}/accept");
    let stolen = call(Request::new("POST", &accept).by(&eve)).await;
    assert_eq!(stolen.status, 404, "{api:?}: only the addressee accepts");
    let accepted = call(Request::new("POST", &accept).by(&bob)).await;
    assert_eq!(accepted.status, 200, "{api:?}: {:?}", accepted.body);
    assert_eq!(accepted.body["role"], "viewer");

    let tasks = format!("{path}/tasks");
    let task = json!({"title": "Write the post", "assignee": bob.sub});
    let refused = call(Request::new("POST", &tasks).by(&bob).json(task.clone())).await;
    assert_eq!(refused.status, 403, "{api:?}: a viewer cannot write");
    let made = call(Request::new("POST", &tasks).by(&ann).json(task)).await;
    assert_eq!(made.status, 201, "{api:?}: {:?}", made.body);
    assert_eq!(made.body["assignee"], bob.sub.as_str());
    let assigned = call(
        Request::new("GET", &tasks)
            .by(&bob)
            .query(&[("assignee", &bob.sub)]),
    )
    .await;
    assert_eq!(assigned.body["count"], 1, "{api:?}: {:?}", assigned.body);
    let listed = call(Request::new("GET", "/projects").by(&bob)).await;
    assert_eq!(listed.body["projects"][0]["role"], "viewer");
    let stranger = call(Request::new("GET", &path).by(&eve)).await;
    assert_eq!(stranger.status, 404);

    let deleted = call(Request::new("DELETE", &path).by(&ann)).await;
    assert_eq!(deleted.status, 204, "{api:?}: {:?}", deleted.body);
    for caller in [&ann, &bob] {
        let gone = call(Request::new("GET", &tasks).by(caller)).await;
        assert_eq!(gone.status, 404);
        let listed = call(Request::new("GET", "/projects").by(caller)).await;
        assert_eq!(listed.body["projects"], Value::Array(Vec::new()));
    }
}
