"""Kafka Connect in distributed mode (connect-runtime 4.4 from Maven Central,
tests/java) on the broker: the worker creates its three internal topics
itself, compacted (cleanup.policy=compact, which Connect requires and
checks), and runs a line-file source -> topic -> line-file sink pipeline
(dev.carelog.connect, Connect's FileStream connectors' behaviour). After a
clean stop and a restart the worker resumes from the source offsets it
stored in the compacted offsets topic: the copy is exact, no line twice."""

import functools
import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request

from confluent_kafka.admin import ConfigResource

from brokers import ROOT, free_port, log_tail
from kafka_util import admin_for, unique

JAVA_PROJECT = ROOT / "tests" / "java"
OVERRIDES = {"upload.interval.ms": "200", "log.cleaner.backoff.ms": "500", "object.delete.delay.ms": "0"}


@functools.lru_cache(maxsize=1)
def connect_classpath():
    """Compiles tests/java offline and returns its test classpath (with the
    connectors and the Streams app); once per session."""
    marker = JAVA_PROJECT / "target" / ".compiled-for-system-tests"
    inputs = [JAVA_PROJECT / "pom.xml", *(f for f in (JAVA_PROJECT / "src").rglob("*") if f.is_file())]
    if not marker.exists() or marker.stat().st_mtime < max(f.stat().st_mtime for f in inputs):
        out = subprocess.run(["mvn", "-q", "-B", "-o", "-f", str(JAVA_PROJECT / "pom.xml"), "test-compile"],
                             capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
        assert out.returncode == 0, f"mvn test-compile failed:\n{out.stdout[-4000:]}\n{out.stderr[-4000:]}"
        marker.touch()
    deps = (JAVA_PROJECT / "target" / "test-classpath.txt").read_text().strip()
    assert "connect-runtime" in deps, "connect-runtime missing from tests/java's classpath"
    return f"{JAVA_PROJECT / 'target' / 'test-classes'}:{deps}"


class Worker:
    def __init__(self, workdir, bootstrap, names, classpath):
        self.port = free_port()
        self.props = workdir / "worker.properties"
        self.log = workdir / "connect.log"
        self.props.write_text("".join(f"{k}={v}\n" for k, v in {
            "bootstrap.servers": bootstrap,
            "group.id": names["group"],
            "config.storage.topic": names["configs"],
            "offset.storage.topic": names["offsets"],
            "status.storage.topic": names["status"],
            "config.storage.replication.factor": "1",
            "offset.storage.replication.factor": "1",
            "status.storage.replication.factor": "1",
            "key.converter": "org.apache.kafka.connect.storage.StringConverter",
            "value.converter": "org.apache.kafka.connect.storage.StringConverter",
            "offset.flush.interval.ms": "500",
            "listeners": f"http://127.0.0.1:{self.port}",
            "plugin.discovery": "service_load",
            "scheduled.rebalance.max.delay.ms": "0",
        }.items()))
        self.classpath = classpath
        self.proc = None

    def start(self):
        logf = open(self.log, "ab")
        self.proc = subprocess.Popen(
            ["java", "-Xmx384m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
             "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-cp", self.classpath,
             "org.apache.kafka.connect.cli.ConnectDistributed", str(self.props)],
            stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        logf.close()
        deadline = time.time() + 60
        while time.time() < deadline:
            assert self.proc.poll() is None, f"Connect worker exited:\n{log_tail(self.log, 80)}"
            try:
                self.get("/connectors")
                return self
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.3)
        raise AssertionError(f"Connect worker not serving REST:\n{log_tail(self.log, 80)}")

    def request(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            text = r.read()
            return json.loads(text) if text else None

    def get(self, path):
        return self.request("GET", path)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)


def wait_lines(path, n, worker, timeout=40):
    deadline = time.time() + timeout
    lines = []
    while time.time() < deadline:
        lines = path.read_text().splitlines() if path.exists() else []
        if len(lines) >= n:
            return lines
        time.sleep(0.3)
    status = {}
    try:
        status = {c: worker.get(f"/connectors/{c}/status") for c in worker.get("/connectors")}
    except Exception as e:  # noqa: BLE001 - diagnostics only
        status = {"error": str(e)}
    raise AssertionError(f"sink has {len(lines)} of {n} lines; status {status}\n{log_tail(worker.log, 60)}")


def test_connect_distributed_file_pipeline_resumes_from_stored_offsets(broker_factory, tmp_path):
    b = broker_factory(OVERRIDES)
    classpath = connect_classpath()
    names = {k: unique(f"connect-{k}") for k in ("group", "configs", "offsets", "status")}
    source, sink, topic = tmp_path / "in.txt", tmp_path / "out.txt", unique("connect-data")
    worker = Worker(tmp_path, b.bootstrap, names, classpath).start()
    try:
        worker.request("POST", "/connectors", {"name": "src", "config": {
            "connector.class": "dev.carelog.connect.LineFileSourceConnector", "tasks.max": "1",
            "file": str(source), "topic": topic}})
        worker.request("POST", "/connectors", {"name": "sink", "config": {
            "connector.class": "dev.carelog.connect.LineFileSinkConnector", "tasks.max": "1",
            "file": str(sink), "topics": topic}})
        first = [f"encounter-{i} patient-{i % 37} status=arrived" for i in range(400)]
        source.write_text("".join(line + "\n" for line in first))
        assert wait_lines(sink, len(first), worker) == first

        # Connect created its internal topics compacted.
        admin = admin_for(b)
        for key in ("configs", "offsets", "status"):
            res = ConfigResource(ConfigResource.Type.TOPIC, names[key])
            entries = admin.describe_configs([res])[res].result(timeout=30)
            assert entries["cleanup.policy"].value == "compact", (key, entries["cleanup.policy"].value)

        time.sleep(1.5)  # past offset.flush.interval.ms: the source offset is stored
        worker.stop()
        more = [f"encounter-{i} patient-{i % 37} status=discharged" for i in range(400, 700)]
        with source.open("a") as f:
            f.write("".join(line + "\n" for line in more))
        worker.start()
        lines = wait_lines(sink, len(first) + len(more), worker)
        time.sleep(1)  # duplicates would arrive now
        lines = sink.read_text().splitlines()
        assert lines == first + more, (len(lines), len(set(lines)))
    finally:
        worker.stop()
