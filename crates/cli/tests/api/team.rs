//! A project with one member of each role, and a stranger, as the project tests start.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, User};

pub struct Team {
    /// `/projects/{projectId}`.
    pub path: String,
    pub owner: User,
    pub editor: User,
    pub viewer: User,
    /// Signed in, not a member.
    pub stranger: User,
}

impl Team {
    pub async fn new(app: &TestApp) -> Self {
        let owner = app.user();
        let project = create_project(app, &owner, "Launch").await;
        let path = format!("/projects/{}", project["project_id"].as_str().unwrap());
        let editor = app.user();
        let viewer = app.user();
        for (member, role) in [(&editor, "editor"), (&viewer, "viewer")] {
            join(app, &owner, &path, member, role).await;
        }
        Self {
            path,
            owner,
            editor,
            viewer,
            stranger: app.user(),
        }
    }

    /// `{path}/{rest}`.
    pub fn at(&self, rest: &str) -> String {
        format!("{}/{rest}", self.path)
    }
}

pub async fn create_project(app: &TestApp, owner: &User, name: &str) -> Value {
    let response = app.post(owner, "/projects", json!({ "name": name })).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.unwrap()
}

/// The test pool's users sign in with `<sub>@example.com`, verified.
pub fn email_of(user: &User) -> String {
    format!("{}@example.com", user.sub)
}

/// `owner` invites `member` with `role`: the invitation.
pub async fn invite(
    app: &TestApp,
    owner: &User,
    project: &str,
    member: &User,
    role: &str,
) -> Value {
    let body = json!({ "email": email_of(member), "role": role });
    let response = app
        .post(owner, &format!("{project}/invitations"), body)
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.unwrap()
}

/// `owner` invites `member` with `role`, who accepts.
pub async fn join(app: &TestApp, owner: &User, project: &str, member: &User, role: &str) {
    let invitation = invite(app, owner, project, member, role).await;
    let accept = format!(
        "/invitations/{}/accept",
        invitation["invitation_id"].as_str().unwrap()
    );
    let response = app.post(member, &accept, json!({})).await;
    assert_eq!(response.status(), StatusCode::OK, "{accept}");
}

/// A task of the project, created by its owner: its path.
pub async fn project_task(app: &TestApp, team: &Team, title: &str) -> String {
    let response = app
        .post(&team.owner, &team.at("tasks"), json!({ "title": title }))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let task: Value = response.json().await.unwrap();
    team.at(&format!("tasks/{}", task["task_id"].as_str().unwrap()))
}
