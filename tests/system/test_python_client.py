"""confluent-kafka (Python, librdkafka) against the broker: admin APIs with
their Kafka error codes, produce/consume per codec, offsets, delete_records,
create_partitions, the idempotent producer and topic auto-creation."""

import time
from collections import defaultdict

import pytest
from confluent_kafka import (OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, Producer,
                             TopicCollection, TopicPartition)
from confluent_kafka.admin import ConfigResource, ConfigSource, NewPartitions, NewTopic, OffsetSpec

from kafka_util import CODECS, admin_for, create_error, create_topic, topic_partitions, unique, wait_until

MESSAGES = 100_000

# Kafka protocol error codes (as KafkaError codes).
CORRUPT_MESSAGE = 2
UNKNOWN_TOPIC_OR_PART = 3
INVALID_TOPIC_EXCEPTION = 17
TOPIC_ALREADY_EXISTS = 36
INVALID_PARTITIONS = 37
INVALID_REPLICATION_FACTOR = 38
INVALID_CONFIG = 40


@pytest.fixture(scope="module")
def admin(broker):
    return admin_for(broker)


def producer(broker, **extra):
    conf = {"bootstrap.servers": broker.bootstrap, "linger.ms": 5, "acks": "all",
            "queue.buffering.max.messages": 2 * MESSAGES, "message.timeout.ms": 60000}
    conf.update(extra)
    return Producer(conf)


def consumer(broker):
    # librdkafka insists on a group.id; offsets are explicit and never committed.
    return Consumer({"bootstrap.servers": broker.bootstrap, "group.id": unique("py-nocommit"),
                     "enable.auto.commit": False, "enable.auto.offset.store": False,
                     "enable.partition.eof": False})


def produce_all(p, topic, records):
    """Produces (key, value, headers, partition|None) tuples; returns the
    delivery reports as (partition, offset, index) in delivery order."""
    acked, errors = [], []

    def on_delivery(index):
        def cb(err, msg):
            if err is not None:
                errors.append(err)
            else:
                acked.append((msg.partition(), msg.offset(), index))
        return cb

    for i, (key, value, headers, partition) in enumerate(records):
        kwargs = {"partition": partition} if partition is not None else {}
        p.produce(topic, key=key, value=value, headers=headers, on_delivery=on_delivery(i), **kwargs)
        if i % 1000 == 0:
            p.poll(0)
    remaining = p.flush(60)
    assert remaining == 0, f"{remaining} messages not delivered"
    assert not errors, f"delivery errors: {errors[:5]}"
    return acked


def consume_all(broker, topic, partitions, expected, timeout=90):
    """Reads partitions from the beginning until `expected` records arrived."""
    c = consumer(broker)
    c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(partitions)])
    got = defaultdict(list)
    count = 0
    deadline = time.monotonic() + timeout
    try:
        while count < expected and time.monotonic() < deadline:
            for msg in c.consume(num_messages=10000, timeout=0.5):
                assert msg.error() is None, msg.error()
                got[msg.partition()].append(msg)
                count += 1
    finally:
        c.close()
    assert count == expected, f"consumed {count} of {expected}"
    return got


# ---------------------------------------------------------------- admin APIs

def test_create_list_describe_delete_topics(admin):
    name = create_topic(admin, unique("py-admin"), partitions=3)
    assert name in admin.list_topics(timeout=10).topics

    desc = admin.describe_topics(TopicCollection([name]))[name].result(30)
    assert desc.name == name
    assert not desc.is_internal
    assert [p.id for p in desc.partitions] == [0, 1, 2]
    assert all(p.leader is not None for p in desc.partitions)

    assert create_error(admin, NewTopic(name, 3, 1)) == TOPIC_ALREADY_EXISTS

    admin.delete_topics([name], operation_timeout=30)[name].result(60)
    wait_until(lambda: topic_partitions(admin, name) is None, what="topic deletion")
    assert name not in admin.list_topics(timeout=10).topics
    with pytest.raises(KafkaException) as err:
        admin.delete_topics([name], operation_timeout=30)[name].result(60)
    assert err.value.args[0].code() == UNKNOWN_TOPIC_OR_PART


