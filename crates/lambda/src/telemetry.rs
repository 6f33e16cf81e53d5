//! JSON logs on stdout, one object per line, as CloudWatch Logs and Logs Insights expect.
//! Every line inside an invocation lists its spans, among them the runtime's
//! `Lambda runtime invoke` span with the invocation's `requestId`.

use tracing_subscriber::EnvFilter;

/// `RUST_LOG` filters as usual (default `info`).
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .with_span_list(true)
        .init();
}
