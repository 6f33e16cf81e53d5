//! Who may touch a project: the caller's membership, checked before anything else is
//! read, and the role table of [`taskapi_domain::Role::allows`].

use taskapi_domain::{Action, Membership, ProjectId};

use crate::{ApiError, AppState, Principal};

/// What a non-member hears about any project, existing or not: nothing.
pub(super) const PROJECT: &str = "Project";

/// The caller's membership of `project` if their role allows `action`. A non-member gets
/// 404 whether the project exists or not; a member whose role does not allow it, 403.
pub(super) async fn member(
    state: &AppState,
    project: &ProjectId,
    principal: &Principal,
    action: Action,
) -> Result<Membership, ApiError> {
    let membership = state
        .projects
        .membership(project, &principal.sub)
        .await?
        .ok_or(ApiError::NotFound(PROJECT))?;
    allowed(membership, action)
}

/// `membership` if its role allows `action`; 403 if not.
pub(super) fn allowed(membership: Membership, action: Action) -> Result<Membership, ApiError> {
    if membership.role.allows(action) {
        Ok(membership)
    } else {
        Err(ApiError::Forbidden)
    }
}
