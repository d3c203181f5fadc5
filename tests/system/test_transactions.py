"""Transactions and exactly-once with confluent-kafka (librdkafka) and
Kafka's kafka-transactions.sh: commit/abort with read_committed and
read_uncommitted consumers, consume-transform-produce with
send_offsets_to_transaction, zombie fencing, the coordinator aborting a
transaction that outlived transaction.timeout.ms, and kill -9 of the broker
mid-transaction (the last stable offset must never stay stuck).
The Java transactional producer runs in test_transactions_java.py."""

import subprocess
import time

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition

from kafka_util import admin_for, create_topic, unique, wait_until
from reference_kafka import java_cmd


def txn_producer(broker, txn_id, **extra):
    conf = {"bootstrap.servers": broker.bootstrap, "transactional.id": txn_id, "linger.ms": 5,
            "transaction.timeout.ms": 60000}
    conf.update(extra)
    return Producer(conf)


def open_transaction(broker, prefix, value):
    """A new topic and a producer whose open transaction holds one record
    (acknowledged) in its partition 0: (topic, transactional id, producer)."""
    topic = create_topic(admin_for(broker), unique(prefix))
    txn_id = unique(prefix + "-id")
    p = txn_producer(broker, txn_id)
    p.init_transactions(30)
    p.begin_transaction()
    p.produce(topic, value=value, partition=0)
    p.flush(30)
    return topic, txn_id, p


def consumer(broker, isolation, group=None, **extra):
    conf = {"bootstrap.servers": broker.bootstrap, "group.id": group or unique("py-txn-read"),
            "isolation.level": isolation, "enable.auto.commit": False, "auto.offset.reset": "earliest",
            "enable.partition.eof": False}
    conf.update(extra)
    return Consumer(conf)


def read_all(broker, topic, partitions, isolation, expected, timeout=30.0):
    """Values per partition, read from the start until `expected` arrived
    (then a little longer, so extra records would show)."""
    c = consumer(broker, isolation)
    try:
        c.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
        seen, deadline, extra_until = {}, time.monotonic() + timeout, None
        while time.monotonic() < deadline:
            m = c.poll(0.2)
            if m is not None and m.error() is None:
                seen.setdefault(m.partition(), []).append(m.value().decode())
            if extra_until is None and sum(map(len, seen.values())) >= expected:
                extra_until = time.monotonic() + 1.0
            if extra_until is not None and time.monotonic() > extra_until:
                break
        return seen
    finally:
        c.close()


def watermarks(broker, topic, partition, isolation):
    c = consumer(broker, isolation)
    try:
        return c.get_watermark_offsets(TopicPartition(topic, partition), timeout=10, cached=False)
    finally:
        c.close()


def committed_end(broker, topic, partition):
    """End offset a read_committed consumer sees (the last stable offset)."""
    c = consumer(broker, "read_committed")
    try:
        c.assign([TopicPartition(topic, partition, 0)])
        lo, hi = c.get_watermark_offsets(TopicPartition(topic, partition), timeout=10, cached=False)
        return hi
    finally:
        c.close()


def test_confluent_commit_and_abort(broker):
    admin = admin_for(broker)
    topic = create_topic(admin, unique("py-txn"), partitions=2)
    p = txn_producer(broker, unique("py-txn-id"))
    p.init_transactions(30)
    committed, everything = {}, {}
    for t in range(6):
        p.begin_transaction()
        for i in range(10):
            v = f"t{t}-{i}"
            p.produce(topic, value=v, partition=i % 2)
            everything.setdefault(i % 2, []).append(v)
            if t % 3 != 1:
                committed.setdefault(i % 2, []).append(v)
        if t % 3 != 1:
            p.commit_transaction(30)
        else:
            p.flush(30)  # librdkafka purges unsent messages on abort: make them reach the log
            p.abort_transaction(30)
    assert read_all(broker, topic, 2, "read_committed", 40) == committed
    assert read_all(broker, topic, 2, "read_uncommitted", 60) == everything


