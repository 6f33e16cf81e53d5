//! Projects and their members: `/projects`, `/projects/{projectId}` and
//! `/projects/{projectId}/members`.

use axum::extract::{RawQuery, State};
use axum::routing::{get, patch};
use axum::{Json, Router};
use http::StatusCode;
use serde::{Deserialize, Serialize};
use taskapi_domain::{
    Action, Membership, PageScope, Project, ProjectName, ProjectPage, ProjectView, Role, Timestamp,
    ValidationError,
};
use utoipa::ToSchema;

use super::access::{PROJECT, allowed, member, member_of};
use super::params::{ListParams, MemberPath, ProjectPath};
use crate::body::{JsonBody, present};
use crate::cursor;
use crate::error::ErrorBody;
use crate::{ApiError, AppState, Principal};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/projects", get(list_projects).post(create_project))
        .route(
            "/projects/{projectId}",
            get(get_project)
                .patch(rename_project)
                .delete(delete_project),
        )
        .route("/projects/{projectId}/members", get(list_members))
        .route(
            "/projects/{projectId}/members/{userId}",
            patch(change_role).delete(remove_member),
        )
}

/// The body of `POST /projects` and `PATCH /projects/{projectId}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectBody {
    /// 1 to 100 characters, at least one of them visible, no control characters. Stored
    /// without surrounding spaces.
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = ProjectName::schema, required = true)]
    name: Option<String>,
}

impl ProjectBody {
    fn validate(self) -> Result<ProjectName, ValidationError> {
        let name = self
            .name
            .ok_or_else(|| ValidationError::new("name", "name is required"))?;
        ProjectName::parse(&name)
    }
}

/// A page of the caller's projects.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProjectList {
    projects: Vec<ProjectView>,
    count: usize,
    /// Pass as `next_token` to get the next page; `null` on the last page.
    next_token: Option<String>,
}

impl ProjectList {
    fn of(page: ProjectPage, scope: &PageScope<'_>) -> Self {
        Self {
            count: page.projects.len(),
            next_token: page.next.as_ref().map(|key| cursor::encode(key, scope)),
            projects: page.projects,
        }
    }
}

/// Every member of a project (at most 50: one page, `next_token` always `null`).
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberList {
    members: Vec<Membership>,
    count: usize,
    next_token: Option<String>,
}

/// The body of `PATCH /projects/{projectId}/members/{userId}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeRole {
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Role, required = true)]
    role: Option<Role>,
}

#[utoipa::path(
    post, path = "/projects", tag = "projects",
    request_body = ProjectBody,
    responses(
        (status = 201, description = "Created; the caller is its owner", body = ProjectView),
        (status = 400, description = "Invalid body or name", body = ErrorBody),
        (status = 413, description = "Body over 64 KiB", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
    ),
    security(("cognito" = []))
)]
pub async fn create_project(
    State(state): State<AppState>,
    principal: Principal,
    JsonBody(body): JsonBody<ProjectBody>,
) -> Result<(StatusCode, Json<ProjectView>), ApiError> {
    let now = Timestamp::now();
    let project = Project::create(body.validate()?, now.clone());
    let owner = Membership {
        project_id: project.project_id.clone(),
        user_id: principal.sub.clone(),
        email: principal
            .verified_email()
            .map(|email| email.as_str().to_owned()),
        role: Role::Owner,
        joined_at: now,
    };
    state.projects.create_project(&project, &owner).await?;
    let view = ProjectView {
        project,
        role: Role::Owner,
    };
    Ok((StatusCode::CREATED, Json(view)))
}

