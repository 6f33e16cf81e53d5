//! A project's tasks: `/projects/{projectId}/tasks[/{taskId}]`, with every rule of
//! `/tasks` (validation, paging, `status=`, ETag/If-Match), plus who created each task
//! and the member it is assigned to. Every handler checks the caller's membership first
//! (one read), then does the work (one more).

use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use http::{HeaderMap, HeaderValue, StatusCode};
use serde::Deserialize;
use taskapi_domain::{
    Action, Created, IdempotentCreate, Membership, PageScope, Priority, ProjectFields, ProjectId,
    Status, Task, TaskUpdate, Timestamp, Title,
};
use utoipa::ToSchema;

use super::access::{PROJECT, allowed, member};
use super::conditional::{etag, if_match, if_none_match};
use super::params::{ProjectListParams, ProjectPath, TaskPath};
use super::tasks::{
    CreateTask, IDEMPOTENT_REPLAYED, TaskList, UpdateTask, UpdatedTask, idempotency_key, unix_now,
};
use crate::body::{JsonBody, nullable, present};
use crate::error::ErrorBody;
use crate::{ApiError, AppState, Principal};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/projects/{projectId}/tasks",
            get(list_project_tasks).post(create_project_task),
        )
        .route(
            "/projects/{projectId}/tasks/{taskId}",
            get(get_project_task)
                .patch(update_project_task)
                .delete(delete_project_task),
        )
}

/// The body of `POST /projects/{projectId}/tasks`: a task's, and its assignee.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateProjectTask {
    /// As in `POST /tasks`.
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = Title::schema, required = true)]
    title: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = String, max_length = 4000)]
    description: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Status)]
    status: Option<Status>,
    /// As in `POST /tasks`.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    due_at: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Priority)]
    priority: Option<Priority>,
    /// A member's `user_id`, or `null` (the default) for nobody; anyone else is a 400.
    #[serde(default)]
    assignee: Option<String>,
}

/// The body of `PATCH /projects/{projectId}/tasks/{taskId}`: any of the fields, at least one.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(min_properties = 1)]
pub struct UpdateProjectTask {
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = Title::schema)]
    title: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = String, max_length = 4000)]
    description: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Status)]
    status: Option<Status>,
    /// As in `POST /tasks`; `null` clears the due date.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, format = DateTime)]
    due_at: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Priority)]
    priority: Option<Priority>,
    /// A member's `user_id`; `null` unassigns.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    assignee: Option<Option<String>>,
}

/// The caller's membership if it allows editing tasks and `assignee` (if any) is a
/// member: one read either way (the member list when there is an assignee to check).
async fn editor(
    state: &AppState,
    principal: &Principal,
    project: &ProjectId,
    assignee: Option<&str>,
) -> Result<Membership, ApiError> {
    let Some(assignee) = assignee else {
        return member(state, project, principal, Action::EditTasks).await;
    };
    let members = state.projects.members(project).await?;
    let caller = members
        .iter()
        .find(|member| member.user_id == principal.sub)
        .cloned()
        .ok_or(ApiError::NotFound(PROJECT))?;
    let caller = allowed(caller, Action::EditTasks)?;
    if !members.iter().any(|member| member.user_id == assignee) {
        return Err(ApiError::bad_request(
            "invalid_assignee",
            "assignee must be the user_id of a member of the project",
        ));
    }
    Ok(caller)
}

