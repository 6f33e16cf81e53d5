//! All configuration in one typed place. Every flag has an environment-variable twin, so
//! the same settings work from a shell, a `.env` file or a service manager.

use std::net::SocketAddr;
use std::num::{NonZeroU16, NonZeroU32, NonZeroUsize};
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use taskapi_domain::RetrySchedule;
use taskapi_domain::keys::StatusShards;
use taskapi_store_dynamodb::{DEFAULT_PAGE_SIZE, DEFAULT_TABLE};
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
    Serve(Box<ServeConfig>),
    /// Manage the DynamoDB table.
    #[command(subcommand)]
    Table(TableCommand),
    /// Write every item of the store (tasks, projects, memberships, invitations, live
    /// idempotency records) as DynamoDB JSON lines, the format of DynamoDB's export to S3.
    Export(ExportConfig),
    /// Load a file of DynamoDB JSON lines (ours, or a DynamoDB export's) into the store,
    /// item by item; running it again changes nothing.
    Import(ImportConfig),
    /// Copy a data directory consistently while its server runs: the task database and
    /// the user pool (SQLite's online backup), its keys and credentials.
    Backup(BackupConfig),
    /// Write the local user pool's users as the CSV of Cognito's user import jobs
    /// (passwords cannot be moved: imported users reset theirs, as on AWS).
    ExportUsers(ExportUsersConfig),
}

/// Which store a command reads or writes, as `taskapi serve` names it.
#[derive(Debug, Clone, Args)]
pub struct StoreOptions {
    /// The store: SQLite in `--data-dir`, or the DynamoDB table `--table-name`.
    #[arg(long, env = "TASKAPI_STORE", value_enum, default_value_t = StoreKind::Sqlite)]
    pub store: StoreKind,

    /// SQLite: the data directory of `taskapi serve`.
    #[arg(long, env = "TASKAPI_DATA_DIR", default_value = ".taskapi")]
    pub data_dir: PathBuf,

    #[command(flatten)]
    pub table: TableConfig,

    /// DynamoDB: the table's status shard count (`taskapi serve --status-shards`), which
    /// imported tasks' status keys follow.
    #[arg(long, env = "TASKAPI_STATUS_SHARDS", default_value_t = StatusShards::SEED)]
    pub status_shards: StatusShards,
}

#[derive(Debug, Clone, Args)]
pub struct ExportConfig {
    #[command(flatten)]
    pub store: StoreOptions,

    /// The file to write (`-` for standard output); gzip-compressed when it ends in `.gz`.
    #[arg(long)]
    pub out: PathBuf,

    /// DynamoDB: scan segments read in parallel.
    #[arg(long, default_value_t = NonZeroU16::new(4).expect("not zero"))]
    pub segments: NonZeroU16,

    /// DynamoDB: strongly consistent reads (twice the read capacity).
    #[arg(long)]
    pub consistent: bool,

    /// DynamoDB: where the scan's progress is saved, so an interrupted export run again
    /// with the same `--out` goes on where it stopped. Default: `<out>.checkpoint`.
    #[arg(long)]
    pub checkpoint: Option<PathBuf>,

    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Args)]
pub struct ImportConfig {
    #[command(flatten)]
    pub store: StoreOptions,

    /// The file to read (`-` for standard input); gzip is recognised by its first bytes.
    #[arg(long = "in")]
    pub input: PathBuf,

    /// Report invalid lines and go on, instead of stopping at the first.
    #[arg(long)]
    pub skip_invalid: bool,

    /// Replace items the store holds with other content (by default they are kept and
    /// reported).
    #[arg(long)]
    pub overwrite: bool,

    /// A file of `<old sub>,<new sub>` lines: users whose data moves to a new id, as when
    /// their accounts moved to another user pool (docs/aws.md).
    #[arg(long)]
    pub user_map: Option<PathBuf>,

    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Args)]
pub struct BackupConfig {
    /// The data directory to copy (the one `taskapi serve` runs on).
    #[arg(long, env = "TASKAPI_DATA_DIR", default_value = ".taskapi")]
    pub data_dir: PathBuf,

