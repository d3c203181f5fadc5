"""Small helpers shared by the system tests (client side only)."""

import time
import uuid

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, NewTopic

CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def admin_for(broker):
    return AdminClient({"bootstrap.servers": broker.bootstrap})


def wait_until(cond, timeout=30.0, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.2)


def topic_partitions(admin, topic):
    """Partition count from fresh metadata, or None if the topic is absent.
    Lists all topics: a Metadata request naming the topic could auto-create it."""
    md = admin.list_topics(timeout=10)
    t = md.topics.get(topic)
    if t is None or t.error is not None:
        return None
    return len(t.partitions)


def create_topic(admin, name, partitions=1, config=None):
    futures = admin.create_topics(
        [NewTopic(name, num_partitions=partitions, replication_factor=1, config=config or {})],
        operation_timeout=30, request_timeout=30)
    futures[name].result(timeout=60)
    wait_until(lambda: topic_partitions(admin, name) == partitions, what=f"topic {name} metadata")
    return name


def create_error(admin, topic):
    """Runs a CreateTopics future and returns the KafkaError code it failed with."""
    try:
        admin.create_topics([topic], operation_timeout=30, request_timeout=30)[topic.topic].result(60)
    except KafkaException as e:
        return e.args[0].code()
    return 0
