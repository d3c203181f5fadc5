"""Helpers for the storage system tests: produce with delivery tracking and
read a whole topic back with offsets."""

import time

from confluent_kafka import Consumer, Producer, TopicPartition

from kafka_util import unique


def read_partition(broker, topic, partition, start=None, timeout=60):
    """All (offset, value) of one partition from `start` (default: log start)
    to the high watermark at call time."""
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": unique("storage-read"),
                  "enable.auto.commit": False, "fetch.max.bytes": 8 << 20,
                  "max.partition.fetch.bytes": 4 << 20})
    try:
        low, high = c.get_watermark_offsets(TopicPartition(topic, partition), timeout=15)
        first = low if start is None else max(start, low)
        out = []
        if first >= high:
            return low, high, out
        c.assign([TopicPartition(topic, partition, first)])
        deadline = time.monotonic() + timeout
        while (not out or out[-1][0] < high - 1) and time.monotonic() < deadline:
            for m in c.consume(num_messages=10000, timeout=0.5):
                if m.error() is not None:
                    continue  # retriable (e.g. KAFKA_STORAGE_ERROR): the consumer retries
                if m.offset() < high:
                    out.append((m.offset(), m.value().decode()))
        assert out and out[-1][0] == high - 1, (
            f"{topic}-{partition}: read up to {out[-1][0] if out else None}, high watermark {high}")
        return low, high, out
    finally:
        c.close()


class TrackingProducer:
    """An idempotent acks=all producer that remembers every acknowledged
    message as (partition, offset, value)."""

    def __init__(self, broker, **extra):
        conf = {"bootstrap.servers": broker.bootstrap, "acks": "all", "enable.idempotence": True,
                "linger.ms": 2, "message.timeout.ms": 20000, "retry.backoff.ms": 50,
                "reconnect.backoff.ms": 50, "reconnect.backoff.max.ms": 500}
        conf.update(extra)
        self.p = Producer(conf)
        self.acked = []
        self.failed = 0

    def _on_delivery(self, err, msg):
        if err is None:
            self.acked.append((msg.partition(), msg.offset(), msg.value().decode()))
        else:
            self.failed += 1

    def produce(self, topic, partition, value):
        while True:
            try:
                self.p.produce(topic, value=value.encode(), partition=partition, on_delivery=self._on_delivery)
                return
            except BufferError:
                self.p.poll(0.05)

    def poll(self, t=0):
        self.p.poll(t)

    def flush(self, timeout):
        return self.p.flush(timeout)
