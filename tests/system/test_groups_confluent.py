"""Consumer groups with confluent-kafka (librdkafka): classic rebalance
protocol, assignors, static membership, committed offsets across a kill -9,
and the group admin APIs."""

import subprocess
import sys
import threading
import time

from confluent_kafka import (Consumer, ConsumerGroupState, ConsumerGroupTopicPartitions, KafkaException,
                             Producer, TopicPartition)

from kafka_util import admin_for, create_topic, unique, wait_until


class Member:
    """One consumer polled by its own thread; records its assignment."""

    def __init__(self, broker, group, topic, **conf):
        base = {"bootstrap.servers": broker.bootstrap, "group.id": group,
                "auto.offset.reset": "earliest", "enable.auto.commit": False,
                "session.timeout.ms": 10000, "heartbeat.interval.ms": 500}
        base.update(conf)
        self.consumer = Consumer(base)
        self.assigned = set()
        self.events = []  # ("assign"|"revoke", frozenset)
        self.records = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.cooperative = base.get("partition.assignment.strategy") == "cooperative-sticky"
        self.consumer.subscribe([topic], on_assign=self._on_assign, on_revoke=self._on_revoke)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _on_assign(self, consumer, parts):
        with self.lock:
            got = {p.partition for p in parts}
            self.events.append(("assign", frozenset(got)))
            if self.cooperative:
                self.assigned |= got
            else:
                self.assigned = got

    def _on_revoke(self, consumer, parts):
        with self.lock:
            gone = {p.partition for p in parts}
            self.events.append(("revoke", frozenset(gone)))
            self.assigned -= gone

    def _run(self):
        while not self.stop.is_set():
            msg = self.consumer.poll(0.1)
            if msg is not None and msg.error() is None:
                with self.lock:
                    self.records.append((msg.partition(), msg.offset()))

    def snapshot(self):
        with self.lock:
            return set(self.assigned)

    def close(self):
        self.stop.set()
        self.thread.join(30)
        self.consumer.close()


def balanced(members, partitions):
    """True when the members' assignments are disjoint and cover every partition."""
    sets = [m.snapshot() for m in members]
    union = set().union(*sets)
    return (union == set(range(partitions)) and sum(map(len, sets)) == partitions
            and all(sets))


def test_groups_three_consumers_then_one_leaves(broker):
    admin = admin_for(broker)
    topic = create_topic(admin, unique("grp3"), partitions=12)
    group = unique("g3")
    members = [Member(broker, group, topic) for _ in range(3)]
    try:
        wait_until(lambda: balanced(members, 12), timeout=60, what="3 balanced assignments")
        assert sorted(len(m.snapshot()) for m in members) == [4, 4, 4]

        desc = admin.describe_consumer_groups([group])[group].result(30)
        assert desc.state == ConsumerGroupState.STABLE
        assert len(desc.members) == 3
        described = set()
        for m in desc.members:
            described |= {tp.partition for tp in m.assignment.topic_partitions}
        assert described == set(range(12))

        leaving = members.pop(0)
        started = time.monotonic()
        leaving.close()
        wait_until(lambda: balanced(members, 12), timeout=30, what="takeover after leave")
        # A clean leave rebalances at once, well inside the session timeout.
        assert time.monotonic() - started < 10
    finally:
        for m in members:
            m.close()


CRASHING_MEMBER = """
import sys
from confluent_kafka import Consumer
c = Consumer({"bootstrap.servers": sys.argv[1], "group.id": sys.argv[2], "session.timeout.ms": 6000,
              "heartbeat.interval.ms": 500})
c.subscribe([sys.argv[3]])
while True:
    c.poll(0.1)
"""


