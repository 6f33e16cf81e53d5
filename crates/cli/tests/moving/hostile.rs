//! Files that must not get in: truncated, malformed and hostile lines (wrong types, huge
//! items, keys outside the layout, attributes the layout has not) are named by their line
//! number, and nothing of them is written; the lines before them are, and
//! `--skip-invalid` goes on past them. Conflicting content is reported and kept.

use std::path::Path;

use crate::helpers::{run_failing, run_ok, sorted_lines, task_line, taskapi};

const TASK_ID: &str = "01a24d1c-0000-7000-8000-000000000001";

/// Line 1 and line 3 of every file: two good tasks around the bad line.
fn good(n: u8) -> String {
    task_line(
        "alice",
        &format!("01a24d1c-0000-7000-8000-00000000010{n}"),
        &format!("good {n}"),
    )
}

fn import(data: &Path, file: &Path, extra: &[&str]) -> std::process::Command {
    let mut command = taskapi(None, "unused");
    command
        .args(["import", "--quiet", "--data-dir"])
        .arg(data)
        .arg("--in")
        .arg(file)
        .args(extra);
    command
}

fn exported(data: &Path) -> Vec<String> {
    let out = data.with_extension("jsonl");
    run_ok(
        taskapi(None, "unused")
            .args(["export", "--quiet", "--data-dir"])
            .arg(data)
            .arg("--out")
            .arg(&out),
    );
    sorted_lines(&out)
}

