//! The embedded [`TaskStore`](taskapi_domain::TaskStore): one SQLite file holding the seed's
//! single table (`PK`, `SK`, `GSI1PK`, `GSI1SK`, ...) with an index playing GSI1, so it
//! answers the same queries as DynamoDB in the same order.
//!
//! Durability and concurrency: the database is in WAL mode with `synchronous=FULL`, so a
//! write is on disk when its commit returns. All writes go through one writer thread
//! ([`writer`]) that commits whatever is queued in one transaction (group commit: one fsync
//! for many requests); reads run on a small pool of connections on blocking threads
//! ([`readers`]). Neither ever blocks the async runtime.

mod readers;
mod schema;
mod store;
mod writer;

pub use schema::OpenError;
pub use store::SqliteStore;