def test_groups_crashed_member_expires_after_session_timeout(broker):
    admin = admin_for(broker)
    topic = create_topic(admin, unique("grpexp"), partitions=4)
    group = unique("gexp")
    survivor = Member(broker, group, topic, **{"session.timeout.ms": 6000})
    victim = subprocess.Popen([sys.executable, "-c", CRASHING_MEMBER, broker.bootstrap, group, topic],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: len(survivor.snapshot()) == 2, timeout=60, what="partitions shared with the victim")
        victim.kill()  # no LeaveGroup: only the session timeout can remove it
        victim.wait(10)
        started = time.monotonic()
        wait_until(lambda: survivor.snapshot() == set(range(4)), timeout=40,
                   what="survivor owning every partition after the session timeout")
        assert time.monotonic() - started < 6 + 10
    finally:
        if victim.poll() is None:
            victim.kill()
        survivor.close()


def test_groups_cooperative_sticky_incremental(broker):
    admin = admin_for(broker)
    topic = create_topic(admin, unique("grpcoop"), partitions=12)
    group = unique("gcoop")
    conf = {"partition.assignment.strategy": "cooperative-sticky"}
    first = Member(broker, group, topic, **conf)
    members = [first]
    try:
        wait_until(lambda: first.snapshot() == set(range(12)), timeout=60, what="first owns all")
        members.append(Member(broker, group, topic, **conf))
        wait_until(lambda: balanced(members, 12), timeout=60, what="cooperative rebalance")
        revokes = [ev for kind, ev in first.events if kind == "revoke"]
        # Incremental: the first member gave up only what moved, never all 12.
        assert revokes and all(len(r) < 12 for r in revokes), first.events
        assert len(first.snapshot()) == 6 and len(members[1].snapshot()) == 6
    finally:
        for m in members:
            m.close()


def test_groups_static_member_restart_without_rebalance(broker):
    admin = admin_for(broker)
    topic = create_topic(admin, unique("grpstatic"), partitions=6)
    group = unique("gstatic")
    a = Member(broker, group, topic, **{"group.instance.id": "inst-a"})
    b = Member(broker, group, topic, **{"group.instance.id": "inst-b"})
    members = [a, b]
    try:
        wait_until(lambda: balanced(members, 6), timeout=60, what="static members balanced")
        a_parts = a.snapshot()
        b_events = len(b.events)
        a.close()  # a static member's close does not leave the group
        a2 = Member(broker, group, topic, **{"group.instance.id": "inst-a"})
        members = [a2, b]
        wait_until(lambda: a2.snapshot() == a_parts, timeout=30, what="restarted member's old partitions")
        time.sleep(3)
        assert len(b.events) == b_events, b.events  # b saw no rebalance
        desc = admin.describe_consumer_groups([group])[group].result(30)
        assert sorted(m.group_instance_id for m in desc.members) == ["inst-a", "inst-b"]
    finally:
        for m in members:
            m.close()


def produce(broker, topic, count, partitions):
    p = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 5})
    for i in range(count):
        p.produce(topic, value=f"v{i}".encode(), partition=i % partitions)
    assert p.flush(60) == 0


def consume(consumer, want, timeout=60):
    got = []
    deadline = time.monotonic() + timeout
    while len(got) < want and time.monotonic() < deadline:
        for m in consumer.consume(num_messages=min(100, want - len(got)), timeout=0.5):
            assert m.error() is None, m.error()
            got.append((m.partition(), m.offset()))
    return got