    /// The directory to create with the copy; it must not exist yet. Restore by starting
    /// `taskapi serve --data-dir <out>`.
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum TableCommand {
    /// Create the table with the seed's schema (GSI1, on-demand) on DynamoDB or a local
    /// endpoint; does nothing if it exists, and waits until it is ACTIVE.
    Create(TableConfig),
    /// Move every task's status key (GSI1PK) to `--shards` partitions per status, in place:
    /// resumable (progress is saved in `--checkpoint`), safe under traffic (conditional
    /// writes). Deploy the new `--status-shards` first, then run this; docs/aws.md has the
    /// whole procedure.
    Reshard(ReshardConfig),
}

#[derive(Debug, Clone, Args)]
pub struct ReshardConfig {
    #[command(flatten)]
    pub table: TableConfig,

    /// The shard count to move to (1 is the seed's layout); the same as the servers'
    /// `--status-shards`.
    #[arg(long, env = "TASKAPI_STATUS_SHARDS")]
    pub shards: StatusShards,

    /// Where progress is saved and resumed from; removed when the table is done.
    /// Default: `reshard-<table>.json` in the current directory.
    #[arg(long, env = "TASKAPI_RESHARD_CHECKPOINT")]
    pub checkpoint: Option<PathBuf>,

    /// Items read per scan request; smaller pages spread the reshard's load on the table.
    #[arg(long, default_value_t = DEFAULT_PAGE_SIZE)]
    pub page_size: NonZeroU16,

    /// No progress bar (e.g. when the output is a log).
    #[arg(long)]
    pub quiet: bool,
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

    /// Address of the hosted UI's HTTPS listener (Cognito's `/oauth2/*`, `/login`, ...; a
    /// self-signed certificate in the data directory). Port 0 picks a free port.
    #[arg(long, env = "TASKAPI_HOSTED_UI_ADDR", default_value = "127.0.0.1:3443")]
    pub hosted_ui_addr: SocketAddr,

    /// Where local state lives: the task database and the user pool.
    #[arg(long, env = "TASKAPI_DATA_DIR", default_value = ".taskapi")]
    pub data_dir: PathBuf,

    /// Where tasks are stored.
    #[arg(long, env = "TASKAPI_STORE", value_enum, default_value_t = StoreKind::Sqlite)]
    pub store: StoreKind,

    #[command(flatten)]
    pub table: TableConfig,

    /// DynamoDB only: spread each status's GSI1 key over this many partitions
    /// (`STATUS#<status>#<n>`) so creates are not capped by one partition's write rate.
    /// 1 is the seed's layout; change it with `taskapi table reshard`.
    #[arg(long, env = "TASKAPI_STATUS_SHARDS", default_value_t = StatusShards::SEED)]
    pub status_shards: StatusShards,

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

    /// Start even though the data directory holds tasks but no user pool, or a user pool but
    /// no tasks (the missing one is created empty). Without it such a directory is refused:
    /// a lost file would otherwise pass unnoticed as a fresh start.
    #[arg(long, env = "TASKAPI_START_AFRESH")]
    pub start_afresh: bool,

    /// Request-rate quotas of the local user pool that differ from Cognito's defaults, per
    /// pool and category, as `<Category>=<requests per second>` (comma-separated; 0 lifts
    /// one), e.g. `UserCreation=500,UserAuthentication=1000`.
    #[arg(
        long = "cognito-quota",
        env = "TASKAPI_COGNITO_QUOTAS",
        value_delimiter = ','
    )]
    pub cognito_quotas: Vec<QuotaRate>,

    /// Where the local user pool invokes a pool's Lambda triggers: a Lambda Invoke API
    /// endpoint such as `cargo lambda watch` (`http://127.0.0.1:9000`) or `sam local
    /// start-lambda` serves. The standard AWS setting is its twin.
    #[arg(long, env = "AWS_ENDPOINT_URL_LAMBDA", value_parser = lambda_endpoint)]
    pub lambda_endpoint: Option<String>,

    #[command(flatten)]
    pub connections: ConnectionConfig,

    #[command(flatten)]
    pub rate_limit: RateLimitConfig,

    #[command(flatten)]
    pub webhooks: WebhookOptions,

    #[command(flatten)]
    pub live: LiveConfig,
}

/// Webhook delivery (docs/webhooks.md).
#[derive(Debug, Clone, Args)]
pub struct WebhookOptions {
    /// For local development only: accept webhook URLs on loopback and private addresses
    /// (and plain `http`). Link-local and cloud metadata addresses stay refused.
    #[arg(long, env = "TASKAPI_ALLOW_PRIVATE_WEBHOOKS")]
    pub allow_private_webhooks: bool,

