//! The outbox: every change's event, written in the transaction of the change (table
//! `Events`), so an event exists exactly when its change does — a crash between the two is
//! impossible, and a write that fails records nothing. Events are numbered in commit order
//! (`seq`), which is the order of the changes to each task.
//!
//! Two readers: the writer thread hands each committed batch's events to the live feed
//! ([`Feed`]), and durable consumers (webhook deliveries) read the table from a cursor of
//! their own in `EventCursors`. An event is kept a day, and longer while a cursor has not
//! passed it.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, params};
use taskapi_domain::{
    Audience, Change, EventKind, Membership, StoreError, Task, TaskId, Timestamp, new_event_id,
};
use tokio::sync::broadcast;

use crate::fault::sql;

/// How long an event stays after every cursor has passed it.
const RETENTION_SECS: i64 = 24 * 60 * 60;
/// How many committed batches the live feed holds for a subscriber that has not caught up;
/// one that falls further behind is told it lagged (and resyncs from the table).
const FEED_DEPTH: usize = 1024;

/// An event as committed: its place in the outbox, who may see it, and its JSON.
#[derive(Debug, Clone)]
pub struct Committed {
    pub seq: i64,
    pub audience: Audience,
    pub kind: EventKind,
    /// The user a member event is about (see [`Change::member_user`]).
    pub member: Option<String>,
    /// The event as sent: `{"id","type","at","project_id","data"}`.
    pub json: Arc<str>,
}

/// Records `change` in the outbox, in the caller's transaction, and prunes a few events
/// past their retention (so the table stays about a day's events without a sweeper).
pub(crate) fn record(conn: &Connection, change: &Change) -> Result<(), StoreError> {
    let json = serde_json::to_string(&change.event).map_err(StoreError::internal)?;
    let now = unix_now();
    conn.prepare_cached(
        "INSERT INTO Events (audience, kind, member, recorded_at, body)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .and_then(|mut insert| {
        insert.execute(params![
            change.audience.pk(),
            change.event.kind.as_str(),
            change.member_user(),
            now,
            json
        ])
    })
    .and_then(|_| conn.prepare_cached(PRUNE))
    .and_then(|mut prune| prune.execute(params![now - RETENTION_SECS]))
    .map_err(sql)?;
    Ok(())
}

/// Records that `task`, in partition `pk`, was created or changed (`kind`).
pub(crate) fn record_task(
    conn: &Connection,
    pk: &str,
    kind: EventKind,
    task: &Task,
) -> Result<(), StoreError> {
    record(
        conn,
        &Change::task(audience(pk)?, new_event_id(), kind, task),
    )
}

/// Records that task `id` in partition `pk` was deleted, now.
pub(crate) fn record_task_deleted(
    conn: &Connection,
    pk: &str,
    id: &TaskId,
) -> Result<(), StoreError> {
    let change = Change::task_deleted(audience(pk)?, new_event_id(), Timestamp::now(), id.clone());
    record(conn, &change)
}

/// Records a membership's arrival, change or departure (`kind`) at `at`.
pub(crate) fn record_member(
    conn: &Connection,
    kind: EventKind,
    at: Timestamp,
    member: &Membership,
) -> Result<(), StoreError> {
    record(conn, &Change::member(new_event_id(), kind, at, member))
}

fn audience(pk: &str) -> Result<Audience, StoreError> {
    Audience::of_pk(pk)
        .ok_or_else(|| StoreError::internal(format!("no event audience for partition {pk:?}")))
}

/// Deletes up to 8 events recorded before `?1` that every cursor has passed, oldest first.
/// Read by age (`EventsByAge`, whose order is `recorded_at, seq`): left to itself SQLite
/// walks the table in `seq` order looking for old events, every write, through all of
/// the day's (1.4 ms per write at 20,000 events, against 7 µs by age).
const PRUNE: &str = "DELETE FROM Events WHERE seq IN (
    SELECT seq FROM Events INDEXED BY EventsByAge
    WHERE recorded_at < ?1
      AND seq <= (SELECT coalesce(min(seq), 9223372036854775807) FROM EventCursors)
    ORDER BY recorded_at, seq LIMIT 8)";

/// The events after `seq`, oldest first, at most `limit`.
pub(crate) fn after(
    conn: &Connection,
    seq: i64,
    limit: usize,
) -> Result<Vec<Committed>, StoreError> {
    let mut select = conn
        .prepare_cached(
            "SELECT seq, audience, kind, member, body FROM Events
             WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )
        .map_err(sql)?;
    let rows = select
        .query_map(params![seq, limit as i64], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, Option<String>>(3)?,
                row.get::<_, String>(4)?,
            ))
        })
        .map_err(sql)?;
    let mut events = Vec::new();
    for row in rows {
        let (seq, audience, kind, member, json) = row.map_err(sql)?;
        let (Some(audience), Some(kind)) = (Audience::of_pk(&audience), EventKind::parse(&kind))
        else {
            return Err(StoreError::internal(format!(
                "outbox event {seq} has an unknown audience {audience:?} or kind {kind:?}"
            )));
        };
        events.push(Committed {
            seq,
            audience,
            kind,
            member,
            json: json.into(),
        });
    }
    Ok(events)
}

/// The newest event's number (0 when there is none yet).
pub(crate) fn last_seq(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("SELECT coalesce(max(seq), 0) FROM Events", [], |row| {
        row.get(0)
    })
}

/// The live feed: each committed batch's events, in commit order, to every subscriber.
/// The writer thread publishes; nobody waits for a slow subscriber.
#[derive(Clone)]
pub struct Feed {
    sender: broadcast::Sender<Arc<[Committed]>>,
}

impl Feed {
    pub(crate) fn new() -> Self {
        Self {
            sender: broadcast::channel(FEED_DEPTH).0,
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<[Committed]>> {
        self.sender.subscribe()
    }

    /// Hands on what the writer just committed after `last`; returns the new last number.
    pub(crate) fn publish_after(&self, conn: &Connection, last: i64) -> i64 {
        // Nobody listening: nothing to read. The number still advances, so a subscriber
        // that arrives later starts at the present.
        if self.sender.receiver_count() == 0 {
            return last_seq(conn).unwrap_or(last);
        }
        match after(conn, last, usize::MAX >> 1) {
            Ok(events) if events.is_empty() => last,
            Ok(events) => {
                let newest = events.last().map_or(last, |event| event.seq);
                let _ = self.sender.send(events.into());
                newest
            }
            Err(err) => {
                // The events are committed; only this hand-off failed. Subscribers resync
                // from the table when they next read it.
                tracing::error!(error = %err, "cannot read the outbox for the live feed");
                last
            }
        }
    }
}

pub(crate) fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs() as i64)
}