def test_groups_commit_survives_kill9(broker_factory):
    b = broker_factory()
    admin = admin_for(b)
    topic = create_topic(admin, unique("grpkill"), partitions=3)
    group = unique("gkill")
    produce(b, topic, 900, 3)
    conf = {"bootstrap.servers": b.bootstrap, "group.id": group, "auto.offset.reset": "earliest",
            "enable.auto.commit": False}

    c = Consumer(conf)
    c.subscribe([topic])
    first = consume(c, 400)
    assert len(first) == 400
    c.commit(asynchronous=False)
    committed = {tp.partition: tp.offset for tp in
                 c.committed([TopicPartition(topic, p) for p in range(3)], timeout=30)}
    c.close()
    b.restart(hard=True)  # kill -9 right after the commit was acknowledged

    c = Consumer(conf)

    def committed_after_restart():
        # Kafka answers NOT_COORDINATOR / COORDINATOR_LOAD_IN_PROGRESS while it
        # reloads its offsets topic; retry like a client would.
        try:
            return {tp.partition: tp.offset for tp in
                    c.committed([TopicPartition(topic, p) for p in range(3)], timeout=10)}
        except KafkaException:
            return None
    after = wait_until(committed_after_restart, timeout=60, what="committed offsets after restart")
    assert after == committed
    c.subscribe([topic])
    rest = consume(c, 500)
    c.close()
    # Resumed exactly at the committed offsets: nothing skipped, nothing twice.
    assert sorted(first + rest) == sorted((p, o) for p in range(3) for o in range(300))
    for p in range(3):
        start = committed[p] if committed[p] >= 0 else 0  # no commit: auto.offset.reset=earliest
        if start < 300:
            assert min(o for q, o in rest if q == p) == start


def test_groups_offsets_metadata_and_admin(broker):
    admin = admin_for(broker)
    topic = create_topic(admin, unique("grpadm"), partitions=2)
    group = unique("gadm")
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": group, "enable.auto.commit": False})
    tp0 = TopicPartition(topic, 0, 17, metadata="checkpoint-17")
    c.commit(offsets=[tp0, TopicPartition(topic, 1, 5)], asynchronous=False)
    got = {tp.partition: tp for tp in c.committed([TopicPartition(topic, 0), TopicPartition(topic, 1)],
                                                  timeout=30)}
    assert got[0].offset == 17 and got[0].metadata == "checkpoint-17"
    assert got[1].offset == 5
    c.close()

    listed = admin.list_consumer_groups().result(30)
    ids = {g.group_id: g for g in listed.valid}
    assert group in ids and ids[group].state == ConsumerGroupState.EMPTY

    req = [ConsumerGroupTopicPartitions(group, [TopicPartition(topic, 0), TopicPartition(topic, 1)])]
    offs = admin.list_consumer_group_offsets(req)[group].result(30)
    assert {tp.partition: tp.offset for tp in offs.topic_partitions} == {0: 17, 1: 5}

    admin.alter_consumer_group_offsets(
        [ConsumerGroupTopicPartitions(group, [TopicPartition(topic, 1, 3)])])[group].result(30)
    offs = admin.list_consumer_group_offsets(req)[group].result(30)
    assert {tp.partition: tp.offset for tp in offs.topic_partitions} == {0: 17, 1: 3}

    admin.delete_consumer_groups([group])[group].result(30)
    offs = admin.list_consumer_group_offsets(req)[group].result(30)
    assert {tp.partition: tp.offset for tp in offs.topic_partitions} == {0: -1001, 1: -1001}


def test_groups_commit_throughput(broker, report):
    """Group commit: concurrent OffsetCommits share fsyncs, so thousands per
    second are acknowledged (each only once durable)."""
    topic = create_topic(admin_for(broker), unique("grpperf"), partitions=8)
    per_client, clients = 2000, 4
    results = []

    def run(i):
        done, errors = [0], []

        def on_commit(err, parts):
            if err is not None:
                errors.append(err)
            done[0] += 1
        c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": unique(f"gperf{i}"),
                      "enable.auto.commit": False, "on_commit": on_commit})
        for k in range(per_client):
            c.commit(offsets=[TopicPartition(topic, k % 8, k)], asynchronous=True)
            if k % 100 == 0:
                c.poll(0)
        deadline = time.monotonic() + 60
        while done[0] < per_client and time.monotonic() < deadline:
            c.poll(0.05)
        results.append((done[0], errors))
        c.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    elapsed = time.monotonic() - started
    assert all(n == per_client and not errs for n, errs in results), results
    rate = per_client * clients / elapsed
    report(f"offset commits: {per_client * clients} from {clients} clients in {elapsed:.2f}s = {rate:.0f}/s")
    assert rate > 1000
