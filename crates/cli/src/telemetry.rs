use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Logs go to stderr (stdout carries only the startup banner), filtered by `RUST_LOG`,
/// `info` by default. Each request's span carries its `x-request-id`.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}
