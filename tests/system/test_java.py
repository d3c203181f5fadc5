"""Runs the Java kafka-clients suite (tests/java, JUnit via Maven Surefire)
against a broker. Maven runs offline: scripts/install-test-deps.sh has
already resolved every dependency."""

import subprocess

from brokers import ROOT

JAVA_PROJECT = ROOT / "tests" / "java"


def test_java_clients(broker):
    cmd = ["mvn", "-q", "-B", "-o", "-f", str(JAVA_PROJECT / "pom.xml"),
           f"-Dbootstrap.servers={broker.bootstrap}",
           "test"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=900,
                         stdin=subprocess.DEVNULL)
    if out.returncode != 0:
        reports = sorted((JAVA_PROJECT / "target" / "surefire-reports").glob("*.txt"))
        details = "\n".join(r.read_text(errors="replace")[-4000:] for r in reports)
        raise AssertionError(
            f"mvn test failed ({out.returncode})\n--- stdout ---\n{out.stdout[-8000:]}\n"
            f"--- stderr ---\n{out.stderr[-4000:]}\n--- surefire reports ---\n{details}")
