//! Projects: task lists shared by their members, each with a [`Role`]. What a role may do
//! is a plain function ([`Role::allows`]) that both runtimes share; the stores keep
//! projects, memberships and invitations under the keys of [`crate::keys`].

mod access;
mod invitation;
mod model;
mod store;

pub use access::{Action, Role};
pub use invitation::{Email, INVITATION_LIFETIME, Invitation, InvitationId};
pub use model::{Membership, Project, ProjectFields, ProjectId, ProjectName, ProjectView};
pub use store::{MAX_MEMBERS, ProjectPage, ProjectStore, Store, TaskFilter};