def test_confluent_consume_transform_produce(broker):
    admin = admin_for(broker)
    src = create_topic(admin, unique("py-ctp-in"), partitions=2)
    dst = create_topic(admin, unique("py-ctp-out"), partitions=2)
    feeder = txn_producer(broker, unique("py-ctp-feed"))
    feeder.init_transactions(30)
    feeder.begin_transaction()
    for i in range(30):
        feeder.produce(src, key=f"k{i}", value=f"v{i}", partition=i % 2)
    feeder.commit_transaction(30)

    group = unique("py-ctp-group")
    c = consumer(broker, "read_committed", group=group)
    c.subscribe([src])
    p = txn_producer(broker, unique("py-ctp-id"))
    p.init_transactions(30)
    copied, deadline = 0, time.monotonic() + 40
    while copied < 30 and time.monotonic() < deadline:
        msgs = [m for m in c.consume(num_messages=10, timeout=0.5) if m.error() is None]
        if not msgs:
            continue
        p.begin_transaction()
        for m in msgs:
            p.produce(dst, key=m.key(), value=m.value().upper(), partition=m.partition())
        p.send_offsets_to_transaction(c.position(c.assignment()), c.consumer_group_metadata(), 30)
        p.commit_transaction(30)
        copied += len(msgs)
    c.close()
    assert copied == 30
    out = read_all(broker, dst, 2, "read_committed", 30)
    assert sorted(v for vs in out.values() for v in vs) == sorted(f"V{i}" for i in range(30))
    fut = admin.list_consumer_group_offsets(
        [__import__("confluent_kafka").ConsumerGroupTopicPartitions(group)])[group]
    offsets = {tp.partition: tp.offset for tp in fut.result(30).topic_partitions if tp.topic == src}
    # Past the 15 records of each partition (the position may already be
    # past the commit marker at 15, or not yet, depending on the last fetch).
    assert set(offsets) == {0, 1} and all(o in (15, 16) for o in offsets.values()), offsets


def test_confluent_zombie_fencing(broker):
    topic, txn_id, zombie = open_transaction(broker, "py-zombie", "zombie")
    fresh = txn_producer(broker, txn_id)
    fresh.init_transactions(30)  # fences the zombie and aborts its transaction
    with pytest.raises(KafkaException) as info:
        zombie.produce(topic, value="late", partition=0)
        zombie.commit_transaction(30)
    err = info.value.args[0]
    assert err.fatal() or err.code() in (KafkaError._FENCED, KafkaError.PRODUCER_FENCED,
                                         KafkaError.INVALID_PRODUCER_EPOCH), err
    fresh.begin_transaction()
    fresh.produce(topic, value="fresh", partition=0)
    fresh.commit_transaction(30)
    assert read_all(broker, topic, 1, "read_committed", 1) == {0: ["fresh"]}


def test_open_transaction_holds_the_last_stable_offset(broker):
    admin = admin_for(broker)
    topic = create_topic(admin, unique("py-lso"))
    p = txn_producer(broker, unique("py-lso-id"))
    p.init_transactions(30)
    p.begin_transaction()
    for i in range(5):
        p.produce(topic, value=f"open{i}", partition=0)
    p.flush(30)
    assert watermarks(broker, topic, 0, "read_uncommitted")[1] == 5
    assert committed_end(broker, topic, 0) == 0
    assert read_all(broker, topic, 1, "read_committed", 1, timeout=2) == {}
    p.commit_transaction(30)
    wait_until(lambda: committed_end(broker, topic, 0) == 6, what="LSO after commit")
    assert read_all(broker, topic, 1, "read_committed", 5)[0] == [f"open{i}" for i in range(5)]


FAST_ABORT = {"transaction.abort.timed.out.transaction.cleanup.interval.ms": "300"}


def test_coordinator_aborts_a_timed_out_transaction(broker_factory):
    b = broker_factory(FAST_ABORT)
    admin = admin_for(b)
    topic = create_topic(admin, unique("py-timeout"))
    p = txn_producer(b, unique("py-timeout-id"), **{"transaction.timeout.ms": 2000})
    p.init_transactions(30)
    p.begin_transaction()
    p.produce(topic, value="hanging", partition=0)
    p.flush(30)
    assert committed_end(b, topic, 0) == 0
    # The abort marker moves the last stable offset past the transaction.
    wait_until(lambda: committed_end(b, topic, 0) == 2, timeout=30, what="timeout abort")
    assert read_all(b, topic, 1, "read_committed", 1, timeout=2) == {}
    with pytest.raises(KafkaException):
        p.commit_transaction(30)


