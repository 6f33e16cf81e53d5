//! Invitations by e-mail: an owner invites an address; whoever signs in with that address
//! verified sees, accepts or declines it. Anyone else gets 404, as if it did not exist.

use axum::extract::State;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use http::StatusCode;
use serde::{Deserialize, Serialize};
use taskapi_domain::{Action, Email, Invitation, Membership, Role, Timestamp, ValidationError};
use utoipa::ToSchema;

use super::access::{PROJECT, member};
use super::params::{InvitationPath, ProjectPath};
use crate::body::{JsonBody, present};
use crate::error::ErrorBody;
use crate::{ApiError, AppState, Principal};

const INVITATION: &str = "Invitation";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/projects/{projectId}/invitations",
            get(list_project_invitations).post(invite),
        )
        .route("/invitations", get(my_invitations))
        .route("/invitations/{invitationId}/accept", post(accept))
        .route("/invitations/{invitationId}", delete(decline_or_revoke))
}

/// The body of `POST /projects/{projectId}/invitations`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Invite {
    /// The invitee's address; only a user who signs in with it verified can accept.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = String, format = Email, max_length = 254, required = true)]
    email: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Role, required = true)]
    role: Option<Role>,
}

/// Invitations, oldest first (one page, `next_token` always `null`).
#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationList {
    invitations: Vec<Invitation>,
    count: usize,
    next_token: Option<String>,
}

impl InvitationList {
    /// The list of those still open.
    fn open(all: Vec<Invitation>) -> Self {
        let now = Timestamp::now();
        let invitations: Vec<_> = all.into_iter().filter(|i| i.is_open(&now)).collect();
        Self {
            count: invitations.len(),
            invitations,
            next_token: None,
        }
    }
}

#[utoipa::path(
    post, path = "/projects/{projectId}/invitations", tag = "invitations",
    params(ProjectPath),
    request_body = Invite,
    responses(
        (status = 201, description = "Invited; open for 7 days", body = Invitation),
        (status = 400, description = "Malformed project id; invalid body, email or role", body = ErrorBody),
        (status = 403, description = "The caller is not an owner", body = ErrorBody),
        (status = 404, description = "No such project, or the caller is not a member", body = ErrorBody),
        (status = 413, description = "Body over 64 KiB", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
    ),
    security(("cognito" = []))
)]
pub async fn invite(
    State(state): State<AppState>,
    principal: Principal,
    ProjectPath(id): ProjectPath,
    JsonBody(body): JsonBody<Invite>,
) -> Result<(StatusCode, Json<Invitation>), ApiError> {
    let email = body
        .email
        .ok_or_else(|| ValidationError::new("email", "email is required"))?;
    let email = Email::parse(&email)?;
    let role = body
        .role
        .ok_or_else(|| ValidationError::new("role", "role is required"))?;
    member(&state, &id, &principal, Action::ManageMembers).await?;
    let project = state
        .projects
        .project(&id)
        .await?
        .ok_or(ApiError::NotFound(PROJECT))?;
    let invitation = Invitation::create(&project, email, role, time::OffsetDateTime::now_utc());
    state
        .projects
        .invite(&invitation)
        .await
        .map_err(ApiError::missing(PROJECT))?;
    Ok((StatusCode::CREATED, Json(invitation)))
}

#[utoipa::path(
    get, path = "/projects/{projectId}/invitations", tag = "invitations",
    params(ProjectPath),
    responses(
        (status = 200, description = "The project's open invitations", body = InvitationList),
        (status = 400, description = "Malformed project id", body = ErrorBody),
        (status = 403, description = "The caller is not an owner", body = ErrorBody),
        (status = 404, description = "No such project, or the caller is not a member", body = ErrorBody),
    ),
    security(("cognito" = []))
)]
pub async fn list_project_invitations(
    State(state): State<AppState>,
    principal: Principal,
    ProjectPath(id): ProjectPath,
) -> Result<Json<InvitationList>, ApiError> {
    member(&state, &id, &principal, Action::ManageMembers).await?;
    let all = state.projects.project_invitations(&id).await?;
    Ok(Json(InvitationList::open(all)))
}

