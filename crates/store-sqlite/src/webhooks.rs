//! [`WebhookStore`] on SQLite: endpoints in `Webhooks` (by id, with an index by audience
//! playing the DynamoDB partition query), attempts in `WebhookAttempts`. Each write is one
//! transaction of the single writer, so the cap per audience holds exactly here.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Row, params};
use taskapi_domain::{
    AttemptOutcome, Audience, DELIVERY_RETENTION, DeliveryAttempt, Disabled, EventKind,
    MAX_WEBHOOKS, RetiringSecret, SealedSecret, StoreError, Timestamp, Webhook, WebhookId,
    WebhookStore,
};

use crate::SqliteStore;
use crate::fault::{execute, sql};
use crate::outbox::unix_now;

pub(crate) const WEBHOOK_COLUMNS: &str = "webhook_id, audience, created_by, url, events, \
     created_at, disabled_at, disabled_reason, secret, retiring_secret, retiring_until";
const ATTEMPT_COLUMNS: &str = "webhook_id, attempt_id, event_id, event_type, attempt, at, \
     status_code, error, next_attempt_at";

/// Deletes every endpoint of partition `pk` and its queued deliveries (a project being
/// deleted); their attempts expire with time.
pub(crate) fn delete_all_of(conn: &Connection, pk: &str) -> Result<(), StoreError> {
    execute(
        conn,
        "DELETE FROM WebhookQueue WHERE webhook_id IN
             (SELECT webhook_id FROM Webhooks WHERE audience = ?1)",
        &[&pk],
    )?;
    execute(conn, "DELETE FROM Webhooks WHERE audience = ?1", &[&pk])?;
    Ok(())
}

/// The endpoint with this id, in the caller's transaction.
pub(crate) fn webhook_by_id(conn: &Connection, id: &str) -> Result<Option<Webhook>, StoreError> {
    conn.prepare_cached(&format!(
        "SELECT {WEBHOOK_COLUMNS} FROM Webhooks WHERE webhook_id = ?1"
    ))
    .and_then(|mut select| select.query_row([id], row_to_webhook).optional())
    .map_err(sql)?
    .transpose()
}

/// The endpoints of partition `pk`, oldest first.
pub(crate) fn webhooks_in(conn: &Connection, pk: &str) -> Result<Vec<Webhook>, StoreError> {
    let mut select = conn
        .prepare_cached(&format!(
            "SELECT {WEBHOOK_COLUMNS} FROM Webhooks WHERE audience = ?1
             ORDER BY created_at, webhook_id"
        ))
        .map_err(sql)?;
    let rows = select
        .query_map([pk], row_to_webhook)
        .and_then(Iterator::collect::<Result<Vec<_>, _>>)
        .map_err(sql)?;
    rows.into_iter().collect()
}

pub(crate) fn insert_attempt(
    conn: &Connection,
    attempt: &DeliveryAttempt,
) -> Result<(), StoreError> {
    let (status, error) = match &attempt.outcome {
        AttemptOutcome::Status(code) => (Some(*code), None),
        AttemptOutcome::Error(error) => (None, Some(error.as_str())),
    };
    let retention = i64::try_from(DELIVERY_RETENTION.as_secs()).expect("days fit in i64");
    conn.prepare_cached(&format!(
        "INSERT INTO WebhookAttempts ({ATTEMPT_COLUMNS}, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
    ))
    .and_then(|mut insert| {
        insert.execute(params![
            attempt.webhook_id.as_str(),
            attempt.attempt_id,
            attempt.event_id,
            attempt.event_type.as_str(),
            attempt.attempt,
            attempt.at.as_str(),
            status,
            error,
            attempt.next_attempt_at.as_ref().map(Timestamp::as_str),
            unix_now() + retention,
        ])
    })
    .map_err(sql)
    .map(|_| ())
}

/// Deletes a few attempts past their 30 days (called once per dispatch and per recorded
/// attempt outside the queue), so the table keeps about 30 days of history without a
/// sweeper.
pub(crate) fn prune_attempts(conn: &Connection) -> Result<(), StoreError> {
    conn.prepare_cached(
        "DELETE FROM WebhookAttempts WHERE (webhook_id, at, attempt_id) IN (
             SELECT webhook_id, at, attempt_id FROM WebhookAttempts
             WHERE expires_at < ?1 LIMIT 64)",
    )
    .and_then(|mut prune| prune.execute([unix_now()]))
    .map_err(sql)
    .map(|_| ())
}

