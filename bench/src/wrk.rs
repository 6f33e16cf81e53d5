//! Load from a second process: wrk, driven by a generated Lua script, and its report parsed.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, bail};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Load {
    pub requests_per_sec: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub requests: u64,
    /// Non-2xx/3xx answers plus socket errors; any is a failed benchmark.
    pub errors: u64,
}

pub fn run(base: &str, script: &Path, connections: u32, seconds: u32) -> anyhow::Result<Load> {
    let output = Command::new("wrk")
        .args(["-t2", &format!("-c{connections}"), &format!("-d{seconds}s")])
        .args(["--latency", "--timeout", "5s", "-s"])
        .arg(script)
        .arg(base)
        .output()
        .context("cannot run wrk (bench/run.sh installs it)")?;
    let report = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!(
            "wrk failed: {report}{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    parse(&report).with_context(|| format!("unexpected wrk report:\n{report}"))
}

fn parse(report: &str) -> Option<Load> {
    let mut load = Load {
        requests_per_sec: 0.0,
        p50_ms: 0.0,
        p99_ms: 0.0,
        requests: 0,
        errors: 0,
    };
    for line in report.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["Requests/sec:", rate] => load.requests_per_sec = rate.parse().ok()?,
            ["50%", latency] => load.p50_ms = millis(latency)?,
            ["99%", latency] => load.p99_ms = millis(latency)?,
            [count, "requests", "in", ..] => load.requests = count.parse().ok()?,
            ["Non-2xx", "or", "3xx", "responses:", count] => {
                load.errors += count.parse::<u64>().ok()?
            }
            ["Socket", "errors:", rest @ ..] => {
                load.errors += rest
                    .iter()
                    .filter_map(|word| word.trim_end_matches(',').parse::<u64>().ok())
                    .sum::<u64>();
            }
            _ => {}
        }
    }
    (load.requests > 0).then_some(load)
}

fn millis(latency: &str) -> Option<f64> {
    let split = latency.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = latency.split_at(split);
    let number: f64 = number.parse().ok()?;
    Some(match unit {
        "us" => number / 1000.0,
        "ms" => number,
        "s" => number * 1000.0,
        "m" => number * 60_000.0,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_wrk_report() {
        let report = "Running 10s test @ http://127.0.0.1:3000
  2 threads and 64 connections
  Latency Distribution
     50%  415.00us
     75%    1.20ms
     90%    2.00ms
     99%    4.41ms
  1072493 requests in 10.00s, 130.92MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec: 107249.30
Transfer/sec:     13.09MB";
        let load = parse(report).unwrap();
        assert_eq!(load.requests, 1_072_493);
        assert!((load.requests_per_sec - 107_249.3).abs() < 1e-6);
        assert!((load.p50_ms - 0.415).abs() < 1e-9);
        assert!((load.p99_ms - 4.41).abs() < 1e-9);
        assert_eq!(load.errors, 7);
    }
}
