"""Runs the kafkajs checks (tests/js, node's test runner) against a broker,
then reads back what kafkajs produced with librdkafka and compares.

kafkajs.test.js creates one topic per codec (`<prefix>-<codec>`, 3 partitions)
with the admin API, produces MESSAGES_PER_CODEC keyed, headered messages with
an idempotent producer and reads them back with a kafkajs group consumer. The
librdkafka pass here checks that the batches kafkajs wrote (including those
compressed by the snappy/lz4/zstd adapters in tests/js/codecs.js) are readable
by another client, with the same content and per-partition order."""

import os
import re
import subprocess
import time
from collections import defaultdict

from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

from brokers import ROOT
from kafka_util import CODECS, unique

JS_DIR = ROOT / "tests" / "js"
MESSAGES_PER_CODEC = 100_000
PARTITIONS = 3
KEYS = 31  # keyOf in kafkajs.test.js


def expected_value(codec, i):
    """valueOf in kafkajs.test.js."""
    return f"js-{codec}-value-{i}-{'x' * (i % 50)}".encode()


def read_topic(broker, topic, count):
    """All messages of `topic` by partition, read without a group."""
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": unique("js-nocommit"),
                  "enable.auto.commit": False})
    c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(PARTITIONS)])
    got = defaultdict(list)
    n = 0
    deadline = time.monotonic() + 60
    try:
        while n < count:
            assert time.monotonic() < deadline, f"{topic}: timed out with {n} of {count} messages"
            for m in c.consume(num_messages=10000, timeout=0.5):
                assert m.error() is None, m.error()
                got[m.partition()].append(m)
                n += 1
    finally:
        c.close()
    return got


def check_topic(codec, got):
    seen = set()
    key_partition = {}
    for part, msgs in got.items():
        assert 0 <= part < PARTITIONS
        assert [m.offset() for m in msgs] == list(range(len(msgs))), \
            f"{codec} partition {part}: offsets not dense from 0"
        seqs = []
        for m in msgs:
            headers = dict(m.headers())
            assert sorted(headers) == ["client", "codec", "seq"], headers
            i = int(headers["seq"])
            assert m.key() == f"key-{i % KEYS}".encode()
            assert m.value() == expected_value(codec, i)
            assert headers["client"] == b"kafkajs"
            assert headers["codec"] == codec.encode()
            assert key_partition.setdefault(m.key(), part) == part, f"{m.key()} in two partitions"
            seqs.append(i)
        assert seqs == sorted(seqs), f"{codec} partition {part}: order differs from produce order"
        seen.update(seqs)
    assert seen == set(range(MESSAGES_PER_CODEC)), f"{codec}: messages missing or duplicated"


def test_kafkajs(broker, report):
    prefix = unique("js")
    env = dict(os.environ, BOOTSTRAP_SERVERS=broker.bootstrap, TOPIC_PREFIX=prefix,
               MESSAGES_PER_CODEC=str(MESSAGES_PER_CODEC))
    out = subprocess.run(["node", "--test", "--test-reporter=spec", "kafkajs.test.js"], cwd=JS_DIR,
                         env=env, capture_output=True, text=True, timeout=300,
                         stdin=subprocess.DEVNULL)
    assert out.returncode == 0, f"node --test failed:\n{out.stdout[-6000:]}\n{out.stderr[-3000:]}"
    summary = out.stdout.replace("ℹ ", "")
    assert re.search(r"^pass 2$", summary, re.M), out.stdout[-2000:]
    assert "skipped 0" in summary, out.stdout[-2000:]
    timing = re.search(r"^kafkajs: .*$", out.stdout, re.M)
    if timing:
        report(timing.group(0))

    start = time.monotonic()
    for codec in CODECS:
        check_topic(codec, read_topic(broker, f"{prefix}-{codec}", MESSAGES_PER_CODEC))
    report(f"librdkafka read back of the kafkajs topics: "
           f"{len(CODECS) * MESSAGES_PER_CODEC} msgs in {time.monotonic() - start:.2f}s")