@pytest.mark.parametrize("topic,code", [
    (NewTopic("bad/name", 1, 1), INVALID_TOPIC_EXCEPTION),
    (NewTopic("..", 1, 1), INVALID_TOPIC_EXCEPTION),
    (NewTopic("x" * 250, 1, 1), INVALID_TOPIC_EXCEPTION),
    (NewTopic("py-zero-parts", 0, 1), INVALID_PARTITIONS),
    (NewTopic("py-rf-three", 1, 3), INVALID_REPLICATION_FACTOR),
    (NewTopic("py-bad-cfg-value", 1, 1, config={"retention.ms": "not-a-number"}), INVALID_CONFIG),
    (NewTopic("py-bad-cfg-name", 1, 1, config={"no.such.topic.config": "1"}), INVALID_CONFIG),
    (NewTopic("py-bad-cfg-enum", 1, 1, config={"cleanup.policy": "sometimes"}), INVALID_CONFIG),
], ids=["slash", "dotdot", "too-long", "zero-partitions", "replication-3", "config-value",
        "config-name", "config-enum"])
def test_create_topic_rejects_invalid_input(admin, topic, code):
    assert create_error(admin, topic) == code
    assert topic.topic not in admin.list_topics(timeout=10).topics


def test_create_with_configs_and_describe_config_sources(admin):
    name = create_topic(admin, unique("py-cfg"), partitions=1,
                        config={"retention.ms": "3600000", "max.message.bytes": "200000"})
    res = ConfigResource(ConfigResource.Type.TOPIC, name)
    entries = admin.describe_configs([res])[res].result(30)

    retention = entries["retention.ms"]
    assert retention.value == "3600000"
    assert retention.source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value
    assert not retention.is_default
    assert entries["max.message.bytes"].value == "200000"
    assert entries["max.message.bytes"].source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value

    policy = entries["cleanup.policy"]
    assert policy.value == "delete"
    assert policy.source in (ConfigSource.DEFAULT_CONFIG.value, ConfigSource.STATIC_BROKER_CONFIG.value)


# ------------------------------------------------------- produce and consume

@pytest.mark.parametrize("codec", CODECS)
def test_produce_consume_every_codec(broker, admin, codec, report):
    partitions = 3
    topic = create_topic(admin, unique(f"py-{codec}"), partitions=partitions)
    records = [(f"key-{i % 89}".encode(), f"value-{i}-{codec}".encode() + b"y" * (i % 40),
                [("seq", str(i).encode()), ("client", b"python"), ("empty", b"")], None)
               for i in range(MESSAGES)]
    start = time.monotonic()
    acked = produce_all(producer(broker, **{"compression.type": codec}), topic, records)
    produced = time.monotonic()
    assert len(acked) == MESSAGES

    expected = defaultdict(dict)
    for part, offset, index in acked:
        assert offset not in expected[part], "two records acked at one offset"
        expected[part][offset] = index
    for part, by_offset in expected.items():
        order = [by_offset[o] for o in sorted(by_offset)]
        assert order == sorted(order), f"partition {part}: acked offsets out of produce order"

    got = consume_all(broker, topic, partitions, MESSAGES)
    done = time.monotonic()
    for part, msgs in got.items():
        assert [m.offset() for m in msgs] == sorted(expected[part]), f"partition {part} offsets"
        for m in msgs:
            key, value, headers, _ = records[expected[part][m.offset()]]
            assert (m.key(), m.value(), m.headers()) == (key, value, headers)
    report(f"python {codec:6s}: {MESSAGES} msgs produce {produced - start:5.2f}s + "
           f"consume {done - produced:5.2f}s = {MESSAGES / (done - start):,.0f} msgs/s round trip")


