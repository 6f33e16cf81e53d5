#!/usr/bin/env bash
# The test command: installs the real tools the tests drive (AWS CLI, boto3, moto,
# dynalite, cfn-lint, cargo-lambda; into this checkout only), then runs every test.
# Nothing is skipped: a test whose tool is missing fails.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

scripts/install-test-tools.sh
export PATH="$root/.venv/bin:$root/node_modules/.bin:$PATH"

cargo build --workspace --bins
cargo test --workspace
python -m pytest tests/python
