//! Charts as plain SVG: a few bars need no plotting library.

use std::fmt::Write as _;

use crate::pools::{Make, Outcome};
use crate::{lambda, local, peers};

const WIDTH: f64 = 760.0;
const LABEL: f64 = 200.0;
const BAR: f64 = 26.0;
const GAP: f64 = 12.0;

/// The start of a chart of `bars` bars under `title`, with `footer` pixels below them for a
/// note; and the chart's height.
fn opening(bars: usize, footer: f64, title: &str) -> (String, f64) {
    let height = 60.0 + footer + bars as f64 * (BAR + GAP);
    let svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" font-family="sans-serif" font-size="13">
<rect width="100%" height="100%" fill="white"/>
<text x="10" y="22" font-size="15" font-weight="bold">{title}</text>
"#
    );
    (svg, height)
}

/// The top edge of bar `n` (from 0).
fn bar_top(n: usize) -> f64 {
    40.0 + n as f64 * (BAR + GAP)
}

/// The value the longest bar stands for: the largest of `values`, at least 1.
fn largest(values: impl Iterator<Item = f64>) -> f64 {
    values.fold(1.0, f64::max)
}

/// Requests per second of each route, as bars against the `/healthz` ceiling.
pub fn throughput(report: &local::Report) -> String {
    let max = largest(
        report
            .routes
            .iter()
            .map(|route| route.load.requests_per_sec),
    );
    let span = WIDTH - LABEL - 140.0;
    let title = format!(
        "taskapi serve (SQLite): requests/s per route, {} connections",
        report.profile.connections
    );
    let (mut svg, _) = opening(report.routes.len(), 0.0, &title);
    for (n, route) in report.routes.iter().enumerate() {
        let y = bar_top(n);
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

/// Cold start of each runtime: the median as a bar, min to max as a whisker.
pub fn cold_start(report: &lambda::Report) -> String {
    let max = largest(report.cold.iter().map(|cold| cold.first_response.max_ms));
    let span = WIDTH - LABEL - 170.0;
    let x = |ms: f64| LABEL + ms / max * span;
    let title = format!(
        "Lambda cold start: exec to first response, first GetItem included ({:.1}× faster)",
        report.cold_start_speedup
    );
    let (mut svg, height) = opening(report.cold.len(), 20.0, &title);
    for (n, cold) in report.cold.iter().enumerate() {
        let y = bar_top(n);
        let spread = cold.first_response;
        let colour = if n == 0 { "#1f77b4" } else { "#9e9e9e" };
        let _ = write!(
            svg,
            r#"<text x="{lx}" y="{ty}" text-anchor="end">{name}</text>
<rect x="{LABEL}" y="{y}" width="{width:.1}" height="{BAR}" fill="{colour}"/>
<line x1="{min:.1}" x2="{max:.1}" y1="{mid}" y2="{mid}" stroke="black"/>
<line x1="{min:.1}" x2="{min:.1}" y1="{top}" y2="{bottom}" stroke="black"/>
<line x1="{max:.1}" x2="{max:.1}" y1="{top}" y2="{bottom}" stroke="black"/>
<text x="{tx:.1}" y="{ty}">{median:.1} ms ({low:.1}–{high:.1})</text>
"#,
            lx = LABEL - 8.0,
            ty = y + BAR * 0.68,
            name = cold.runtime,
            width = x(spread.median_ms) - LABEL,
            min = x(spread.min_ms),
            max = x(spread.max_ms),
            mid = y + BAR / 2.0,
            top = y + BAR * 0.25,
            bottom = y + BAR * 0.75,
            tx = x(spread.max_ms) + 8.0,
            median = spread.median_ms,
            low = spread.min_ms,
            high = spread.max_ms,
        );
    }
    let _ = writeln!(
        svg,
        r##"<text x="10" y="{}" fill="#555">bars: median of {} cold starts; whiskers: min to max; same machine, same emulator, same dynalite</text>"##,
        height - 12.0,
        report.profile.cold_starts
    );
    svg.push_str("</svg>\n");
    svg
}

/// One bar of [`bars`]: its label, the value its length stands for, the text beside it and
/// its colour.
struct Bar {
    label: String,
    value: f64,
    text: String,
    colour: &'static str,
}

const OURS: &str = "#1f77b4";
const THEIRS: &str = "#ff7f0e";

/// Horizontal bars under `title`, the longest standing for the largest value, with `note`
/// below them.
fn bars(title: &str, rows: &[Bar], note: &str) -> String {
    let max = largest(rows.iter().map(|bar| bar.value));
    let span = WIDTH - LABEL - 170.0;
    let (mut svg, height) = opening(rows.len(), 20.0, title);
    for (n, bar) in rows.iter().enumerate() {
        let y = bar_top(n);
        let width = bar.value / max * span;
        let _ = write!(
            svg,
            r#"<text x="{x}" y="{ty}" text-anchor="end">{label}</text>
<rect x="{LABEL}" y="{y}" width="{width:.1}" height="{BAR}" fill="{colour}"/>
<text x="{lx:.1}" y="{ty}">{text}</text>
"#,
            x = LABEL - 8.0,
            ty = y + BAR * 0.68,
            label = bar.label,
            colour = bar.colour,
            lx = LABEL + width + 6.0,
            text = bar.text,
        );
    }
    let _ = writeln!(
        svg,
        r##"<text x="10" y="{}" fill="#555">{note}</text>"##,
        height - 12.0
    );
    svg.push_str("</svg>\n");
    svg
}

/// Requests per second of each task route on taskapi and on PocketBase, side by side.
pub fn peers(report: &peers::Report) -> String {
    let mut rows = Vec::new();
    let [ours, theirs] = [&report.task_servers[0], &report.task_servers[1]];
    for (a, b) in ours.routes.iter().zip(&theirs.routes) {
        for (server, load, colour) in [(ours, &a.load, OURS), (theirs, &b.load, THEIRS)] {
            rows.push(Bar {
                // The route's name without its parenthesis, so the label fits its margin.
                label: format!(
                    "{}: {}",
                    a.route.split(" (").next().unwrap_or(a.route),
                    server.name
                ),
                value: load.requests_per_sec,
                text: format!("{:.0}/s, p99 {:.1} ms", load.requests_per_sec, load.p99_ms),
                colour,
            });
        }
    }
    let note = format!(
        "wrk -t2 -c{} -d{}s, one signed-in user with {} own tasks; RSS loaded: taskapi {:.0} MB, PocketBase {:.0} MB",
        report.profile.connections,
        report.profile.seconds,
        report.profile.tasks,
        ours.loaded_rss_mb,
        theirs.loaded_rss_mb
    );
    bars(
        "Task API: requests/s, taskapi beside PocketBase (same run)",
        &rows,
        &note,
    )
}

/// Sign-ups, confirmations and sign-ins per second of each user pool.
pub fn pools(report: &peers::Report) -> String {
    let mut rows = Vec::new();
    for pool in &report.pools {
        let colour = if pool.make == Make::Taskapi {
            OURS
        } else {
            THEIRS
        };
        for (step, outcome) in [
            ("sign-up", &pool.sign_up),
            ("confirm", &pool.confirm),
            ("sign-in", &pool.sign_in),
        ] {
            let (value, text) = match outcome {
                Outcome::Measured(rate) => (
                    rate.per_second,
                    format!("{:.0}/s, p99 {:.1} ms", rate.per_second, rate.p99_ms),
                ),
                Outcome::Cannot(answer) => (0.0, format!("cannot: {answer}")),
            };
            rows.push(Bar {
                label: format!("{}: {step}", pool.make.name()),
                value,
                text,
                colour,
            });
        }
    }
    let note = format!(
        "{} clients, {} s per step; taskapi hashes passwords with argon2id, the emulators keep them as sent",
        report.profile.pool_load.clients, report.profile.pool_load.seconds
    );
    bars("User pools: operations/s (same run)", &rows, &note)
}
