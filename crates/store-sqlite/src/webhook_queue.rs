//! The local delivery queue (`WebhookQueue`), fed from the outbox. [`dispatch`]
//! (`SqliteStore::dispatch_webhooks`) reads the events past the dispatcher's cursor in
//! `EventCursors` and queues one delivery per matching endpoint, moving the cursor in the
//! same transaction: an event is queued exactly once, and a crash loses nothing (the
//! cursor and the queue roll back together). The delivery worker (`taskapi serve`) takes
//! due rows, sends them, and settles the attempts that ended in one transaction: each one's
//! record, and the row deleted (delivered, given up, endpoint gone) or moved to its next
//! time. A row still queued when the process dies is sent after a restart at its time.

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OptionalExtension, params};
use serde::Deserialize;
use taskapi_domain::{
    Audience, DeliveryAttempt, EventKind, StoreError, Timestamp, WebhookId, keys,
};

use crate::SqliteStore;
use crate::fault::{execute, sql};
use crate::outbox::{self, Committed};
use crate::webhooks::{self, insert_attempt};

/// One queued delivery, due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedDelivery {
    pub delivery_id: i64,
    pub webhook_id: WebhookId,
    pub event_id: String,
    pub event_type: EventKind,
    /// The event JSON as recorded, sent as the body on every attempt.
    pub body: String,
    /// The number of the attempt to make now (1 for the first).
    pub attempt: u32,
}

/// What becomes of a queued delivery after an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settle {
    /// Delivered, or given up after the last attempt: the row goes.
    Done,
    /// Tried again at this Unix millisecond.
    RetryAt(i64),
    /// The endpoint answered 410 Gone: it is disabled (at the attempt's time, for this
    /// reason) and every delivery queued for it goes.
    Disable(String),
}

/// One attempt of a queued delivery, and what becomes of the delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settled {
    pub delivery_id: i64,
    pub attempt: DeliveryAttempt,
    pub settle: Settle,
}

/// What one dispatch did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Dispatched {
    /// Events read past the cursor.
    pub events: usize,
    /// Deliveries queued for them.
    pub deliveries: usize,
}

/// Unix milliseconds now.
pub fn unix_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
        })
}

/// Only the id of an event's JSON.
#[derive(Deserialize)]
struct EventId {
    id: String,
}

impl SqliteStore {
    /// Starts cursor `name` at the newest event if it has none, so the outbox keeps
    /// every event from here on until the dispatcher has read it.
    pub async fn open_cursor(&self, name: &str) -> Result<(), StoreError> {
        let name = name.to_owned();
        self.write(move |conn| {
            execute(
                conn,
                "INSERT INTO EventCursors (name, seq)
                 VALUES (?1, (SELECT coalesce(max(seq), 0) FROM Events))
                 ON CONFLICT (name) DO NOTHING",
                &[&name],
            )
            .map(|_| ())
        })
        .await
    }

    /// Queues the deliveries of up to `limit` events past cursor `name` and moves the
    /// cursor past them, in one transaction.
    pub async fn dispatch_webhooks(
        &self,
        name: &str,
        limit: usize,
    ) -> Result<Dispatched, StoreError> {
        let name = name.to_owned();
        self.write(move |conn| dispatch(conn, &name, limit)).await
    }

    /// Up to `limit` deliveries due at `now_ms`, oldest due first, leaving out the
    /// endpoints in `busy` (at their concurrency bound) and the deliveries in `sending`.
    pub fn due_deliveries(
        &self,
        now_ms: i64,
        busy: &[&str],
        sending: &[i64],
        limit: usize,
    ) -> Result<Vec<QueuedDelivery>, StoreError> {
        let busy = serde_json::to_string(busy).map_err(StoreError::internal)?;
        let sending = serde_json::to_string(sending).map_err(StoreError::internal)?;
        self.read(|conn| {
            let mut select = conn
                .prepare_cached(
                    "SELECT delivery_id, webhook_id, event_id, event_type, body, attempt
                     FROM WebhookQueue
                     WHERE due_at <= ?1
                       AND webhook_id NOT IN (SELECT value FROM json_each(?2))
                       AND delivery_id NOT IN (SELECT value FROM json_each(?3))
                     ORDER BY due_at LIMIT ?4",
                )
                .map_err(sql)?;
            let rows = select
                .query_map(params![now_ms, busy, sending, limit as i64], |row| {
                    Ok((
                        row.get::<_, i64>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, String>(2)?,
                        row.get::<_, String>(3)?,
                        row.get::<_, String>(4)?,
                        row.get::<_, u32>(5)?,
                    ))
                })
                .and_then(Iterator::collect::<Result<Vec<_>, _>>)
                .map_err(sql)?;
            rows.into_iter()
                .map(|(delivery_id, webhook, event_id, kind, body, attempt)| {
                    Ok(QueuedDelivery {
                        delivery_id,
                        webhook_id: WebhookId::parse(&webhook).map_err(StoreError::internal)?,
                        event_id,
                        event_type: EventKind::parse(&kind)
                            .ok_or_else(|| StoreError::internal(format!("event type {kind}")))?,
                        body,
                        attempt,
                    })
                })
                .collect()
        })
    }

