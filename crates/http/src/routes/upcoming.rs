//! The Upcoming view: the caller's open tasks with a due date, their own and those
//! assigned to them in any project, soonest first, read from an index that holds only
//! such tasks (see [`taskapi_domain::TaskStore::upcoming`]).

use axum::extract::{RawQuery, State};
use axum::routing::get;
use axum::{Json, Router};
use taskapi_domain::PageScope;

use super::params::PageParams;
use super::tasks::TaskList;
use crate::error::ErrorBody;
use crate::{ApiError, AppState, Principal};

pub fn router() -> Router<AppState> {
    Router::new().route("/upcoming", get(list_upcoming))
}

#[utoipa::path(
    get, path = "/upcoming", tag = "tasks",
    params(PageParams),
    responses(
        (status = 200, description = "A page of the caller's open tasks with a due date (own, and assigned to them in projects, with their `project_id`), soonest first. A task done, undated, deleted or assigned to someone else is not listed", body = TaskList),
        (status = 400, description = "Invalid limit or next_token", body = ErrorBody),
    ),
    security(("cognito" = []))
)]
pub async fn list_upcoming(
    State(state): State<AppState>,
    principal: Principal,
    RawQuery(query): RawQuery,
) -> Result<Json<TaskList>, ApiError> {
    let query = PageParams::parse(query.as_deref())?.query(&PageScope::Upcoming)?;
    let page = state.store.upcoming(&principal.sub, &query).await?;
    Ok(Json(TaskList::of(page, &PageScope::Upcoming)))
}
