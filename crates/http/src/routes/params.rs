//! The parameters of the routes, parsed into domain values with field-named errors: the
//! query string of the list routes and the `{taskId}` of one task's routes.

use axum::extract::{FromRequestParts, Path};
use http::request::Parts;
use serde::Deserialize;
use taskapi_domain::{Limit, ListQuery, Status, TaskId, ValidationError};
use utoipa::IntoParams;

use crate::ApiError;
use crate::cursor::{self, Scope};

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
        serde_urlencoded::from_str(raw.unwrap_or_default())
            .map_err(|err| ApiError::bad_request("invalid_query", format!("query string: {err}")))
    }

    /// The status filter, if any. An empty `status=` is not a status: 400, like any other.
    pub fn status(&self) -> Result<Option<Status>, ApiError> {
        Ok(self.status.as_deref().map(str::parse).transpose()?)
    }

    pub fn query(&self, scope: Scope<'_>) -> Result<ListQuery, ApiError> {
        let limit = match self.limit.as_deref() {
            None => Limit::default(),
            Some(raw) => Limit::parse(raw)?,
        };
        let start_after = self
            .next_token
            .as_deref()
            .map(|token| cursor::decode(token, scope))
            .transpose()?;
        Ok(ListQuery { limit, start_after })
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

impl<S: Send + Sync> FromRequestParts<S> for TaskPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| ValidationError::new("taskId", "taskId must be UTF-8 text"))?;
        Ok(Self(TaskId::parse(&raw)?))
    }
}
