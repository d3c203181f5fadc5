#!/usr/bin/env bash
# Installs everything the test suite needs beyond the build: Debian test
# packages, a Python venv (.cache/venv) with the pinned clients, kafkajs
# (tests/js), the Java test dependencies (tests/java), Go modules
# (tests/oracle) and a reference Apache Kafka (.cache/kafka). Each step keeps a
# hash marker of its inputs so a second run is fast and prints nothing.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
CACHE="$ROOT/.cache"
# shellcheck source=lib/apt.sh
source "$HERE/lib/apt.sh"
mkdir -p "$CACHE"

apt_install_missing "$HERE/deps-test.txt"

# up_to_date MARKER INPUT...: true when MARKER holds the hash of the inputs.
inputs_hash() { cat "$@" | sha256sum | cut -d' ' -f1; }
up_to_date() {
  local marker="$1"; shift
  [[ -f "$marker" && "$(cat "$marker")" == "$(inputs_hash "$@")" ]]
}
# run_logged DESC CMD...: runs quietly, shows the output only on failure.
run_logged() {
  local desc="$1"; shift
  local log; log="$(mktemp)"
  if ! "$@" >"$log" 2>&1; then
    cat "$log" >&2; rm -f "$log"
    echo "install-test-deps: $desc failed" >&2
    return 1
  fi
  rm -f "$log"
}

# Python venv with pinned clients.
VENV="$CACHE/venv"
REQ="$ROOT/tests/system/requirements.txt"
PYVER="$(python3 -c 'import sys; print(sys.version)')"
if ! up_to_date "$VENV/.installed" "$REQ" <(echo "$PYVER") || [[ ! -x "$VENV/bin/python" ]]; then
  echo "install-test-deps: python venv"
  rm -rf "$VENV"
  run_logged "python venv" python3 -m venv "$VENV"
  run_logged "pip install" "$VENV/bin/pip" install -q --disable-pip-version-check -r "$REQ"
  inputs_hash "$REQ" <(echo "$PYVER") >"$VENV/.installed"
fi

# kafkajs, pinned by the committed package-lock.json.
if [[ -f "$ROOT/tests/js/package-lock.json" ]]; then
  JS="$ROOT/tests/js"
  if ! up_to_date "$JS/node_modules/.carelog-installed" "$JS/package-lock.json"; then
    echo "install-test-deps: npm ci (tests/js)"
    run_logged "npm ci" npm --prefix "$JS" ci --no-audit --no-fund --loglevel=error
    inputs_hash "$JS/package-lock.json" >"$JS/node_modules/.carelog-installed"
  fi
fi

# Java test project: compile and resolve the surefire provider so later runs
# can go offline (-o). Selecting no test resolves everything but runs nothing.
if [[ -f "$ROOT/tests/java/pom.xml" ]]; then
  J="$ROOT/tests/java"
  if ! up_to_date "$CACHE/java-deps.installed" "$J/pom.xml"; then
    echo "install-test-deps: maven (tests/java)"
    run_logged "maven resolve" mvn -q -B -f "$J/pom.xml" test \
      -Dtest=NoSuchTestResolveOnly -Dsurefire.failIfNoSpecifiedTests=false
    inputs_hash "$J/pom.xml" >"$CACHE/java-deps.installed"
  fi
fi

# Go modules for the protocol oracle, when present.
if [[ -f "$ROOT/tests/oracle/go.mod" ]]; then
  O="$ROOT/tests/oracle"
  sums=("$O/go.mod"); [[ -f "$O/go.sum" ]] && sums+=("$O/go.sum")
  if ! up_to_date "$CACHE/go-mod.installed" "${sums[@]}"; then
    echo "install-test-deps: go mod download (tests/oracle)"
    run_logged "go mod download" bash -c "cd '$O' && go mod download"
    inputs_hash "${sums[@]}" >"$CACHE/go-mod.installed"
  fi
fi

# Reference Apache Kafka (idempotent on its own).
"$HERE/kafka-dist.sh"
