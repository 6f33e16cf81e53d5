//! A user's own tasks: every route is scoped to the caller's partition (`USER#<sub>`).
//!
//! Each handler documents its own answers; the 401, 429 and 503 every route behind the
//! authorizer can give are added to the document once, by `openapi::CallerErrors`.

use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use serde::{Deserialize, Serialize};
use taskapi_domain::{
    Created, Description, IdempotencyKey, IdempotentCreate, NewTask, Page, PageScope, Priority,
    Status, Task, TaskPatch, TaskUpdate, Timestamp, Title, ValidationError, parse_instant,
};
use utoipa::ToSchema;

use super::conditional::{etag, if_match, if_none_match};
use super::params::{TaskListParams, TaskPath};
use crate::body::{JsonBody, nullable, present};
use crate::cursor;
use crate::error::ErrorBody;
use crate::{ApiError, AppState, Principal};

/// Makes `POST /tasks` retry-safe (see [`taskapi_domain::IdempotentCreate`]).
pub(crate) const IDEMPOTENCY_KEY: header::HeaderName =
    header::HeaderName::from_static("idempotency-key");
/// Set to `true` on an answer replayed for a repeated `Idempotency-Key`, as Stripe does.
pub(crate) const IDEMPOTENT_REPLAYED: header::HeaderName =
    header::HeaderName::from_static("idempotent-replayed");

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/tasks", post(create_task).get(list_tasks))
        .route(
            "/tasks/{taskId}",
            get(get_task).patch(update_task).delete(delete_task),
        )
}

/// The body of `POST /tasks`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTask {
    /// 1 to 200 characters, at least one of them visible, no control characters (line
    /// breaks, tabs, NUL). Stored without surrounding spaces.
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = Title::schema, required = true)]
    pub(super) title: Option<String>,
    /// Up to 4000 characters; empty when absent.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = String, max_length = 4000)]
    pub(super) description: Option<String>,
    /// `pending` when absent.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Status)]
    pub(super) status: Option<Status>,
    /// When the task is due: RFC 3339 with an offset (e.g. `2026-03-01T09:00:00+01:00`),
    /// from 1970 to 9999, stored and returned in UTC; `null` or absent for none.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub(super) due_at: Option<String>,
    /// `none` when absent.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Priority)]
    pub(super) priority: Option<Priority>,
}

/// A due date as sent: `invalid_due_at` unless RFC 3339 with an offset, 1970 to 9999.
fn due_at(raw: &str) -> Result<Timestamp, ValidationError> {
    parse_instant("due_at", raw)
}

impl CreateTask {
    pub(super) fn validate(self) -> Result<NewTask, ValidationError> {
        let title = self
            .title
            .ok_or_else(|| ValidationError::new("title", "title is required"))?;
        Ok(NewTask {
            title: Title::parse(&title)?,
            description: Description::parse(self.description.as_deref().unwrap_or(""))?,
            status: self.status.unwrap_or_default(),
            due_at: self.due_at.as_deref().map(due_at).transpose()?,
            priority: self.priority.unwrap_or_default(),
        })
    }
}

/// The body of `PATCH /tasks/{taskId}`: any of the fields, at least one.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(min_properties = 1)]
pub struct UpdateTask {
    /// As in `POST /tasks`.
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = Title::schema)]
    pub(super) title: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = String, max_length = 4000)]
    pub(super) description: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Status)]
    pub(super) status: Option<Status>,
    /// As in `POST /tasks`; `null` clears the due date.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub(super) due_at: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Priority)]
    pub(super) priority: Option<Priority>,
}

impl UpdateTask {
    /// The patch, which may also set the assignee (project tasks only); at least one of
    /// `fields` (named in the error) must be given.
    pub(super) fn validate_with(
        self,
        assignee: Option<Option<String>>,
        fields: &str,
    ) -> Result<TaskPatch, ApiError> {
        let patch = TaskPatch {
            title: self.title.as_deref().map(Title::parse).transpose()?,
            description: self
                .description
                .as_deref()
                .map(Description::parse)
                .transpose()?,
            status: self.status,
            due_at: self
                .due_at
                .map(|due| due.as_deref().map(due_at).transpose())
                .transpose()?,
            priority: self.priority,
            assignee,
        };
        if patch.is_empty() {
            return Err(ApiError::bad_request(
                "empty_patch",
                format!("give at least one of {fields}"),
            ));
        }
        Ok(patch)
    }
}

