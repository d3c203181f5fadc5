"""__consumer_offsets as Kafka shows it (issue 12, item 3): an internal
topic with offsets.topic.num.partitions (50) partitions and Kafka's configs,
closed to producers, whose records are Kafka's offset-commit key/value
format (decoded here by hand and by Kafka's own OffsetsMessageFormatter),
with tombstones when a group is deleted. Pattern subscriptions: the Java
consumer leaves internal topics out unless exclude.internal.topics=false;
librdkafka includes them. Every test also runs against Kafka
(CARELOG_TEST_TARGET=kafka)."""

import json
import struct
import subprocess
import time

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicCollection, TopicPartition
from confluent_kafka.admin import ConfigResource

from kafka_util import admin_for, create_topic, unique, wait_until
from reference_kafka import java_cmd

OFFSETS = "__consumer_offsets"
DYNAMIC_TOPIC_CONFIG = 1


def java_hash_partition(group, partitions=50):
    h = 0
    for unit in struct.unpack(f"<{len(group.encode('utf-16-le')) // 2}H", group.encode("utf-16-le")):
        h = (31 * h + unit) & 0xFFFFFFFF
    return (h & 0x7FFFFFFF) % partitions


def decode_key(key):
    version, = struct.unpack_from(">h", key)
    if version not in (0, 1):
        return None  # a group metadata record
    pos = 2
    out = []
    for _ in range(2):
        n, = struct.unpack_from(">h", key, pos)
        out.append(key[pos + 2:pos + 2 + n].decode())
        pos += 2 + n
    partition, = struct.unpack_from(">i", key, pos)
    return out[0], out[1], partition


def decode_value(value):
    """OffsetCommitValue v4 (what Kafka 4.x writes): returns a dict."""
    version, offset, epoch = struct.unpack_from(">hqi", value)
    assert version == 4, version
    pos = 14
    n, shift = 0, 0
    while True:
        b = value[pos]
        pos += 1
        n |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            break
    metadata = value[pos:pos + n - 1].decode()
    pos += n - 1
    ts, = struct.unpack_from(">q", value, pos)
    pos += 8
    tags = value[pos]
    topic_id = None
    if tags:
        assert value[pos + 1:pos + 3] == b"\x00\x10"  # tag 0, 16 bytes
        topic_id = value[pos + 3:pos + 19]
    return {"offset": offset, "leader_epoch": epoch, "metadata": metadata, "commit_ts": ts,
            "topic_id": topic_id}


def commit(broker, group, topic, offsets, metadata):
    """Commits until every partition is accepted (a fresh Kafka answers the
    first commits while it loads its new offsets topic with an error)."""
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": group, "enable.auto.commit": False})
    try:
        def committed():
            try:
                res = c.commit(offsets=[TopicPartition(topic, p, o, metadata=metadata)
                                        for p, o in offsets.items()], asynchronous=False)
            except KafkaException as e:
                if not e.args[0].retriable() and e.args[0].code() not in (
                        KafkaError.NOT_COORDINATOR, KafkaError.COORDINATOR_NOT_AVAILABLE,
                        KafkaError.COORDINATOR_LOAD_IN_PROGRESS):
                    raise
                print(f"commit for {group}: {e}; retrying")
                return False
            errors = [tp.error for tp in res if tp.error is not None]
            if errors:
                print(f"commit for {group} answered {errors}; retrying")
            return not errors
        wait_until(committed, what=f"commit of {group}")
    finally:
        c.close()


def offset_records(broker, group):
    """Offset-commit records of `group`, read from its partition of
    __consumer_offsets: [((group, topic, partition), value or None)]."""
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": unique("offsets-reader"),
                  "enable.auto.commit": False, "enable.partition.eof": True})
    out = []
    try:
        c.assign([TopicPartition(OFFSETS, java_hash_partition(group), 0)])
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            m = c.poll(1)
            if m is None:
                continue
            if m.error():
                if m.error().code() == KafkaError._PARTITION_EOF:
                    break
                raise AssertionError(m.error())
            key = decode_key(m.key())
            if key and key[0] == group:
                out.append((key, m.value()))
    finally:
        c.close()
    return out


def json_stream(text):
    """The formatter's JSON objects (it may not separate them by newlines)."""
    dec, pos, out = json.JSONDecoder(), 0, []
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text) or text[pos] != "{":
            return out
        obj, pos = dec.raw_decode(text, pos)
        out.append(obj)


