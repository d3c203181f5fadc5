"""Cluster mode: three carelogd processes on one metadata store and one bucket.

Registration (live brokers in Metadata and DescribeCluster, a duplicate
node.id and a foreign cluster id refused), partition leadership spread over
the brokers with NOT_LEADER_OR_FOLLOWER elsewhere, and kill -9 failover
during acks=all idempotent produce: every acknowledged message consumed
exactly once and in order, failover time printed (docs/cluster.md).
"""

import subprocess
import threading
import time
import uuid

import pytest
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from brokers import log_tail  # noqa: F401
from cluster_fixture import Cluster
from postgres_fixture import postgres  # noqa: F401  (session fixture)

pytestmark = pytest.mark.skipif(
    __import__("os").environ.get("CARELOG_TEST_TARGET", "carelog") != "carelog",
    reason="cluster mode is Carelog's own (a Kafka cluster is a different set-up)")


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request):
    """The harness mode: every cluster test runs on a shared SQLite file and
    on PostgreSQL (postgres_fixture.py, a fresh database per test)."""
    if request.param == "sqlite":
        return lambda tmp: f"sqlite://{tmp / 'shared-other.db'}", None
    pg = request.getfixturevalue("postgres")
    return lambda tmp: pg.create_database(), pg.create_database()


@pytest.fixture
def cluster(tmp_path, engine):
    other_store, store = engine
    c = Cluster(tmp_path, metadata_store=store).start()
    c.other_store = other_store(tmp_path)
    yield c
    c.stop()


def create_topic(c, name, partitions):
    admin = c.admin()
    futures = admin.create_topics([NewTopic(name, partitions, 1)])
    futures[name].result(timeout=30)
    return c.leaders(name)


def consume_all(bootstrap, topic, expected, timeout=60):
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"check-{uuid.uuid4()}",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe([topic])
    out = []
    deadline = time.monotonic() + timeout
    try:
        while len(out) < expected and time.monotonic() < deadline:
            m = consumer.poll(0.5)
            if m is None or m.error():
                continue
            out.append((m.partition(), m.offset(), m.value()))
        # Anything beyond `expected` would be a duplicate: read a little longer.
        end = time.monotonic() + 2
        while time.monotonic() < end:
            m = consumer.poll(0.2)
            if m is not None and not m.error():
                out.append((m.partition(), m.offset(), m.value()))
    finally:
        consumer.close()
    return out


def test_metadata_and_describe_cluster_list_every_live_broker(cluster):
    md = cluster.admin().list_topics(timeout=10)
    assert sorted(md.brokers) == [1, 2, 3]
    for b in cluster.brokers:
        assert md.brokers[b.overrides["node.id"]].port == b.port
    admin = cluster.admin()
    described = admin.describe_cluster().result(timeout=10)
    assert sorted(n.id for n in described.nodes) == [1, 2, 3]
    assert described.controller.id == 1
    # Ask each broker itself: every one lists all three.
    for b in cluster.brokers:
        seen = AdminClient({"bootstrap.servers": b.bootstrap}).list_topics(timeout=10).brokers
        assert sorted(seen) == [1, 2, 3], (b.bootstrap, seen)
    # /health reports each broker's lease.
    for b in cluster.brokers:
        node = b.overrides["node.id"]
        status, body = cluster.health(node)
        lease = body["checks"]["cluster"]
        assert status == 200 and body["status"] == "ok", body
        assert lease["ok"] is True and lease["node_id"] == node, lease
        assert 0 < lease["lease_remaining_ms"] <= 3000 and lease["live_brokers"] == 3, lease
    # A clean shutdown deregisters at once; the others stop listing it.
    cluster.broker(3).stop_clean()
    cluster.wait_brokers(2, timeout=10)