    /// For tests and development only: multiply the retry delays of failed deliveries
    /// (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h) by this factor, above 0 and at most 1;
    /// e.g. 0.001 for 5 ms, 300 ms, 1.8 s, ...
    #[arg(
        long,
        env = "TASKAPI_WEBHOOK_RETRY_SCALE",
        default_value = "1",
        value_parser = retry_scale
    )]
    pub webhook_retry_scale: RetrySchedule,
}

/// A retry schedule's scale, e.g. `0.001`.
fn retry_scale(raw: &str) -> Result<RetrySchedule, String> {
    raw.parse::<f64>()
        .ok()
        .and_then(RetrySchedule::scaled)
        .ok_or_else(|| format!("{raw:?} is not a number above 0 and at most 1"))
}

/// An `http://` or `https://` base URL, kept without its trailing slash.
fn lambda_endpoint(value: &str) -> Result<String, String> {
    let trimmed = value.trim_end_matches('/');
    let host = trimmed
        .strip_prefix("http://")
        .or_else(|| trimmed.strip_prefix("https://"))
        .ok_or_else(|| format!("{value:?} is not an http:// or https:// URL"))?;
    if host.is_empty() || host.contains('/') {
        return Err(format!(
            "{value:?} must be a base URL such as http://127.0.0.1:9000 (no path)"
        ));
    }
    Ok(trimmed.to_owned())
}

/// Live updates (`GET /live`, a WebSocket per browser tab; SQLite store only). A socket is
/// upgraded from one of the listener's connections and then leaves its slot: these caps,
/// not --max-connections, bound how many stay open.
#[derive(Debug, Clone, Args)]
pub struct LiveConfig {
    /// Live sockets open at once, over all users; more are refused with 503.
    #[arg(long, env = "TASKAPI_MAX_LIVE_SOCKETS", default_value_t = 10_000)]
    pub max_live_sockets: usize,

    /// Live sockets one user may have open at once (tabs, devices); more are refused
    /// with 429.
    #[arg(long, env = "TASKAPI_MAX_LIVE_SOCKETS_PER_USER", default_value_t = 16)]
    pub max_live_sockets_per_user: usize,

    /// Events waiting to be sent on one socket; a client that lets more pile up is closed
    /// (4008 "too slow: reconnect and reload") so that it never slows a write.
    #[arg(long, env = "TASKAPI_LIVE_QUEUE", default_value_t = NonZeroUsize::new(256).expect("not zero"))]
    pub live_queue: NonZeroUsize,

    /// Seconds between pings on each live socket; one that answers none of two is closed.
    #[arg(long, env = "TASKAPI_LIVE_PING_INTERVAL", default_value = "30", value_parser = seconds)]
    pub live_ping_interval: Duration,
}

impl LiveConfig {
    pub fn limits(&self) -> taskapi_live::LiveLimits {
        taskapi_live::LiveLimits {
            max_sockets: self.max_live_sockets,
            max_sockets_per_user: self.max_live_sockets_per_user,
            queue: self.live_queue.get(),
            ping_interval: self.live_ping_interval,
        }
    }
}

/// How connections are served. Durations are in seconds (fractions allowed).
#[derive(Debug, Clone, Args)]
pub struct ConnectionConfig {
    /// Seconds a client has to send a request's headers, counted from when the connection
    /// is ready for them; so also how long an idle keep-alive connection stays open.
    #[arg(long, env = "TASKAPI_HEADER_READ_TIMEOUT", default_value = "10", value_parser = seconds)]
    pub header_read_timeout: Duration,

    /// Seconds a client has to send a whole request body (then 408).
    #[arg(long, env = "TASKAPI_BODY_READ_TIMEOUT", default_value = "30", value_parser = seconds)]
    pub body_read_timeout: Duration,

    /// Seconds without a byte moving either way after which a connection is closed (a
    /// client that stopped reading its response).
    #[arg(long, env = "TASKAPI_IDLE_TIMEOUT", default_value = "60", value_parser = seconds)]
    pub idle_timeout: Duration,

    /// Connections served at once. When all are open, the one idle longest between
    /// requests is closed to admit a new one; if every one is busy, new ones wait in the
    /// listen backlog until one closes.
    #[arg(long, env = "TASKAPI_MAX_CONNECTIONS", default_value_t = 1024)]
    pub max_connections: usize,

