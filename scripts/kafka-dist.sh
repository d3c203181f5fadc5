#!/usr/bin/env bash
# Fetches a reference Apache Kafka (broker, KRaft controller and CLI tools) from
# Maven Central into .cache/kafka/libs. It is the behavioural reference for the
# system tests (CARELOG_TEST_TARGET=kafka) and for differential tests.
# Idempotent: does nothing when the jars for the pinned pom are already there.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
POM="$ROOT/scripts/kafka-dist/pom.xml"
DEST="$ROOT/.cache/kafka"
MARKER="$DEST/.pom.sha256"

want="$(sha256sum "$POM" | cut -d' ' -f1)"
if [[ -f "$MARKER" && "$(cat "$MARKER")" == "$want" ]] && compgen -G "$DEST/libs/kafka_2.13-*.jar" >/dev/null; then
  exit 0
fi

echo "kafka-dist: resolving reference Kafka into $DEST/libs"
rm -rf "$DEST/libs"
mkdir -p "$DEST/libs"
log="$DEST/mvn.log"
if ! mvn -q -B -f "$POM" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$DEST/libs" >"$log" 2>&1; then
  cat "$log" >&2
  echo "kafka-dist: maven failed" >&2
  exit 1
fi
echo "$want" >"$MARKER"
echo "kafka-dist: $(ls "$DEST/libs" | wc -l) jars"
