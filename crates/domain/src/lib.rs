//! The taskapi domain: what a task is, which values are valid, how tasks are keyed in the
//! single table, and the [`TaskStore`] port every storage adapter implements.
//!
//! Nothing in here knows about HTTP, AWS or SQL, so the same rules hold whichever runtime
//! (local server or Lambda) and whichever store (SQLite or DynamoDB) is in use.

mod cause;
mod events;
mod idempotency;
pub mod keys;
mod planning;

/// The Cognito group whose members may use the admin view (claim `cognito:groups`). The
/// local user pool creates it; the SAM template names the same group.
pub const ADMIN_GROUP: &str = "admins";
mod page;
mod projects;
mod records;
mod store;
mod task;
mod validate;
mod webhooks;

pub use cause::cause_chain;
pub use events::{Audience, Change, Event, EventData, EventKind, new_event_id};
pub use idempotency::{Created, IDEMPOTENCY_WINDOW, IdempotencyKey, IdempotentCreate};
pub use page::PageScope;
pub use planning::{Priority, Sort, parse_instant};
pub use projects::{
    Action, Email, INVITATION_LIFETIME, Invitation, InvitationId, MAX_MEMBERS, Membership, Project,
    ProjectFields, ProjectId, ProjectName, ProjectPage, ProjectStore, ProjectView, Role, Store,
    TaskFilter,
};
pub use records::{IdempotencyRecord, ImportOutcome, ImportRecords, Record};
pub use store::{ListQuery, NotReady, Page, PageKey, StoreError, TaskStore, TaskUpdate};
pub use task::{NewTask, Status, Task, TaskId, TaskPatch, Timestamp};
pub use validate::{Description, Limit, Title, ValidationError};
pub use webhooks::{
    AttemptOutcome, DELIVERY_RETENTION, DeliveryAttempt, Disabled, MAX_DELIVERIES_LISTED,
    MAX_WEBHOOKS, RETRY_SCHEDULE, RetiringSecret, RetrySchedule, SealedSecret, Webhook, WebhookId,
    WebhookStore,
};
