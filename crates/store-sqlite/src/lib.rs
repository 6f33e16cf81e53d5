//! The embedded [`TaskStore`](taskapi_domain::TaskStore): one SQLite file holding the seed's
//! single table (`PK`, `SK`, `GSI1PK`, `GSI1SK`, ...) with an index playing GSI1, so it
//! answers the same queries as DynamoDB in the same order.
//!
//! Durability and concurrency: the database is in WAL mode with `synchronous=FULL`, so a
//! write is on disk when its commit returns. All writes go through one writer thread
//! ([`writer`]) that commits whatever is queued in one transaction (group commit: one fsync
//! for many requests) on a thread of its own. Reads run in place on the runtime's threads,
//! each on a read-only connection of its own ([`readers`]): in WAL mode they never wait
//! for the writer, and a cached read takes microseconds, less than a hand-off to a
//! blocking thread would (BENCHMARKS.md).
//!
//! Storage faults (a full disk, I/O errors, a deleted or replaced file) are
//! `StoreError::Unavailable`, logged once per episode ([`fault`]); writes resume by
//! themselves when the fault clears. Corruption met by any statement is one too, except
//! that it does not clear: writes stay refused and the store not ready until the file is
//! restored.

pub mod fault;
mod outbox;
mod planning;
mod projects;
mod readers;
mod rows;
mod schema;
mod store;
mod transfer;
mod webhook_queue;
mod webhooks;
mod writer;

pub use outbox::{Committed, Feed};
pub use planning::UPCOMING;
pub use schema::OpenError;
pub use store::SqliteStore;
pub use transfer::ExportError;
pub use webhook_queue::{
    DISPATCH_BATCH, Dispatched, QueuedDelivery, Settle, Settled, timestamp_of_millis, unix_millis,
};
