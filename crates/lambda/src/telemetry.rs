//! JSON logs on stdout, one object per line, as CloudWatch Logs and Logs Insights expect.
//! Every line inside an invocation lists its spans, among them the runtime's
//! `Lambda runtime invoke` span with the invocation's `requestId`.

use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// `RUST_LOG` filters by target and level (`info,tower_http=debug`; default `info`). Not
/// `EnvFilter`: its span and field filters need a regex engine, which would add to the
/// package and the cold start for something a function's logs never use.
pub fn init() {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|directives| directives.parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_default(LevelFilter::INFO));
    let json = tracing_subscriber::fmt::layer()
        .json()
        .with_current_span(false)
        .with_span_list(true);
    tracing_subscriber::registry()
        .with(json)
        .with(filter)
        .init();
}
