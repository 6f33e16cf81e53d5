//! Local webhook delivery under `taskapi serve` (SQLite). Two tasks:
//!
//! - the dispatcher wakes on every committed batch of the live feed and moves the events
//!   past its cursor into the delivery queue (`SqliteStore::dispatch_webhooks`: one
//!   transaction for the queue rows and the cursor);
//! - the sender takes due deliveries and makes each attempt on a task of its own, at most
//!   [`MAX_IN_FLIGHT`] at once and [`MAX_PER_ENDPOINT`] per endpoint, so an endpoint that
//!   is slow or down holds up only its own deliveries. The attempts that ended are settled
//!   together in one transaction: each one's record, and its delivery deleted (delivered,
//!   given up, endpoint disabled) or moved to its next time on the [`RetrySchedule`] with
//!   jitter.
//!
//! Everything pending is in the database, so a restart (or `kill -9`) loses nothing: an
//! attempt cut short is made again (at-least-once, same `webhook-id`), a retry at its time.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use taskapi_domain::{
    AttemptOutcome, DeliveryAttempt, RetrySchedule, SealedSecret, Timestamp, WebhookId,
};
use taskapi_store_sqlite::{
    DISPATCH_BATCH, QueuedDelivery, Settle, Settled, SqliteStore, timestamp_of_millis, unix_millis,
};
use taskapi_webhooks::{Delivery, SealError, SecretCipher, Sender, SigningSecret, jitter, sign};
use tokio::sync::{Notify, broadcast, mpsc};

/// The dispatcher's cursor in the outbox (`EventCursors`).
pub(crate) const CURSOR: &str = "webhooks";
/// Attempts in flight at once, over all endpoints.
pub(crate) const MAX_IN_FLIGHT: usize = 64;
/// Attempts in flight at once to one endpoint.
pub(crate) const MAX_PER_ENDPOINT: usize = 4;
/// The longest the sender sleeps without looking at the queue (a safety net: it is woken
/// whenever something is queued or an attempt ends).
const IDLE_LOOK: Duration = Duration::from_secs(5);
/// How long an ended attempt waits for others to settle with it: a few milliseconds on a
/// delivery that took at least one round trip, for one transaction instead of many.
const GATHER: Duration = Duration::from_millis(2);
/// After a store failure, wait this long before trying again.
const BACKOFF: Duration = Duration::from_secs(1);

/// How many opened secrets are kept; past that the cache starts afresh.
const OPENED_SECRETS: usize = 4096;

/// What the delivery tasks share.
pub(crate) struct Delivering {
    pub store: Arc<SqliteStore>,
    pub sender: Sender,
    pub cipher: SecretCipher,
    pub schedule: RetrySchedule,
    /// Secrets already opened, by their sealed text (a rotation seals anew, so a rotated
    /// secret is never served from here), so a busy endpoint's deliveries do not each
    /// pay a decryption.
    pub opened: Mutex<HashMap<String, SigningSecret>>,
}

/// Opens the dispatcher's cursor (so the outbox keeps every event from now on until it is
/// dispatched) and starts both tasks on a thread of their own with a one-threaded runtime:
/// delivery work then takes at most one core, and API requests keep the server's runtime
/// to themselves (deliveries are asynchronous; requests have someone waiting). They run as
/// long as the process.
pub(crate) async fn start(delivering: Delivering) -> anyhow::Result<()> {
    delivering.store.open_cursor(CURSOR).await?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let delivering = Arc::new(delivering);
    let queued = Arc::new(Notify::new());
    let feed = delivering.store.feed().subscribe();
    std::thread::Builder::new()
        .name("taskapi-webhooks".to_owned())
        .spawn(move || {
            runtime.block_on(async move {
                let store = Arc::clone(&delivering.store);
                tokio::spawn(dispatch(store, feed, Arc::clone(&queued)));
                send(delivering, queued).await;
            });
        })?;
    Ok(())
}

