//! Projects end to end over HTTP: the sharing journey, invitations that only their
//! verified addressee can use, the last owner, assignees, removal and deletion taking
//! effect at once, and bad input refused with nothing changed.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use taskapi_testkit::{Signer, TRUSTED_KID, sign};

use crate::helpers::{User, assert_error, spawn_app};
use crate::team::{Team, create_project, email_of, invite};

#[tokio::test]
async fn two_users_share_a_project_until_one_is_removed() {
    let app = spawn_app().await;
    let (ann, bob) = (app.user(), app.user());
    let project = create_project(&app, &ann, "Launch").await;
    assert_eq!(project["role"], "owner");
    let path = format!("/projects/{}", project["project_id"].as_str().unwrap());

    let invitation = invite(&app, &ann, &path, &bob, "editor").await;
    assert_eq!(invitation["project_name"], "Launch");
    assert_eq!(invitation["email"], email_of(&bob));
    let mine: Value = app.get_json(&bob, "/invitations").await;
    assert_eq!(mine["invitations"], json!([invitation]), "bob sees it");
    let theirs: Value = app.get_json(&ann, "/invitations").await;
    assert_eq!(theirs["count"], 0, "ann does not");

    let accept = format!(
        "/invitations/{}/accept",
        invitation["invitation_id"].as_str().unwrap()
    );
    let response = app
        .request(Method::POST, &accept, &bob)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let membership: Value = response.json().await.unwrap();
    assert_eq!(
        (membership["user_id"].as_str(), membership["role"].as_str()),
        (Some(bob.sub.as_str()), Some("editor"))
    );
    let again = app
        .request(Method::POST, &accept, &bob)
        .send()
        .await
        .unwrap();
    assert_error(again, StatusCode::NOT_FOUND, "not_found", "accepting twice").await;

    let listed: Value = app.get_json(&bob, "/projects").await;
    assert_eq!(listed["projects"][0]["role"], "editor");
    assert_eq!(listed["projects"][0]["name"], "Launch");

    // Bob creates a task for Ann; Ann sees and changes it.
    let body = json!({"title": "Write the launch post", "assignee": ann.sub});
    let response = app.post(&bob, &format!("{path}/tasks"), body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let task: Value = response.json().await.unwrap();
    assert_eq!(task["project_id"], project["project_id"]);
    assert_eq!(task["created_by"], bob.sub.as_str());
    assert_eq!(task["assignee"], ann.sub.as_str());
    let task_path = format!("{path}/tasks/{}", task["task_id"].as_str().unwrap());
    let assigned: Value = app
        .get_json(&ann, &format!("{path}/tasks?assignee={}", ann.sub))
        .await;
    assert_eq!(assigned["tasks"], json!([task]));
    let response = app
        .patch(
            &ann,
            &task_path,
            json!({"status": "done", "assignee": null}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let changed: Value = response.json().await.unwrap();
    assert_eq!(changed["task"]["assignee"], Value::Null);
    assert_eq!(app.get_json(&bob, &task_path).await["status"], "done");

    // A page token Bob holds, then his removal: his very next requests are refused.
    for n in 0..3 {
        app.post(
            &ann,
            &format!("{path}/tasks"),
            json!({"title": format!("t{n}")}),
        )
        .await;
    }
    let page: Value = app.get_json(&bob, &format!("{path}/tasks?limit=2")).await;
    let token = page["next_token"].as_str().unwrap().to_owned();
    let response = app
        .delete(&ann, &format!("{path}/members/{}", bob.sub))
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    for refused in [
        path.clone(),
        task_path.clone(),
        format!("{path}/tasks?limit=2&next_token={token}"),
    ] {
        let response = app.get(&bob, &refused).await;
        assert_error(response, StatusCode::NOT_FOUND, "not_found", &refused).await;
    }
    assert_eq!(app.get_json(&bob, "/projects").await["count"], 0);
    // Ann's tasks list is untouched by the project.
    assert_eq!(app.get_json(&ann, "/tasks").await["count"], 0);
}

#[tokio::test]
async fn the_last_owner_cannot_leave_or_step_down() {
    let app = spawn_app().await;
    let team = Team::new(&app).await;
    let owner = team.at(&format!("members/{}", team.owner.sub));
    let demote = app
        .patch(&team.owner, &owner, json!({"role": "editor"}))
        .await;
    assert_error(
        demote,
        StatusCode::CONFLICT,
        "last_owner",
        "demoting the last owner",
    )
    .await;
    let leave = app.delete(&team.owner, &owner).await;
    assert_error(
        leave,
        StatusCode::CONFLICT,
        "last_owner",
        "the last owner leaving",
    )
    .await;

    let editor = team.at(&format!("members/{}", team.editor.sub));
    let promoted = app
        .patch(&team.owner, &editor, json!({"role": "owner"}))
        .await;
    assert_eq!(promoted.status(), StatusCode::OK);
    let leave = app.delete(&team.owner, &owner).await;
    assert_eq!(
        leave.status(),
        StatusCode::NO_CONTENT,
        "with another owner, the first may go"
    );
    let viewer = team.at(&format!("members/{}", team.viewer.sub));
    let left = app.delete(&team.viewer, &viewer).await;
    assert_eq!(left.status(), StatusCode::NO_CONTENT, "a viewer may leave");
    let members: Value = app.get_json(&team.editor, &team.at("members")).await;
    assert_eq!(members["count"], 1);
    assert_eq!(members["members"][0]["role"], "owner");
}

/// A user whose token carries `email` with `email_verified` as given.
fn user_with_email(app: &crate::helpers::TestApp, email: &str, verified: bool) -> User {
    let sub = uuid::Uuid::new_v4().to_string();
    let mut claims = app.pool.claims(&sub, &[]);
    claims["email"] = json!(email);
    claims["email_verified"] = json!(verified);
    User {
        token: sign(&claims, Signer::Trusted, TRUSTED_KID),
        sub,
    }
}

#[tokio::test]
async fn an_invitation_is_for_its_verified_addressee_only() {
    let app = spawn_app().await;
    let team = Team::new(&app).await;
    let body = json!({"email": "Carol@Example.com", "role": "viewer"});
    let response = app.post(&team.owner, &team.at("invitations"), body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let invitation: Value = response.json().await.unwrap();
    assert_eq!(invitation["email"], "carol@example.com");
    let id = invitation["invitation_id"].as_str().unwrap();
    let accept = format!("/invitations/{id}/accept");

    let unverified = user_with_email(&app, "carol@example.com", false);
    assert_eq!(app.get_json(&unverified, "/invitations").await["count"], 0);
    for intruder in [&unverified, &team.stranger, &team.editor] {
        let response = app
            .request(Method::POST, &accept, intruder)
            .send()
            .await
            .unwrap();
        assert_error(
            response,
            StatusCode::NOT_FOUND,
            "not_found",
            "someone else accepts",
        )
        .await;
    }
    let response = app
        .delete(&team.stranger, &format!("/invitations/{id}"))
        .await;
    assert_error(
        response,
        StatusCode::NOT_FOUND,
        "not_found",
        "a stranger revokes",
    )
    .await;
    let response = app
        .delete(&team.editor, &format!("/invitations/{id}"))
        .await;
    assert_error(
        response,
        StatusCode::FORBIDDEN,
        "forbidden",
        "an editor revokes",
    )
    .await;

    let carol = user_with_email(&app, "CAROL@example.com", true);
    let mine: Value = app.get_json(&carol, "/invitations").await;
    assert_eq!(mine["invitations"][0]["invitation_id"], id);
    let response = app.delete(&carol, &format!("/invitations/{id}")).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT, "carol declines");
    let response = app
        .request(Method::POST, &accept, &carol)
        .send()
        .await
        .unwrap();
    assert_error(
        response,
        StatusCode::NOT_FOUND,
        "not_found",
        "accepting a declined one",
    )
    .await;
    assert_eq!(
        app.get_json(&team.owner, &team.at("invitations")).await["count"],
        0
    );

    let member_again = invite(&app, &team.owner, &team.path, &team.editor, "viewer").await;
    let accept = format!(
        "/invitations/{}/accept",
        member_again["invitation_id"].as_str().unwrap()
    );
    let response = app
        .request(Method::POST, &accept, &team.editor)
        .send()
        .await
        .unwrap();
    assert_error(
        response,
        StatusCode::CONFLICT,
        "already_member",
        "a member accepts",
    )
    .await;
}

/// Invitations last 7 days: one aged past its expiry (written under the API, as no test
/// waits a week) is listed to nobody and cannot be accepted, and a fresh one still works.
#[tokio::test]
async fn an_expired_invitation_is_listed_to_nobody_and_cannot_be_accepted() {
    let app = spawn_app().await;
    let team = Team::new(&app).await;
    let carol = app.user();
    let expired = invite(&app, &team.owner, &team.path, &carol, "editor").await;
    let id = expired["invitation_id"].as_str().unwrap();
    let db = rusqlite::Connection::open(app.data_dir().join("tasks.sqlite3")).unwrap();
    let aged = db
        .execute(
            "UPDATE Invitations SET expires_at = '2000-01-01T00:00:00Z' WHERE invitation_id = ?1",
            [id],
        )
        .unwrap();
    assert_eq!(aged, 1, "the invitation is in the task database");
    drop(db);

    assert_eq!(app.get_json(&carol, "/invitations").await["count"], 0);
    let owners: Value = app.get_json(&team.owner, &team.at("invitations")).await;
    assert_eq!(owners["count"], 0, "the owner's list leaves it out too");
    let accept = format!("/invitations/{id}/accept");
    let response = app
        .request(Method::POST, &accept, &carol)
        .send()
        .await
        .unwrap();
    assert_error(
        response,
        StatusCode::NOT_FOUND,
        "not_found",
        "accepting an expired invitation",
    )
    .await;
    let members: Value = app.get_json(&team.owner, &team.at("members")).await;
    let joined = members["members"]
        .as_array()
        .unwrap()
        .iter()
        .any(|member| member["user_id"] == carol.sub.as_str());
    assert!(!joined, "carol did not join: {members}");

    let fresh = invite(&app, &team.owner, &team.path, &carol, "viewer").await;
    let accept = format!(
        "/invitations/{}/accept",
        fresh["invitation_id"].as_str().unwrap()
    );
    let response = app
        .request(Method::POST, &accept, &carol)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "a fresh invitation works"
    );
}

#[tokio::test]
async fn bad_project_input_is_a_clear_400_that_changes_nothing() {
    let app = spawn_app().await;
    let team = Team::new(&app).await;
    let long = "x".repeat(101);
    for (body, code) in [
        (json!({}), "invalid_name"),
        (json!({"name": ""}), "invalid_name"),
        (json!({"name": "   "}), "invalid_name"),
        (json!({"name": "a\nb"}), "invalid_name"),
        (json!({"name": long}), "invalid_name"),
        (json!({"name": 7}), "invalid_name"),
        (json!({"name": "ok", "owner": "me"}), "unknown_field"),
    ] {
        let response = app.post(&team.owner, "/projects", body.clone()).await;
        assert_error(response, StatusCode::BAD_REQUEST, code, &body.to_string()).await;
        let response = app.patch(&team.owner, &team.path, body.clone()).await;
        assert_error(response, StatusCode::BAD_REQUEST, code, &body.to_string()).await;
    }
    assert_eq!(app.get_json(&team.owner, "/projects").await["count"], 1);
    assert_eq!(
        app.get_json(&team.owner, &team.path).await["name"],
        "Launch"
    );

    for (body, code) in [
        (
            json!({"email": "not an address", "role": "viewer"}),
            "invalid_email",
        ),
        (json!({"email": "a@b.c", "role": "admin"}), "invalid_role"),
        (json!({"email": "a@b.c"}), "invalid_role"),
    ] {
        let response = app
            .post(&team.owner, &team.at("invitations"), body.clone())
            .await;
        assert_error(response, StatusCode::BAD_REQUEST, code, &body.to_string()).await;
    }
    let stranger = json!({"title": "t", "assignee": team.stranger.sub});
    let response = app.post(&team.editor, &team.at("tasks"), stranger).await;
    assert_error(
        response,
        StatusCode::BAD_REQUEST,
        "invalid_assignee",
        "a stranger assigned",
    )
    .await;
    let response = app
        .patch(
            &team.owner,
            &team.at(&format!("members/{}", team.viewer.sub)),
            json!({"role": "boss"}),
        )
        .await;
    assert_error(
        response,
        StatusCode::BAD_REQUEST,
        "invalid_role",
        "an unknown role",
    )
    .await;
    assert_eq!(
        app.get_json(&team.owner, &team.at("tasks")).await["count"],
        0
    );

    for (path, code) in [
        ("/projects/a%23b", "invalid_projectId"),
        ("/invitations/nope/accept", "invalid_invitationId"),
    ] {
        let response = app
            .request(Method::GET, path, &team.owner)
            .send()
            .await
            .unwrap();
        let method_ok = !path.ends_with("accept");
        if method_ok {
            assert_error(response, StatusCode::BAD_REQUEST, code, path).await;
        }
    }
    let response = app
        .request(Method::POST, "/invitations/nope/accept", &team.owner)
        .send()
        .await
        .unwrap();
    assert_error(
        response,
        StatusCode::BAD_REQUEST,
        "invalid_invitationId",
        "a malformed invitation id",
    )
    .await;
    let response = app.get(&team.owner, &team.at("tasks?assignee=")).await;
    assert_error(
        response,
        StatusCode::BAD_REQUEST,
        "invalid_assignee",
        "an empty assignee filter",
    )
    .await;
    let personal = app.get_json(&team.owner, "/tasks?limit=1").await;
    assert_eq!(personal["count"], 0);
    let response = app
        .get(&team.owner, &format!("{}?next_token=e30", team.at("tasks")))
        .await;
    assert_error(
        response,
        StatusCode::BAD_REQUEST,
        "invalid_next_token",
        "a forged token",
    )
    .await;
}

#[tokio::test]
async fn project_tasks_follow_the_rules_of_tasks() {
    let app = spawn_app().await;
    let team = Team::new(&app).await;
    let tasks = team.at("tasks");
    let response = app.post(&team.editor, &tasks, json!({"title": ""})).await;
    assert_error(
        response,
        StatusCode::BAD_REQUEST,
        "invalid_title",
        "an empty title",
    )
    .await;
    let response = app
        .post(
            &team.editor,
            &tasks,
            json!({"title": "t", "status": "blocked"}),
        )
        .await;
    assert_error(
        response,
        StatusCode::BAD_REQUEST,
        "invalid_status",
        "an unknown status",
    )
    .await;

    let response = app
        .post(&team.editor, &tasks, json!({"title": "versioned"}))
        .await;
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    let task: Value = response.json().await.unwrap();
    assert_eq!(
        task["assignee"],
        Value::Null,
        "a project task says it has no assignee"
    );
    let path = team.at(&format!("tasks/{}", task["task_id"].as_str().unwrap()));
    let cached = app
        .request(Method::GET, &path, &team.viewer)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(cached.status(), StatusCode::NOT_MODIFIED);
    let response = app
        .patch_if_match(&team.editor, &path, &etag, json!({"title": "v2"}))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let stale = app
        .patch_if_match(&team.owner, &path, &etag, json!({"title": "v3"}))
        .await;
    assert_error(
        stale,
        StatusCode::PRECONDITION_FAILED,
        "precondition_failed",
        "a stale If-Match",
    )
    .await;
    let stale = app.delete_if_match(&team.owner, &path, &etag).await;
    assert_error(
        stale,
        StatusCode::PRECONDITION_FAILED,
        "precondition_failed",
        "a stale delete",
    )
    .await;
    let empty = app.patch(&team.editor, &path, json!({})).await;
    assert_error(
        empty,
        StatusCode::BAD_REQUEST,
        "empty_patch",
        "an empty patch",
    )
    .await;

    let done = app
        .post(
            &team.owner,
            &tasks,
            json!({"title": "done", "status": "done"}),
        )
        .await;
    assert_eq!(done.status(), StatusCode::CREATED);
    let listed = app
        .all_pages(&team.viewer, &format!("{tasks}?status=done&limit=1"))
        .await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["title"], "done");

    let admin = app.user_in(&["admins"]);
    let pending = app
        .all_pages(&admin, "/admin/tasks?status=pending&limit=100")
        .await;
    let ours = pending
        .iter()
        .find(|t| t["task_id"] == task["task_id"])
        .expect("the admin view lists it");
    assert_eq!(ours["project_id"], task["project_id"]);
    // A personal task keeps the seed's shape: no project fields at all.
    let personal = app.create_ok(&team.owner, "mine").await;
    assert!(
        personal.get("project_id").is_none() && personal.get("assignee").is_none(),
        "{personal}"
    );

    // Deleting the project takes its tasks out of every view.
    assert_eq!(
        app.delete(&team.owner, &team.path).await.status(),
        StatusCode::NO_CONTENT
    );
    let pending = app
        .all_pages(&admin, "/admin/tasks?status=pending&limit=100")
        .await;
    assert!(
        pending.iter().all(|t| t["project_id"].is_null()),
        "no task of it is left"
    );
    assert_eq!(
        app.get(&team.owner, &path).await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_project_task_create_is_retry_safe_with_an_idempotency_key() {
    let app = spawn_app().await;
    let team = Team::new(&app).await;
    let tasks = team.at("tasks");
    let post = async |user: &User, body: Value| {
        app.request(Method::POST, &tasks, user)
            .header("idempotency-key", "launch-1")
            .json(&body)
            .send()
            .await
            .unwrap()
    };
    let body = json!({"title": "once", "assignee": team.viewer.sub});
    let first = post(&team.editor, body.clone()).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    let again = post(&team.editor, body.clone()).await;
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(
        again.json::<Value>().await.unwrap(),
        first,
        "the first task again"
    );
    let other = post(&team.editor, json!({"title": "once"})).await;
    assert_error(
        other,
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency_key_reused",
        "another body",
    )
    .await;
    let theirs = post(&team.owner, body).await;
    assert_eq!(theirs.status(), StatusCode::CREATED, "keys are per caller");
    assert!(theirs.headers().get("idempotent-replayed").is_none());
    assert_eq!(app.get_json(&team.viewer, &tasks).await["count"], 2);
}
