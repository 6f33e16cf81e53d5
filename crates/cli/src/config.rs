//! All configuration in one typed place. Every flag has an environment-variable twin, so
//! the same settings work from a shell, a `.env` file or a service manager.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "taskapi",
    version,
    about = "A task-management REST API, local or on AWS"
)]
pub struct Cli {
    /// Log output: `text` for people, `json` for log collectors. Filter with RUST_LOG.
    #[arg(long, env = "TASKAPI_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the REST API (and the local user pool) on one address.
    Serve(ServeConfig),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StoreKind {
    /// An embedded SQLite database in the data directory.
    Sqlite,
}

#[derive(Debug, Clone, Args)]
pub struct ServeConfig {
    /// Address to listen on. Port 0 picks a free port (the chosen one is printed).
    #[arg(long, env = "TASKAPI_ADDR", default_value = "127.0.0.1:3000")]
    pub addr: SocketAddr,

    /// Where local state lives: the task database and the user pool.
    #[arg(long, env = "TASKAPI_DATA_DIR", default_value = ".taskapi")]
    pub data_dir: PathBuf,

    /// Where tasks are stored.
    #[arg(long, env = "TASKAPI_STORE", value_enum, default_value_t = StoreKind::Sqlite)]
    pub store: StoreKind,

    /// Trust ID tokens of this issuer (its JWKS at `<issuer>/.well-known/jwks.json`)
    /// instead of the local user pool's.
    #[arg(long, env = "TASKAPI_JWT_ISSUER")]
    pub jwt_issuer: Option<String>,

    /// App client ids accepted as the tokens' audience; all of the pool's when empty.
    #[arg(
        long = "jwt-audience",
        env = "TASKAPI_JWT_AUDIENCE",
        value_delimiter = ','
    )]
    pub jwt_audiences: Vec<String>,

    /// Origins allowed by CORS (comma-separated); any origin when empty.
    #[arg(
        long = "cors-origin",
        env = "TASKAPI_CORS_ORIGIN",
        value_delimiter = ','
    )]
    pub cors_origins: Vec<String>,
}
