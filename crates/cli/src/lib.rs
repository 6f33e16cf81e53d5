//! The `taskapi` command as a library, so tests can start the real server in-process on a
//! random port ([`serve::Application`]).

pub mod backup;
pub mod config;
pub mod connections;
mod delivery;
pub mod export;
pub mod export_users;
pub mod hosted_ui;
pub mod import;
pub mod lambda_invoke;
pub mod serve;
pub mod table;
pub mod telemetry;
mod transfer;
pub mod web;
mod webhook_key;
