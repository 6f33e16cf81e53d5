#!/usr/bin/env bash
# Builds the Lambda packages: target/lambda/<binary>/bootstrap.zip for each of the two
# bootstraps, taskapi-lambda (the API) and taskapi-events (live updates: the WebSocket
# routes and the stream fan-out), exactly as `sam build` builds them: both run `cargo
# lambda build --release`, which takes its size settings from each crate's Cargo.toml
# (cargo-lambda and zig come from tests/requirements.txt into .venv). Fails if a zip is
# over its 4.5 MB budget.
#
# x86_64 by default: the arm64 standard library may not be installable on every machine.
# The template deploys arm64, which `sam build` builds itself (`--arm64`); pass
# `--arm64` here to build that locally. Honours CARGO_TARGET_DIR (cargo-lambda's own
# --target-dir flag is broken in 1.9.2).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export PATH="$root/.venv/bin:$PATH"

command -v cargo-lambda >/dev/null || {
  echo "cargo-lambda is not installed: run scripts/install-test-tools.sh" >&2
  exit 1
}

# The budget: 4.5 MB (decimal, the stricter reading) for each. It was 4 MB until projects
# (issue 21) added 205 KB of routes, store code and transactions to the API's bootstrap
# (BENCHMARKS.md part 2).
budget=4500000
for binary in taskapi-lambda taskapi-events; do
  cargo lambda build --release --bin "$binary" --output-format zip "$@"
  zip="${CARGO_TARGET_DIR:-$root/target}/lambda/$binary/bootstrap.zip"
  [ -s "$zip" ] || { echo "no package at $zip" >&2; exit 1; }
  # The listing is read whole first: `unzip | grep -q` can fail under pipefail when grep
  # exits early and unzip dies of SIGPIPE.
  entries="$(unzip -Z1 "$zip")"
  grep -qx bootstrap <<<"$entries" || { echo "$zip holds no bootstrap" >&2; exit 1; }
  size="$(stat -c %s "$zip")"
  echo "$zip: $size bytes"
  [ "$size" -lt "$budget" ] || { echo "$zip is $size bytes, over the $budget-byte budget" >&2; exit 1; }
done
