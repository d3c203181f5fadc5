"""A stateful Kafka Streams app (kafka-streams 4.4 from Maven Central,
dev.carelog.streams.CountApp in tests/java) on the broker: it counts
records per key in a KTable whose changelog topic Streams creates compacted.
After a clean stop, its local state is deleted; restarted, it restores the
counts from the compacted changelog and keeps counting exactly."""

import os
import shutil
import signal
import struct
import subprocess
import time

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import ConfigResource

from brokers import log_tail
from kafka_util import admin_for, create_topic, unique
from test_connect import connect_classpath

OVERRIDES = {"upload.interval.ms": "200", "log.cleaner.backoff.ms": "500", "object.delete.delay.ms": "0"}


def produce(broker, topic, records):
    p = Producer({"bootstrap.servers": broker.bootstrap, "enable.idempotence": True, "linger.ms": 5})
    for k, v in records:
        p.produce(topic, key=k, value=v, partition=0)
    assert p.flush(60) == 0


def latest_counts(broker, topic):
    """{key: last count} of the output topic (values are big-endian longs)."""
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": unique("cnt"),
                  "enable.auto.commit": False})
    try:
        _, high = c.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
        out = {}
        if high <= 0:
            return out
        c.assign([TopicPartition(topic, 0, 0)])
        deadline = time.time() + 20
        while time.time() < deadline:
            m = c.poll(0.5)
            if m is None or m.error():
                continue
            out[m.key().decode()] = struct.unpack(">q", m.value())[0]
            if m.offset() >= high - 1:
                break
        return out
    finally:
        c.close()


class App:
    def __init__(self, workdir, broker, app_id, src, dst, classpath):
        self.state = workdir / "state"
        self.log = workdir / "streams.log"
        self.cmd = ["java", "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                    "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-cp", classpath,
                    "dev.carelog.streams.CountApp", broker.bootstrap, app_id, src, dst, str(self.state)]
        self.proc = None

    def start(self):
        with open(self.log, "ab") as logf:
            self.proc = subprocess.Popen(self.cmd, stdout=logf, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True)
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(40)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)


def wait_counts(broker, topic, want, app, timeout=45):
    deadline = time.time() + timeout
    got = {}
    while time.time() < deadline:
        assert app.proc.poll() is None, f"streams app exited:\n{log_tail(app.log, 60)}"
        got = latest_counts(broker, topic)
        if got == want:
            return got
        time.sleep(0.5)
    raise AssertionError(f"counts {got} != {want}\n{log_tail(app.log, 40)}")


def test_streams_ktable_restores_from_compacted_changelog(broker_factory, tmp_path):
    b = broker_factory(OVERRIDES)
    classpath = connect_classpath()
    admin = admin_for(b)
    src = create_topic(admin, unique("streams-in"))
    dst = create_topic(admin, unique("streams-out"))
    app_id = unique("counter")
    keys = [f"ward-{i}" for i in range(12)]
    first = [(keys[i % 12], f"admission-{i}") for i in range(300)]
    produce(b, src, first)
    app = App(tmp_path, b, app_id, src, dst, classpath).start()
    try:
        want = {k: sum(1 for kk, _ in first if kk == k) for k in keys}
        wait_counts(b, dst, want, app)
        changelog = f"{app_id}-counts-changelog"
        res = ConfigResource(ConfigResource.Type.TOPIC, changelog)
        entries = admin.describe_configs([res])[res].result(timeout=30)
        assert entries["cleanup.policy"].value == "compact"
        app.stop()
        assert app.proc.returncode in (0, 143), log_tail(app.log, 40)
        shutil.rmtree(app.state)  # local state gone: only the changelog has the counts
        if os.environ.get("CARELOG_TEST_TARGET", "carelog") == "carelog":
            # The restore reads a compacted changelog (the only compacted topic here).
            deadline = time.time() + 20
            while "cleaner: " not in b.log_path.read_text(errors="replace") and time.time() < deadline:
                time.sleep(0.3)
            assert "cleaner: " in b.log_path.read_text(errors="replace"), "changelog never compacted"
        more = [(keys[i % 5], f"admission-{i}") for i in range(300, 400)]
        produce(b, src, more)
        app.start()
        for k, _ in more:
            want[k] += 1
        wait_counts(b, dst, want, app)
    finally:
        app.stop()