def test_second_broker_with_live_node_id_refuses_to_start_naming_the_other(cluster, tmp_path):
    dup = cluster.make_broker(2, {"data.dir": str(tmp_path / "dup-data")})
    dup.workdir = tmp_path / "dup"
    dup.workdir.mkdir()
    result = subprocess.run(dup.command(), capture_output=True, text=True, timeout=30, cwd=dup.workdir)
    assert result.returncode != 0
    other = cluster.broker(2)
    assert "node.id 2 is already registered by a live broker" in result.stderr, result.stderr
    assert f"127.0.0.1:{other.port}" in result.stderr, result.stderr


def test_broker_whose_cluster_id_differs_from_the_store_refuses_to_start(cluster, tmp_path):
    b1 = cluster.broker(1)
    b1.stop_clean()
    # Same data dir (meta.properties names the first cluster), another store.
    cmd = b1.command()
    cmd = [a.replace(cluster.metadata_store, cluster.other_store) for a in cmd]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=30, cwd=b1.workdir)
    assert result.returncode != 0
    assert "meta.properties has cluster.id" in result.stderr, result.stderr
    assert "refusing to start" in result.stderr


def test_partitions_spread_over_brokers_and_others_answer_not_leader(cluster):
    leaders = create_topic(cluster, "spread", 6)
    assert sorted(set(leaders.values())) == [1, 2, 3], leaders
    assert all(list(leaders.values()).count(n) == 2 for n in (1, 2, 3)), leaders
    # Produce straight to a broker that does not lead partition 0.
    not_leader = next(b for b in cluster.brokers if b.overrides["node.id"] != leaders[0])
    p = Producer({"bootstrap.servers": not_leader.bootstrap, "enable.idempotence": True})
    delivered = []
    for i in range(60):
        p.produce("spread", value=f"m{i}".encode(), partition=i % 6,
                  on_delivery=lambda err, msg: delivered.append(err))
    assert p.flush(30) == 0
    assert delivered and all(e is None for e in delivered), delivered
    got = consume_all(cluster.bootstrap, "spread", 60)
    assert sorted(v for _, _, v in got) == sorted(f"m{i}".encode() for i in range(60))
    with_leader = wire_produce_error(not_leader, "spread", 0)
    assert with_leader == 6  # NOT_LEADER_OR_FOLLOWER from a broker that does not lead it


def wire_produce_error(broker, topic, partition):
    """ListOffsets (v1) for one partition straight to `broker`; returns its error code."""
    import socket
    import struct
    body = struct.pack(">i", -1)  # replica id
    body += struct.pack(">i", 1) + struct.pack(">h", len(topic)) + topic.encode()
    body += struct.pack(">i", 1) + struct.pack(">iq", partition, -1)
    client = b"t"
    header = struct.pack(">hhih", 2, 1, 7, len(client)) + client
    msg = header + body
    with socket.create_connection((broker.host, broker.port), timeout=10) as s:
        s.sendall(struct.pack(">i", len(msg)) + msg)
        size = struct.unpack(">i", recv_exact(s, 4))[0]
        resp = recv_exact(s, size)
    # correlation id, topics[1]: name, partitions[1]: index, error code
    pos = 4 + 4
    name_len = struct.unpack(">h", resp[pos:pos + 2])[0]
    pos += 2 + name_len + 4 + 4
    return struct.unpack(">h", resp[pos:pos + 2])[0]


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        assert chunk, "connection closed"
        buf += chunk
    return buf