    /// When the soonest delivery due after `now_ms` is due (Unix milliseconds), if any.
    pub fn next_due_after(&self, now_ms: i64) -> Result<Option<i64>, StoreError> {
        self.read(|conn| {
            conn.prepare_cached("SELECT min(due_at) FROM WebhookQueue WHERE due_at > ?1")
                .and_then(|mut select| select.query_row([now_ms], |row| row.get(0)))
                .map_err(sql)
        })
    }

    /// Records each attempt and settles its delivery as it says, all in one transaction
    /// (the sender hands over what finished meanwhile, so a busy endpoint costs the writer
    /// one job per batch, not one per delivery). A delivery whose endpoint went meanwhile
    /// is dropped without a record.
    pub async fn settle_deliveries(&self, settled: Vec<Settled>) -> Result<(), StoreError> {
        self.write(move |conn| {
            let mut exists = HashMap::new();
            for Settled {
                delivery_id,
                attempt,
                settle,
            } in settled
            {
                let id = attempt.webhook_id.clone();
                let known = match exists.get(id.as_str()) {
                    Some(known) => *known,
                    None => {
                        let known = webhooks::webhook_by_id(conn, id.as_str())?.is_some();
                        exists.insert(id.to_string(), known);
                        known
                    }
                };
                if !known {
                    delete_queued(conn, delivery_id)?;
                    continue;
                }
                insert_attempt(conn, &attempt)?;
                match settle {
                    Settle::Done => delete_queued(conn, delivery_id)?,
                    Settle::RetryAt(due_at) => {
                        execute(
                            conn,
                            "UPDATE WebhookQueue SET attempt = attempt + 1, due_at = ?2
                             WHERE delivery_id = ?1",
                            &[&delivery_id, &due_at],
                        )?;
                    }
                    Settle::Disable(reason) => {
                        // Its other deliveries in this batch go with the endpoint's queue.
                        webhooks::disable(conn, &id, &attempt.at, &reason)?;
                        exists.insert(id.to_string(), false);
                    }
                }
            }
            Ok(())
        })
        .await
    }

    /// Drops a queued delivery without an attempt (its endpoint is gone or disabled).
    pub async fn drop_delivery(&self, delivery_id: i64) -> Result<(), StoreError> {
        self.write(move |conn| delete_queued(conn, delivery_id))
            .await
    }
}

fn delete_queued(conn: &Connection, delivery_id: i64) -> Result<(), StoreError> {
    execute(
        conn,
        "DELETE FROM WebhookQueue WHERE delivery_id = ?1",
        &[&delivery_id],
    )
    .map(|_| ())
}

/// How many events one dispatch may read: a day's worth arrives in bounded transactions.
pub const DISPATCH_BATCH: usize = 512;

fn dispatch(conn: &Connection, name: &str, limit: usize) -> Result<Dispatched, StoreError> {
    let cursor: Option<i64> = conn
        .prepare_cached("SELECT seq FROM EventCursors WHERE name = ?1")
        .and_then(|mut select| select.query_row([name], |row| row.get(0)).optional())
        .map_err(sql)?;
    let cursor = cursor.ok_or_else(|| StoreError::internal(format!("no cursor {name}")))?;
    let events = outbox::after(conn, cursor, limit)?;
    let Some(last) = events.last().map(|event| event.seq) else {
        return Ok(Dispatched::default());
    };
    webhooks::prune_attempts(conn)?;
    let now = unix_millis();
    let mut deliveries = 0;
    for event in &events {
        for webhook in recipients(conn, event)? {
            let id: EventId = serde_json::from_str(&event.json).map_err(StoreError::internal)?;
            execute(
                conn,
                "INSERT INTO WebhookQueue (webhook_id, event_id, event_type, body, attempt, due_at)
                 VALUES (?1, ?2, ?3, ?4, 1, ?5)",
                &[
                    &webhook.as_str(),
                    &id.id,
                    &event.kind.as_str(),
                    &&*event.json,
                    &now,
                ],
            )?;
            deliveries += 1;
        }
    }
    execute(
        conn,
        "UPDATE EventCursors SET seq = ?2 WHERE name = ?1",
        &[&name, &last],
    )?;
    Ok(Dispatched {
        events: events.len(),
        deliveries,
    })
}

/// The endpoints `event` goes to: its audience's that want its kind, and for a member
/// event the personal endpoints of the user it is about (they hear of their own joining
/// and leaving, as on the live sockets).
fn recipients(conn: &Connection, event: &Committed) -> Result<Vec<WebhookId>, StoreError> {
    let mut partitions = vec![event.audience.pk()];
    if let (Audience::Project(_), Some(user)) = (&event.audience, &event.member) {
        partitions.push(keys::user_pk(user));
    }
    let mut ids = Vec::new();
    for pk in partitions {
        ids.extend(
            webhooks::webhooks_in(conn, &pk)?
                .into_iter()
                .filter(|webhook| webhook.wants(event.kind))
                .map(|webhook| webhook.webhook_id),
        );
    }
    Ok(ids)
}

/// `Timestamp` of a Unix millisecond (for an attempt's `next_attempt_at`).
pub fn timestamp_of_millis(ms: i64) -> Timestamp {
    let at = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    Timestamp::from_datetime(at)
}
