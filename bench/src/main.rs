//! The taskapi benchmarks. Each figure is taken against a baseline measured in the same
//! run, because absolute numbers on a shared machine drift; see BENCHMARKS.md.
//!
//! Parts: [`local`] (`taskapi serve` throughput), [`lambda`] (cold start, warm overhead and
//! package size against a Python baseline), [`dynamodb`] (requests and capacity units per
//! route, through the counting [`proxy`]), [`cost`] (dollars per million calls through each
//! front door), [`function_url`] (what verifying the token in the function costs),
//! [`shards`] (the status index's write ceiling and the sharded admin page), [`lists`]
//! (status-filtered lists on SQLite as a user's tasks grow), [`planning`] (the Upcoming
//! view and due-date sorted lists as a user's tasks grow), [`signup`] (the local user
//! pool under a burst of unauthenticated sign-ups), [`transfer`] (`taskapi import` and
//! `export` at scale), [`webhooks`] (deliveries per second, and writes with endpoints
//! against writes without) and [`live`] (live updates: event latency, memory per
//! socket, writes with sockets open).

mod chart;
mod cognito;
mod cost;
mod dynamodb;
mod function;
mod function_url;
mod lambda;
mod lists;
mod live;
mod local;
mod peers;
mod planning;
mod pocketbase;
mod pools;
mod process;
mod project_calls;
mod proxy;
mod runner;
mod shards;
mod signup;
mod stats;
mod store_pages;
mod table;
mod transfer;
mod webhooks;
mod wrk;

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Parser, ValueEnum};
use serde::Serialize;