def console(broker, *args, timeout=60):
    cmd = java_cmd("org.apache.kafka.tools.consumer.ConsoleConsumer", "--bootstrap-server", broker.bootstrap,
                   *args)
    out = subprocess.run(cmd, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
    return out.stdout.decode(errors="replace"), out.stderr.decode(errors="replace")


def test_offsets_topic_is_internal_with_kafka_layout(broker):
    admin = admin_for(broker)
    topic = create_topic(admin, unique("co-layout"))
    commit(broker, unique("co-layout-g"), topic, {0: 1}, "")  # FindCoordinator creates it, as Kafka
    wait_until(lambda: OFFSETS in admin.list_topics(timeout=10).topics, what=f"{OFFSETS} listed")
    desc = admin.describe_topics(TopicCollection([OFFSETS]))[OFFSETS].result(30)
    assert desc.is_internal
    assert len(desc.partitions) == 50
    assert not admin.describe_topics(TopicCollection([topic]))[topic].result(30).is_internal
    configs = admin.describe_configs([ConfigResource("topic", OFFSETS)])
    entries = list(configs.values())[0].result(30)
    for name, value in {"cleanup.policy": "compact", "compression.type": "producer",
                        "segment.bytes": "104857600"}.items():
        assert entries[name].value == value, name
        assert entries[name].source == DYNAMIC_TOPIC_CONFIG, name


def test_produce_to_offsets_topic_is_refused(broker):
    admin = admin_for(broker)
    commit(broker, unique("co-produce-g"), create_topic(admin, unique("co-produce")), {0: 1}, "")
    errors = []
    p = Producer({"bootstrap.servers": broker.bootstrap, "message.send.max.retries": 0})
    p.produce(OFFSETS, b"forged", partition=0, on_delivery=lambda err, msg: errors.append(err))
    p.flush(30)
    assert len(errors) == 1 and errors[0] is not None
    assert errors[0].code() == KafkaError.TOPIC_EXCEPTION, errors[0]


def test_offset_commits_are_kafka_records_and_deletes_tombstones(broker):
    admin = admin_for(broker)
    topic = create_topic(admin, unique("co-records"), partitions=2)
    topic_id = admin.describe_topics(TopicCollection([topic]))[topic].result(30).topic_id
    group = unique("co-records-g")
    t0 = int(time.time() * 1000)
    commit(broker, group, topic, {0: 5, 1: 7}, "first")
    commit(broker, group, topic, {0: 9}, "second")
    t1 = int(time.time() * 1000)

    # __consumer_offsets is compacted: the superseded commit of partition 0
    # may already be gone, so the check is on the latest record per key.
    def decoded():
        latest = {}
        for key, value in offset_records(broker, group):
            assert value is not None
            latest[key] = decode_value(value)
        done = latest.get((group, topic, 0), {}).get("offset") == 9 and (group, topic, 1) in latest
        return latest if done else None

    latest = wait_until(decoded, what="offset records of the group")
    assert set(latest) == {(group, topic, 0), (group, topic, 1)}
    assert latest[(group, topic, 0)]["offset"] == 9
    assert latest[(group, topic, 1)]["offset"] == 7
    for v in latest.values():
        assert v["leader_epoch"] == -1
        assert v["metadata"].rstrip("\0") in ("first", "second")  # librdkafka sends a trailing NUL
        assert t0 - 1000 <= v["commit_ts"] <= t1 + 1000
        assert v["topic_id"] == bytes(topic_id.get_most_significant_bits().to_bytes(8, "big", signed=True)
                                      + topic_id.get_least_significant_bits().to_bytes(8, "big", signed=True))

    # Kafka's own decoder reads them.
    out, err = console(broker, "--topic", OFFSETS, "--from-beginning", "--timeout-ms", "8000",
                       "--formatter", "org.apache.kafka.tools.consumer.OffsetsMessageFormatter")
    mine = [r for r in json_stream(out) if r["key"]["data"].get("group") == group]
    last_by_partition = {r["key"]["data"]["partition"]: r for r in mine}
    assert set(last_by_partition) == {0, 1}, (out, err[-2000:])
    last = last_by_partition[0]
    assert last["key"] == {"type": 1, "data": {"group": group, "topic": topic, "partition": 0}}
    assert last["value"]["version"] == 4
    assert last["value"]["data"]["offset"] == 9
    assert last["value"]["data"]["leaderEpoch"] == -1

    # Deleting the group writes a tombstone for each of its offsets.
    admin.delete_consumer_groups([group], request_timeout=30)[group].result(30)

    def tombstones():
        keys = {k for k, v in offset_records(broker, group) if v is None}
        return keys if keys == {(group, topic, 0), (group, topic, 1)} else None

    wait_until(tombstones, what="tombstones after DeleteGroups")


def test_pattern_subscriptions_and_internal_topics(broker):
    admin = admin_for(broker)
    topic = create_topic(admin, unique("co-pattern"))
    commit(broker, unique("co-pattern-g"), topic, {0: 1}, "")
    p = Producer({"bootstrap.servers": broker.bootstrap})
    p.produce(topic, b"user-record")
    p.flush(30)
    pattern = f"{topic}|{OFFSETS}"

    # Java consumer (ConsoleConsumer --include): internal topics excluded by default...
    out, err = console(broker, "--include", pattern, "--from-beginning", "--timeout-ms", "6000")
    assert out.split() == ["user-record"], (out[-500:], err[-2000:])
    assert "Processed a total of 1 messages" in err, err[-2000:]
    # ...and read with exclude.internal.topics=false.
    out, err = console(broker, "--include", pattern, "--from-beginning", "--timeout-ms", "6000",
                       "--consumer-property", "exclude.internal.topics=false")
    processed = [int(line.split()[4]) for line in err.splitlines() if line.startswith("Processed a total of")]
    assert processed and processed[0] > 1, err[-2000:]

    # librdkafka matches internal topics too, on Kafka as on Carelog.
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": unique("co-pattern-rdkafka"),
                  "topic.metadata.refresh.interval.ms": 1000})
    try:
        c.subscribe([f"^({topic}|{OFFSETS})$"])

        def assigned():
            c.poll(0.5)
            return {tp.topic for tp in c.assignment()} or None

        assert wait_until(assigned, what="pattern assignment") == {topic, OFFSETS}
    finally:
        c.close()