#[utoipa::path(
    get, path = "/invitations", tag = "invitations",
    responses(
        (status = 200, description = "Open invitations to the caller's verified e-mail address (none without one)", body = InvitationList),
    ),
    security(("cognito" = []))
)]
pub async fn my_invitations(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<InvitationList>, ApiError> {
    let all = match principal.verified_email() {
        Some(email) => state.projects.invitations_for(&email).await?,
        None => Vec::new(),
    };
    Ok(Json(InvitationList::open(all)))
}

/// The invitation if it is open and addressed to the caller's verified address.
async fn addressed_to_caller(
    state: &AppState,
    principal: &Principal,
    id: &taskapi_domain::InvitationId,
) -> Result<Option<Invitation>, ApiError> {
    let Some(email) = principal.verified_email() else {
        return Ok(None);
    };
    let invitation = state.projects.invitation(id).await?;
    Ok(invitation.filter(|i| i.email == email && i.is_open(&Timestamp::now())))
}

#[utoipa::path(
    post, path = "/invitations/{invitationId}/accept", tag = "invitations",
    params(InvitationPath),
    responses(
        (status = 200, description = "The caller's new membership", body = Membership),
        (status = 400, description = "Malformed invitation id", body = ErrorBody),
        (status = 404, description = "No open invitation with this id to the caller's verified address", body = ErrorBody),
        (status = 409, description = "The caller is a member already, or the project is full", body = ErrorBody),
    ),
    security(("cognito" = []))
)]
pub async fn accept(
    State(state): State<AppState>,
    principal: Principal,
    InvitationPath(id): InvitationPath,
) -> Result<Json<Membership>, ApiError> {
    let invitation = addressed_to_caller(&state, &principal, &id)
        .await?
        .ok_or(ApiError::NotFound(INVITATION))?;
    let membership = Membership {
        project_id: invitation.project_id.clone(),
        user_id: principal.sub.clone(),
        email: Some(invitation.email.as_str().to_owned()),
        role: invitation.role,
        joined_at: Timestamp::now(),
    };
    state
        .projects
        .accept(&invitation, &membership)
        .await
        .map_err(ApiError::missing(INVITATION))?;
    Ok(Json(membership))
}

#[utoipa::path(
    delete, path = "/invitations/{invitationId}", tag = "invitations",
    params(InvitationPath),
    responses(
        (status = 204, description = "Declined by the invitee, or revoked by an owner of the project"),
        (status = 400, description = "Malformed invitation id", body = ErrorBody),
        (status = 403, description = "A member of the project who is not an owner", body = ErrorBody),
        (status = 404, description = "No such invitation for the caller", body = ErrorBody),
    ),
    security(("cognito" = []))
)]
pub async fn decline_or_revoke(
    State(state): State<AppState>,
    principal: Principal,
    InvitationPath(id): InvitationPath,
) -> Result<StatusCode, ApiError> {
    let invitation = match addressed_to_caller(&state, &principal, &id).await? {
        Some(invitation) => invitation,
        None => {
            // Not the invitee: an owner may revoke; a non-member learns nothing.
            member(&state, &id.project(), &principal, Action::ManageMembers)
                .await
                .map_err(|err| match err {
                    ApiError::NotFound(_) => ApiError::NotFound(INVITATION),
                    other => other,
                })?;
            state
                .projects
                .invitation(&id)
                .await?
                .ok_or(ApiError::NotFound(INVITATION))?
        }
    };
    state
        .projects
        .withdraw_invitation(&invitation)
        .await
        .map_err(ApiError::missing(INVITATION))?;
    Ok(StatusCode::NO_CONTENT)
}
