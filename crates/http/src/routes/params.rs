//! The query string of the list routes, parsed into domain values with field-named errors.

use serde::Deserialize;
use taskapi_domain::{Limit, ListQuery, Status};
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