/// Moves events into the queue whenever a batch commits (and once at start, for what
/// committed while the process was down).
async fn dispatch(
    store: Arc<SqliteStore>,
    mut feed: broadcast::Receiver<Arc<[taskapi_store_sqlite::Committed]>>,
    queued: Arc<Notify>,
) {
    loop {
        loop {
            match store.dispatch_webhooks(CURSOR, DISPATCH_BATCH).await {
                Ok(done) => {
                    if done.deliveries > 0 {
                        queued.notify_one();
                    }
                    if done.events < DISPATCH_BATCH {
                        break;
                    }
                }
                Err(err) => {
                    tracing::warn!(error = %err, "webhook dispatch failed; trying again");
                    tokio::time::sleep(BACKOFF).await;
                }
            }
        }
        // A lagged receiver only means several batches committed: the cursor has them.
        if let Err(broadcast::error::RecvError::Closed) = feed.recv().await {
            return;
        }
    }
}

/// The attempts in flight: by delivery, and how many per endpoint.
#[derive(Default)]
struct InFlight {
    deliveries: HashMap<i64, String>,
    per_endpoint: HashMap<String, usize>,
}

impl InFlight {
    fn start(&mut self, delivery: &QueuedDelivery) {
        let endpoint = delivery.webhook_id.to_string();
        *self.per_endpoint.entry(endpoint.clone()).or_default() += 1;
        self.deliveries.insert(delivery.delivery_id, endpoint);
    }

    fn end(&mut self, delivery_id: i64) {
        if let Some(endpoint) = self.deliveries.remove(&delivery_id)
            && let Some(count) = self.per_endpoint.get_mut(&endpoint)
        {
            *count -= 1;
            if *count == 0 {
                self.per_endpoint.remove(&endpoint);
            }
        }
    }

    fn full(&self, endpoint: &str) -> bool {
        self.per_endpoint.get(endpoint).copied().unwrap_or(0) >= MAX_PER_ENDPOINT
    }
}

/// An attempt that ended: its delivery, and how to settle it (`None` when there is
/// nothing to record: the endpoint went, or the store failed and the row stays due).
type Ended = (i64, Option<Settled>);

async fn send(delivering: Arc<Delivering>, queued: Arc<Notify>) {
    let (ended_tx, mut ended) = mpsc::unbounded_channel::<Ended>();
    let mut in_flight = InFlight::default();
    let mut finished: Vec<Ended> = Vec::new();
    loop {
        while let Ok(done) = ended.try_recv() {
            finished.push(done);
        }
        settle(&delivering, &mut in_flight, std::mem::take(&mut finished)).await;
        let room = MAX_IN_FLIGHT - in_flight.deliveries.len();
        let now = unix_millis();
        let mut wait = IDLE_LOOK;
        if room > 0 {
            let busy: Vec<&str> = in_flight
                .per_endpoint
                .iter()
                .filter(|(endpoint, _)| in_flight.full(endpoint))
                .map(|(endpoint, _)| endpoint.as_str())
                .collect();
            let sending: Vec<i64> = in_flight.deliveries.keys().copied().collect();
            let due = delivering.store.due_deliveries(now, &busy, &sending, room);
            match due {
                Ok(due) => {
                    let filled = due.len() == room;
                    for delivery in due {
                        if in_flight.full(delivery.webhook_id.as_str()) {
                            continue;
                        }
                        in_flight.start(&delivery);
                        let (delivering, ended) = (Arc::clone(&delivering), ended_tx.clone());
                        tokio::spawn(async move {
                            let id = delivery.delivery_id;
                            let settled = delivering.attempt(delivery).await;
                            let _ = ended.send((id, settled));
                        });
                    }
                    if !filled {
                        // Nothing else is due: sleep until the next retry is.
                        if let Ok(Some(next)) = delivering.store.next_due_after(now) {
                            let until = u64::try_from(next - now).unwrap_or(0);
                            wait = wait.min(Duration::from_millis(until));
                        }
                    }
                }
                Err(err) => {
                    tracing::warn!(error = %err, "cannot read the webhook queue");
                    wait = BACKOFF;
                }
            }
        }
        tokio::select! {
            () = queued.notified() => {}
            Some(done) = ended.recv() => {
                finished.push(done);
                // Let the attempts ending about now join this one's transaction.
                tokio::time::sleep(GATHER).await;
            }
            () = tokio::time::sleep(wait) => {}
        }
    }
}