#[derive(Debug, Parser)]
#[command(about = "Benchmarks taskapi against baselines in the same run")]
struct Args {
    /// A short run for CI: fewer users, seconds and repetitions; reports, asserts nothing.
    #[arg(long)]
    quick: bool,
    /// The parts to run, comma-separated; all when not given, but for `--quick`, all but
    /// `peers` (CI runs `--quick --parts peers` on its own, which keeps each run short).
    #[arg(long, value_enum, value_delimiter = ',')]
    parts: Option<Vec<Part>>,
    /// Where results (JSON) and charts (SVG) go.
    #[arg(long, default_value = "bench/results")]
    out: PathBuf,
    /// The release `taskapi` binary to measure.
    #[arg(long, default_value = "target/release/taskapi")]
    taskapi: PathBuf,
    /// The release `taskapi-lambda` binary to measure.
    #[arg(long, default_value = "target/release/taskapi-lambda")]
    lambda: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Part {
    /// `taskapi serve` on SQLite under wrk.
    Local,
    /// Cold start, warm overhead and package size of the Lambda binary.
    Lambda,
    /// DynamoDB requests and units per route, and the cost per million calls.
    Dynamodb,
    /// Cold start and warm cost of verifying ID tokens in the function (Function URL).
    FunctionUrl,
    /// The status index's write ceiling by shard count, and the sharded admin page.
    Shards,
    /// Status-filtered lists on SQLite as a user's tasks grow.
    Lists,
    /// The Upcoming view and due-date sorted lists on SQLite as a user's tasks grow.
    Planning,
    /// 64 concurrent unauthenticated sign-ups: memory and API latency.
    Signup,
    /// taskapi beside PocketBase and the Cognito emulators, started from the checkout.
    Peers,
    /// `taskapi import` and `export`: items per second and peak memory, SQLite and dynalite.
    Transfer,
    /// Webhook deliveries per second, and `POST /tasks` with 10 endpoints against none.
    Webhooks,
    /// Live updates: write-to-event latency by sockets open, memory per idle socket, writes
    /// with 1,000 sockets open against none.
    Live,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    std::fs::create_dir_all(&args.out).with_context(|| format!("create {}", args.out.display()))?;
    let (quick, out) = (args.quick, &args.out);
    let parts = args.parts.clone().unwrap_or_else(|| {
        Part::value_variants()
            .iter()
            .copied()
            .filter(|part| !(quick && *part == Part::Peers))
            .collect()
    });
    if parts.contains(&Part::Local) {
        let profile = pick(quick, local::Profile::FULL, local::Profile::QUICK);
        let report = local::run(&args.taskapi, profile).await?;
        let svg = chart::throughput(&report);
        write(out, "local-throughput.svg", &svg)?;
        publish(out, "local", "Local throughput", &report)?;
    }
    if parts.contains(&Part::Lambda) {
        let profile = pick(quick, lambda::Profile::FULL, lambda::Profile::QUICK);
        let report = lambda::run(&args.lambda, profile).await?;
        write(out, "lambda-cold-start.svg", &chart::cold_start(&report))?;
        publish(out, "lambda", "Lambda", &report)?;
    }
    if parts.contains(&Part::Dynamodb) {
        let profile = pick(quick, dynamodb::Profile::FULL, dynamodb::Profile::QUICK);
        let report = dynamodb::run(&args.lambda, profile).await?;
        publish(out, "dynamodb", "DynamoDB per API call", &report)?;
        let cost = cost::per_million(&report);
        publish(out, "cost", "Cost per million calls", &cost)?;
    }
    if parts.contains(&Part::FunctionUrl) {
        let profile = pick(
            quick,
            function_url::Profile::FULL,
            function_url::Profile::QUICK,
        );
        let report = function_url::run(&args.lambda, profile).await?;
        publish(out, "function-url", "Verifying in the function", &report)?;
    }
    if parts.contains(&Part::Shards) {
        let profile = pick(quick, shards::Profile::FULL, shards::Profile::QUICK);
        let report = shards::run(&args.lambda, profile).await?;
        publish(out, "shards", "Status shards", &report)?;
    }
    if parts.contains(&Part::Lists) {
        let report = lists::run(pick(quick, lists::FULL, store_pages::QUICK)).await?;
        publish(out, "lists", "Status-filtered lists on SQLite", &report)?;
    }
    if parts.contains(&Part::Planning) {
        let profile = pick(quick, planning::FULL, store_pages::QUICK);
        let report = planning::run(profile).await?;
        publish(
            out,
            "planning",
            "Upcoming and due-date order on SQLite",
            &report,
        )?;
    }
    if parts.contains(&Part::Signup) {
        let profile = pick(quick, signup::Profile::FULL, signup::Profile::QUICK);
        let report = signup::run(&args.taskapi, profile).await?;
        publish(out, "signup", "Sign-up burst", &report)?;
    }
    if parts.contains(&Part::Transfer) {
        let profile = pick(quick, transfer::Profile::FULL, transfer::Profile::QUICK);
        let report = transfer::run(&args.taskapi, profile).await?;
        publish(out, "transfer", "Moving data", &report)?;
    }
    if parts.contains(&Part::Webhooks) {
        let profile = pick(quick, webhooks::Profile::FULL, webhooks::Profile::QUICK);
        let report = webhooks::run(&args.taskapi, profile).await?;
        publish(out, "webhooks", "Webhooks", &report)?;
    }
    if parts.contains(&Part::Live) {
        let profile = pick(quick, live::Profile::FULL, live::Profile::QUICK);
        let report = live::run(&args.taskapi, profile).await?;
        publish(out, "live", "Live updates", &report)?;
    }
    if parts.contains(&Part::Peers) {
        let report = peers::run(
            &args.taskapi,
            pick(quick, peers::Profile::FULL, peers::Profile::QUICK),
        )
        .await?;
        write(out, "peers-tasks.svg", &chart::peers(&report))?;
        write(out, "peers-pools.svg", &chart::pools(&report))?;
        publish(out, "peers", "Beside the peers", &report)?;
    }
    Ok(())
}

/// The short profile for `--quick`, else the full one.
fn pick<P>(quick: bool, full: P, short: P) -> P {
    if quick { short } else { full }
}

/// A part's report: kept as JSON, shown as Markdown.
trait Markdown: Serialize {
    fn markdown(&self) -> String;
}

/// Writes a part's report as `<name>.json` and prints its Markdown under `title`.
fn publish(out: &Path, name: &str, title: &str, report: &impl Markdown) -> anyhow::Result<()> {
    write(
        out,
        &format!("{name}.json"),
        &serde_json::to_string_pretty(report)?,
    )?;
    println!("## {title}\n\n{}", report.markdown());
    Ok(())
}

fn write(out: &Path, name: &str, contents: &str) -> anyhow::Result<()> {
    let path = out.join(name);
    std::fs::write(&path, contents).with_context(|| format!("write {}", path.display()))
}
