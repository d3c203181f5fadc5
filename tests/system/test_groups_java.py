"""Java KafkaConsumer group test (tests/java GroupConsumerTest) on its own,
so `-k groups` runs it; test_java.py runs it too as part of the whole suite."""

import subprocess

from brokers import ROOT

JAVA_PROJECT = ROOT / "tests" / "java"


def test_groups_java_consumer(broker):
    cmd = ["mvn", "-q", "-B", "-o", "-f", str(JAVA_PROJECT / "pom.xml"),
           f"-Dbootstrap.servers={broker.bootstrap}", "-Dtest=GroupConsumerTest",
           "-Dsurefire.failIfNoSpecifiedTests=false", "test"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL)
    if out.returncode != 0:
        report = JAVA_PROJECT / "target" / "surefire-reports" / "dev.carelog.systest.GroupConsumerTest.txt"
        details = report.read_text(errors="replace")[-6000:] if report.exists() else "(no report)"
        raise AssertionError(f"mvn test failed ({out.returncode})\n{out.stdout[-6000:]}\n"
                             f"{out.stderr[-3000:]}\n{details}")
