//! Moving data: `taskapi import` and `export` of N task items, into and out of SQLite and
//! a DynamoDB-compatible table (dynalite), as a user runs them (the binary, a file of
//! DynamoDB JSON lines). Measured: items per second, and the command's peak resident
//! memory at two file sizes, which stays flat if the file is streamed rather than loaded.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use serde::Serialize;
use taskapi_testkit::emulator::Emulator;

use crate::local::peak_rss_mb;
use crate::table::Table;

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Profile {
    /// The two file sizes, in items: the larger is the headline figure.
    pub sizes: [usize; 2],
}

impl Profile {
    pub const FULL: Profile = Profile {
        sizes: [20_000, 100_000],
    };
    pub const QUICK: Profile = Profile {
        sizes: [2_000, 10_000],
    };
}

#[derive(Debug, Serialize)]
pub struct Run {
    pub store: &'static str,
    pub direction: &'static str,
    pub items: usize,
    pub file_mb: f64,
    pub seconds: f64,
    pub items_per_second: f64,
    pub peak_rss_mb: f64,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub profile: Profile,
    pub binary: String,
    pub runs: Vec<Run>,
}

/// Users the tasks are spread over.
const USERS: usize = 100;
const TABLE: &str = "TaskAppTransfer";

pub async fn run(taskapi: &Path, profile: Profile) -> anyhow::Result<Report> {
    let dir = tempfile::tempdir()?;
    let dynalite = Emulator::dynalite();
    let mut runs = Vec::new();
    for items in profile.sizes {
        let file = dir.path().join(format!("tasks-{items}.jsonl"));
        write_tasks(&file, items)?;
        let data = dir.path().join(format!("data-{items}"));
        let sqlite = ["--data-dir".to_owned(), data.display().to_string()];
        let table = format!("{TABLE}{items}");
        let dynamodb = [
            "--store".to_owned(),
            "dynamodb".to_owned(),
            "--table-name".to_owned(),
            table.clone(),
        ];
        let create = command(
            taskapi,
            &dynalite,
            &["table", "create", "--table-name", &table],
        );
        measure(create, "create")?;
        for (store, flags) in [("SQLite", &sqlite[..]), ("dynalite", &dynamodb[..])] {
            let mut import = command(taskapi, &dynalite, &["import", "--quiet"]);
            import.args(flags.iter()).arg("--in").arg(&file);
            runs.push(timed(store, "import", items, &file, import)?);
            let out = dir.path().join(format!("out-{store}-{items}.jsonl"));
            let mut export = command(taskapi, &dynalite, &["export", "--quiet"]);
            export.args(flags.iter()).arg("--out").arg(&out);
            runs.push(timed(store, "export", items, &out, export)?);
            let lines = std::fs::read_to_string(&out)?.lines().count();
            ensure!(lines == items, "{store}: exported {lines} of {items} items");
        }
    }
    Ok(Report {
        profile,
        binary: taskapi.display().to_string(),
        runs,
    })
}

fn command(taskapi: &Path, dynalite: &Emulator, args: &[&str]) -> Command {
    let mut command = Command::new(taskapi);
    command
        .args(args)
        .env("AWS_ENDPOINT_URL_DYNAMODB", dynalite.endpoint_url())
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "bench")
        .env("AWS_SECRET_ACCESS_KEY", "bench")
        .env("RUST_LOG", "warn");
    command
}

fn timed(
    store: &'static str,
    direction: &'static str,
    items: usize,
    file: &Path,
    command: Command,
) -> anyhow::Result<Run> {
    let started = Instant::now();
    let peak_rss_mb = measure(command, direction)?;
    let seconds = started.elapsed().as_secs_f64();
    Ok(Run {
        store,
        direction,
        items,
        file_mb: std::fs::metadata(file)?.len() as f64 / 1e6,
        seconds,
        items_per_second: items as f64 / seconds,
        peak_rss_mb,
    })
}

/// Runs `command` to completion, sampling its peak resident memory (VmHWM) until it exits.
fn measure(mut command: Command, what: &str) -> anyhow::Result<f64> {
    // Its summary is not the report's; a failure's message is shown with the failure.
    let mut child = command
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .with_context(|| format!("start {what}"))?;
    let mut peak: f64 = 0.0;
    loop {
        if let Ok(rss) = peak_rss_mb(child.id()) {
            peak = peak.max(rss);
        }
        if let Some(status) = child.try_wait()? {
            let mut stderr = String::new();
            if let Some(mut pipe) = child.stderr.take() {
                std::io::Read::read_to_string(&mut pipe, &mut stderr)?;
            }
            ensure!(status.success(), "{what} failed: {status}: {stderr}");
            return Ok(peak);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `items` personal tasks, as taskapi's export writes them.
fn write_tasks(path: &Path, items: usize) -> anyhow::Result<()> {
    let mut text = String::with_capacity(items * 400);
    for n in 0..items {
        let id = format!("01a24d1c-0000-7000-8000-{n:012}");
        let at = format!("2026-01-01T00:00:00.{:06}Z", n % 1_000_000);
        let user = n % USERS;
        writeln!(
            text,
            r#"{{"Item":{{"GSI1PK":{{"S":"STATUS#pending"}},"GSI1SK":{{"S":"{at}"}},"PK":{{"S":"USER#user-{user}"}},"SK":{{"S":"TASK#{id}"}},"created_at":{{"S":"{at}"}},"description":{{"S":"a task moved between stores, with a description of ordinary length"}},"status":{{"S":"pending"}},"task_id":{{"S":"{id}"}},"title":{{"S":"task {n}"}},"updated_at":{{"S":"{at}"}}}}}}"#
        )?;
    }
    std::fs::write(path, text)?;
    Ok(())
}

impl crate::Markdown for Report {
    fn markdown(&self) -> String {
        let table = Table::of(&self.runs)
            .text("store", |r| r.store)
            .text("command", |r| r.direction)
            .number("items", |r| r.items)
            .fixed("file MB", 1, |r| r.file_mb)
            .fixed("seconds", 2, |r| r.seconds)
            .fixed("items/s", 0, |r| r.items_per_second)
            .fixed("peak RSS MB", 1, |r| r.peak_rss_mb);
        format!("Binary: `{}`\n\n{}", self.binary, table.render())
    }
}
