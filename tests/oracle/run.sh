#!/usr/bin/env bash
# Cross-checks Carelog's generated protocol codec against franz-go's kmsg.
#
#   tests/oracle/run.sh [build-dir] [seed] [vectors-per-version]
#
# 1. Reads the supported (api key, version range) list from the .spec files.
# 2. Builds and runs the Go generator: random messages encoded by kmsg.
# 3. Builds and runs protocol_oracle_check, which decodes every vector with
#    the generated C++ code, re-encodes it and requires identical bytes.
# Exits non-zero if any vector fails.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="$(realpath -m "${1:-$root/build}")"
seed="${2:-1}"
per_version="${3:-20}"

versions=$(sed -n 's/^api [A-Za-z0-9]* key=\([0-9]*\) versions=\([0-9]*-[0-9]*\).*/\1:\2/p' \
  "$root"/src/protocol/specs/*.spec | paste -sd, -)
if [[ -z "$versions" ]]; then
  echo "run.sh: no api lines found in src/protocol/specs/*.spec" >&2
  exit 2
fi

work="$build/oracle"
mkdir -p "$work"
(cd "$here" && go build -o "$work/oracle" .)
"$work/oracle" -out "$work/vectors.bin" -seed "$seed" -n "$per_version" -versions "$versions"

if [[ ! -f "$build/CMakeCache.txt" ]]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
ninja -C "$build" -j2 protocol_oracle_check >/dev/null
"$build/tests/protocol_oracle_check" "$work/vectors.bin"
