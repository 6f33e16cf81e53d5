//! Planning over HTTP: due dates and priorities on create and PATCH, lists sorted by due
//! date or cut at `due_before` with tokens bound to their list, the Upcoming view of own
//! and assigned tasks, and every bad planning input a 400 that writes nothing.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{assert_error, spawn_app};
use crate::team::Team;

fn titles(tasks: &[Value]) -> Vec<&str> {
    tasks.iter().map(|t| t["title"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn due_dates_and_priorities_are_stored_in_utc_and_patched() {
    let app = spawn_app().await;
    let ann = app.user();
    let plain = app.create_ok(&ann, "plain").await;
    assert_eq!(
        (&plain["due_at"], &plain["priority"]),
        (&Value::Null, &json!("none"))
    );

    let body =
        json!({"title": "planned", "due_at": "2030-03-01T09:30:00+01:00", "priority": "urgent"});
    let response = app.create(&ann, body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let task: Value = response.json().await.unwrap();
    assert_eq!(
        task["due_at"], "2030-03-01T08:30:00.000000Z",
        "stored and shown in UTC"
    );
    assert_eq!(task["priority"], "urgent");
    let path = format!("/tasks/{}", task["task_id"].as_str().unwrap());
    assert_eq!(app.get_json(&ann, &path).await, task);

    let response = app.patch(&ann, &path, json!({"priority": "low"})).await;
    assert_eq!(response.status(), StatusCode::OK);
    let patched: Value = response.json().await.unwrap();
    assert_eq!(patched["task"]["priority"], "low");
    assert_eq!(patched["task"]["due_at"], task["due_at"], "untouched");
    let response = app.patch(&ann, &path, json!({"due_at": null})).await;
    let cleared: Value = response.json().await.unwrap();
    assert_eq!(cleared["task"]["due_at"], Value::Null, "null clears it");
    assert_eq!(app.get_json(&ann, &path).await, cleared["task"]);
}

#[tokio::test]
async fn bad_planning_input_is_a_400_that_writes_nothing() {
    let app = spawn_app().await;
    let ann = app.user();
    let task = app.create_ok(&ann, "kept").await;
    let path = format!("/tasks/{}", task["task_id"].as_str().unwrap());
    for due in [
        json!("tomorrow"),
        json!("2030-03-01"),
        json!("2030-03-01T09:30:00"),
        json!("1969-12-31T23:59:59Z"),
        json!("10000-01-01T00:00:00Z"),
        json!("2030-03-01T09:30:00+25:00"),
        json!("2030-02-30T09:30:00Z"),
        json!(""),
        json!(20300301),
    ] {
        let response = app.create(&ann, json!({"title": "x", "due_at": due})).await;
        assert_error(
            response,
            StatusCode::BAD_REQUEST,
            "invalid_due_at",
            &format!("create {due}"),
        )
        .await;
        let response = app.patch(&ann, &path, json!({"due_at": due})).await;
        assert_error(
            response,
            StatusCode::BAD_REQUEST,
            "invalid_due_at",
            &format!("patch {due}"),
        )
        .await;
    }
    for priority in [
        json!("critical"),
        json!("URGENT"),
        json!(""),
        json!(3),
        json!(null),
    ] {
        let response = app
            .create(&ann, json!({"title": "x", "priority": priority}))
            .await;
        assert_error(
            response,
            StatusCode::BAD_REQUEST,
            "invalid_priority",
            &format!("{priority}"),
        )
        .await;
        let response = app.patch(&ann, &path, json!({"priority": priority})).await;
        assert_error(
            response,
            StatusCode::BAD_REQUEST,
            "invalid_priority",
            &format!("{priority}"),
        )
        .await;
    }
    assert_eq!(
        app.tasks_of(&ann).await,
        std::slice::from_ref(&task),
        "nothing was written"
    );
    assert_eq!(app.get_json(&ann, &path).await, task);

    for (query, code) in [
        ("sort=due", "invalid_sort"),
        ("sort=", "invalid_sort"),
        ("due_before=soon", "invalid_due_before"),
        ("due_before=", "invalid_due_before"),
        ("due_before=1969-01-01T00:00:00Z", "invalid_due_before"),
    ] {
        let response = app.get(&ann, &format!("/tasks?{query}")).await;
        assert_error(response, StatusCode::BAD_REQUEST, code, query).await;
    }
    for query in ["limit=0", "next_token=abc"] {
        let response = app.get(&ann, &format!("/upcoming?{query}")).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
    }
}

#[tokio::test]
async fn lists_sort_by_due_date_and_tokens_bind_their_list() {
    let app = spawn_app().await;
    let ann = app.user();
    for (title, due) in [
        ("undated", None),
        ("late", Some("2030-01-03T00:00:00Z")),
        ("soon", Some("2030-01-01T00:00:00+00:00")),
        ("middle", Some("2030-01-02T00:00:00Z")),
    ] {
        let response = app
            .create(&ann, json!({"title": title, "due_at": due}))
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    let sorted = app.all_pages(&ann, "/tasks?sort=due_at&limit=1").await;
    assert_eq!(titles(&sorted), ["soon", "middle", "late", "undated"]);
    let before = app
        .all_pages(
            &ann,
            "/tasks?due_before=2030-01-02T12:00:00%2B02:00&limit=1",
        )
        .await;
    assert_eq!(titles(&before), ["soon", "middle"], "creation order, cut");
    let created = app.all_pages(&ann, "/tasks?limit=1").await;
    assert_eq!(titles(&created), ["undated", "late", "soon", "middle"]);

    let page = app.get_json(&ann, "/tasks?sort=due_at&limit=1").await;
    let token = page["next_token"].as_str().unwrap();
    for other in ["/tasks?", "/tasks?status=done&sort=due_at&", "/upcoming?"] {
        let response = app.get(&ann, &format!("{other}next_token={token}")).await;
        assert_error(
            response,
            StatusCode::BAD_REQUEST,
            "invalid_next_token",
            other,
        )
        .await;
    }
    let page = app.get_json(&ann, "/tasks?limit=1").await;
    let token = page["next_token"].as_str().unwrap();
    let response = app
        .get(&ann, &format!("/tasks?sort=due_at&next_token={token}"))
        .await;
    assert_error(
        response,
        StatusCode::BAD_REQUEST,
        "invalid_next_token",
        "created_at token",
    )
    .await;
}

#[tokio::test]
async fn upcoming_shows_open_dated_tasks_own_and_assigned() {
    let app = spawn_app().await;
    let team = Team::new(&app).await;
    let editor = &team.editor;
    let mine = app
        .create(
            editor,
            json!({"title": "mine", "due_at": "2030-01-02T00:00:00Z"}),
        )
        .await;
    let mine: Value = mine.json().await.unwrap();
    app.create(editor, json!({"title": "someday"})).await;
    let body =
        json!({"title": "assigned", "due_at": "2030-01-01T00:00:00Z", "assignee": editor.sub});
    let response = app.post(&team.owner, &team.at("tasks"), body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let assigned: Value = response.json().await.unwrap();

    let view = app.all_pages(editor, "/upcoming?limit=1").await;
    assert_eq!(titles(&view), ["assigned", "mine"]);
    assert_eq!(view[0]["project_id"], assigned["project_id"]);
    assert!(
        app.all_pages(&team.owner, "/upcoming?limit=5")
            .await
            .is_empty()
    );

    let task_path = team.at(&format!("tasks/{}", assigned["task_id"].as_str().unwrap()));
    let response = app
        .patch(&team.owner, &task_path, json!({"assignee": team.owner.sub}))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        titles(&app.all_pages(editor, "/upcoming?limit=5").await),
        ["mine"]
    );
    assert_eq!(
        titles(&app.all_pages(&team.owner, "/upcoming?limit=5").await),
        ["assigned"],
        "reassigned: in the new assignee's view"
    );
    let own_path = format!("/tasks/{}", mine["task_id"].as_str().unwrap());
    app.patch(editor, &own_path, json!({"status": "done"}))
        .await;
    assert!(
        app.all_pages(editor, "/upcoming?limit=5").await.is_empty(),
        "done leaves"
    );
}
