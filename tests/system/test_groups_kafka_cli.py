"""Kafka's own kafka-consumer-groups tool (ConsumerGroupCommand, from
.cache/kafka/libs) against a group with committed offsets: list, describe
with lag, reset offsets, delete."""

import subprocess

from confluent_kafka import Consumer, Producer, TopicPartition

from kafka_util import admin_for, create_topic, unique, wait_until
from reference_kafka import java_cmd

TOOL = "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand"


def groups_tool(broker, *args):
    cmd = java_cmd(TOOL, "--bootstrap-server", broker.bootstrap, *args)
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, f"{args} exited {out.returncode}:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
    return out.stdout


def describe_rows(text, group):
    """{partition: (current, log_end, lag)} from --describe --offsets output."""
    rows = {}
    for line in text.splitlines():
        cols = line.split()
        if len(cols) >= 6 and cols[0] == group:
            rows[int(cols[2])] = tuple(cols[3:6])
    return rows


def test_groups_kafka_consumer_groups_tool(broker):
    admin = admin_for(broker)
    topic = create_topic(admin, unique("grpcli"), partitions=2)
    group = unique("gcli")
    p = Producer({"bootstrap.servers": broker.bootstrap})
    for i in range(30):
        p.produce(topic, value=b"x", partition=i % 2)
    assert p.flush(30) == 0
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": group, "enable.auto.commit": False})
    c.commit(offsets=[TopicPartition(topic, 0, 10), TopicPartition(topic, 1, 15)], asynchronous=False)
    c.close()

    assert group in groups_tool(broker, "--list").split()
    rows = describe_rows(groups_tool(broker, "--describe", "--group", group, "--offsets"), group)
    assert rows == {0: ("10", "15", "5"), 1: ("15", "15", "0")}, rows

    out = groups_tool(broker, "--reset-offsets", "--group", group, "--topic", topic,
                      "--to-earliest", "--execute")
    assert topic in out
    rows = describe_rows(groups_tool(broker, "--describe", "--group", group, "--offsets"), group)
    assert rows == {0: ("0", "15", "15"), 1: ("0", "15", "15")}, rows

    # A live member shows up in --members, and the group cannot be deleted.
    live = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": group,
                     "client.id": "cli-member"})
    live.subscribe([topic])
    try:
        def joined():
            live.poll(0.2)
            return "cli-member" in groups_tool(broker, "--describe", "--group", group, "--members")
        wait_until(joined, timeout=60, what="member visible to kafka-consumer-groups")
    finally:
        live.close()
    wait_until(lambda: "Empty" in groups_tool(broker, "--describe", "--group", group, "--state"),
               timeout=30, what="group empty again")
    out = groups_tool(broker, "--delete", "--group", group)
    assert "successful" in out.lower() and "not successful" not in out.lower(), out
    assert group not in groups_tool(broker, "--list").split()
