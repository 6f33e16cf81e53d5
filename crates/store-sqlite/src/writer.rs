//! The single writer. SQLite allows one writer at a time anyway; giving it a thread of its
//! own lets it commit a whole queue of requests in one transaction, paying one fsync for
//! all of them (group commit), and keeps blocking I/O off the async runtime.
//!
//! Each request runs inside a savepoint, so one failing request rolls back alone. Callers
//! hear back only after the commit is on disk: an acknowledged write is never lost.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::thread;

use rusqlite::Connection;
use taskapi_domain::StoreError;
use tokio::sync::{mpsc, oneshot};

use crate::OpenError;
use crate::schema::open_writer;

/// Requests that can share one transaction. Bounded so a flood of writes waits for the
/// disk instead of growing the queue without limit.
const MAX_BATCH: usize = 256;
const QUEUE_DEPTH: usize = 4096;

/// One queued request: `run` executes it inside the open transaction and reports whether
/// it succeeded; `deliver` then tells the caller, with the commit's error if it failed.
struct Job {
    run: Run,
    deliver: Deliver,
}

/// Executes the request; `true` if it succeeded and its changes should stay.
type Run = Box<dyn FnOnce(&Connection) -> bool + Send>;
/// Answers the caller: `None` once committed, else why the write failed.
type Deliver = Box<dyn FnOnce(Option<&str>) + Send>;

#[derive(Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl Writer {
    pub fn start(path: &Path) -> Result<Self, OpenError> {
        let conn = open_writer(path)?;
        let (jobs, queue) = mpsc::channel(QUEUE_DEPTH);
        thread::Builder::new()
            .name("taskapi-sqlite-writer".into())
            .spawn(move || run(conn, queue))
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
        // Written by `run`, read by `deliver`, both on the writer thread, one after the other.
        let slot = Arc::new(Mutex::new(None));
        let result_slot = Arc::clone(&slot);
        let job = Job {
            run: Box::new(move |conn| {
                let result = write(conn);
                let succeeded = result.is_ok();
                *result_slot.lock().expect("result slot") = Some(result);
                succeeded
            }),
            deliver: Box::new(move |failure| {
                let result = match (failure, slot.lock().expect("result slot").take()) {
                    (None, Some(result)) => result,
                    (Some(err), _) => Err(StoreError::internal(format!("write failed: {err}"))),
                    (None, None) => Err(StoreError::internal("write was not run")),
                };
                let _ = reply.send(result);
            }),
        };
        self.jobs
            .send(job)
            .await
            .map_err(|_| StoreError::internal("the SQLite writer has stopped"))?;
        outcome
            .await
            .map_err(|_| StoreError::internal("the SQLite writer dropped a request"))?
    }
}

fn run(conn: Connection, mut queue: mpsc::Receiver<Job>) {
    while let Some(first) = queue.blocking_recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        commit_batch(&conn, batch);
    }
}

fn commit_batch(conn: &Connection, batch: Vec<Job>) {
    if let Err(err) = conn.execute_batch("BEGIN IMMEDIATE") {
        tracing::error!(error = %err, "cannot begin a write transaction");
        let err = err.to_string();
        batch.into_iter().for_each(|job| (job.deliver)(Some(&err)));
        return;
    }
    let mut ran = Vec::with_capacity(batch.len());
    for job in batch {
        let own_failure = run_in_savepoint(conn, job.run);
        ran.push((job.deliver, own_failure));
    }
    let commit = conn.execute_batch("COMMIT").map_err(|err| {
        tracing::error!(error = %err, "group commit failed");
        let _ = conn.execute_batch("ROLLBACK");
        err.to_string()
    });
    for (deliver, own_failure) in ran {
        match (&commit, own_failure) {
            (Err(err), _) => deliver(Some(err)),
            (Ok(()), Some(err)) => deliver(Some(&err)),
            (Ok(()), None) => deliver(None),
        }
    }
}

/// Runs one request in a savepoint so that, if it fails, only its own changes roll back.
/// Returns an error only if the savepoint itself could not be used.
fn run_in_savepoint(conn: &Connection, run: Run) -> Option<String> {
    if let Err(err) = conn.execute_batch("SAVEPOINT request") {
        return Some(err.to_string());
    }
    let end = if run(conn) {
        "RELEASE request"
    } else {
        "ROLLBACK TO request; RELEASE request"
    };
    conn.execute_batch(end).err().map(|err| err.to_string())
}
