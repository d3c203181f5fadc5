"""Acknowledged data survives a clean restart (SIGTERM) and a crash (kill -9)."""

from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition

from kafka_util import admin_for, create_topic, unique, wait_until


def produce(broker, topic, start, count):
    p = Producer({"bootstrap.servers": broker.bootstrap, "acks": "all", "enable.idempotence": True,
                  "linger.ms": 5})
    errors = []
    for i in range(start, start + count):
        p.produce(topic, key=f"k{i % 7}".encode(), value=f"v{i}".encode(), partition=i % 2,
                  on_delivery=lambda err, msg: err and errors.append(err))
    assert p.flush(60) == 0 and not errors, errors[:3]


def read_values(broker, topic, expected):
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": unique("restart-nocommit"),
                  "enable.auto.commit": False})
    c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in (0, 1)])
    got = {0: [], 1: []}
    try:
        def done():
            for m in c.consume(num_messages=1000, timeout=0.5):
                assert m.error() is None, m.error()
                got[m.partition()].append(int(m.value()[1:]))
            return sum(map(len, got.values())) >= expected
        wait_until(done, timeout=60, what=f"{expected} records")
    finally:
        c.close()
    return got


def test_data_survives_sigterm_and_kill9(broker_factory):
    b = broker_factory()
    topic = create_topic(admin_for(b), unique("restart"), partitions=2)
    produce(b, topic, 0, 1000)

    b.restart()  # SIGTERM, asserting a clean exit, then start on the same data dir
    got = read_values(b, topic, 1000)
    assert got == {0: list(range(0, 1000, 2)), 1: list(range(1, 1000, 2))}

    produce(b, topic, 1000, 1000)
    b.restart(hard=True)  # kill -9
    got = read_values(b, topic, 2000)
    assert got == {0: list(range(0, 2000, 2)), 1: list(range(1, 2000, 2))}

    # Still writable after recovery, at the next offsets.
    produce(b, topic, 2000, 2)
    got = read_values(b, topic, 2002)
    assert got[0][-1] == 2000 and got[1][-1] == 2001
