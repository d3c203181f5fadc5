#!/usr/bin/env bash
# Runs the system tests with the project venv (scripts/install-test-deps.sh
# makes it). Extra arguments go to pytest, e.g. -k kcat, or set
# CARELOG_TEST_TARGET=kafka to run against the reference Apache Kafka.
set -uo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
PY="$ROOT/.cache/venv/bin/python"
if [[ ! -x "$PY" ]]; then
  echo "system tests: no venv at $ROOT/.cache/venv (run scripts/install-test-deps.sh)" >&2
  exit 1
fi
cd "$HERE"
"$PY" -m pytest -q -rfEs --tb=short --durations=15 "$@"
code=$?
echo "system tests (${CARELOG_TEST_TARGET:-carelog}): pytest exit code $code"
exit $code