#[test]
fn bad_lines_are_named_and_nothing_of_them_is_written() {
    let huge = "x".repeat(410 * 1024);
    let member = r#"{"Item":{"PK":{"S":"PROJECT#p1"},"SK":{"S":"MEMBER#mallory"},"joined_at":{"S":"2026-01-01T00:00:00Z"},"project_id":{"S":"p1"},"role":{"S":"owner"},"user_id":{"S":"alice"}}}"#;
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "malformed JSON",
            br#"{"Item":{"PK":{"S":"USER#a"}"#.to_vec(),
            "not JSON",
        ),
        (
            "not an item",
            br#"{"Items":[]}"#.to_vec(),
            "exactly {\"Item\"",
        ),
        ("not UTF-8", vec![0xff, 0xfe, b'{'], "not UTF-8"),
        ("an empty line", Vec::new(), "not JSON"),
        (
            "a key of the wrong type",
            task_line("alice", TASK_ID, "t")
                .replace(r#""PK":{"S":"USER#alice"}"#, r#""PK":{"N":"1"}"#)
                .into_bytes(),
            "PK is missing or not a string",
        ),
        (
            "an attribute of the wrong type",
            task_line("alice", TASK_ID, "t")
                .replace(r#""title":{"S":"t"}"#, r#""title":{"M":{"a":{"S":"b"}}}"#)
                .into_bytes(),
            "attribute title is M",
        ),
        (
            "a huge item",
            task_line("alice", TASK_ID, &huge).into_bytes(),
            "over DynamoDB's 409600",
        ),
        (
            "a line longer than any item",
            format!(
                r#"{{"Item":{{"a":{{"S":"{}"}}}}}}"#,
                "y".repeat(5 * 1024 * 1024)
            )
            .into_bytes(),
            "longer than",
        ),
        (
            "a key outside the layout",
            task_line("alice", TASK_ID, "t")
                .replace("USER#alice", "ADMIN#alice")
                .into_bytes(),
            "outside the table's layout",
        ),
        (
            "an attribute the layout has not",
            task_line("alice", TASK_ID, "t")
                .replace(r#"{"Item":{"#, r#"{"Item":{"is_admin":{"BOOL":true},"#)
                .into_bytes(),
            "attribute is_admin is not part of a personal task item",
        ),
        (
            "a membership whose key names another user",
            member.as_bytes().to_vec(),
            "does not match",
        ),
        (
            "a personal task claiming a project",
            task_line("alice", TASK_ID, "t")
                .replace(r#"{"Item":{"#, r#"{"Item":{"project_id":{"S":"p1"},"#)
                .into_bytes(),
            "a personal task with a project_id",
        ),
        (
            "a value of no DynamoDB type",
            task_line("alice", TASK_ID, "t")
                .replace(r#""status":{"S":"pending"}"#, r#""status":{"X":"pending"}"#)
                .into_bytes(),
            "X is not a DynamoDB type",
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (n, (what, bad, reason)) in cases.into_iter().enumerate() {
        let file = dir.path().join(format!("case-{n}.jsonl"));
        let mut content = good(1).into_bytes();
        content.push(b'\n');
        content.extend(&bad);
        content.push(b'\n');
        content.extend(good(3).as_bytes());
        content.push(b'\n');
        std::fs::write(&file, content).unwrap();

        let stopped = dir.path().join(format!("stopped-{n}"));
        let err = run_failing(&mut import(&stopped, &file, &[]));
        assert!(
            err.contains("line 2: ") && err.contains(reason),
            "{what}: {err}"
        );
        assert_eq!(
            exported(&stopped),
            [good(1)],
            "{what}: only the line before it is in"
        );

        let skipped = dir.path().join(format!("skipped-{n}"));
        let summary = run_ok(&mut import(&skipped, &file, &["--skip-invalid"]));
        assert!(
            summary.contains("3 lines read; 2 written")
                && summary.contains("1 invalid lines skipped"),
            "{what}: {summary}"
        );
        let mut both = vec![good(1), good(3)];
        both.sort();
        assert_eq!(exported(&skipped), both, "{what}: the good lines are in");
    }
}

#[test]
fn a_truncated_file_names_its_last_line() {
    let dir = tempfile::tempdir().unwrap();
    let whole = format!("{}\n{}\n", good(1), good(2));
    let file = dir.path().join("cut.jsonl");
    std::fs::write(&file, &whole[..whole.len() - 20]).unwrap();
    let data = dir.path().join("data");
    let err = run_failing(&mut import(&data, &file, &[]));
    assert!(err.contains("line 2: not JSON"), "{err}");
    assert_eq!(exported(&data), [good(1)]);

    // A gzip file cut short fails as such, too.
    let gz = dir.path().join("cut.jsonl.gz");
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut encoder, whole.as_bytes()).unwrap();
    let compressed = encoder.finish().unwrap();
    std::fs::write(&gz, &compressed[..compressed.len() - 12]).unwrap();
    let err = run_failing(&mut import(&dir.path().join("gz"), &gz, &[]));
    assert!(err.contains("cannot read line"), "{err}");
}

#[test]
fn other_content_under_a_key_is_reported_and_kept_unless_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let first = dir.path().join("first.jsonl");
    std::fs::write(&first, format!("{}\n", task_line("alice", TASK_ID, "mine"))).unwrap();
    run_ok(&mut import(&data, &first, &[]));

    let other = dir.path().join("other.jsonl");
    std::fs::write(
        &other,
        format!("{}\n", task_line("alice", TASK_ID, "theirs")),
    )
    .unwrap();
    let output = import(&data, &other, &[]).output().unwrap();
    assert!(output.status.success());
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    assert!(
        stdout.contains("0 written, 0 unchanged, 1 conflicts kept"),
        "{stdout}"
    );
    assert!(
        stderr.contains("line 1: the store holds other content"),
        "{stderr}"
    );
    assert_eq!(exported(&data), [task_line("alice", TASK_ID, "mine")]);

    let summary = run_ok(&mut import(&data, &other, &["--overwrite"]));
    assert!(summary.contains("1 overwritten"), "{summary}");
    assert_eq!(exported(&data), [task_line("alice", TASK_ID, "theirs")]);
}

#[test]
fn a_user_map_moves_records_to_new_user_ids() {
    let dir = tempfile::tempdir().unwrap();
    let (data, file, map) = (
        dir.path().join("data"),
        dir.path().join("tasks.jsonl"),
        dir.path().join("users.csv"),
    );
    std::fs::write(
        &file,
        format!(
            "{}\n{}\n",
            task_line("alice", TASK_ID, "hers"),
            task_line("bob", &TASK_ID.replace("0001", "0002"), "his")
        ),
    )
    .unwrap();
    std::fs::write(&map, "# old sub,new sub\nalice, alicia\n").unwrap();
    run_ok(&mut import(
        &data,
        &file,
        &["--user-map", map.to_str().unwrap()],
    ));
    let mut expected = vec![
        task_line("alicia", TASK_ID, "hers"),
        task_line("bob", &TASK_ID.replace("0001", "0002"), "his"),
    ];
    expected.sort();
    // The line's other attributes name the old key nowhere else: only PK changed.
    assert_eq!(exported(&data), expected);

    std::fs::write(&map, "alice\n").unwrap();
    let err = run_failing(&mut import(
        &data,
        &file,
        &["--user-map", map.to_str().unwrap()],
    ));
    assert!(
        err.contains("line 1: expected <old sub>,<new sub>"),
        "{err}"
    );
}
