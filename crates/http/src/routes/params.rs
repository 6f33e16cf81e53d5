//! The parameters of the routes, parsed into domain values with field-named errors: the
//! query string of the list routes and the ids in their paths.

use std::collections::HashMap;

use axum::extract::{FromRequestParts, Path};
use http::request::Parts;
use serde::Deserialize;
use taskapi_domain::{
    InvitationId, Limit, ListQuery, PageScope, ProjectId, Sort, Status, TaskFilter, TaskId,
    ValidationError, WebhookId, parse_instant,
};
use utoipa::IntoParams;

use crate::ApiError;
use crate::cursor;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Only tasks in this status.
    #[param(value_type = Option<Status>)]
    status: Option<String>,
    /// Page size, 1 to 100 (default 20).
    #[param(value_type = Option<u16>, minimum = 1, maximum = 100)]
    limit: Option<String>,
    /// The `next_token` of the previous page.
    #[param(min_length = 1, max_length = 2048)]
    next_token: Option<String>,
}

impl ListParams {
    /// Parses `?status=&limit=&next_token=`. API Gateway hands Lambda a null query string
    /// when there is none, so an absent query is simply the defaults.
    pub fn parse(raw: Option<&str>) -> Result<Self, ApiError> {
        parse_query(raw)
    }

    /// The status filter, if any. An empty `status=` is not a status: 400, like any other.
    pub fn status(&self) -> Result<Option<Status>, ApiError> {
        Ok(self.status.as_deref().map(str::parse).transpose()?)
    }

    pub fn query(&self, scope: &PageScope<'_>) -> Result<ListQuery, ApiError> {
        page_query(self.limit.as_deref(), self.next_token.as_deref(), scope)
    }
}

/// The page a list request asks for: `limit` (1 to 100, default 20) after `next_token`,
/// which must be a token of the list `scope` names.
fn page_query(
    limit: Option<&str>,
    next_token: Option<&str>,
    scope: &PageScope<'_>,
) -> Result<ListQuery, ApiError> {
    let limit = match limit {
        None => Limit::default(),
        Some(raw) => Limit::parse(raw)?,
    };
    let start_after = next_token
        .map(|token| cursor::decode(token, scope))
        .transpose()?;
    Ok(ListQuery { limit, start_after })
}

fn parse_query<T: serde::de::DeserializeOwned>(raw: Option<&str>) -> Result<T, ApiError> {
    serde_urlencoded::from_str(raw.unwrap_or_default())
        .map_err(|err| ApiError::bad_request("invalid_query", format!("query string: {err}")))
}

/// The query string of `GET /tasks`: a page of the caller's tasks, filtered and sorted.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TaskListParams {
    /// Only tasks in this status.
    #[param(value_type = Option<Status>)]
    status: Option<String>,
    /// `created_at` (default: oldest first) or `due_at` (soonest due first, then the tasks
    /// without a due date, oldest first).
    #[param(value_type = Option<String>, pattern = "^(created_at|due_at)$")]
    sort: Option<String>,
    /// Only tasks due before this instant (RFC 3339 with an offset), so none without a
    /// due date.
    #[param(value_type = Option<String>, format = DateTime)]
    due_before: Option<String>,
    /// Page size, 1 to 100 (default 20).
    #[param(value_type = Option<u16>, minimum = 1, maximum = 100)]
    limit: Option<String>,
    /// The `next_token` of the previous page of the same list (same sort and filters).
    #[param(min_length = 1, max_length = 2048)]
    next_token: Option<String>,
}

impl TaskListParams {
    pub fn parse(raw: Option<&str>) -> Result<Self, ApiError> {
        parse_query(raw)
    }

    /// Which tasks, in which order. Empty values are not values: 400, like any other.
    pub fn filter(&self, assignee: Option<String>) -> Result<TaskFilter, ApiError> {
        Ok(TaskFilter {
            status: self.status.as_deref().map(str::parse).transpose()?,
            assignee,
            due_before: self
                .due_before
                .as_deref()
                .map(|raw| parse_instant("due_before", raw))
                .transpose()?,
            sort: self
                .sort
                .as_deref()
                .map(str::parse::<Sort>)
                .transpose()?
                .unwrap_or_default(),
        })
    }

    /// The page asked for, of the list `scope` names (its token binds `scope`'s filter).
    pub fn query(&self, scope: &PageScope<'_>) -> Result<ListQuery, ApiError> {
        page_query(self.limit.as_deref(), self.next_token.as_deref(), scope)
    }
}

/// The query string of `GET /upcoming`: a page.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Page size, 1 to 100 (default 20).
    #[param(value_type = Option<u16>, minimum = 1, maximum = 100)]
    limit: Option<String>,
    /// The `next_token` of the previous page.
    #[param(min_length = 1, max_length = 2048)]
    next_token: Option<String>,
}

impl PageParams {
    pub fn parse(raw: Option<&str>) -> Result<Self, ApiError> {
        parse_query(raw)
    }

    pub fn query(&self, scope: &PageScope<'_>) -> Result<ListQuery, ApiError> {
        page_query(self.limit.as_deref(), self.next_token.as_deref(), scope)
    }
}

/// The `{taskId}` of a route, parsed: a malformed id is a 400 before the handler runs.
#[derive(Debug, IntoParams)]
#[into_params(names("taskId"), parameter_in = Path)]
pub struct TaskPath(
    /// A task id: 1 to 64 letters, digits, '-' or '_'
    #[param(value_type = String, pattern = "^[A-Za-z0-9_-]{1,64}$", min_length = 1, max_length = 64)]
    pub TaskId,
);

