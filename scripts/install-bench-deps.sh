#!/usr/bin/env bash
# Installs what `make bench` needs beyond the build: fio and iperf3 (the
# machine's physical limits, scripts/deps-bench.txt), and, through the test
# installer, the Python venv and the reference Apache Kafka. Idempotent,
# silent when nothing is missing.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
# shellcheck source=lib/apt.sh
source "$HERE/lib/apt.sh"
apt_install_missing "$HERE/deps-build.txt"
apt_install_missing "$HERE/deps-bench.txt"
if [[ ! -x "$ROOT/.cache/venv/bin/python" ]]; then
  "$HERE/install-test-deps.sh"
else
  "$HERE/kafka-dist.sh"
fi