#[utoipa::path(
    get, path = "/projects", tag = "projects",
    params(
        ("limit" = Option<u16>, Query, minimum = 1, maximum = 100, description = "Page size, 1 to 100 (default 20)"),
        ("next_token" = Option<String>, Query, min_length = 1, max_length = 2048, description = "The `next_token` of the previous page"),
    ),
    responses(
        (status = 200, description = "A page of the caller's projects with their role, oldest first", body = ProjectList),
        (status = 400, description = "Invalid limit or next_token", body = ErrorBody),
    ),
    security(("cognito" = []))
)]
pub async fn list_projects(
    State(state): State<AppState>,
    principal: Principal,
    RawQuery(query): RawQuery,
) -> Result<Json<ProjectList>, ApiError> {
    let params = ListParams::parse(query.as_deref())?;
    if params.status()?.is_some() {
        return Err(ApiError::bad_request(
            "invalid_query",
            "projects have no status",
        ));
    }
    let scope = PageScope::Projects {
        sub: &principal.sub,
    };
    let query = params.query(&scope)?;
    let page = state.projects.list_projects(&principal.sub, &query).await?;
    Ok(Json(ProjectList::of(page, &scope)))
}

#[utoipa::path(
    get, path = "/projects/{projectId}", tag = "projects",
    params(ProjectPath),
    responses(
        (status = 200, description = "The project with the caller's role", body = ProjectView),
        (status = 400, description = "Malformed project id", body = ErrorBody),
        (status = 404, description = "No such project, or the caller is not a member", body = ErrorBody),
    ),
    security(("cognito" = []))
)]
pub async fn get_project(
    State(state): State<AppState>,
    principal: Principal,
    ProjectPath(id): ProjectPath,
) -> Result<Json<ProjectView>, ApiError> {
    let (project, membership) = member_of(&state, &id, &principal, Action::Read).await?;
    Ok(Json(ProjectView {
        project,
        role: membership.role,
    }))
}

#[utoipa::path(
    patch, path = "/projects/{projectId}", tag = "projects",
    params(ProjectPath),
    request_body = ProjectBody,
    responses(
        (status = 200, description = "The renamed project", body = ProjectView),
        (status = 400, description = "Malformed project id; invalid body or name", body = ErrorBody),
        (status = 403, description = "The caller is not an owner", body = ErrorBody),
        (status = 404, description = "No such project, or the caller is not a member", body = ErrorBody),
        (status = 413, description = "Body over 64 KiB", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
    ),
    security(("cognito" = []))
)]
pub async fn rename_project(
    State(state): State<AppState>,
    principal: Principal,
    ProjectPath(id): ProjectPath,
    JsonBody(body): JsonBody<ProjectBody>,
) -> Result<Json<ProjectView>, ApiError> {
    let name = body.validate()?;
    let membership = member(&state, &id, &principal, Action::Rename).await?;
    let project = state
        .projects
        .rename_project(&id, &name, &Timestamp::now())
        .await
        .map_err(ApiError::missing(PROJECT))?;
    Ok(Json(ProjectView {
        project,
        role: membership.role,
    }))
}

#[utoipa::path(
    delete, path = "/projects/{projectId}", tag = "projects",
    params(ProjectPath),
    responses(
        (status = 204, description = "Deleted with its tasks, members and invitations"),
        (status = 400, description = "Malformed project id", body = ErrorBody),
        (status = 403, description = "The caller is not an owner", body = ErrorBody),
        (status = 404, description = "No such project, or the caller is not a member", body = ErrorBody),
    ),
    security(("cognito" = []))
)]
pub async fn delete_project(
    State(state): State<AppState>,
    principal: Principal,
    ProjectPath(id): ProjectPath,
) -> Result<StatusCode, ApiError> {
    member(&state, &id, &principal, Action::Delete).await?;
    state
        .projects
        .delete_project(&id)
        .await
        .map_err(ApiError::missing(PROJECT))?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    get, path = "/projects/{projectId}/members", tag = "projects",
    params(ProjectPath),
    responses(
        (status = 200, description = "Every member, in the order they joined", body = MemberList),
        (status = 400, description = "Malformed project id", body = ErrorBody),
        (status = 404, description = "No such project, or the caller is not a member", body = ErrorBody),
    ),
    security(("cognito" = []))
)]
pub async fn list_members(
    State(state): State<AppState>,
    principal: Principal,
    ProjectPath(id): ProjectPath,
) -> Result<Json<MemberList>, ApiError> {
    // One read serves as the caller's membership check and as the answer.
    let members = state.projects.members(&id).await?;
    if !members.iter().any(|member| member.user_id == principal.sub) {
        return Err(ApiError::NotFound(PROJECT));
    }
    Ok(Json(MemberList {
        count: members.len(),
        members,
        next_token: None,
    }))
}