/// A page of tasks.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskList {
    pub(super) tasks: Vec<Task>,
    /// The number of tasks on this page.
    count: usize,
    /// Pass as `next_token` to get the next page; `null` on the last page.
    next_token: Option<String>,
}

impl TaskList {
    /// A page of `scope`'s list, with the token of the next page (bound to that list).
    pub(super) fn of(page: Page, scope: &PageScope<'_>) -> Self {
        Self {
            count: page.tasks.len(),
            next_token: page.next.as_ref().map(|key| cursor::encode(key, scope)),
            tasks: page.tasks,
        }
    }
}

/// The answer of `PATCH`, shaped as the seed's update handler answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct UpdatedTask {
    pub(super) task: Task,
}

#[utoipa::path(
    post, path = "/tasks", tag = "tasks",
    params(
        ("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255,
            pattern = "^[\\x21-\\x7E]+$", description =
            "Makes the request safe to retry: for 24 hours the same key with the same body \
             answers 201 with the task the first request created (marked \
             `Idempotent-Replayed: true`) and creates nothing; the same key with another \
             body is a 422. Concurrent requests with one key create one task. Keys are \
             per user, 1 to 255 visible ASCII characters; a UUID is a good choice."),
    ),
    request_body = CreateTask,
    responses(
        (status = 201, description = "Created, or replayed for a repeated Idempotency-Key", body = Task,
            headers(("ETag" = String, description = "The task's version, for If-Match and If-None-Match"), ("Idempotent-Replayed" = Option<String>, description = "`true` when the answer is the first request's"))),
        (status = 400, description = "Invalid body: not JSON, not an object, duplicate or unknown fields, invalid values; or an invalid Idempotency-Key", body = ErrorBody),
        (status = 408, description = "The body did not arrive in time", body = ErrorBody),
        (status = 413, description = "Body over 64 KiB", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 422, description = "Idempotency-Key already used with another body", body = ErrorBody),
    ),
    security(("cognito" = []))
)]
pub async fn create_task(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    JsonBody(body): JsonBody<CreateTask>,
) -> Result<impl IntoResponse, ApiError> {
    let request = body.validate()?;
    let key = idempotency_key(&headers)?;
    let created_at = Timestamp::now();
    let Some(key) = key else {
        let task = Task::create(request, created_at);
        state.store.create(&principal.sub, &task).await?;
        return Ok((StatusCode::CREATED, etag(&task), None, Json(task)));
    };
    let once = IdempotentCreate::new(key, &request, unix_now());
    let task = Task::create(request, created_at);
    match state
        .store
        .create_once(&principal.sub, &task, &once)
        .await?
    {
        Created::New => Ok((StatusCode::CREATED, etag(&task), None, Json(task))),
        Created::Replayed(first) => {
            let replayed = [(IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"))];
            Ok((
                StatusCode::CREATED,
                etag(&first),
                Some(replayed),
                Json(*first),
            ))
        }
    }
}

pub(super) fn idempotency_key(headers: &HeaderMap) -> Result<Option<IdempotencyKey>, ApiError> {
    let mut values = headers.get_all(&IDEMPOTENCY_KEY).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(ApiError::bad_request(
            "invalid_idempotency_key",
            "send one Idempotency-Key",
        ));
    }
    let text = value
        .to_str()
        .map_err(|_| ValidationError::new("idempotency_key", "Idempotency-Key must be ASCII"))?;
    Ok(Some(IdempotencyKey::parse(text)?))
}

pub(super) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_secs() as i64)
}

