//! The `taskapi` command as a library, so tests can start the real server in-process on a
//! random port ([`serve::Application`]).

pub mod config;
pub mod connections;
pub mod hosted_ui;
pub mod serve;
pub mod table;
pub mod telemetry;
pub mod web;