/// The path parameter `name`, as text.
async fn path_param<S: Send + Sync>(
    parts: &mut Parts,
    state: &S,
    name: &'static str,
) -> Result<String, ApiError> {
    let Path(mut params) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
        .await
        .map_err(|_| ValidationError::new(name, format!("{name} must be UTF-8 text")))?;
    params
        .remove(name)
        .ok_or_else(|| ApiError::Internal(format!("route without {{{name}}}").into()))
}

impl<S: Send + Sync> FromRequestParts<S> for TaskPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Ok(Self(TaskId::parse(
            &path_param(parts, state, "taskId").await?,
        )?))
    }
}

/// The `{projectId}` of a route, parsed.
#[derive(Debug, IntoParams)]
#[into_params(names("projectId"), parameter_in = Path)]
pub struct ProjectPath(
    /// A project id: 1 to 64 letters, digits, '-' or '_'
    #[param(value_type = String, pattern = "^[A-Za-z0-9_-]{1,64}$", min_length = 1, max_length = 64)]
    pub ProjectId,
);

impl<S: Send + Sync> FromRequestParts<S> for ProjectPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Ok(Self(ProjectId::parse(
            &path_param(parts, state, "projectId").await?,
        )?))
    }
}

/// The `{userId}` of a member's route: a user's `sub`.
#[derive(Debug, IntoParams)]
#[into_params(names("userId"), parameter_in = Path)]
pub struct MemberPath(
    /// The member's user id (their `sub`)
    #[param(value_type = String, min_length = 1, max_length = 128, pattern = "^[^#\\u0000-\\u001f\\u007f-\\u009f]{1,128}$")]
    pub String,
);

impl<S: Send + Sync> FromRequestParts<S> for MemberPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let raw = path_param(parts, state, "userId").await?;
        let valid = (1..=128).contains(&raw.chars().count())
            && !raw.chars().any(|c| c.is_control() || c == '#');
        if valid {
            Ok(Self(raw))
        } else {
            Err(ValidationError::new(
                "userId",
                "userId must be 1 to 128 characters, no control characters or '#'",
            )
            .into())
        }
    }
}

/// The `{invitationId}` of an invitation's route, parsed.
#[derive(Debug, IntoParams)]
#[into_params(names("invitationId"), parameter_in = Path)]
pub struct InvitationPath(
    /// An invitation id, as `POST /projects/{projectId}/invitations` returned it
    #[param(value_type = String, pattern = "^[A-Za-z0-9_-]{1,64}_[0-9a-f]{32}$", min_length = 34, max_length = 97)]
    pub InvitationId,
);

impl<S: Send + Sync> FromRequestParts<S> for InvitationPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let raw = path_param(parts, state, "invitationId").await?;
        Ok(Self(InvitationId::parse(&raw)?))
    }
}

/// The query string of `GET /projects/{projectId}/tasks`: a task list's, and an assignee.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProjectListParams {
    /// Only tasks in this status.
    #[param(value_type = Option<Status>)]
    status: Option<String>,
    /// Only tasks assigned to this member (a `user_id`).
    #[param(min_length = 1, max_length = 128)]
    assignee: Option<String>,
    /// As for `GET /tasks`.
    #[param(value_type = Option<String>, pattern = "^(created_at|due_at)$")]
    sort: Option<String>,
    /// As for `GET /tasks`.
    #[param(value_type = Option<String>, format = DateTime)]
    due_before: Option<String>,
    /// Page size, 1 to 100 (default 20).
    #[param(value_type = Option<u16>, minimum = 1, maximum = 100)]
    limit: Option<String>,
    /// The `next_token` of the previous page.
    #[param(min_length = 1, max_length = 2048)]
    next_token: Option<String>,
}

impl ProjectListParams {
    /// The list's parameters, and the assignee filter if any.
    pub fn parse(raw: Option<&str>) -> Result<(TaskListParams, Option<String>), ApiError> {
        let params: Self = parse_query(raw)?;
        let too_long_or_empty =
            |assignee: &str| assignee.is_empty() || assignee.chars().count() > 128;
        if params.assignee.as_deref().is_some_and(too_long_or_empty) {
            return Err(ValidationError::new(
                "assignee",
                "assignee must be a user id of 1 to 128 characters",
            )
            .into());
        }
        let list = TaskListParams {
            status: params.status,
            sort: params.sort,
            due_before: params.due_before,
            limit: params.limit,
            next_token: params.next_token,
        };
        Ok((list, params.assignee))
    }
}

/// The `{webhookId}` of a route, parsed.
#[derive(Debug, IntoParams)]
#[into_params(names("webhookId"), parameter_in = Path)]
pub struct WebhookPath(
    /// A webhook id, as `POST /webhooks` returned it
    #[param(value_type = String, pattern = "^[A-Za-z0-9_-]{1,64}$", min_length = 1, max_length = 64)]
    pub WebhookId,
);

impl<S: Send + Sync> FromRequestParts<S> for WebhookPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let raw = path_param(parts, state, "webhookId").await?;
        Ok(Self(WebhookId::parse(&raw)?))
    }
}

/// The query string of `GET /webhooks`: the caller's own endpoints, or a project's.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WebhookListParams {
    /// A project the caller owns: its endpoints instead of the caller's own.
    #[param(value_type = Option<String>, pattern = "^[A-Za-z0-9_-]{1,64}$")]
    project_id: Option<String>,
}

impl WebhookListParams {
    pub fn parse(raw: Option<&str>) -> Result<Option<ProjectId>, ApiError> {
        let params: Self = parse_query(raw)?;
        Ok(params
            .project_id
            .as_deref()
            .map(ProjectId::parse)
            .transpose()?)
    }
}
