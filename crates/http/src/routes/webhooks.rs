//! Webhook endpoints: a user's for their own tasks, a project owner's for the project's
//! events. The signing secret is shown once, at creation and at each rotation; the store
//! keeps it sealed. Someone else's endpoint, or a project endpoint of a project the
//! caller does not own, is 404, as if it did not exist.

use std::time::Duration;

use axum::extract::{RawQuery, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use http::StatusCode;
use serde::{Deserialize, Serialize};
use taskapi_domain::{
    Action, Audience, DeliveryAttempt, EventKind, MAX_DELIVERIES_LISTED, ProjectId, RetiringSecret,
    Timestamp, ValidationError, Webhook, WebhookId,
};
use taskapi_webhooks::{SigningSecret, check_url};
use utoipa::ToSchema;

use super::access::member;
use super::params::{WebhookListParams, WebhookPath};
use crate::body::JsonBody;
use crate::error::ErrorBody;
use crate::state::WebhookSettings;
use crate::{ApiError, AppState, Principal};

const WEBHOOK: &str = "Webhook";
/// How long a replaced secret keeps signing beside the new one.
const ROTATION_OVERLAP: Duration = Duration::from_secs(24 * 60 * 60);

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/webhooks", get(list_webhooks).post(create_webhook))
        .route(
            "/webhooks/{webhookId}",
            get(get_webhook).delete(delete_webhook),
        )
        .route("/webhooks/{webhookId}/deliveries", get(list_deliveries))
        .route("/webhooks/{webhookId}/rotate-secret", post(rotate_secret))
}

/// The body of `POST /webhooks`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    /// Where events are POSTed: an https URL whose host resolves to public addresses.
    #[schema(max_length = 2048, example = "https://example.com/hooks/taskapi")]
    url: String,
    /// The event types to deliver; absent or empty for every type.
    #[serde(default)]
    events: Option<Vec<String>>,
    /// A project the caller owns: its events instead of the caller's own tasks'.
    #[serde(default)]
    #[schema(value_type = Option<String>, pattern = "^[A-Za-z0-9_-]{1,64}$")]
    project_id: Option<String>,
}

/// An endpoint as the API shows it (never its secret).
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookView {
    webhook_id: String,
    url: String,
    /// The event types delivered; empty for every type.
    events: Vec<EventKind>,
    /// The project whose events it receives; `null` for the caller's own tasks.
    #[schema(value_type = Option<String>)]
    project_id: Option<ProjectId>,
    created_by: String,
    #[schema(value_type = String, format = DateTime)]
    created_at: Timestamp,
    /// Deliveries stopped: the endpoint answered 410 Gone.
    disabled: bool,
    #[schema(value_type = Option<String>, format = DateTime)]
    disabled_at: Option<Timestamp>,
    disabled_reason: Option<String>,
    /// While set, deliveries are signed with the replaced secret too, until then.
    #[schema(value_type = Option<String>, format = DateTime)]
    previous_secret_until: Option<Timestamp>,
}

impl From<&Webhook> for WebhookView {
    fn from(webhook: &Webhook) -> Self {
        let project_id = match &webhook.audience {
            Audience::Project(project) => Some(project.clone()),
            Audience::User(_) => None,
        };
        let now = Timestamp::now();
        Self {
            webhook_id: webhook.webhook_id.to_string(),
            url: webhook.url.clone(),
            events: webhook.events.clone(),
            project_id,
            created_by: webhook.created_by.clone(),
            created_at: webhook.created_at.clone(),
            disabled: webhook.disabled.is_some(),
            disabled_at: webhook.disabled.as_ref().map(|d| d.at.clone()),
            disabled_reason: webhook.disabled.as_ref().map(|d| d.reason.clone()),
            previous_secret_until: webhook
                .retiring
                .as_ref()
                .filter(|retiring| retiring.until > now)
                .map(|retiring| retiring.until.clone()),
        }
    }
}

/// A new endpoint, or a rotation: the endpoint and its signing secret, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookWithSecret {
    #[serde(flatten)]
    webhook: WebhookView,
    /// `whsec_<base64>`: verify deliveries with it (any Standard Webhooks library).
    secret: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookList {
    webhooks: Vec<WebhookView>,
    count: usize,
}

/// One delivery attempt.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryView {
    attempt_id: String,
    /// The event's id: the delivery's `webhook-id` header on every attempt.
    event_id: String,
    event_type: EventKind,
    /// 1 for the first attempt.
    attempt: u32,
    #[schema(value_type = String, format = DateTime)]
    at: Timestamp,
    /// The endpoint's answer, if it answered.
    status_code: Option<u16>,
    /// Why there was no answer (timeout, connection, refused address).
    error: Option<String>,
    /// When the next attempt is due; `null` once delivered, given up or disabled.
    #[schema(value_type = Option<String>, format = DateTime)]
    next_attempt_at: Option<Timestamp>,
}

