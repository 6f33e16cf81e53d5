//! Charts as plain SVG: a few bars need no plotting library.

use std::fmt::Write as _;

use crate::local::Report;

const WIDTH: f64 = 760.0;
const LABEL: f64 = 200.0;
const BAR: f64 = 26.0;
const GAP: f64 = 12.0;

/// Requests per second of each route, as bars against the `/healthz` ceiling.
pub fn throughput(report: &Report) -> String {
    let max = report
        .routes
        .iter()
        .map(|route| route.load.requests_per_sec)
        .fold(1.0, f64::max);
    let height = 60.0 + report.routes.len() as f64 * (BAR + GAP);
    let span = WIDTH - LABEL - 140.0;
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" font-family="sans-serif" font-size="13">
<rect width="100%" height="100%" fill="white"/>
<text x="10" y="22" font-size="15" font-weight="bold">taskapi serve (SQLite): requests/s per route, {} connections</text>
"#,
        report.profile.connections
    );
    for (n, route) in report.routes.iter().enumerate() {
        let y = 40.0 + n as f64 * (BAR + GAP);
        let width = route.load.requests_per_sec / max * span;
        let colour = if n == 0 { "#9e9e9e" } else { "#1f77b4" };
        let _ = write!(
            svg,
            r#"<text x="{x}" y="{ty}" text-anchor="end">{name}</text>
<rect x="{LABEL}" y="{y}" width="{width:.1}" height="{BAR}" fill="{colour}"/>
<text x="{lx:.1}" y="{ty}">{rate:.0}/s ({share:.0}%)</text>
"#,
            x = LABEL - 8.0,
            ty = y + BAR * 0.68,
            name = route.route,
            lx = LABEL + width + 6.0,
            rate = route.load.requests_per_sec,
            share = route.share_of_ceiling * 100.0,
        );
    }
    svg.push_str("</svg>\n");
    svg
}
