"""Runs the kafkajs checks (tests/js, node's test runner) against a broker,
then reads back what kafkajs produced with librdkafka and compares."""

import os
import subprocess
from collections import defaultdict

from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

from brokers import ROOT
from kafka_util import admin_for, create_topic, unique, wait_until

JS_DIR = ROOT / "tests" / "js"
MESSAGES = 10_000  # what kafkajs.test.js produces: 20 sends of 500


def test_kafkajs(broker):
    topic = create_topic(admin_for(broker), unique("js-produce"), partitions=3)
    env = dict(os.environ, BOOTSTRAP_SERVERS=broker.bootstrap, PRODUCE_TOPIC=topic)
    out = subprocess.run(["node", "--test", "--test-reporter=spec", "kafkajs.test.js"], cwd=JS_DIR,
                         env=env, capture_output=True, text=True, timeout=300,
                         stdin=subprocess.DEVNULL)
    assert out.returncode == 0, f"node --test failed:\n{out.stdout[-6000:]}\n{out.stderr[-3000:]}"
    assert "skipped 0" in out.stdout.replace("ℹ ", ""), out.stdout[-2000:]

    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": unique("js-nocommit"),
                  "enable.auto.commit": False})
    c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(3)])
    got = defaultdict(list)
    try:
        def done():
            for m in c.consume(num_messages=5000, timeout=0.5):
                assert m.error() is None, m.error()
                got[m.partition()].append(m)
            return sum(map(len, got.values())) >= MESSAGES
        wait_until(done, timeout=60, what="kafkajs messages")
    finally:
        c.close()

    seen = set()
    for part, msgs in got.items():
        seqs = []
        for m in msgs:
            i = int(dict(m.headers())["seq"])
            assert m.key() == f"key-{i % 31}".encode()
            assert m.value() == f"js-value-{i}".encode()
            assert dict(m.headers())["client"] == b"kafkajs"
            seqs.append(i)
        assert seqs == sorted(seqs), f"partition {part}: order differs from produce order"
        assert [m.offset() for m in msgs] == list(range(len(msgs)))
        seen.update(seqs)
    assert seen == set(range(MESSAGES))