def test_kill9_during_idempotent_produce_loses_and_duplicates_nothing(cluster, report):
    leaders = create_topic(cluster, "failover", 3)
    victim_id = leaders[0]
    victim = cluster.broker(victim_id)
    acked = {}  # partition -> list of values in ack order
    errors = []
    lock = threading.Lock()
    stop = threading.Event()
    first_ack_after_kill = {}
    killed_at = []

    def on_delivery(err, msg):
        if err is not None:
            errors.append(str(err))
            return
        with lock:
            acked.setdefault(msg.partition(), []).append(msg.value())
            if killed_at and msg.partition() == 0 and "t" not in first_ack_after_kill:
                first_ack_after_kill["t"] = time.monotonic()

    producer = Producer({"bootstrap.servers": cluster.bootstrap, "enable.idempotence": True, "acks": "all",
                         "linger.ms": 5, "message.timeout.ms": 60000})

    def produce():
        i = 0
        while not stop.is_set():
            producer.produce("failover", value=f"{i:08d}".encode(), partition=i % 3, on_delivery=on_delivery)
            producer.poll(0)
            i += 1
            time.sleep(0.002)
        producer.flush(60)

    t = threading.Thread(target=produce)
    t.start()
    time.sleep(2)
    victim.kill()
    with lock:
        killed_at.append(time.monotonic())
        before = {p: len(v) for p, v in acked.items()}
    deadline = time.monotonic() + 30
    while "t" not in first_ack_after_kill and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1)
    stop.set()
    t.join(90)
    assert "t" in first_ack_after_kill, f"no acknowledged produce on partition 0 after the kill; {errors[:3]}"
    failover = first_ack_after_kill["t"] - killed_at[0]
    report(f"cluster failover (kill -9 of the leader to the first acknowledged produce on the new leader): "
           f"{failover:.2f} s; acknowledged before the kill {sum(before.values())}, in all "
           f"{sum(len(v) for v in acked.values())}")
    print(f"failover time: {failover:.2f} s")
    assert not errors, errors[:5]
    total = sum(len(v) for v in acked.values())
    got = consume_all(cluster.bootstrap, "failover", total)
    by_partition = {}
    for part, _, value in sorted(got):
        by_partition.setdefault(part, []).append(value)
    for part, values in acked.items():
        consumed = by_partition.get(part, [])
        assert len(consumed) == len(set(consumed)), f"partition {part}: duplicates"
        assert consumed == values, f"partition {part}: {len(values)} acknowledged, {len(consumed)} consumed"
    assert failover < 15, f"failover took {failover:.1f} s"


def find_coordinator(broker, group, timeout=30):
    """FindCoordinator v2 sent to one broker, until it names a coordinator:
    its node id."""
    from test_groups_wire_errors import call, s
    import wire
    deadline = time.monotonic() + timeout
    with wire.Conn(broker, timeout=10) as conn:
        while True:
            r = call(conn, 10, 2, s(group) + b"\x00")
            r.take(">i")  # throttle
            err = r.take(">h")
            r.string()  # error message
            node = r.take(">i")
            if err == 0:
                return node
            assert time.monotonic() < deadline, f"no coordinator for {group} (error {err})"
            time.sleep(0.3)


def test_group_coordinators_spread_over_brokers_and_every_broker_agrees(cluster):
    groups = [f"spread-{i}" for i in range(24)]
    answers = {g: {find_coordinator(b, g) for b in cluster.brokers} for g in groups}
    assert all(len(a) == 1 for a in answers.values()), answers  # one coordinator per group
    coordinators = {next(iter(a)) for a in answers.values()}
    assert coordinators == {1, 2, 3}, answers


def committed_offsets(bootstrap, group, topic, partitions):
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    try:
        got = c.committed([TopicPartition(topic, p) for p in range(partitions)], timeout=30)
    finally:
        c.close()
    return {tp.partition: tp.offset for tp in got}