pub(crate) fn disable(
    conn: &Connection,
    id: &WebhookId,
    at: &Timestamp,
    reason: &str,
) -> Result<(), StoreError> {
    let changed = execute(
        conn,
        "UPDATE Webhooks SET disabled_at = ?2, disabled_reason = ?3 WHERE webhook_id = ?1",
        &[&id.as_str(), &at.as_str(), &reason],
    )?;
    found_then_unqueue(conn, changed, id)
}

/// `NotFound` unless a statement on endpoint `id` `changed` its row; else empties its
/// delivery queue (the endpoint was disabled or deleted: nothing more goes to it).
fn found_then_unqueue(conn: &Connection, changed: usize, id: &WebhookId) -> Result<(), StoreError> {
    if changed == 0 {
        return Err(StoreError::NotFound);
    }
    execute(
        conn,
        "DELETE FROM WebhookQueue WHERE webhook_id = ?1",
        &[&id.as_str()],
    )
    .map(|_| ())
}

fn row_to_webhook(row: &Row<'_>) -> rusqlite::Result<Result<Webhook, StoreError>> {
    let id: String = row.get(0)?;
    let audience: String = row.get(1)?;
    let events: String = row.get(4)?;
    let disabled_at: Option<String> = row.get(6)?;
    let disabled_reason: Option<String> = row.get(7)?;
    let retiring_secret: Option<String> = row.get(9)?;
    let retiring_until: Option<String> = row.get(10)?;
    let (created_by, url, created_at, secret) =
        (row.get(2)?, row.get(3)?, row.get(5)?, row.get(8)?);
    Ok((|| {
        let webhook_id = WebhookId::parse(&id).map_err(StoreError::internal)?;
        let audience = Audience::of_pk(&audience)
            .ok_or_else(|| StoreError::internal(format!("webhook audience {audience:?}")))?;
        let events = events
            .split_whitespace()
            .map(|raw| {
                EventKind::parse(raw)
                    .ok_or_else(|| StoreError::internal(format!("event type {raw:?}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Webhook {
            webhook_id,
            audience,
            created_by,
            url,
            events,
            created_at: Timestamp::from_stored(created_at),
            disabled: disabled_at
                .zip(disabled_reason)
                .map(|(at, reason)| Disabled {
                    at: Timestamp::from_stored(at),
                    reason,
                }),
            secret: SealedSecret::from_stored(secret),
            retiring: retiring_secret
                .zip(retiring_until)
                .map(|(secret, until)| RetiringSecret {
                    secret: SealedSecret::from_stored(secret),
                    until: Timestamp::from_stored(until),
                }),
        })
    })())
}

fn row_to_attempt(row: &Row<'_>) -> rusqlite::Result<Result<DeliveryAttempt, StoreError>> {
    let id: String = row.get(0)?;
    let kind: String = row.get(3)?;
    let status: Option<u16> = row.get(6)?;
    let error: Option<String> = row.get(7)?;
    let next: Option<String> = row.get(8)?;
    let (attempt_id, event_id, attempt, at): (String, String, u32, String) =
        (row.get(1)?, row.get(2)?, row.get(4)?, row.get(5)?);
    Ok((|| {
        let outcome = match (status, error) {
            (Some(code), _) => AttemptOutcome::Status(code),
            (None, Some(error)) => AttemptOutcome::Error(error),
            (None, None) => return Err(StoreError::internal("attempt without an outcome")),
        };
        Ok(DeliveryAttempt {
            webhook_id: WebhookId::parse(&id).map_err(StoreError::internal)?,
            attempt_id,
            event_id,
            event_type: EventKind::parse(&kind)
                .ok_or_else(|| StoreError::internal(format!("event type {kind:?}")))?,
            attempt,
            at: Timestamp::from_stored(at),
            outcome,
            next_attempt_at: next.map(Timestamp::from_stored),
        })
    })())
}

#[async_trait]
impl WebhookStore for SqliteStore {
    async fn create_webhook(&self, webhook: &Webhook) -> Result<(), StoreError> {
        let webhook = webhook.clone();
        self.write(move |conn| {
            let pk = webhook.audience.pk();
            if let Audience::Project(project) = &webhook.audience {
                let exists = conn
                    .prepare_cached("SELECT 1 FROM Projects WHERE project_id = ?1")
                    .and_then(|mut select| select.exists([project.as_str()]))
                    .map_err(sql)?;
                if !exists {
                    return Err(StoreError::NotFound);
                }
            }
            let count: i64 = conn
                .prepare_cached("SELECT count(*) FROM Webhooks WHERE audience = ?1")
                .and_then(|mut select| select.query_row([&pk], |row| row.get(0)))
                .map_err(sql)?;
            if usize::try_from(count).unwrap_or(usize::MAX) >= MAX_WEBHOOKS {
                return Err(StoreError::TooManyWebhooks);
            }
            let events: Vec<&str> = webhook.events.iter().map(|kind| kind.as_str()).collect();
            let retiring = webhook.retiring.as_ref();
            let disabled = webhook.disabled.as_ref();
            conn.prepare_cached(&format!(
                "INSERT INTO Webhooks ({WEBHOOK_COLUMNS})
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
            ))
            .and_then(|mut insert| {
                insert.execute(params![
                    webhook.webhook_id.as_str(),
                    pk,
                    webhook.created_by,
                    webhook.url,
                    events.join(" "),
                    webhook.created_at.as_str(),
                    disabled.map(|d| d.at.as_str()),
                    disabled.map(|d| d.reason.as_str()),
                    webhook.secret.as_str(),
                    retiring.map(|r| r.secret.as_str()),
                    retiring.map(|r| r.until.as_str()),
                ])
            })
            .map_err(|err| match err.sqlite_error_code() {
                Some(rusqlite::ErrorCode::ConstraintViolation) => StoreError::AlreadyExists,
                _ => sql(err),
            })?;
            Ok(())
        })
        .await
    }

    async fn webhook(&self, id: &WebhookId) -> Result<Option<Webhook>, StoreError> {
        self.read(|conn| webhook_by_id(conn, id.as_str()))
    }

    async fn webhooks_of(&self, audience: &Audience) -> Result<Vec<Webhook>, StoreError> {
        self.read(|conn| webhooks_in(conn, &audience.pk()))
    }

    async fn delete_webhook(&self, webhook: &Webhook) -> Result<(), StoreError> {
        let id = webhook.webhook_id.clone();
        self.write(move |conn| {
            let deleted = execute(
                conn,
                "DELETE FROM Webhooks WHERE webhook_id = ?1",
                &[&id.as_str()],
            )?;
            found_then_unqueue(conn, deleted, &id)
        })
        .await
    }

    async fn disable_webhook(
        &self,
        webhook: &Webhook,
        at: &Timestamp,
        reason: &str,
    ) -> Result<(), StoreError> {
        let (id, at, reason) = (webhook.webhook_id.clone(), at.clone(), reason.to_owned());
        self.write(move |conn| disable(conn, &id, &at, &reason))
            .await
    }

    async fn rotate_secret(
        &self,
        webhook: &Webhook,
        secret: &SealedSecret,
        retiring: &RetiringSecret,
    ) -> Result<Webhook, StoreError> {
        let (id, secret, retiring) = (webhook.webhook_id.clone(), secret.clone(), retiring.clone());
        self.write(move |conn| {
            let changed = execute(
                conn,
                "UPDATE Webhooks SET secret = ?2, retiring_secret = ?3, retiring_until = ?4
                 WHERE webhook_id = ?1",
                &[
                    &id.as_str(),
                    &secret.as_str(),
                    &retiring.secret.as_str(),
                    &retiring.until.as_str(),
                ],
            )?;
            if changed == 0 {
                return Err(StoreError::NotFound);
            }
            webhook_by_id(conn, id.as_str())?.ok_or(StoreError::NotFound)
        })
        .await
    }

    async fn record_attempt(&self, attempt: &DeliveryAttempt) -> Result<(), StoreError> {
        let attempt = attempt.clone();
        self.write(move |conn| {
            insert_attempt(conn, &attempt)?;
            prune_attempts(conn)
        })
        .await
    }

    async fn deliveries(
        &self,
        id: &WebhookId,
        limit: usize,
    ) -> Result<Vec<DeliveryAttempt>, StoreError> {
        self.read(|conn| {
            let mut select = conn
                .prepare_cached(&format!(
                    "SELECT {ATTEMPT_COLUMNS} FROM WebhookAttempts WHERE webhook_id = ?1
                     ORDER BY at DESC, attempt_id DESC LIMIT ?2"
                ))
                .map_err(sql)?;
            let rows = select
                .query_map(params![id.as_str(), limit as i64], row_to_attempt)
                .and_then(Iterator::collect::<Result<Vec<_>, _>>)
                .map_err(sql)?;
            rows.into_iter().collect()
        })
    }
}