#[utoipa::path(
    post, path = "/projects/{projectId}/tasks", tag = "project tasks",
    params(
        ProjectPath,
        ("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255,
            pattern = "^[\\x21-\\x7E]+$", description =
            "As for `POST /tasks`: for 24 hours the same key (per caller) with the same body, \
             assignee included, answers 201 with the first task (`Idempotent-Replayed: true`); \
             another body is a 422."),
    ),
    request_body = CreateProjectTask,
    responses(
        (status = 201, description = "Created, or replayed for a repeated Idempotency-Key", body = Task,
            headers(("ETag" = String, description = "The task's version, for If-Match and If-None-Match"), ("Idempotent-Replayed" = Option<String>, description = "`true` when the answer is the first request's"))),
        (status = 400, description = "Malformed project id; invalid body; an assignee who is not a member (`invalid_assignee`)", body = ErrorBody),
        (status = 403, description = "The caller is a viewer", body = ErrorBody),
        (status = 404, description = "No such project, or the caller is not a member", body = ErrorBody),
        (status = 408, description = "The body did not arrive in time", body = ErrorBody),
        (status = 413, description = "Body over 64 KiB", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 422, description = "Idempotency-Key already used with another body", body = ErrorBody),
    ),
    security(("cognito" = []))
)]
pub async fn create_project_task(
    State(state): State<AppState>,
    principal: Principal,
    ProjectPath(project): ProjectPath,
    headers: HeaderMap,
    JsonBody(body): JsonBody<CreateProjectTask>,
) -> Result<impl IntoResponse, ApiError> {
    let new = CreateTask {
        title: body.title,
        description: body.description,
        status: body.status,
        due_at: body.due_at,
        priority: body.priority,
    }
    .validate()?;
    let key = idempotency_key(&headers)?;
    editor(&state, &principal, &project, body.assignee.as_deref()).await?;
    let once = key.map(|key| {
        IdempotentCreate::for_project_task(key, &new, body.assignee.as_deref(), unix_now())
    });
    let mut task = Task::create(new, Timestamp::now());
    task.project = Some(ProjectFields {
        project_id: project,
        created_by: principal.sub.clone(),
        assignee: body.assignee,
    });
    let Some(once) = once else {
        state.projects.create_project_task(&task).await?;
        return Ok((StatusCode::CREATED, etag(&task), None, Json(task)));
    };
    match state
        .projects
        .create_project_task_once(&principal.sub, &task, &once)
        .await?
    {
        Created::New => Ok((StatusCode::CREATED, etag(&task), None, Json(task))),
        Created::Replayed(first) => Ok((
            StatusCode::CREATED,
            etag(&first),
            Some([(IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"))]),
            Json(*first),
        )),
    }
}

#[utoipa::path(
    get, path = "/projects/{projectId}/tasks", tag = "project tasks",
    params(ProjectPath, ProjectListParams),
    responses(
        (status = 200, description = "A page of the project's tasks, oldest first or by due date", body = TaskList),
        (status = 400, description = "Malformed project id; invalid status, assignee, sort, due_before, limit or next_token (also a token of another sort or filter)", body = ErrorBody),
        (status = 404, description = "No such project, or the caller is not a member", body = ErrorBody),
    ),
    security(("cognito" = []))
)]
pub async fn list_project_tasks(
    State(state): State<AppState>,
    principal: Principal,
    ProjectPath(project): ProjectPath,
    RawQuery(query): RawQuery,
) -> Result<Json<TaskList>, ApiError> {
    let (params, assignee) = ProjectListParams::parse(query.as_deref())?;
    let filter = params.filter(assignee)?;
    let scope = PageScope::Project(&project, &filter);
    let query = params.query(&scope)?;
    member(&state, &project, &principal, Action::Read).await?;
    let page = state
        .projects
        .list_project_tasks(&project, &filter, &query)
        .await?;
    Ok(Json(TaskList::of(page, &scope)))
}

#[utoipa::path(
    get, path = "/projects/{projectId}/tasks/{taskId}", tag = "project tasks",
    params(
        ProjectPath,
        TaskPath,
        ("If-None-Match" = Option<String>, Header, nullable = false, description = "ETags (comma-separated, or `*`) the caller already has; if the task's is one of them, 304 and no body"),
    ),
    responses(
        (status = 200, description = "The task", body = Task, headers(("ETag" = String, description = "The task's version"))),
        (status = 304, description = "Not modified", headers(("ETag" = String))),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 404, description = "No such project (or the caller is not a member), or no such task in it", body = ErrorBody),
    ),
    security(("cognito" = []))
)]
pub async fn get_project_task(
    State(state): State<AppState>,
    principal: Principal,
    ProjectPath(project): ProjectPath,
    TaskPath(id): TaskPath,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let cached = if_none_match(&headers);
    member(&state, &project, &principal, Action::Read).await?;
    let task = state
        .projects
        .project_task(&project, &id)
        .await?
        .ok_or(ApiError::TaskNotFound)?;
    Ok(cached.answer(task))
}

#[utoipa::path(
    patch, path = "/projects/{projectId}/tasks/{taskId}", tag = "project tasks",
    params(
        ProjectPath,
        TaskPath,
        ("If-Match" = Option<String>, Header, nullable = false, pattern = r#"^(\*|(W/)?"[!#-~]*")$"#, description = "The ETag of the version being edited (or `*`); 412 if the task has changed since"),
    ),
    request_body = UpdateProjectTask,
    responses(
        (status = 200, description = "The updated task", body = UpdatedTask, headers(("ETag" = String, description = "The task's new version"))),
        (status = 400, description = "Malformed id; invalid body; an assignee who is not a member (`invalid_assignee`)", body = ErrorBody),
        (status = 403, description = "The caller is a viewer", body = ErrorBody),
        (status = 404, description = "No such project (or the caller is not a member), or no such task in it", body = ErrorBody),
        (status = 408, description = "The body did not arrive in time", body = ErrorBody),
        (status = 412, description = "If-Match no longer matches", body = ErrorBody),
        (status = 413, description = "Body over 64 KiB", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
    ),
    security(("cognito" = []))
)]
pub async fn update_project_task(
    State(state): State<AppState>,
    principal: Principal,
    ProjectPath(project): ProjectPath,
    TaskPath(id): TaskPath,
    headers: HeaderMap,
    JsonBody(body): JsonBody<UpdateProjectTask>,
) -> Result<impl IntoResponse, ApiError> {
    let assignee = body.assignee;
    let patch = UpdateTask {
        title: body.title,
        description: body.description,
        status: body.status,
        due_at: body.due_at,
        priority: body.priority,
    }
    .validate_with(
        assignee.clone(),
        "title, description, status, due_at, priority, assignee",
    )?;
    editor(&state, &principal, &project, assignee.flatten().as_deref()).await?;
    let update = TaskUpdate {
        patch,
        updated_at: Timestamp::now(),
        expected_updated_at: if_match(&headers),
    };
    let task = state
        .projects
        .update_project_task(&project, &id, &update)
        .await?;
    Ok((etag(&task), Json(UpdatedTask { task })))
}

#[utoipa::path(
    delete, path = "/projects/{projectId}/tasks/{taskId}", tag = "project tasks",
    params(
        ProjectPath,
        TaskPath,
        ("If-Match" = Option<String>, Header, nullable = false, pattern = r#"^(\*|(W/)?"[!#-~]*")$"#, description = "The ETag of the version being deleted (or `*`); 412 if the task has changed since"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 403, description = "The caller is a viewer", body = ErrorBody),
        (status = 404, description = "No such project (or the caller is not a member), or no such task in it", body = ErrorBody),
        (status = 412, description = "If-Match no longer matches", body = ErrorBody),
    ),
    security(("cognito" = []))
)]
pub async fn delete_project_task(
    State(state): State<AppState>,
    principal: Principal,
    ProjectPath(project): ProjectPath,
    TaskPath(id): TaskPath,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let expected = if_match(&headers);
    member(&state, &project, &principal, Action::EditTasks).await?;
    state
        .projects
        .delete_project_task(&project, &id, expected.as_ref())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