impl From<DeliveryAttempt> for DeliveryView {
    fn from(attempt: DeliveryAttempt) -> Self {
        let (status_code, error) = match attempt.outcome {
            taskapi_domain::AttemptOutcome::Status(code) => (Some(code), None),
            taskapi_domain::AttemptOutcome::Error(error) => (None, Some(error)),
        };
        Self {
            attempt_id: attempt.attempt_id,
            event_id: attempt.event_id,
            event_type: attempt.event_type,
            attempt: attempt.attempt,
            at: attempt.at,
            status_code,
            error,
            next_attempt_at: attempt.next_attempt_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryList {
    deliveries: Vec<DeliveryView>,
    count: usize,
}

/// The webhook settings, or 404 where the entry point turned webhooks off.
fn settings(state: &AppState) -> Result<&WebhookSettings, ApiError> {
    state.webhooks.as_deref().ok_or(ApiError::RouteNotFound)
}

/// Whose events the caller may have delivered: their own, or a project's they own.
async fn audience_for(
    state: &AppState,
    principal: &Principal,
    project: Option<ProjectId>,
) -> Result<Audience, ApiError> {
    match project {
        None => Ok(Audience::User(principal.sub.clone())),
        Some(project) => {
            member(state, &project, principal, Action::ManageWebhooks).await?;
            Ok(Audience::Project(project))
        }
    }
}

/// The endpoint `id` if the caller may manage it; 404 otherwise.
async fn owned(
    state: &AppState,
    principal: &Principal,
    id: &WebhookId,
) -> Result<Webhook, ApiError> {
    let webhook = state
        .webhook_store
        .webhook(id)
        .await?
        .ok_or(ApiError::NotFound(WEBHOOK))?;
    let allowed = match &webhook.audience {
        Audience::User(sub) => *sub == principal.sub,
        Audience::Project(project) => state
            .projects
            .membership(project, &principal.sub)
            .await?
            .is_some_and(|membership| membership.role.allows(Action::ManageWebhooks)),
    };
    if allowed {
        Ok(webhook)
    } else {
        Err(ApiError::NotFound(WEBHOOK))
    }
}

fn event_kinds(raw: Option<Vec<String>>) -> Result<Vec<EventKind>, ApiError> {
    let mut kinds = Vec::new();
    for name in raw.unwrap_or_default() {
        let kind = EventKind::parse(&name).ok_or_else(|| {
            let known: Vec<_> = EventKind::ALL.iter().map(|kind| kind.as_str()).collect();
            ValidationError::new(
                "events",
                format!("unknown event type {name:?}; known: {}", known.join(", ")),
            )
        })?;
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    Ok(kinds)
}

#[utoipa::path(
    post, path = "/webhooks", tag = "webhooks",
    request_body = NewWebhook,
    responses(
        (status = 201, description = "Registered; the secret is shown this once", body = WebhookWithSecret),
        (status = 400, description = "Invalid body or event type; `invalid_webhook_url`: not https, or the host resolves to a private, loopback, link-local or metadata address", body = ErrorBody),
        (status = 403, description = "The caller is not an owner of the project", body = ErrorBody),
        (status = 404, description = "No such project, or the caller is not a member", body = ErrorBody),
        (status = 409, description = "`too_many_webhooks`: the caller or project has 10 already", body = ErrorBody),
        (status = 413, description = "Body over 64 KiB", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
    ),
    security(("cognito" = []))
)]
pub async fn create_webhook(
    State(state): State<AppState>,
    principal: Principal,
    JsonBody(body): JsonBody<NewWebhook>,
) -> Result<(StatusCode, Json<WebhookWithSecret>), ApiError> {
    let settings = settings(&state)?;
    let events = event_kinds(body.events)?;
    let project = body
        .project_id
        .as_deref()
        .map(ProjectId::parse)
        .transpose()?;
    let audience = audience_for(&state, &principal, project).await?;
    let url = check_url(&body.url, settings.policy)
        .await
        .map_err(|err| ApiError::InvalidWebhookUrl(err.to_string()))?;
    let webhook_id = WebhookId::generate();
    let secret = SigningSecret::generate();
    let webhook = Webhook {
        secret: settings.cipher.seal(&webhook_id, &secret),
        webhook_id,
        audience,
        created_by: principal.sub.clone(),
        url: url.to_string(),
        events,
        created_at: Timestamp::now(),
        disabled: None,
        retiring: None,
    };
    state
        .webhook_store
        .create_webhook(&webhook)
        .await
        .map_err(ApiError::missing(super::access::PROJECT))?;
    let created = WebhookWithSecret {
        webhook: WebhookView::from(&webhook),
        secret: secret.shown(),
    };
    Ok((StatusCode::CREATED, Json(created)))
}

#[utoipa::path(
    get, path = "/webhooks", tag = "webhooks",
    params(WebhookListParams),
    responses(
        (status = 200, description = "The caller's own endpoints, or the project's, oldest first", body = WebhookList),
        (status = 400, description = "Malformed query or project id", body = ErrorBody),
        (status = 403, description = "The caller is not an owner of the project", body = ErrorBody),
        (status = 404, description = "No such project, or the caller is not a member", body = ErrorBody),
    ),
    security(("cognito" = []))
)]
pub async fn list_webhooks(
    State(state): State<AppState>,
    principal: Principal,
    RawQuery(query): RawQuery,
) -> Result<Json<WebhookList>, ApiError> {
    settings(&state)?;
    let project = WebhookListParams::parse(query.as_deref())?;
    let audience = audience_for(&state, &principal, project).await?;
    let webhooks: Vec<_> = state
        .webhook_store
        .webhooks_of(&audience)
        .await?
        .iter()
        .map(WebhookView::from)
        .collect();
    Ok(Json(WebhookList {
        count: webhooks.len(),
        webhooks,
    }))
}

#[utoipa::path(
    get, path = "/webhooks/{webhookId}", tag = "webhooks",
    params(WebhookPath),
    responses(
        (status = 200, description = "The endpoint", body = WebhookView),
        (status = 400, description = "Malformed webhook id", body = ErrorBody),
        (status = 404, description = "No such endpoint, or not the caller's to manage", body = ErrorBody),
    ),
    security(("cognito" = []))
)]
pub async fn get_webhook(
    State(state): State<AppState>,
    principal: Principal,
    WebhookPath(id): WebhookPath,
) -> Result<Json<WebhookView>, ApiError> {
    settings(&state)?;
    let webhook = owned(&state, &principal, &id).await?;
    Ok(Json(WebhookView::from(&webhook)))
}

