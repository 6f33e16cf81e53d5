#!/usr/bin/env bash
# Installs the tools the tests run as real peers into this checkout only: Python tools into
# .venv (from tests/requirements.txt), Node tools into node_modules (from package-lock.json).
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

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.installed ]; then
  echo "installing Node test tools into node_modules"
  npm ci --no-audit --no-fund --loglevel=error
  touch node_modules/.installed
fi
