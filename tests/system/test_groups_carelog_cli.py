"""`carelog group list|describe|reset-offsets|delete` against the broker
(build/bin/carelog, or $CARELOG_CLI)."""

import json
import os
import subprocess
from pathlib import Path

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from brokers import ROOT
from kafka_util import admin_for, create_topic, unique

CLI = Path(os.environ.get("CARELOG_CLI", ROOT / "build" / "bin" / "carelog"))


def cli(broker, *args, expect=0, output=None):
    if not CLI.exists():
        pytest.fail(f"{CLI} not built")
    cmd = [str(CLI), "--bootstrap-server", broker.bootstrap]
    if output:
        cmd += ["--output", output]
    out = subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=120)
    assert out.returncode == expect, (f"carelog {' '.join(args)} exited {out.returncode}, expected {expect}\n"
                                      f"stdout:\n{out.stdout}\nstderr:\n{out.stderr}")
    return out


def test_groups_carelog_cli(broker):
    topic = create_topic(admin_for(broker), unique("grpcarelog"), partitions=2)
    group = unique("gcarelog")
    p = Producer({"bootstrap.servers": broker.bootstrap})
    for i in range(20):
        p.produce(topic, value=b"x", partition=i % 2)
    assert p.flush(30) == 0
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": group, "enable.auto.commit": False})
    c.commit(offsets=[TopicPartition(topic, 0, 4), TopicPartition(topic, 1, 10)], asynchronous=False)
    c.close()

    listed = json.loads(cli(broker, "group", "list", output="json").stdout)
    assert {"group": group, "state": "Empty", "protocol_type": ""} in listed

    desc = json.loads(cli(broker, "group", "describe", group, output="json").stdout)
    lag = {(x["topic"], x["partition"]): (x["current_offset"], x["log_end_offset"], x["lag"])
           for x in desc["partitions"]}
    assert lag == {(topic, 0): (4, 10, 6), (topic, 1): (10, 10, 0)}
    text = cli(broker, "group", "describe", group).stdout
    assert "LAG" in text and "State: Empty" in text

    dry = cli(broker, "group", "reset-offsets", group, "--topic", topic, "--to-offset", "3").stdout
    assert "dry run" in dry
    desc = json.loads(cli(broker, "group", "describe", group, output="json").stdout)
    assert [x["current_offset"] for x in desc["partitions"]] == [4, 10]  # unchanged
    cli(broker, "group", "reset-offsets", group, "--topic", topic, "--to-earliest", "--execute")
    desc = json.loads(cli(broker, "group", "describe", group, output="json").stdout)
    assert [x["lag"] for x in desc["partitions"]] == [10, 10]
    cli(broker, "group", "reset-offsets", group, "--topic", topic, expect=2)  # no mode given

    out = cli(broker, "group", "delete", group, unique("missing"), expect=1)
    assert f"Deleted group {group}." in out.stdout
    assert "GROUP_ID_NOT_FOUND" in out.stderr
    assert group not in cli(broker, "group", "list").stdout
