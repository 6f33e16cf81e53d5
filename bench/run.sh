#!/usr/bin/env bash
# Runs the benchmarks and writes bench/results/ (JSON and SVG charts):
#   bench/run.sh           the full run recorded in BENCHMARKS.md
#   bench/run.sh --quick   a short run for CI (about two minutes): reports, asserts nothing;
#                          it leaves out the peers, which `--quick --parts peers` runs alone
#   bench/run.sh --parts peers   taskapi beside PocketBase and the Cognito emulators
# Further arguments go to taskapi-bench, e.g. `--parts lambda,dynamodb` (see --help).
# Installs what it needs: wrk (Debian), and the test tools (dynalite, Python/boto3,
# cargo-lambda; the peers: PocketBase, moto, cognito-local, MiniStack). The full run also builds the Lambda package to report its size.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v wrk >/dev/null; then
  echo "installing wrk"
  apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi
scripts/install-test-tools.sh
export PATH="$PWD/.venv/bin:$PWD/node_modules/.bin:$PATH"

cargo build --release -p taskapi -p taskapi-lambda -p taskapi-bench
target/release/taskapi-bench "$@"
