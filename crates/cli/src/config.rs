//! All configuration in one typed place. Every flag has an environment-variable twin, so
//! the same settings work from a shell, a `.env` file or a service manager.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use taskapi_store_dynamodb::DEFAULT_TABLE;
use taskapi_userpool::QuotaRate;

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
    /// Manage the DynamoDB table.
    #[command(subcommand)]
    Table(TableCommand),
}

#[derive(Debug, Subcommand)]
pub enum TableCommand {
    /// Create the table with the seed's schema (GSI1, on-demand) on DynamoDB or a local
    /// endpoint; does nothing if it exists, and waits until it is ACTIVE.
    Create(TableConfig),
}

/// Where the DynamoDB table is. Region, credentials and endpoint come from the standard
/// AWS environment (`AWS_REGION`, `AWS_PROFILE`, `AWS_ENDPOINT_URL_DYNAMODB`, ...).
#[derive(Debug, Clone, Args)]
pub struct TableConfig {
    /// The table name, as in the seed.
    #[arg(long, env = "TABLE_NAME", default_value = DEFAULT_TABLE)]
    pub table_name: String,
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
    /// A DynamoDB table (`--table-name`), on AWS or a local endpoint.
    Dynamodb,
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

    #[command(flatten)]
    pub table: TableConfig,

    /// Trust ID tokens of this real Cognito user pool (e.g. `us-east-1_AbC123xyZ`; the
    /// region is taken from the id) instead of the local user pool's.
    #[arg(
        long,
        env = "TASKAPI_COGNITO_USER_POOL_ID",
        conflicts_with = "jwt_issuer"
    )]
    pub cognito_user_pool_id: Option<String>,

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

    /// Request-rate quotas of the local user pool that differ from Cognito's defaults, per
    /// pool and category, as `<Category>=<requests per second>` (comma-separated; 0 lifts
    /// one), e.g. `UserCreation=500,UserAuthentication=1000`.
    #[arg(
        long = "cognito-quota",
        env = "TASKAPI_COGNITO_QUOTAS",
        value_delimiter = ','
    )]
    pub cognito_quotas: Vec<QuotaRate>,
}