/// The caller's and the target's memberships, from one read of the member list: 404 for a
/// caller who is not a member, then for a target who is not one.
async fn caller_and_target(
    state: &AppState,
    principal: &Principal,
    id: &taskapi_domain::ProjectId,
    user: &str,
) -> Result<(Membership, Membership), ApiError> {
    let members = state.projects.members(id).await?;
    let find = |user: &str| {
        members
            .iter()
            .find(|member| member.user_id == user)
            .cloned()
    };
    let caller = find(&principal.sub).ok_or(ApiError::NotFound(PROJECT))?;
    let target = find(user).ok_or(ApiError::NotFound("Member"));
    Ok((caller, target?))
}

#[utoipa::path(
    patch, path = "/projects/{projectId}/members/{userId}", tag = "projects",
    params(ProjectPath, MemberPath),
    request_body = ChangeRole,
    responses(
        (status = 200, description = "The member with their new role", body = Membership),
        (status = 400, description = "Malformed id; invalid body or role", body = ErrorBody),
        (status = 403, description = "The caller is not an owner", body = ErrorBody),
        (status = 404, description = "No such project (or the caller is not a member), or no such member", body = ErrorBody),
        (status = 409, description = "The last owner cannot be demoted; or the membership changed meanwhile", body = ErrorBody),
        (status = 413, description = "Body over 64 KiB", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
    ),
    security(("cognito" = []))
)]
pub async fn change_role(
    State(state): State<AppState>,
    principal: Principal,
    ProjectPath(id): ProjectPath,
    MemberPath(user): MemberPath,
    JsonBody(body): JsonBody<ChangeRole>,
) -> Result<Json<Membership>, ApiError> {
    let role = body
        .role
        .ok_or_else(|| ValidationError::new("role", "role is required"))?;
    let (caller, target) = caller_and_target(&state, &principal, &id, &user).await?;
    allowed(caller, Action::ManageMembers)?;
    let changed = state
        .projects
        .change_role(&target, role)
        .await
        .map_err(ApiError::missing("Member"))?;
    Ok(Json(changed))
}

#[utoipa::path(
    delete, path = "/projects/{projectId}/members/{userId}", tag = "projects",
    params(ProjectPath, MemberPath),
    responses(
        (status = 204, description = "Removed; their next request about the project is a 404"),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 403, description = "The caller is not an owner and not the member", body = ErrorBody),
        (status = 404, description = "No such project (or the caller is not a member), or no such member", body = ErrorBody),
        (status = 409, description = "The last owner cannot leave; or the membership changed meanwhile", body = ErrorBody),
    ),
    security(("cognito" = []))
)]
pub async fn remove_member(
    State(state): State<AppState>,
    principal: Principal,
    ProjectPath(id): ProjectPath,
    MemberPath(user): MemberPath,
) -> Result<StatusCode, ApiError> {
    let (caller, target) = caller_and_target(&state, &principal, &id, &user).await?;
    // Every member may leave; removing someone else is the owners'.
    if target.user_id != caller.user_id {
        allowed(caller, Action::ManageMembers)?;
    }
    state
        .projects
        .remove_member(&target)
        .await
        .map_err(ApiError::missing("Member"))?;
    Ok(StatusCode::NO_CONTENT)
}
