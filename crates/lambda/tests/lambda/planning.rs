//! Planning through the Lambda binary, with both API Gateway event shapes: due dates and
//! priorities, the due-date sort, bad planning input, and `GET /upcoming` from its index.

use serde_json::{Value, json};
use taskapi_testkit::apigw::{Api, Caller, Request};

use crate::function::Function;

#[tokio::test]
async fn planning_fields_sort_and_upcoming_are_served() {
    let function = Function::start().await;
    for api in [Api::Rest, Api::Http] {
        let alice = Caller::new(None);
        let call = async |request: Request<'_>| function.call(request.event(api)).await;
        let mut ids = Vec::new();
        for (title, due) in [
            ("undated", Value::Null),
            ("offset", json!("2030-01-01T00:30:00+01:00")),
            ("sooner", json!("2030-01-01T00:00:00Z")),
        ] {
            let body = json!({"title": title, "due_at": due, "priority": "high"});
            let created = call(Request::new("POST", "/tasks").by(&alice).json(body)).await;
            assert_eq!(created.status, 201, "{api:?}: {:?}", created.body);
            assert_eq!(created.body["priority"], "high");
            ids.push(created.body["task_id"].as_str().unwrap().to_owned());
        }
        let sorted = call(
            Request::new("GET", "/tasks")
                .by(&alice)
                .query(&[("sort", "due_at"), ("limit", "10")]),
        )
        .await;
        let titles: Vec<_> = sorted.body["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["title"].as_str().unwrap())
            .collect();
        assert_eq!(
            titles,
            ["offset", "sooner", "undated"],
            "{api:?}: in UTC order"
        );

        let upcoming = call(Request::new("GET", "/upcoming").by(&alice)).await;
        assert_eq!(upcoming.status, 200, "{api:?}: {:?}", upcoming.body);
        assert_eq!(upcoming.body["count"], 2);
        assert_eq!(
            upcoming.body["tasks"][0]["due_at"],
            "2029-12-31T23:30:00.000000Z"
        );

        let path = format!("/tasks/{}", ids[1]);
        let done = Request::new("PATCH", &path)
            .by(&alice)
            .json(json!({"status": "done"}));
        assert_eq!(call(done).await.status, 200);
        let upcoming = call(Request::new("GET", "/upcoming").by(&alice)).await;
        assert_eq!(upcoming.body["count"], 1, "{api:?}: done leaves the view");

        let bad = Request::new("PATCH", &path)
            .by(&alice)
            .json(json!({"due_at": "2030-13-01T00:00:00Z"}));
        let reply = call(bad).await;
        assert_eq!(
            (reply.status, &reply.body["code"]),
            (400, &json!("invalid_due_at"))
        );
        let bad_sort = Request::new("GET", "/tasks")
            .by(&alice)
            .query(&[("sort", "title")]);
        let reply = call(bad_sort).await;
        assert_eq!(
            (reply.status, &reply.body["code"]),
            (400, &json!("invalid_sort"))
        );
    }
}