def test_kill9_mid_transaction_never_leaves_the_lso_stuck(broker_factory):
    b = broker_factory(FAST_ABORT)
    admin = admin_for(b)
    topic = create_topic(admin, unique("py-kill"), partitions=2)
    p = txn_producer(b, unique("py-kill-id"), **{"transaction.timeout.ms": 3000})
    p.init_transactions(30)
    p.begin_transaction()
    for i in range(10):
        p.produce(topic, value=f"kept{i}", partition=i % 2)
    p.commit_transaction(30)
    p.begin_transaction()
    for i in range(10):
        p.produce(topic, value=f"lost{i}", partition=i % 2)
    p.flush(30)  # acknowledged, in the WAL, transaction open
    b.kill()
    b.start()
    # The coordinator's state survived: the open transaction times out and
    # is aborted; committed data is intact and nothing of the open one shows.
    for part in (0, 1):
        wait_until(lambda: committed_end(b, topic, part) == watermarks(b, topic, part, "read_uncommitted")[1]
                   and committed_end(b, topic, part) == 12, timeout=40, what=f"LSO of partition {part}")
    got = read_all(b, topic, 2, "read_committed", 10)
    assert got == {0: [f"kept{i}" for i in range(0, 10, 2)], 1: [f"kept{i}" for i in range(1, 10, 2)]}
    # A new producer incarnation works after the restart.
    p2 = txn_producer(b, unique("py-kill-id2"))
    p2.init_transactions(30)
    p2.begin_transaction()
    p2.produce(topic, value="after", partition=0)
    p2.commit_transaction(30)


def transactions_tool(broker, *args, timeout=120):
    cmd = java_cmd("org.apache.kafka.tools.TransactionsCommand", "--bootstrap-server", broker.bootstrap, *args)
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, f"kafka-transactions {args}: {out.stdout[-3000:]}\n{out.stderr[-3000:]}"
    return out.stdout


def test_kafka_transactions_cli(broker):
    topic, txn_id, p = open_transaction(broker, "py-txn-cli", "x")
    listed = transactions_tool(broker, "list")
    line = next(l for l in listed.splitlines() if txn_id in l)
    assert "Ongoing" in line, listed
    described = transactions_tool(broker, "describe", "--transactional-id", txn_id)
    assert "Ongoing" in described and f"{topic}-0" in described, described
    producers = transactions_tool(broker, "describe-producers", "--topic", topic, "--partition", "0")
    rows = [l.split() for l in producers.splitlines()[1:] if l.strip()]
    assert len(rows) == 1 and rows[0][-1] == "0", producers  # CurrentTransactionStartOffset 0
    hanging = transactions_tool(broker, "find-hanging", "--broker-id", "1")
    assert topic not in hanging, hanging  # open, but the coordinator knows it: not hanging
    p.commit_transaction(30)
    described = transactions_tool(broker, "describe", "--transactional-id", txn_id)
    assert "CompleteCommit" in described, described


def test_kafka_transactions_abort_closes_a_partitions_open_transaction(broker):
    """`kafka-transactions.sh abort` (WriteTxnMarkers from the admin client)
    writes an abort marker into the partition: its last stable offset moves
    past the open transaction and read_committed readers never see it."""
    topic, txn_id, p = open_transaction(broker, "py-txn-abort", "hanging")
    p.produce(topic, value="also-hanging", partition=0)
    p.flush(30)
    assert committed_end(broker, topic, 0) == 0
    transactions_tool(broker, "abort", "--topic", topic, "--partition", "0", "--start-offset", "0")
    wait_until(lambda: committed_end(broker, topic, 0) == 3, timeout=30)  # 2 records + the marker
    producers = transactions_tool(broker, "describe-producers", "--topic", topic, "--partition", "0")
    rows = [l.split() for l in producers.splitlines()[1:] if l.strip()]
    assert rows and rows[0][-1] == "None", producers  # no transaction open any more
    # Committed records after the abort are readable; the aborted ones never are.
    q = Producer({"bootstrap.servers": broker.bootstrap})
    q.produce(topic, value="after", partition=0)
    assert q.flush(30) == 0
    assert read_all(broker, topic, 1, "read_committed", 1) == {0: ["after"]}
    assert read_all(broker, topic, 1, "read_uncommitted", 3) == {0: ["hanging", "also-hanging", "after"]}
    p.abort_transaction(30)  # the producer itself can still end its transaction