#[utoipa::path(
    delete, path = "/webhooks/{webhookId}", tag = "webhooks",
    params(WebhookPath),
    responses(
        (status = 204, description = "Deleted; nothing more is delivered to it"),
        (status = 400, description = "Malformed webhook id", body = ErrorBody),
        (status = 404, description = "No such endpoint, or not the caller's to manage", body = ErrorBody),
    ),
    security(("cognito" = []))
)]
pub async fn delete_webhook(
    State(state): State<AppState>,
    principal: Principal,
    WebhookPath(id): WebhookPath,
) -> Result<StatusCode, ApiError> {
    settings(&state)?;
    let webhook = owned(&state, &principal, &id).await?;
    state
        .webhook_store
        .delete_webhook(&webhook)
        .await
        .map_err(ApiError::missing(WEBHOOK))?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    get, path = "/webhooks/{webhookId}/deliveries", tag = "webhooks",
    params(WebhookPath),
    responses(
        (status = 200, description = "The most recent 100 delivery attempts, newest first (kept 30 days)", body = DeliveryList),
        (status = 400, description = "Malformed webhook id", body = ErrorBody),
        (status = 404, description = "No such endpoint, or not the caller's to manage", body = ErrorBody),
    ),
    security(("cognito" = []))
)]
pub async fn list_deliveries(
    State(state): State<AppState>,
    principal: Principal,
    WebhookPath(id): WebhookPath,
) -> Result<Json<DeliveryList>, ApiError> {
    settings(&state)?;
    let webhook = owned(&state, &principal, &id).await?;
    let deliveries: Vec<_> = state
        .webhook_store
        .deliveries(&webhook.webhook_id, MAX_DELIVERIES_LISTED)
        .await?
        .into_iter()
        .map(DeliveryView::from)
        .collect();
    Ok(Json(DeliveryList {
        count: deliveries.len(),
        deliveries,
    }))
}

#[utoipa::path(
    post, path = "/webhooks/{webhookId}/rotate-secret", tag = "webhooks",
    params(WebhookPath),
    responses(
        (status = 200, description = "A new secret, shown this once; the replaced one keeps signing beside it for 24 hours", body = WebhookWithSecret),
        (status = 400, description = "Malformed webhook id", body = ErrorBody),
        (status = 404, description = "No such endpoint, or not the caller's to manage", body = ErrorBody),
    ),
    security(("cognito" = []))
)]
pub async fn rotate_secret(
    State(state): State<AppState>,
    principal: Principal,
    WebhookPath(id): WebhookPath,
) -> Result<Json<WebhookWithSecret>, ApiError> {
    let settings = settings(&state)?;
    let webhook = owned(&state, &principal, &id).await?;
    let secret = SigningSecret::generate();
    let until = time::OffsetDateTime::now_utc() + ROTATION_OVERLAP;
    let retiring = RetiringSecret {
        secret: webhook.secret.clone(),
        until: Timestamp::from_datetime(until),
    };
    let sealed = settings.cipher.seal(&webhook.webhook_id, &secret);
    let rotated = state
        .webhook_store
        .rotate_secret(&webhook, &sealed, &retiring)
        .await
        .map_err(ApiError::missing(WEBHOOK))?;
    Ok(Json(WebhookWithSecret {
        webhook: WebhookView::from(&rotated),
        secret: secret.shown(),
    }))
}
