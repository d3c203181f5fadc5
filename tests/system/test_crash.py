"""Crash safety: a real client produces (acks=all, idempotent, several
partitions) while the broker is killed with SIGKILL at random moments,
including during uploads and compaction (small thresholds). After every
restart each acknowledged message is present exactly once, in order, at the
offset it was acknowledged with, and offsets are contiguous from the log
start.

CARELOG_CRASH_ROUNDS (default 20) sets the number of kills; e.g. 200 for a
long run. CARELOG_CRASH_SEED makes a run repeatable.
"""

import os
import random
import threading
import time

from kafka_util import admin_for, create_topic, unique
from storage_util import TrackingProducer, read_partition

PARTITIONS = 4
ROUNDS = int(os.environ.get("CARELOG_CRASH_ROUNDS", "20"))
OVERRIDES = {
    "upload.object.bytes": "32768",
    "upload.interval.ms": "150",
    "compaction.interval.ms": "400",
    "compaction.small.object.bytes": "262144",
    "compaction.target.object.bytes": "1048576",
    "object.delete.delay.ms": "1000",
    "object.orphan.min.age.ms": "5000",
    "wal.segment.bytes": "65536",
}


class Checker:
    """What the consumer must see: per partition, offset -> value for every
    acknowledged message, plus everything verified so far."""

    def __init__(self):
        self.expected = {p: {} for p in range(PARTITIONS)}
        self.verified = {p: [] for p in range(PARTITIONS)}  # (offset, value) prefix already checked

    def add_acks(self, acked):
        for part, off, value in acked:
            prev = self.expected[part].setdefault(off, value)
            assert prev == value, f"offset {part}/{off} acknowledged twice: {prev!r} and {value!r}"

    def verify(self, broker, topic, full):
        for p in range(PARTITIONS):
            start = 0 if full or not self.verified[p] else self.verified[p][-1][0] + 1
            low, high, recs = read_partition(broker, topic, p, start=start)
            assert low == 0, f"partition {p}: log start {low}"
            if full:
                # Everything verified before is still there, unchanged.
                assert recs[:len(self.verified[p])] == self.verified[p], f"partition {p}: earlier data changed"
            else:
                recs = self.verified[p] + recs
            offsets = [o for o, _ in recs]
            assert offsets == list(range(0, high)), f"partition {p}: offsets not contiguous"
            values = [v for _, v in recs]
            assert len(set(values)) == len(values), f"partition {p}: duplicated messages"
            got = dict(recs)
            for off, value in self.expected[p].items():
                assert got.get(off) == value, f"partition {p}: acknowledged {value!r} at {off}, found {got.get(off)!r}"
            # Acknowledged messages keep their produce order: sequence numbers
            # per producer round grow with the offset.
            last_seq = {}
            for off, value in recs:
                rnd, seq = value.split("-")[1:3]
                assert int(seq) > last_seq.get(rnd, -1), f"partition {p}: {value} out of order"
                last_seq[rnd] = int(seq)
            self.verified[p] = recs


def produce_until(prod, topic, rnd, stop, counter):
    seq = 0
    while not stop.is_set():
        for _ in range(50):
            prod.produce(topic, seq % PARTITIONS, f"v-{rnd}-{seq}-" + "x" * 80)
            seq += 1
        prod.poll(0)
        time.sleep(0.002)
    counter.append(seq)


def test_acknowledged_messages_survive_random_kill9(broker_factory, report):
    rng = random.Random(int(os.environ.get("CARELOG_CRASH_SEED", str(time.time_ns()))))
    b = broker_factory(OVERRIDES)
    topic = create_topic(admin_for(b), unique("crash"), partitions=PARTITIONS)
    checker = Checker()
    produced = 0
    started = time.monotonic()
    for rnd in range(ROUNDS):
        prod = TrackingProducer(b)
        stop = threading.Event()
        counter = []
        t = threading.Thread(target=produce_until, args=(prod, topic, rnd, stop, counter))
        t.start()
        time.sleep(rng.uniform(0.1, 1.2))
        b.kill()  # SIGKILL mid-produce (and, often, mid-upload or mid-compaction)
        stop.set()
        t.join()
        produced += counter[0]
        b.start()
        prod.flush(30)  # in-flight messages are retried against the new broker
        checker.add_acks(prod.acked)
        checker.verify(b, topic, full=(rnd % 5 == 4 or rnd == ROUNDS - 1))
    acked = sum(len(v) for v in checker.expected.values())
    stored = sum(len(v) for v in checker.verified.values())
    objects = len(list((b.data_dir / "objects").rglob("*/sso/*")))
    report(f"crash test: {ROUNDS} kill -9 rounds in {time.monotonic() - started:.0f}s, "
           f"{produced} produced, {acked} acknowledged, {stored} stored, {objects} objects")
    assert acked > 0
