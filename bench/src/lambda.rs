//! The Lambda function over the Runtime API emulator, on dynalite, against the tutorial's
//! Python/boto3 handler under the same emulator in the same run: cold start (exec to the
//! first response, its DynamoDB GetItem included), warm time per invocation next to the same
//! GetItem made directly with the Rust SDK, and the size of the zipped package.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use serde::Serialize;
use serde_json::Value;
use taskapi_testkit::apigw::{Api, Caller, Request};
use taskapi_testkit::emulator::{Emulator, repo_root};

use crate::function::{Function, Runtime};
use crate::stats::Spread;
use crate::table::Table;

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Profile {
    pub cold_starts: usize,
    pub warm_invocations: usize,
    /// Build the package with `scripts/lambda-package.sh` (minutes) rather than only
    /// report one already built.
    pub build_package: bool,
}

impl Profile {
    pub const FULL: Profile = Profile {
        cold_starts: 10,
        warm_invocations: 2000,
        build_package: true,
    };
    pub const QUICK: Profile = Profile {
        cold_starts: 3,
        warm_invocations: 200,
        build_package: false,
    };
}

#[derive(Debug, Serialize)]
pub struct ColdStart {
    /// What started: the runtime, or how it was configured.
    pub runtime: &'static str,
    /// Exec to the first `invocation/next`: the init phase.
    pub init: Spread,
    /// Exec to the first response posted: init plus the first GetItem.
    pub first_response: Spread,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub profile: Profile,
    pub cold: Vec<ColdStart>,
    /// taskapi-lambda, `GET /tasks/{id}` (one consistent GetItem).
    pub warm_get: Spread,
    /// taskapi-lambda, `GET /healthz` (no DynamoDB call).
    pub warm_healthz: Spread,
    /// The Python handler's warm `GET /tasks/{id}`.
    pub python_warm_get: Spread,
    /// The same GetItem from the Rust SDK in this process, interleaved with the above.
    pub sdk_get_item: Spread,
    /// Median warm `GET /tasks/{id}` minus the median direct GetItem.
    pub warm_overhead_ms: f64,
    /// Python's median first response over taskapi-lambda's.
    pub cold_start_speedup: f64,
    pub package: Option<Package>,
}

#[derive(Debug, Serialize)]
pub struct Package {
    pub path: PathBuf,
    pub zip_bytes: u64,
}

pub async fn run(binary: &Path, profile: Profile) -> anyhow::Result<Report> {
    let package = package(profile.build_package)?;
    let dynalite = Emulator::dynalite();
    let store = dynalite.fresh_store().await;
    let client = dynalite.client();
    let caller = Caller::new(None);
    let task_id = uuid::Uuid::new_v4().to_string();
    put_seed_item(&client, store.table(), &caller.sub, &task_id).await?;
    let get = Request::new("GET", &format!("/tasks/{task_id}"))
        .by(&caller)
        .event(Api::Rest);
    let healthz = Request::new("GET", "/healthz").event(Api::Rest);
    let endpoint = dynalite.endpoint_url();
    let target = Target {
        endpoint: &endpoint,
        table: store.table(),
        env: &[],
    };

    let rust = Runtime::Rust(binary.to_owned());
    let (rust_cold, rust_fn) = cold_starts(&rust, &target, &get, profile.cold_starts).await?;
    let (python_cold, python_fn) =
        cold_starts(&Runtime::Python, &target, &get, profile.cold_starts).await?;

    // Interleaved, so drift on a shared machine hits every series alike.
    let (mut warm_get, mut warm_healthz, mut python_get, mut sdk) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..profile.warm_invocations {
        warm_get.push(rust_fn.call(&get, 200).await?);
        warm_healthz.push(rust_fn.call(&healthz, 200).await?);
        python_get.push(python_fn.call(&get, 200).await?);
        sdk.push(timed_get_item(&client, store.table(), &caller.sub, &task_id).await?);
    }
    let (warm_get, sdk_get_item) = (Spread::of(&warm_get), Spread::of(&sdk));
    Ok(Report {
        profile,
        warm_overhead_ms: warm_get.median_ms - sdk_get_item.median_ms,
        cold_start_speedup: python_cold.first_response.median_ms
            / rust_cold.first_response.median_ms,
        cold: vec![rust_cold, python_cold],
        warm_get,
        warm_healthz: Spread::of(&warm_healthz),
        python_warm_get: Spread::of(&python_get),
        sdk_get_item,
        package,
    })
}

/// Where the functions find DynamoDB, and what else their environment holds.
pub struct Target<'a> {
    pub endpoint: &'a str,
    pub table: &'a str,
    pub env: &'a [(&'a str, String)],
}