/// Settles the attempts that ended, in one transaction, and only then frees their slots
/// (a delivery is never fetched as due again while its attempt is unrecorded).
async fn settle(delivering: &Delivering, in_flight: &mut InFlight, finished: Vec<Ended>) {
    if finished.is_empty() {
        return;
    }
    let ids: Vec<i64> = finished.iter().map(|(id, _)| *id).collect();
    let settled: Vec<Settled> = finished.into_iter().filter_map(|(_, s)| s).collect();
    if !settled.is_empty()
        && let Err(err) = delivering.store.settle_deliveries(settled).await
    {
        // The rows stay due: their attempts are made again (at least once).
        tracing::warn!(error = %err, "webhook attempts not settled");
    }
    for id in ids {
        in_flight.end(id);
    }
}

impl Delivering {
    /// One attempt of `delivery`: what to settle, if anything.
    async fn attempt(&self, delivery: QueuedDelivery) -> Option<Settled> {
        match self.try_attempt(&delivery).await {
            Ok(settled) => settled,
            Err(err) => {
                // The row stays due: the next look tries again.
                tracing::warn!(error = %err, webhook = %delivery.webhook_id, "webhook attempt failed");
                None
            }
        }
    }

    async fn try_attempt(
        &self,
        delivery: &QueuedDelivery,
    ) -> Result<Option<Settled>, taskapi_domain::StoreError> {
        use taskapi_domain::WebhookStore;
        let store = &self.store;
        let webhook = match store.webhook(&delivery.webhook_id).await? {
            Some(webhook) if webhook.disabled.is_none() => webhook,
            // Deleted or disabled since it was queued.
            _ => {
                return store
                    .drop_delivery(delivery.delivery_id)
                    .await
                    .map(|()| None);
            }
        };
        let at = Timestamp::now();
        let outcome = match self.secrets(&webhook, &at) {
            Ok(secrets) => {
                let refs: Vec<_> = secrets.iter().collect();
                let timestamp = unix_millis() / 1000;
                let body = Bytes::from(delivery.body.clone());
                let headers = sign(&refs, &delivery.event_id, timestamp, &body);
                let url = webhook.url.as_str();
                (self.sender)
                    .send(Delivery {
                        url,
                        headers: &headers,
                        body,
                    })
                    .await
            }
            Err(err) => {
                tracing::error!(error = %err, webhook = %webhook.webhook_id, "cannot open the webhook's secret");
                AttemptOutcome::Error("the signing secret could not be opened".to_owned())
            }
        };
        let (settle, next) = if outcome.delivered() {
            (Settle::Done, None)
        } else if outcome.gone() {
            tracing::info!(webhook = %webhook.webhook_id, "endpoint answered 410 Gone: disabled");
            (
                Settle::Disable("the endpoint answered 410 Gone".to_owned()),
                None,
            )
        } else {
            match self.schedule.delay_after(delivery.attempt, jitter()) {
                Some(delay) => {
                    let due = unix_millis() + i64::try_from(delay.as_millis()).unwrap_or(i64::MAX);
                    (Settle::RetryAt(due), Some(timestamp_of_millis(due)))
                }
                None => (Settle::Done, None),
            }
        };
        let attempt = DeliveryAttempt {
            webhook_id: webhook.webhook_id,
            attempt_id: taskapi_domain::new_event_id(),
            event_id: delivery.event_id.clone(),
            event_type: delivery.event_type,
            attempt: delivery.attempt,
            at,
            outcome,
            next_attempt_at: next,
        };
        Ok(Some(Settled {
            delivery_id: delivery.delivery_id,
            attempt,
            settle,
        }))
    }

    /// The secrets that sign now: the current one, and the one a rotation replaced while
    /// it still signs.
    fn secrets(
        &self,
        webhook: &taskapi_domain::Webhook,
        now: &Timestamp,
    ) -> Result<Vec<SigningSecret>, SealError> {
        let id = &webhook.webhook_id;
        let mut secrets = vec![self.open(id, &webhook.secret)?];
        if let Some(retiring) = webhook.retiring_at(now) {
            secrets.push(self.open(id, retiring)?);
        }
        Ok(secrets)
    }

    fn open(&self, id: &WebhookId, sealed: &SealedSecret) -> Result<SigningSecret, SealError> {
        let mut opened = self
            .opened
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(secret) = opened.get(sealed.as_str()) {
            return Ok(secret.clone());
        }
        let secret = self.cipher.open(id, sealed)?;
        if opened.len() >= OPENED_SECRETS {
            opened.clear();
        }
        opened.insert(sealed.as_str().to_owned(), secret.clone());
        Ok(secret)
    }
}
