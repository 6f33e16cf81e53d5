//! The stream fan-out: each record of the table's stream that the API shows becomes its
//! [`Change`] (the same JSON the SQLite outbox gives), and is posted to every open socket
//! of whoever may see it when it arrives: a personal task's owner; a project's members,
//! read now (so a removed member stops hearing at once), and the user a member event is
//! about (they hear of their own joining and leaving).
//!
//! Records are handled in stream order ([`each_change`]); one that cannot be delivered for
//! a reason that may pass (DynamoDB or the Management API throttled or down) is handed
//! back for a retry. A retried record may reach some sockets twice: the event's `id` is
//! the stream record's, so a client tells a repeat from a new event.

use std::time::{SystemTime, UNIX_EPOCH};

use futures_util::stream::{self, StreamExt};
use serde_json::Value;
use taskapi_domain::{Audience, Change};

use crate::connections::{Connection, Connections};
use crate::error::{NotAStreamEvent, PostError, RetryRecord, TableError};
use crate::management::Management;
use crate::records::each_change;

/// Requests in flight at once for one record (connection queries, then posts): enough to
/// reach a busy project's sockets in a few round trips, few enough not to trip the
/// Management API's throttle from one function.
const CONCURRENCY: usize = 32;

pub struct FanOut {
    connections: Connections,
    management: Management,
}

impl FanOut {
    pub fn new(connections: Connections, management: Management) -> Self {
        Self {
            connections,
            management,
        }
    }

    /// One batch; the answer is Lambda's partial batch response (`ReportBatchItemFailures`).
    pub async fn handle(&self, event: Value) -> Result<Value, NotAStreamEvent> {
        each_change(event, async |change| self.deliver(change).await).await
    }

    async fn deliver(&self, change: &Change) -> Result<(), RetryRecord> {
        let body = serde_json::to_string(&change.event).expect("an event serializes");
        let users = self.audience(change).await?;
        let sockets: Vec<Vec<(String, Connection)>> = stream::iter(users)
            .map(|user| async move {
                let sockets = self.connections.of_user(&user).await?;
                Ok::<_, TableError>(sockets.into_iter().map(|c| (user.clone(), c)).collect())
            })
            .buffer_unordered(CONCURRENCY)
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect::<Result<_, _>>()?;
        let now = unix_now();
        let outcomes: Vec<Result<(), RetryRecord>> = stream::iter(sockets.into_iter().flatten())
            .map(|(user, socket)| {
                let body = body.as_str();
                async move { self.reach(&user, &socket, body, now).await }
            })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        tracing::debug!(
            id = change.event.id,
            kind = change.event.kind.as_str(),
            sockets = outcomes.len(),
            "event fanned out"
        );
        outcomes.into_iter().collect()
    }

    /// Whose sockets hear `change`.
    async fn audience(&self, change: &Change) -> Result<Vec<String>, TableError> {
        let mut users = match &change.audience {
            Audience::User(sub) => vec![sub.clone()],
            Audience::Project(project) => self.connections.members(project).await?,
        };
        if let Some(member) = change.member_user()
            && !users.iter().any(|user| user == member)
        {
            users.push(member.to_owned());
        }
        Ok(users)
    }

    /// Posts `body` to one socket; one whose token has expired is closed instead, and one
    /// that is gone is forgotten.
    async fn reach(
        &self,
        user: &str,
        socket: &Connection,
        body: &str,
        now: i64,
    ) -> Result<(), RetryRecord> {
        let posted = if socket.expires_at <= now {
            self.management
                .close(&socket.id)
                .await
                .and(Err(PostError::Gone))
        } else {
            self.management.post(&socket.id, body).await
        };
        match posted {
            Ok(()) => Ok(()),
            Err(PostError::Gone) => Ok(self.connections.forget_of(user, &socket.id).await?),
            Err(err) if !err.is_retryable() => {
                tracing::warn!(connection = socket.id, error = %err, "post refused; not retried");
                Ok(())
            }
            Err(source) => Err(RetryRecord::Post {
                connection: socket.id.clone(),
                source,
            }),
        }
    }
}

pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX)
        })
}