def test_idempotent_producer_acks_all(broker, admin):
    topic = create_topic(admin, unique("py-idem"), partitions=2)
    p = producer(broker, **{"enable.idempotence": True, "acks": "all"})
    n = 20_000
    records = [(f"k{i % 13}".encode(), str(i).encode(), None, i % 2) for i in range(n)]
    acked = produce_all(p, topic, records)
    assert len(acked) == n
    got = consume_all(broker, topic, 2, n)
    for part in (0, 1):
        values = [int(m.value()) for m in got[part]]
        assert values == list(range(part, n, 2)), f"partition {part}: duplicates, gaps or reorder"
        assert [m.offset() for m in got[part]] == list(range(n // 2))


# ------------------------------------------------------------------ offsets

def test_offsets_by_time_earliest_latest_and_delete_records(broker, admin):
    topic = create_topic(admin, unique("py-offsets"), partitions=1)
    base = int(time.time() * 1000) - 24 * 3600 * 1000  # CreateTime a day ago
    p = producer(broker)
    for i in range(10):
        p.produce(topic, key=b"k", value=f"v{i}".encode(), partition=0, timestamp=base + 1000 * i)
    assert p.flush(30) == 0
    tp = TopicPartition(topic, 0)

    def list_offsets(spec):
        res = admin.list_offsets({tp: spec}, request_timeout=30)
        return res[tp].result(30)

    assert list_offsets(OffsetSpec.earliest()).offset == 0
    assert list_offsets(OffsetSpec.latest()).offset == 10
    at = list_offsets(OffsetSpec.for_timestamp(base + 3500))
    assert (at.offset, at.timestamp) == (4, base + 4000)
    assert list_offsets(OffsetSpec.for_timestamp(base - 5000)).offset == 0
    assert list_offsets(OffsetSpec.for_timestamp(base + 60_000)).offset == -1
    newest = list_offsets(OffsetSpec.max_timestamp())
    assert (newest.offset, newest.timestamp) == (9, base + 9000)

    c = consumer(broker)
    try:
        assert c.get_watermark_offsets(tp, timeout=10) == (0, 10)
        found = c.offsets_for_times([TopicPartition(topic, 0, base + 7000)], timeout=10)
        assert found[0].offset == 7
        found = c.offsets_for_times([TopicPartition(topic, 0, base + 99_000)], timeout=10)
        assert found[0].offset == -1  # OFFSET_END: nothing at or after that time
    finally:
        c.close()

    deleted = admin.delete_records([TopicPartition(topic, 0, 6)], operation_timeout=30)
    assert deleted[TopicPartition(topic, 0, 6)].result(30).low_watermark == 6
    assert list_offsets(OffsetSpec.earliest()).offset == 6
    assert list_offsets(OffsetSpec.latest()).offset == 10
    msgs = consume_all(broker, topic, 1, 4)[0]
    assert [(m.offset(), m.value(), m.timestamp()[1]) for m in msgs] == \
        [(o, f"v{o}".encode(), base + 1000 * o) for o in range(6, 10)]

    # Past the high watermark is OFFSET_OUT_OF_RANGE.
    bad = admin.delete_records([TopicPartition(topic, 0, 11)], operation_timeout=30)
    with pytest.raises(KafkaException) as err:
        bad[TopicPartition(topic, 0, 11)].result(30)
    assert err.value.args[0].code() == KafkaError.OFFSET_OUT_OF_RANGE


def test_create_partitions_updates_metadata(broker, admin):
    topic = create_topic(admin, unique("py-grow"), partitions=2)
    admin.create_partitions([NewPartitions(topic, 5)], operation_timeout=30)[topic].result(60)
    wait_until(lambda: topic_partitions(admin, topic) == 5, what="5 partitions in metadata")
    with pytest.raises(KafkaException) as err:
        admin.create_partitions([NewPartitions(topic, 4)], operation_timeout=30)[topic].result(60)
    assert err.value.args[0].code() == INVALID_PARTITIONS
    acked = produce_all(producer(broker), topic, [(b"k", b"v", None, 4)])
    assert acked == [(4, 0, 0)]


# ------------------------------------------------------------ auto-creation

def produce_one_to_new_topic(broker, topic):
    p = producer(broker, **{"message.timeout.ms": 5000})
    result = []
    p.produce(topic, value=b"hello", on_delivery=lambda err, msg: result.append(err))
    p.flush(20)
    assert len(result) == 1
    return result[0]


def test_produce_auto_creates_topic_by_default(broker, admin):
    topic = unique("py-auto")
    assert produce_one_to_new_topic(broker, topic) is None
    assert wait_until(lambda: topic_partitions(admin, topic)) == 1  # num.partitions default


def test_produce_to_unknown_topic_fails_when_auto_create_off(broker_factory):
    b = broker_factory({"auto.create.topics.enable": "false"})
    topic = unique("py-noauto")
    err = produce_one_to_new_topic(b, topic)
    assert err is not None
    assert err.code() in (KafkaError.UNKNOWN_TOPIC_OR_PART, KafkaError._UNKNOWN_TOPIC,
                          KafkaError._MSG_TIMED_OUT), err
    assert topic_partitions(admin_for(b), topic) is None
