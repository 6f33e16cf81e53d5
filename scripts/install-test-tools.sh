#!/usr/bin/env bash
# Installs the tools the tests run as real peers into this checkout only: Python tools into
# .venv (from tests/requirements.txt), MiniStack (a benchmark peer whose botocore pin clashes
# with boto3's) into a venv of its own, .venv/ministack (from bench/requirements-ministack.txt),
# Node tools into node_modules (from package-lock.json),
# the web app's build tools into web/node_modules (from web/package-lock.json); and Debian's
# chromium, for the browser tests, when it is missing (Playwright never downloads one).
# Re-runs are cheap: each step is skipped while its lock file is older than its marker.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv/bin/python ] || [ tests/requirements.txt -nt .venv/.installed ]; then
  echo "installing Python test tools into .venv"
  python3 -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -r tests/requirements.txt
  touch .venv/.installed
fi

if [ ! -x .venv/ministack/bin/ministack ] || [ bench/requirements-ministack.txt -nt .venv/ministack/.installed ]; then
  echo "installing MiniStack into .venv/ministack"
  python3 -m venv .venv/ministack
  .venv/ministack/bin/python -m pip install --quiet -r bench/requirements-ministack.txt
  touch .venv/ministack/.installed
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.installed ]; then
  echo "installing Node test tools into node_modules"
  npm ci --no-audit --no-fund --loglevel=error
  touch node_modules/.installed
fi

if [ ! -d web/node_modules ] || [ web/package-lock.json -nt web/node_modules/.installed ]; then
  echo "installing the web app's build tools into web/node_modules"
  (cd web && npm ci --no-audit --no-fund --loglevel=error)
  touch web/node_modules/.installed
fi

if [ ! -x /usr/bin/chromium ]; then
  echo "installing Debian's chromium for the browser tests"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
fi