    /// Connections one client address may have open at once; more are closed as soon as
    /// they are accepted, so no one client can take every connection. Default: an eighth
    /// of --max-connections (128 of 1024), far more than a browser or SDK opens.
    #[arg(long, env = "TASKAPI_MAX_CONNECTIONS_PER_ADDRESS")]
    pub max_connections_per_address: Option<NonZeroUsize>,

    /// Seconds requests in flight get to finish after SIGTERM or Ctrl-C; then the
    /// connections still open are closed and taskapi exits.
    #[arg(long, env = "TASKAPI_SHUTDOWN_GRACE", default_value = "10", value_parser = seconds)]
    pub shutdown_grace: Duration,
}

/// Per-caller rate limits on the REST API, a token bucket per user as API Gateway's
/// throttling has: a steady rate and a burst. A caller over it gets 429 with Retry-After.
#[derive(Debug, Clone, Args)]
pub struct RateLimitConfig {
    /// Requests per second each caller may make on average; 0 turns the limit off.
    #[arg(long, env = "TASKAPI_RATE_LIMIT", default_value_t = 100)]
    pub rate_limit: u32,

    /// Requests a caller may make at once before the rate applies.
    #[arg(long, env = "TASKAPI_RATE_LIMIT_BURST", default_value_t = 200)]
    pub rate_limit_burst: u32,

    /// Failed authentications (401s) per second a client address may cause on average;
    /// over it, it gets 429 instead, while valid tokens from it are still served. 0 turns
    /// the limit off.
    #[arg(long, env = "TASKAPI_AUTH_FAILURE_LIMIT", default_value_t = 5)]
    pub auth_failure_limit: u32,

    /// Failed authentications an address may cause at once before the rate applies.
    #[arg(long, env = "TASKAPI_AUTH_FAILURE_BURST", default_value_t = 20)]
    pub auth_failure_burst: u32,
}

impl ConnectionConfig {
    /// The per-address cap, as given or an eighth of the listener's (at least one).
    pub fn per_address(&self) -> usize {
        self.max_connections_per_address
            .map_or((self.max_connections / 8).max(1), NonZeroUsize::get)
    }
}

impl RateLimitConfig {
    /// `(per second, burst)` per caller, or `None` when the limit is off.
    pub fn quota(&self) -> Option<(NonZeroU32, NonZeroU32)> {
        quota(self.rate_limit, self.rate_limit_burst)
    }

    /// `(per second, burst)` of failed authentications per address, or `None` when off.
    pub fn auth_failure_quota(&self) -> Option<(NonZeroU32, NonZeroU32)> {
        quota(self.auth_failure_limit, self.auth_failure_burst)
    }
}

/// A rate and a burst, or `None` for a zero rate (the limit is off); a zero burst is the rate.
fn quota(rate: u32, burst: u32) -> Option<(NonZeroU32, NonZeroU32)> {
    let rate = NonZeroU32::new(rate)?;
    Some((rate, NonZeroU32::new(burst).unwrap_or(rate)))
}

/// A duration in seconds, e.g. `10` or `0.5`.
fn seconds(raw: &str) -> Result<Duration, String> {
    raw.parse::<f64>()
        .ok()
        .and_then(|secs| Duration::try_from_secs_f64(secs).ok())
        .filter(|duration| !duration.is_zero())
        .ok_or_else(|| format!("{raw:?} is not a positive number of seconds"))
}

#[derive(Debug, Clone, Args)]
pub struct ExportUsersConfig {
    /// The data directory of `taskapi serve`.
    #[arg(long, env = "TASKAPI_DATA_DIR", default_value = ".taskapi")]
    pub data_dir: PathBuf,

    /// The pool to export; by default the one `taskapi serve` creates.
    #[arg(long, default_value = taskapi_userpool::DEFAULT_POOL_NAME)]
    pub pool_name: String,

    /// The CSV file to write (`-` for standard output).
    #[arg(long)]
    pub out: PathBuf,
}

#[cfg(test)]
mod tests {
    use super::lambda_endpoint;

    #[test]
    fn a_lambda_endpoint_is_a_base_url() {
        assert_eq!(
            lambda_endpoint("http://127.0.0.1:9000/").as_deref(),
            Ok("http://127.0.0.1:9000")
        );
        assert!(lambda_endpoint("https://lambda.example.com").is_ok());
        for bad in [
            "127.0.0.1:9000",
            "http://",
            "http://host/2015-03-31",
            "ftp://host",
        ] {
            assert!(lambda_endpoint(bad).is_err(), "{bad}");
        }
    }
}
