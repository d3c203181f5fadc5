"""Runs the Java kafka-clients suite (tests/java, JUnit via Maven Surefire)
against a broker. Maven runs offline: scripts/install-test-deps.sh has
already resolved every dependency."""

import subprocess

from brokers import ROOT

JAVA_PROJECT = ROOT / "tests" / "java"


def run_java_test(broker, test_class):
    """Runs one JUnit class of tests/java (e.g. TransactionsTest) against
    `broker`; fails with its surefire report."""
    cmd = ["mvn", "-q", "-B", "-o", "-f", str(JAVA_PROJECT / "pom.xml"),
           f"-Dbootstrap.servers={broker.bootstrap}", f"-Dtest={test_class}",
           "-Dsurefire.failIfNoSpecifiedTests=false", "test"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL)
    if out.returncode != 0:
        report = JAVA_PROJECT / "target" / "surefire-reports" / f"dev.carelog.systest.{test_class}.txt"
        details = report.read_text(errors="replace")[-6000:] if report.exists() else "(no report)"
        raise AssertionError(f"mvn test failed ({out.returncode})\n{out.stdout[-6000:]}\n"
                             f"{out.stderr[-3000:]}\n{details}")


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