/// `runs` cold starts of `runtime` after one unmeasured start (which warms the page cache,
/// as a fleet's hosts are), each a new process on a new emulator; returns their spread and
/// the last function, still running, for the warm measurements.
pub async fn cold_starts(
    runtime: &Runtime,
    target: &Target<'_>,
    event: &Value,
    runs: usize,
) -> anyhow::Result<(ColdStart, Function)> {
    let (mut init, mut first) = (Vec::new(), Vec::new());
    let mut last = None;
    for run in 0..=runs {
        let (function, exec) =
            Function::start_with(runtime, target.endpoint, target.table, target.env).await?;
        function
            .call(event, 200)
            .await
            .with_context(|| format!("{} cold start", runtime.name()))?;
        let answered = exec.elapsed();
        if run > 0 {
            let polled = function.first_poll().context("answered without polling")?;
            init.push(polled.duration_since(exec));
            first.push(answered);
        }
        last = Some(function);
    }
    let cold = ColdStart {
        runtime: runtime.name(),
        init: Spread::of(&init),
        first_response: Spread::of(&first),
    };
    eprintln!(
        "{:<18} cold start {:>7.1} ms (median of {runs})",
        cold.runtime, cold.first_response.median_ms
    );
    Ok((cold, last.context("no cold start ran")?))
}

/// The item exactly as the seed's `create_task` handler writes it.
async fn put_seed_item(
    client: &Client,
    table: &str,
    sub: &str,
    task_id: &str,
) -> anyhow::Result<()> {
    let now = "2026-11-24T12:00:00.000000";
    let s = |v: &str| AttributeValue::S(v.to_owned());
    client
        .put_item()
        .table_name(table)
        .item("PK", s(&format!("USER#{sub}")))
        .item("SK", s(&format!("TASK#{task_id}")))
        .item("GSI1PK", s("STATUS#pending"))
        .item("GSI1SK", s(now))
        .item("task_id", s(task_id))
        .item("title", s("Write the benchmarks"))
        .item("description", s("cold and warm, against the baseline"))
        .item("status", s("pending"))
        .item("created_at", s(now))
        .item("updated_at", s(now))
        .send()
        .await
        .context("seed the task")?;
    Ok(())
}

/// One GetItem as the function makes it (consistent read of one key), timed.
async fn timed_get_item(
    client: &Client,
    table: &str,
    sub: &str,
    task_id: &str,
) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let output = client
        .get_item()
        .table_name(table)
        .key("PK", AttributeValue::S(format!("USER#{sub}")))
        .key("SK", AttributeValue::S(format!("TASK#{task_id}")))
        .consistent_read(true)
        .send()
        .await
        .context("direct GetItem")?;
    let elapsed = started.elapsed();
    ensure!(output.item().is_some(), "the seeded task is missing");
    Ok(elapsed)
}

/// `target/lambda/taskapi-lambda/bootstrap.zip`, built first when asked to.
fn package(build: bool) -> anyhow::Result<Option<Package>> {
    let root = repo_root();
    if build {
        let status = Command::new(root.join("scripts/lambda-package.sh"))
            .status()
            .context("run scripts/lambda-package.sh")?;
        ensure!(
            status.success(),
            "scripts/lambda-package.sh failed: {status}"
        );
    }
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let path = target.join("lambda/taskapi-lambda/bootstrap.zip");
    Ok(std::fs::metadata(&path).ok().map(|meta| Package {
        zip_bytes: meta.len(),
        path,
    }))
}

impl crate::Markdown for Report {
    fn markdown(&self) -> String {
        let mut out = Table::of(&self.cold)
            .text("cold start", |c| c.runtime)
            .fixed("median ms", 1, |c| c.first_response.median_ms)
            .fixed("min", 1, |c| c.first_response.min_ms)
            .fixed("p90", 1, |c| c.first_response.p90_ms)
            .fixed("max", 1, |c| c.first_response.max_ms)
            .fixed("init (exec → first poll), median ms", 1, |c| {
                c.init.median_ms
            })
            .render();
        let _ = writeln!(
            out,
            "\ntaskapi-lambda starts {:.1}× faster than the Python baseline ({} cold starts each, \
             exec to the first response posted, the first GetItem included).\n",
            self.cold_start_speedup, self.profile.cold_starts
        );
        let warm = [
            ("taskapi-lambda `GET /tasks/{id}`", self.warm_get),
            (
                "taskapi-lambda `GET /healthz` (no DynamoDB)",
                self.warm_healthz,
            ),
            ("Python + boto3 `GET /tasks/{id}`", self.python_warm_get),
            ("the same GetItem, Rust SDK directly", self.sdk_get_item),
        ];
        let warm = Table::of(&warm)
            .text("warm, per invocation", |(name, _)| *name)
            .fixed("median ms", 3, |(_, s)| s.median_ms)
            .fixed("p90", 3, |(_, s)| s.p90_ms)
            .fixed("max", 3, |(_, s)| s.max_ms);
        out.push_str(&warm.render());
        let _ = writeln!(
            out,
            "\nWarm overhead beyond the DynamoDB round trip: **{:.3} ms** (median `GET /tasks/{{id}}` \
             minus median direct GetItem; {} interleaved invocations each).",
            self.warm_overhead_ms, self.profile.warm_invocations
        );
        match &self.package {
            Some(package) => {
                let _ = writeln!(
                    out,
                    "\nZipped package: **{:.2} MiB** ({} bytes, `{}`).",
                    package.zip_bytes as f64 / 1_048_576.0,
                    package.zip_bytes,
                    package.path.display()
                );
            }
            None => out.push_str(
                "\nZipped package: not built (scripts/lambda-package.sh; the full run builds it).\n",
            ),
        }
        out
    }
}
