//! The single writer. SQLite allows one writer at a time anyway; giving it a thread of its
//! own lets it commit a whole queue of requests in one transaction, paying one fsync for
//! all of them (group commit), and keeps blocking I/O off the async runtime.
//!
//! Each request runs inside a savepoint, so one failing request rolls back alone. Callers
//! hear back only after the commit is on disk: an acknowledged write is never lost. Before
//! each batch the writer checks that the database file is still the one it opened, so it
//! never acknowledges a write into a deleted or replaced file.

use std::sync::Arc;
use std::thread;

use rusqlite::Connection;
use taskapi_domain::StoreError;
use tokio::sync::{mpsc, oneshot};

use crate::OpenError;
use crate::fault::{Health, RETRY_AFTER, is_corruption, is_storage_fault};
use crate::outbox::{Feed, last_seq};

/// Requests that can share one transaction. Bounded so a flood of writes waits for the
/// disk instead of growing the queue without limit.
const MAX_BATCH: usize = 256;
const QUEUE_DEPTH: usize = 4096;

/// One queued request. `run` executes it inside the open transaction and tells whether
/// its changes should stay; `deliver` then answers the caller, given the batch's fate.
trait Job: Send {
    fn run(&mut self, conn: &Connection) -> bool;
    fn deliver(self: Box<Self>, batch: Result<(), &BatchFailure>);
}

/// A request and, once run, its result, kept together until the commit decides.
struct Request<T, F> {
    write: Option<F>,
    result: Option<Result<T, StoreError>>,
    reply: oneshot::Sender<Result<T, StoreError>>,
}

impl<T, F> Job for Request<T, F>
where
    T: Send + 'static,
    F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
{
    fn run(&mut self, conn: &Connection) -> bool {
        let write = self.write.take().expect("a request runs once");
        let result = write(conn);
        let keep = result.is_ok();
        self.result = Some(result);
        keep
    }

    fn deliver(self: Box<Self>, batch: Result<(), &BatchFailure>) {
        let result = match (batch, self.result) {
            (Ok(()), Some(result)) => result,
            (Err(failure), _) => Err(failure.to_store_error()),
            (Ok(()), None) => Err(StoreError::internal(
                "the writer committed a request it did not run",
            )),
        };
        // The caller may have gone away (its connection closed); the write stands anyway.
        let _ = self.reply.send(result);
    }
}

/// Why a whole batch was not committed: a storage fault (every caller gets a 503) or a bug.
enum BatchFailure {
    Fault,
    Bug(Arc<rusqlite::Error>),
}

impl BatchFailure {
    fn to_store_error(&self) -> StoreError {
        match self {
            Self::Fault => StoreError::Unavailable {
                retry_after: RETRY_AFTER,
            },
            Self::Bug(err) => StoreError::internal(Arc::clone(err)),
        }
    }
}

#[derive(Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Box<dyn Job>>,
}

impl Writer {
    /// Starts the writer thread on `conn`, the connection `schema::open_writer` opened. It
    /// hands the events of each committed batch to `feed`.
    pub fn start(conn: Connection, health: Arc<Health>, feed: Feed) -> Result<Self, OpenError> {
        let (jobs, queue) = mpsc::channel(QUEUE_DEPTH);
        thread::Builder::new()
            .name("taskapi-sqlite-writer".into())
            .spawn(move || run(conn, queue, &health, &feed))
            .map_err(OpenError::WriterThread)?;
        Ok(Self { jobs })
    }

    /// Runs `write` in the next transaction and returns its result once that transaction
    /// is durably committed.
    pub async fn write<T, F>(&self, write: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let (reply, outcome) = oneshot::channel();
        let request = Request {
            write: Some(write),
            result: None,
            reply,
        };
        self.jobs
            .send(Box::new(request))
            .await
            .map_err(|_| StoreError::internal("the SQLite writer has stopped"))?;
        outcome
            .await
            .map_err(|_| StoreError::internal("the SQLite writer dropped a request"))?
    }
}

fn run(conn: Connection, mut queue: mpsc::Receiver<Box<dyn Job>>, health: &Health, feed: &Feed) {
    let mut published = last_seq(&conn).unwrap_or(0);
    while let Some(first) = queue.blocking_recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        if commit_batch(&conn, batch, health) {
            published = feed.publish_after(&conn, published);
        }
    }
}

/// Commits the batch and answers its callers; whether it committed.
fn commit_batch(conn: &Connection, mut batch: Vec<Box<dyn Job>>, health: &Health) -> bool {
    if let Err(lost) = health.check_file().and_then(|()| health.check_intact()) {
        health.fault(lost);
        batch
            .into_iter()
            .for_each(|job| job.deliver(Err(&BatchFailure::Fault)));
        return false;
    }
    let outcome = conn
        .execute_batch("BEGIN IMMEDIATE")
        .and_then(|()| {
            for job in &mut batch {
                run_in_savepoint(conn, job.as_mut())?;
            }
            conn.execute_batch("COMMIT")
        })
        .map_err(|err| {
            // Undo whatever the batch did; a failed COMMIT may have rolled back already.
            if !conn.is_autocommit() {
                let _ = conn.execute_batch("ROLLBACK");
            }
            if is_corruption(&err) {
                health.corrupt(format!("a group commit failed: {err}"));
                BatchFailure::Fault
            } else if is_storage_fault(&err) {
                health.fault(format!("a group commit failed: {err}"));
                BatchFailure::Fault
            } else {
                tracing::error!(error = %err, "group commit failed");
                BatchFailure::Bug(Arc::new(err))
            }
        });
    if outcome.is_ok() {
        health.recovered();
    }
    for job in batch {
        job.deliver(outcome.as_ref().map(|_| ()));
    }
    outcome.is_ok()
}

/// Runs one request in a savepoint so that, if it fails, only its own changes roll back.
/// Fails only if the savepoint itself could not be used: then the whole batch fails.
fn run_in_savepoint(conn: &Connection, job: &mut dyn Job) -> rusqlite::Result<()> {
    conn.execute_batch("SAVEPOINT request")?;
    let end = if job.run(conn) {
        "RELEASE request"
    } else {
        "ROLLBACK TO request; RELEASE request"
    };
    conn.execute_batch(end)
}