#[utoipa::path(
    get, path = "/tasks", tag = "tasks",
    params(TaskListParams),
    responses(
        (status = 200, description = "A page of the caller's tasks, oldest first or by due date", body = TaskList),
        (status = 400, description = "Invalid status, sort (`invalid_sort`), due_before (`invalid_due_before`), limit or next_token (also a token of another sort or filter)", body = ErrorBody),
    ),
    security(("cognito" = []))
)]
pub async fn list_tasks(
    State(state): State<AppState>,
    principal: Principal,
    RawQuery(query): RawQuery,
) -> Result<Json<TaskList>, ApiError> {
    let params = TaskListParams::parse(query.as_deref())?;
    let list = params.filter(None)?;
    let scope = PageScope::Owner {
        sub: &principal.sub,
        list: &list,
    };
    let query = params.query(&scope)?;
    let page = state
        .store
        .list_for_owner(&principal.sub, &list, &query)
        .await?;
    Ok(Json(TaskList::of(page, &scope)))
}

#[utoipa::path(
    get, path = "/tasks/{taskId}", tag = "tasks",
    params(
        TaskPath,
        ("If-None-Match" = Option<String>, Header, nullable = false, description = "ETags (comma-separated, or `*`) the caller already has; if the task's is one of them, 304 and no body"),
    ),
    responses(
        (status = 200, description = "The task", body = Task, headers(("ETag" = String, description = "The task's version, for If-Match and If-None-Match"))),
        (status = 304, description = "Not modified: the task's ETag is one of If-None-Match", headers(("ETag" = String))),
        (status = 400, description = "Malformed task id", body = ErrorBody),
        (status = 404, description = "No such task for this caller", body = ErrorBody),
    ),
    security(("cognito" = []))
)]
pub async fn get_task(
    State(state): State<AppState>,
    principal: Principal,
    TaskPath(id): TaskPath,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let cached = if_none_match(&headers);
    let task = state
        .store
        .get(&principal.sub, &id)
        .await?
        .ok_or(ApiError::TaskNotFound)?;
    Ok(cached.answer(task))
}

#[utoipa::path(
    patch, path = "/tasks/{taskId}", tag = "tasks",
    params(
        TaskPath,
        ("If-Match" = Option<String>, Header, nullable = false, pattern = r#"^(\*|(W/)?"[!#-~]*")$"#, description = "The ETag of the version being edited (or `*`); 412 if the task has changed since (or the value names no version)"),
    ),
    request_body = UpdateTask,
    responses(
        (status = 200, description = "The updated task", body = UpdatedTask, headers(("ETag" = String, description = "The task's new version"))),
        (status = 400, description = "Malformed task id; invalid body: not JSON, not an object, duplicate or unknown fields, invalid values, no field", body = ErrorBody),
        (status = 404, description = "No such task for this caller", body = ErrorBody),
        (status = 408, description = "The body did not arrive in time", body = ErrorBody),
        (status = 412, description = "If-Match no longer matches", body = ErrorBody),
        (status = 413, description = "Body over 64 KiB", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
    ),
    security(("cognito" = []))
)]
pub async fn update_task(
    State(state): State<AppState>,
    principal: Principal,
    TaskPath(id): TaskPath,
    headers: HeaderMap,
    JsonBody(body): JsonBody<UpdateTask>,
) -> Result<impl IntoResponse, ApiError> {
    let update = TaskUpdate {
        patch: body.validate_with(None, "title, description, status, due_at, priority")?,
        updated_at: Timestamp::now(),
        expected_updated_at: if_match(&headers),
    };
    let task = state.store.update(&principal.sub, &id, &update).await?;
    Ok((etag(&task), Json(UpdatedTask { task })))
}

#[utoipa::path(
    delete, path = "/tasks/{taskId}", tag = "tasks",
    params(
        TaskPath,
        ("If-Match" = Option<String>, Header, nullable = false, pattern = r#"^(\*|(W/)?"[!#-~]*")$"#, description = "The ETag of the version being deleted (or `*`); 412 if the task has changed since (or the value names no version)"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Malformed task id", body = ErrorBody),
        (status = 404, description = "No such task for this caller", body = ErrorBody),
        (status = 412, description = "If-Match no longer matches", body = ErrorBody),
    ),
    security(("cognito" = []))
)]
pub async fn delete_task(
    State(state): State<AppState>,
    principal: Principal,
    TaskPath(id): TaskPath,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let expected = if_match(&headers);
    state
        .store
        .delete(&principal.sub, &id, expected.as_ref())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
