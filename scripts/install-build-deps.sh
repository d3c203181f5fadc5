#!/usr/bin/env bash
# Installs the Debian packages needed to build Carelog (scripts/deps-build.txt,
# one package per line; engineers append to it). Idempotent, silent when
# nothing is missing.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=lib/apt.sh
source "$HERE/lib/apt.sh"
apt_install_missing "$HERE/deps-build.txt"
# FHIR/HL7 definitions the validators' tables are generated from (npm).
"$HERE/fetch-standards.sh"
