#!/usr/bin/env bash
# Builds the libFuzzer targets with clang-14 into build-fuzz/ and runs each
# for a share of the time budget. Usage:
#   scripts/fuzz.sh [SECONDS]   total fuzzing time, split across targets (default 30)
#   scripts/fuzz.sh --seeds     regenerate the checked-in seed corpora in fuzz/corpus/
# Env: FUZZ_DIR (default build-fuzz), JOBS (default 2).
# New interesting inputs go to build-fuzz/corpus/<target>/ (not checked in);
# crashes are written to build-fuzz/artifacts/ and fail the script.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
FUZZ_DIR="${FUZZ_DIR:-$ROOT/build-fuzz}"
JOBS="${JOBS:-2}"
TARGETS=(fuzz_request fuzz_record_batch fuzz_sasl fuzz_http fuzz_consumer_subscription fuzz_fhir fuzz_hl7 fuzz_prometheus fuzz_registry_rest fuzz_txn_state fuzz_schema_decoders)

if [[ ! -f "$FUZZ_DIR/build.ninja" ]]; then
  CC=clang-14 CXX=clang++-14 cmake -S "$ROOT" -B "$FUZZ_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCARELOG_FUZZ=ON -DCARELOG_TESTS=OFF >/dev/null
fi

if [[ "${1:-}" == "--seeds" ]]; then
  ninja -C "$FUZZ_DIR" -j"$JOBS" fuzz_make_seeds >/dev/null
  rm -rf "$ROOT/fuzz/corpus/fuzz_request" "$ROOT/fuzz/corpus/fuzz_record_batch"
  "$FUZZ_DIR/bin/fuzz_make_seeds" "$ROOT/fuzz/corpus"
  echo "fuzz: seeds written to fuzz/corpus/"
  exit 0
fi

TOTAL="${1:-30}"
PER=$(( TOTAL / ${#TARGETS[@]} ))
(( PER >= 1 )) || PER=1
ninja -C "$FUZZ_DIR" -j"$JOBS" "${TARGETS[@]}" >/dev/null

status=0
mkdir -p "$FUZZ_DIR/artifacts"
for t in "${TARGETS[@]}"; do
  work="$FUZZ_DIR/corpus/$t"
  mkdir -p "$work"
  log="$FUZZ_DIR/$t.log"
  echo "fuzz: $t for ${PER}s (log $log)"
  # The first corpus dir collects new inputs; the checked-in seeds are read-only.
  if "$FUZZ_DIR/bin/$t" "$work" "$ROOT/fuzz/corpus/$t" -max_total_time="$PER" -rss_limit_mb=2048 \
      -timeout=10 -print_final_stats=1 -artifact_prefix="$FUZZ_DIR/artifacts/$t-" >"$log" 2>&1; then
    grep -E "^stat::number_of_executed_units|^stat::new_units_added" "$log" | tr '\n' ' '; echo
  else
    echo "fuzz: $t FAILED" >&2
    tail -40 "$log" >&2
    status=1
  fi
done
[[ $status == 0 ]] && echo "fuzz: OK" || echo "fuzz: FAILED" >&2
exit $status
