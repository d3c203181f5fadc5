"""Kafka Streams with processing.guarantee=exactly_once_v2 (kafka-streams
4.4, dev.carelog.streams.CountApp in tests/java) counting records per key
while the broker is killed with kill -9 twice and the Streams app once.

Exactly once is checked on the output, read with read_committed: with the
record cache off every input record produces one count update, so each
key's committed updates must be exactly 1, 2, ..., n (a duplicate or a
gap is a record processed twice or lost) and n the number of input records
of that key. The changelog the counts are restored from is compacted and
transactional.

The fast suite counts 24,000 records; the issue's full run (1M records) is
`CARELOG_EOS_RECORDS=1000000 CARELOGD=build/bin/carelogd tests/system/run.sh test_streams_eos.py`
(docs/transactions.md has its figures)."""

import os
import signal
import struct
import time

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition

from brokers import log_tail
from kafka_util import admin_for, create_topic, unique
from test_connect import connect_classpath
from test_streams import App

PARTITIONS = 3
KEYS = [f"claim-{i}" for i in range(40)]
CHUNK = int(os.environ.get("CARELOG_EOS_RECORDS", "24000")) // 4
OVERRIDES = {"upload.interval.ms": "200", "log.cleaner.backoff.ms": "500", "object.delete.delay.ms": "0",
             "transaction.abort.timed.out.transaction.cleanup.interval.ms": "1000"}


class EosApp(App):
    def __init__(self, workdir, broker, app_id, src, dst, classpath):
        super().__init__(workdir, broker, app_id, src, dst, classpath)
        self.cmd.append("exactly_once_v2")

    def kill(self):
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)


def produce_chunk(broker, topic, start, count):
    p = Producer({"bootstrap.servers": broker.bootstrap, "enable.idempotence": True, "linger.ms": 5})
    for i in range(start, start + count):
        p.produce(topic, key=KEYS[i % len(KEYS)], value=f"record-{i}")
        if i % 1000 == 0:
            p.poll(0)
    assert p.flush(60) == 0


def committed_updates(broker, topic):
    """{key: [counts in offset order]} of every partition, read_committed,
    up to the last stable offset."""
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": unique("eos-read"),
                  "isolation.level": "read_committed", "enable.auto.commit": False,
                  "enable.partition.eof": True})
    try:
        ends = {}
        for p in range(PARTITIONS):
            _, high = c.get_watermark_offsets(TopicPartition(topic, p), timeout=10, cached=False)
            if high > 0:
                ends[p] = high
        out = {}
        if not ends:
            return out
        c.assign([TopicPartition(topic, p, 0) for p in ends])
        done, deadline = set(), time.time() + 60
        while len(done) < len(ends) and time.time() < deadline:
            m = c.poll(0.5)
            if m is None:
                continue
            if m.error():
                if m.error().code() == KafkaError._PARTITION_EOF:
                    done.add(m.partition())
                continue
            out.setdefault(m.key().decode(), []).append(struct.unpack(">q", m.value())[0])
        assert len(done) == len(ends), f"output not read to its end: {done} of {sorted(ends)}"
        return out
    finally:
        c.close()


def total_updates(broker, topic):
    return sum(len(v) for v in committed_updates(broker, topic).values())


def wait_progress(broker, topic, app, at_least, timeout=120):
    """Waits until `at_least` count updates are committed."""
    deadline = time.time() + timeout
    got = 0
    while time.time() < deadline:
        assert app.proc.poll() is None, f"streams app exited:\n{log_tail(app.log, 60)}"
        got = total_updates(broker, topic)
        if got >= at_least:
            return got
        time.sleep(0.3)
    raise AssertionError(f"{got} of {at_least} updates committed\n{log_tail(app.log, 60)}")


def test_streams_exactly_once_v2_survives_broker_and_app_kills(broker_factory, tmp_path):
    b = broker_factory(OVERRIDES)
    classpath = connect_classpath()
    admin = admin_for(b)
    src = create_topic(admin, unique("eos-in"), partitions=PARTITIONS)
    dst = create_topic(admin, unique("eos-out"), partitions=PARTITIONS)
    app = EosApp(tmp_path, b, unique("eos-counter"), src, dst, classpath).start()
    produced = 0
    try:
        # Each chunk is killed into while the app is working through it:
        # broker kill -9, app kill -9, broker kill -9.
        for crash in ("broker", "app", "broker", None):
            produce_chunk(b, src, produced, CHUNK)
            produced += CHUNK
            wait_progress(b, dst, app, produced - CHUNK + CHUNK // 3)
            if crash == "broker":
                b.kill()
                time.sleep(1)
                b.start()
            elif crash == "app":
                app.kill()
                app.start()
        want = {k: sum(1 for i in range(produced) if KEYS[i % len(KEYS)] == k) for k in KEYS}
        deadline = time.time() + 180
        got = {}
        while time.time() < deadline:
            assert app.proc.poll() is None, f"streams app exited:\n{log_tail(app.log, 60)}"
            got = committed_updates(b, dst)
            if {k: (v[-1] if v else 0) for k, v in got.items()} == want:
                break
            time.sleep(1)
        for k in KEYS:
            seq = got.get(k, [])
            assert seq == list(range(1, want[k] + 1)), (
                f"{k}: {len(seq)} committed updates for {want[k]} records; first difference at "
                f"{next((i for i, (a, e) in enumerate(zip(seq, range(1, want[k] + 1))) if a != e), min(len(seq), want[k]))}"
                f"\n{log_tail(app.log, 40)}")
    finally:
        app.stop()
