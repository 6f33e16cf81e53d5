//! The authorization matrix over HTTP: every project route, asked by an owner, an editor,
//! a viewer and a stranger, answers as the role table says: a stranger's 404 (whether the
//! project exists or not), a role's 403 that changes nothing, and the owner's success.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, User, spawn_app};
use crate::team::{Team, invite, join, project_task};

/// Who asks, in the order each route is asked (refusals first, so a success that changes
/// something comes last).
#[derive(Debug, Clone, Copy)]
enum Who {
    Stranger,
    Viewer,
    Editor,
    Owner,
}

const EVERYONE: [Who; 4] = [Who::Stranger, Who::Viewer, Who::Editor, Who::Owner];

fn user(team: &Team, who: Who) -> &User {
    match who {
        Who::Stranger => &team.stranger,
        Who::Viewer => &team.viewer,
        Who::Editor => &team.editor,
        Who::Owner => &team.owner,
    }
}

async fn ask(app: &TestApp, user: &User, method: &Method, path: &str, body: &Value) -> StatusCode {
    let mut request = app.request(method.clone(), path, user);
    if !body.is_null() {
        request = request.json(body);
    }
    request.send().await.unwrap().status()
}

/// Asks `method path` as each of `EVERYONE` and checks the answers, in the same order.
async fn expect(
    app: &TestApp,
    team: &Team,
    method: Method,
    path: &str,
    body: Value,
    answers: [u16; 4],
) {
    for (who, expected) in EVERYONE.into_iter().zip(answers) {
        let status = ask(app, user(team, who), &method, path, &body).await;
        assert_eq!(status.as_u16(), expected, "{who:?}: {method} {path}");
    }
}

#[tokio::test]
async fn every_project_route_answers_each_role_as_the_role_table_says() {
    let app = spawn_app().await;
    let team = Team::new(&app).await;
    let task = project_task(&app, &team, "shared").await;
    let subject = app.user();
    join(&app, &team.owner, &team.path, &subject, "viewer").await;
    let member = team.at(&format!("members/{}", subject.sub));
    let no_body = Value::Null;

    expect(
        &app,
        &team,
        Method::GET,
        &team.path,
        no_body.clone(),
        [404, 200, 200, 200],
    )
    .await;
    expect(
        &app,
        &team,
        Method::GET,
        &team.at("members"),
        no_body.clone(),
        [404, 200, 200, 200],
    )
    .await;
    expect(
        &app,
        &team,
        Method::GET,
        &team.at("tasks"),
        no_body.clone(),
        [404, 200, 200, 200],
    )
    .await;
    expect(
        &app,
        &team,
        Method::GET,
        &task,
        no_body.clone(),
        [404, 200, 200, 200],
    )
    .await;
    expect(
        &app,
        &team,
        Method::PATCH,
        &team.path,
        json!({"name": "Renamed"}),
        [404, 403, 403, 200],
    )
    .await;
    expect(
        &app,
        &team,
        Method::PATCH,
        &member,
        json!({"role": "viewer"}),
        [404, 403, 403, 200],
    )
    .await;
    expect(
        &app,
        &team,
        Method::GET,
        &team.at("invitations"),
        no_body.clone(),
        [404, 403, 403, 200],
    )
    .await;
    let invitation = json!({"email": "new@example.com", "role": "viewer"});
    expect(
        &app,
        &team,
        Method::POST,
        &team.at("invitations"),
        invitation,
        [404, 403, 403, 201],
    )
    .await;
    expect(
        &app,
        &team,
        Method::POST,
        &team.at("tasks"),
        json!({"title": "t"}),
        [404, 403, 201, 201],
    )
    .await;
    expect(
        &app,
        &team,
        Method::PATCH,
        &task,
        json!({"status": "done"}),
        [404, 403, 200, 200],
    )
    .await;

    // The refused writes changed nothing.
    let project: Value = app.get_json(&team.owner, &team.path).await;
    assert_eq!(project["name"], "Renamed");
    let tasks = app
        .all_pages(&team.owner, &format!("{}?limit=100", team.at("tasks")))
        .await;
    assert_eq!(
        tasks.len(),
        3,
        "the viewer's and the stranger's creates made nothing"
    );

    // Deletes: each role that may, on a task of its own asking.
    for (who, expected) in EVERYONE.into_iter().zip([404, 403, 204, 204]) {
        let task = project_task(&app, &team, "to delete").await;
        let status = ask(&app, user(&team, who), &Method::DELETE, &task, &no_body).await;
        assert_eq!(status.as_u16(), expected, "{who:?} deletes a task");
    }
    expect(
        &app,
        &team,
        Method::DELETE,
        &member,
        no_body.clone(),
        [404, 403, 403, 204],
    )
    .await;
    let revoke = invite(&app, &team.owner, &team.path, &app.user(), "editor").await;
    let revoke = format!("/invitations/{}", revoke["invitation_id"].as_str().unwrap());
    expect(
        &app,
        &team,
        Method::DELETE,
        &revoke,
        no_body.clone(),
        [404, 403, 403, 204],
    )
    .await;
    expect(
        &app,
        &team,
        Method::DELETE,
        &team.path,
        no_body.clone(),
        [404, 403, 403, 204],
    )
    .await;
    // And once it is gone, everyone hears what a stranger heard.
    expect(
        &app,
        &team,
        Method::GET,
        &team.path,
        no_body,
        [404, 404, 404, 404],
    )
    .await;
}

#[tokio::test]
async fn a_project_that_does_not_exist_is_the_same_404_as_someone_elses() {
    let app = spawn_app().await;
    let team = Team::new(&app).await;
    let missing = "/projects/0193a2b4-0000-7000-8000-000000000000";
    for path in [missing.to_owned(), team.path.clone()] {
        let response = app.get(&team.stranger, &path).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            body,
            json!({"message": "Project not found", "code": "not_found"})
        );
    }
}
