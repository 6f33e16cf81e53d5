#!/usr/bin/env bash
# What a deployment runs, in CI: `sam validate --lint` and `sam build` of template.yaml,
# with Architecture=x86_64 (this machine has only the x86_64 standard library; arm64 stays
# the template's default). Then checks what SAM built: each function's `bootstrap` is byte
# for byte the one of its binary in scripts/lambda-package.sh's zips (taskapi-events for
# the functions whose BuildProperties name it, taskapi-lambda for every other), which that
# script holds to the 4.5 MB budget. Extra arguments go to `sam build`.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export PATH="$root/.venv/bin:$PATH" SAM_CLI_TELEMETRY=0

command -v sam >/dev/null || {
  echo "the SAM CLI is not installed: run scripts/install-test-tools.sh" >&2
  exit 1
}

scripts/lambda-package.sh
sam validate --lint
sam build --parameter-overrides Architecture=x86_64 "$@"

target="${CARGO_TARGET_DIR:-$root/target}/lambda"
packaged_dir="$(mktemp -d)"
trap 'rm -rf "$packaged_dir"' EXIT
for binary in taskapi-lambda taskapi-events; do
  unzip -p "$target/$binary/bootstrap.zip" bootstrap >"$packaged_dir/$binary"
done
# The functions built from taskapi-events: the resources whose BuildProperties name it.
events_functions="$(awk '/^  [A-Za-z0-9]+:$/ { name = substr($1, 1, length($1) - 1) }
  /Binary: taskapi-events/ { print name }' template.yaml)"
# sam build builds every function whatever the conditions: the route functions (ApiType
# Rest or Http), ApiFunction (ApiType=FunctionUrl) and the live updates' functions.
expected=$(grep -c 'Type: AWS::Serverless::Function' template.yaml)
functions=0
for bootstrap in .aws-sam/build/*/bootstrap; do
  function="$(basename "$(dirname "$bootstrap")")"
  binary=taskapi-lambda
  grep -qx "$function" <<<"$events_functions" && binary=taskapi-events
  cmp -s "$bootstrap" "$packaged_dir/$binary" || {
    echo "$bootstrap differs from the bootstrap in $target/$binary/bootstrap.zip" >&2
    exit 1
  }
  functions=$((functions + 1))
done
[ "$functions" -eq "$expected" ] || {
  echo "sam build made $functions functions, not $expected" >&2
  exit 1
}
for binary in taskapi-lambda taskapi-events; do
  echo "sam build: $binary is $(stat -c %s "$packaged_dir/$binary") bytes ($(stat -c %s "$target/$binary/bootstrap.zip") zipped)"
done
echo "sam build: $functions functions, each the bootstrap of its binary"
