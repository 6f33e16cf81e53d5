//! Interrupted runs: an export of a DynamoDB table killed halfway goes on from its
//! checkpoint when run again, and a killed import run again finishes the job; either way
//! the result holds every item exactly once.

use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

use taskapi_testkit::emulator::Emulator;

use crate::helpers::{run_ok, sorted_lines, task_line, taskapi};

const TABLE: &str = "TaskAppResumed";
const ITEMS: usize = 6000;

/// `ITEMS` tasks of a few users, one line each.
fn write_tasks(path: &Path) -> Vec<String> {
    let mut lines: Vec<String> = (0..ITEMS)
        .map(|n| {
            task_line(
                &format!("user-{}", n % 7),
                &format!("01a24d1c-0000-7000-8000-{n:012}"),
                &format!("task {n}"),
            )
        })
        .collect();
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
    lines.sort();
    lines
}

/// Kills `child` once `ready` holds, asserting it was still at work then.
fn kill_when(mut child: Child, ready: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !ready() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "it finished before it could be interrupted"
        );
        assert!(
            Instant::now() < deadline,
            "never got ready to be interrupted"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(
        child.try_wait().unwrap().is_none(),
        "still running when killed"
    );
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn interrupted_exports_and_imports_finish_when_run_again() {
    let dynalite = Emulator::dynalite();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("tasks.jsonl");
    let lines = write_tasks(&input);
    run_ok(taskapi(Some(&dynalite), TABLE).args(["table", "create"]));
    let import = || {
        let mut command = taskapi(Some(&dynalite), TABLE);
        command
            .args(["import", "--quiet", "--store", "dynamodb", "--in"])
            .arg(&input);
        command
    };

    // A killed import, run again: what went in stays, the rest goes in.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let client = dynalite.client();
    let items_in_table = || {
        let counted = runtime.block_on(
            client
                .scan()
                .table_name(TABLE)
                .select(aws_sdk_dynamodb::types::Select::Count)
                .send(),
        );
        counted.unwrap().count
    };
    let first = import().spawn().unwrap();
    kill_when(first, || items_in_table() >= 500);
    let summary = run_ok(&mut import());
    let count = |label: &str| -> usize {
        let at = summary
            .find(label)
            .unwrap_or_else(|| panic!("{label} in {summary}"));
        let number = summary[..at].trim_end().rsplit(' ').next().unwrap();
        number.parse().unwrap()
    };
    let (written, unchanged) = (count(" written"), count(" unchanged"));
    assert!(unchanged > 0 && written > 0, "{summary}");
    assert_eq!(written + unchanged, ITEMS, "{summary}");

    // A killed export, run again: it resumes at its checkpoint (gzip members appended).
    let out = dir.path().join("table.jsonl.gz");
    let checkpoint = dir.path().join("table.jsonl.gz.checkpoint");
    let export = || {
        let mut command = taskapi(Some(&dynalite), TABLE);
        command
            .args([
                "export",
                "--quiet",
                "--store",
                "dynamodb",
                "--segments",
                "1",
                "--out",
            ])
            .arg(&out);
        command
    };
    let first = export()
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    kill_when(first, || checkpoint.exists());
    assert!(
        !out.exists(),
        "an interrupted export leaves no file that looks whole"
    );
    let resumed = export().output().unwrap();
    let said = String::from_utf8_lossy(&resumed.stderr);
    assert!(resumed.status.success(), "{said}");
    assert!(said.contains("resuming the export"), "{said}");
    assert!(!checkpoint.exists());
    assert_eq!(sorted_lines(&out), lines, "every item exactly once");
}
