//! The REST API end to end: each test starts the real server on a random port of
//! 127.0.0.1 (SQLite in a temporary data directory, tokens from a stand-in pool) and talks
//! HTTP to it. One test binary, one link step.

mod admin;
mod attacks;
mod auth;
mod crash;
mod dynamodb;
mod faults;
mod helpers;
mod idempotency;
mod isolation;
mod live;
mod locks;
mod planning;
mod pool_faults;
mod project_matrix;
mod projects;
mod protocol;
mod tasks;
mod team;
mod validation;
