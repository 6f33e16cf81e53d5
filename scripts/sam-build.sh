#!/usr/bin/env bash
# What a deployment runs, in CI: `sam validate --lint` and `sam build` of template.yaml,
# with Architecture=x86_64 (this machine has only the x86_64 standard library; arm64 stays
# the template's default). Then checks what SAM built: one `bootstrap` for all functions,
# byte for byte the one in scripts/lambda-package.sh's zip, which that script holds to the
# 4 MB budget. Extra arguments go to `sam build`.
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

zip="${CARGO_TARGET_DIR:-$root/target}/lambda/taskapi-lambda/bootstrap.zip"
packaged="$(mktemp)"
trap 'rm -f "$packaged"' EXIT
unzip -p "$zip" bootstrap >"$packaged"
# sam build builds every function whatever the conditions: the route functions (ApiType
# Rest or Http) and ApiFunction (ApiType=FunctionUrl), so every function of the template.
expected=$(grep -c 'Type: AWS::Serverless::Function' template.yaml)
functions=0
for bootstrap in .aws-sam/build/*/bootstrap; do
  cmp -s "$bootstrap" "$packaged" || {
    echo "$bootstrap differs from the bootstrap in $zip" >&2
    exit 1
  }
  functions=$((functions + 1))
done
[ "$functions" -eq "$expected" ] || {
  echo "sam build made $functions functions, not $expected" >&2
  exit 1
}
echo "sam build: $functions functions, each the $(stat -c %s "$packaged")-byte bootstrap of $zip ($(stat -c %s "$zip") bytes zipped)"