def test_consumer_group_keeps_committed_progress_across_coordinator_kill9(cluster, report):
    topic, group, total = "progress", "progress-group", 300
    create_topic(cluster, topic, 3)
    p = Producer({"bootstrap.servers": cluster.bootstrap, "acks": "all", "enable.idempotence": True})
    for i in range(total):
        p.produce(topic, value=f"m-{i}".encode(), partition=i % 3)
    assert p.flush(30) == 0
    c = Consumer({"bootstrap.servers": cluster.bootstrap, "group.id": group, "auto.offset.reset": "earliest",
                  "enable.auto.commit": False, "session.timeout.ms": 10000})
    c.subscribe([topic])
    seen = []
    deadline = time.monotonic() + 60
    while len(seen) < total // 2 and time.monotonic() < deadline:
        m = c.poll(0.5)
        if m is not None and m.error() is None:
            seen.append((m.partition(), m.offset()))
    assert len(seen) == total // 2
    c.commit(asynchronous=False)
    before = {tp.partition: tp.offset
              for tp in c.committed([TopicPartition(topic, q) for q in range(3)], timeout=30)}
    assert sum(max(o, 0) for o in before.values()) == total // 2, before

    coordinator = find_coordinator(cluster.brokers[0], group)
    victim = cluster.broker(coordinator)
    victim.kill()
    killed = time.monotonic()
    survivors = [b for b in cluster.brokers if b.running()]
    survivors_bootstrap = ",".join(b.bootstrap for b in survivors)
    # Another broker coordinates the group now and serves what the dead one
    # committed (read from the metadata store when it took the partition).
    served = committed_offsets(survivors_bootstrap, group, topic, 3)
    takeover = time.monotonic() - killed
    assert served == before, (served, before)
    new_coordinator = find_coordinator(survivors[0], group)
    assert new_coordinator != coordinator and new_coordinator in [b.overrides["node.id"] for b in survivors]
    assert all(find_coordinator(b, group) == new_coordinator for b in survivors)
    # The same consumer rejoins at the new coordinator and goes on from the
    # committed offsets (a restart from the beginning would mean the
    # progress was lost).
    after = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        m = c.poll(0.5)
        if m is not None and m.error() is None:
            after.append((m.partition(), m.offset()))
        if len(set(seen + after)) == total:
            break
    ends = [TopicPartition(topic, q, total // 3) for q in range(3)]
    deadline = time.monotonic() + 60
    while True:
        try:
            c.commit(offsets=ends, asynchronous=False)
            break
        except KafkaException as e:
            assert time.monotonic() < deadline, f"commit at the new coordinator failed: {e}"
            c.poll(0.5)
    c.close()
    assert len(set(seen + after)) == total, f"{len(set(seen + after))} of {total} consumed"
    for q in range(3):
        resumed = [o for part, o in after if part == q]
        start = max(before[q], 0)  # no commit yet on q: from the beginning (earliest)
        assert all(o >= start for o in resumed), (q, sorted(resumed)[:3], before)
        if start < total // 3:
            assert resumed and min(resumed) == start, (q, sorted(resumed)[:3], before)
    redelivered = len(after) - len(set(after) - set(seen))
    final = committed_offsets(survivors_bootstrap, group, topic, 3)
    assert final == {0: total // 3, 1: total // 3, 2: total // 3}, final
    report(f"group coordinator kill -9 (3 brokers): broker {coordinator} -> {new_coordinator}; committed "
           f"offsets {before} served again {takeover:.2f} s after the kill; the consumer resumed from them "
           f"({redelivered} redelivered after its rejoin) and committed at the new coordinator")
    print(f"coordinator failover: {takeover:.2f} s")


def test_zombie_leader_paused_past_its_lease_commits_nothing(cluster, report, request):
    """SIGSTOP the leader of partition 0 past its lease while an acks=all
    idempotent producer runs; another broker takes over and acknowledges;
    SIGCONT the old leader: it acknowledges and commits nothing (its lease
    renewal is refused and it restarts itself in place, same pid, with a
    new registration), and every acknowledged message is consumed exactly
    once, in order."""
    import os
    import signal
    leaders = create_topic(cluster, "zombie", 3)
    victim = cluster.broker(leaders[0])
    acked, errors, probe_acked = {}, [], []
    lock = threading.Lock()
    stop = threading.Event()

    def on_delivery(err, msg):
        if err is not None:
            errors.append(str(err))
            return
        with lock:
            acked.setdefault(msg.partition(), []).append(msg.value())

    producer = Producer({"bootstrap.servers": cluster.bootstrap, "enable.idempotence": True, "acks": "all",
                         "linger.ms": 5, "message.timeout.ms": 60000})

    def produce():
        i = 0
        while not stop.is_set():
            producer.produce("zombie", value=f"{i:08d}".encode(), partition=i % 3, on_delivery=on_delivery)
            producer.poll(0)
            i += 1
            time.sleep(0.002)
        producer.flush(60)

    t = threading.Thread(target=produce)
    t.start()
    request.addfinalizer(lambda: (stop.set(), t.join(90)))  # never leave the producer running
    time.sleep(1.5)
    os.kill(victim.proc.pid, signal.SIGSTOP)
    stopped = time.monotonic()
    try:
        deadline = time.monotonic() + 30
        new_leader = None
        while time.monotonic() < deadline:
            md = AdminClient({"bootstrap.servers": ",".join(
                b.bootstrap for b in cluster.brokers if b is not victim)}).list_topics("zombie", timeout=5)
            new_leader = md.topics["zombie"].partitions[0].leader
            if new_leader not in (-1, victim.overrides["node.id"]):
                break
            time.sleep(0.2)
        assert new_leader not in (-1, victim.overrides["node.id"]), "no broker took partition 0 over"
        takeover = time.monotonic() - stopped
        # The new leader accepts writes while the old one is still stopped. A
        # fresh producer shows it: the running idempotent one keeps partition
        # 0 waiting behind its requests in flight to the stopped broker, which
        # only fail once that broker runs again (librdkafka keeps order).
        others = ",".join(b.bootstrap for b in cluster.brokers if b is not victim)
        probe = Producer({"bootstrap.servers": others, "enable.idempotence": True, "acks": "all",
                          "message.timeout.ms": 20000})

        def on_probe(err, msg):
            if err is not None:
                errors.append(f"probe: {err}")
            else:
                probe_acked.append(msg.value())

        for i in range(20):
            probe.produce("zombie", value=f"probe-{i:02d}".encode(), partition=0, on_delivery=on_probe)
        probe.flush(30)
        assert len(probe_acked) == 20, f"the new leader acknowledged {len(probe_acked)} of 20 writes: {errors[:3]}"
    finally:
        os.kill(victim.proc.pid, signal.SIGCONT)
    # The resumed broker finds its lease gone and restarts in place (same
    # pid), then rejoins with a new broker epoch.
    deadline = time.monotonic() + 30
    while b"restarting in place" not in victim.log_path.read_bytes() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert b"restarting in place" in victim.log_path.read_bytes(), "the resumed old leader kept its lease"
    assert victim.running(), "the resumed old leader exited instead of restarting in place"
    cluster.wait_brokers(3, timeout=30)
    time.sleep(1)
    stop.set()
    t.join(90)
    assert not errors, errors[:5]
    total = sum(len(v) for v in acked.values()) + len(probe_acked)
    got = consume_all(cluster.bootstrap, "zombie", total)
    by_partition = {}
    for part, _, value in sorted(got):
        by_partition.setdefault(part, []).append(value)
    for part, values in acked.items():
        consumed = [v for v in by_partition.get(part, []) if not v.startswith(b"probe-")]
        assert len(consumed) == len(set(consumed)), f"partition {part}: duplicates"
        assert consumed == values, f"partition {part}: {len(values)} acknowledged, {len(consumed)} consumed"
    assert [v for v in by_partition.get(0, []) if v.startswith(b"probe-")] == probe_acked
    report(f"zombie leader (SIGSTOP past its lease): broker {new_leader} led partition 0 {takeover:.2f} s after "
           f"the stop and acknowledged writes; the resumed old leader restarted in place; "
           f"{total} acknowledged messages consumed exactly once, in order")
