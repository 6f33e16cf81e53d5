//! The admin view: tasks of every user in one status, served by GSI1.

use axum::extract::{RawQuery, State};
use axum::routing::get;
use axum::{Json, Router};
use taskapi_domain::{PageScope, Status};

use super::params::ListParams;
use super::tasks::TaskList;
use crate::auth::Admin;
use crate::error::ErrorBody;
use crate::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new().route("/admin/tasks", get(list_by_status))
}

#[utoipa::path(
    get, path = "/admin/tasks", tag = "admin",
    params(ListParams),
    responses(
        (status = 200, description = "A page of all users' tasks in the status (default pending), oldest first", body = TaskList),
        (status = 400, description = "Invalid status, limit or next_token", body = ErrorBody),
        (status = 403, description = "Caller is not in the admins group", body = ErrorBody),
    ),
    security(("cognito" = []))
)]
pub async fn list_by_status(
    State(state): State<AppState>,
    _admin: Admin,
    RawQuery(query): RawQuery,
) -> Result<Json<TaskList>, ApiError> {
    let params = ListParams::parse(query.as_deref())?;
    let status = params.status()?.unwrap_or(Status::Pending);
    let scope = PageScope::Status(status);
    let query = params.query(&scope)?;
    let page = state.store.list_by_status(status, &query).await?;
    Ok(Json(TaskList::of(page, &scope)))
}
