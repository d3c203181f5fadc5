"""The `carelog` admin CLI (build/bin/carelog, or $CARELOG_CLI) against the
broker: every subcommand, text and JSON output, Kafka error names and exit
codes (0 ok, 1 Kafka/connection error, 2 usage error). Offsets are checked
after producing with confluent-kafka."""

import json
import os
import subprocess
from pathlib import Path

import pytest
from confluent_kafka import Producer

from brokers import ROOT, free_port
from kafka_util import unique, wait_until

CLI = Path(os.environ.get("CARELOG_CLI", ROOT / "build" / "bin" / "carelog"))


def cli(broker, *args, expect=0, output=None):
    if not CLI.exists():
        pytest.fail(f"{CLI} not built (run `make build`)")
    cmd = [str(CLI), "--bootstrap-server", broker.bootstrap, "--timeout-ms", "30000"]
    if output:
        cmd += ["--output", output]
    out = subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=120)
    assert out.returncode == expect, (f"carelog {' '.join(args)} exited {out.returncode}, expected {expect}\n"
                                      f"stdout:\n{out.stdout}\nstderr:\n{out.stderr}")
    return out


def cli_json(broker, *args, expect=0):
    return json.loads(cli(broker, *args, expect=expect, output="json").stdout)


def listed(broker):
    return cli(broker, "topic", "list").stdout.split()


def test_topic_lifecycle(broker):
    topic = unique("cli")
    out = cli(broker, "topic", "create", topic, "--partitions", "3", "--replication-factor", "1",
              "--config", "retention.ms=7200000")
    assert out.stdout.strip() == f"Created topic {topic}."
    assert topic in listed(broker)

    desc = cli(broker, "topic", "describe", topic).stdout
    header = desc.splitlines()[0]
    assert header.startswith(f"Topic: {topic}\tTopicId: ")
    assert "PartitionCount: 3" in header and "ReplicationFactor: 1" in header
    assert "retention.ms=7200000" in header
    # Defaults are hidden unless --all-configs.
    assert "cleanup.policy=" not in header
    for p in range(3):
        assert f"\tTopic: {topic}\tPartition: {p}\tLeader: " in desc
    assert "cleanup.policy=delete" in cli(broker, "topic", "describe", topic, "--all-configs").stdout

    [info] = cli_json(broker, "topic", "describe", topic)
    assert info["name"] == topic and info["partition_count"] == 3 and info["replication_factor"] == 1
    assert len(info["topic_id"]) == 22
    assert [p["partition"] for p in info["partitions"]] == [0, 1, 2]
    assert all(p["leader"] >= 0 and p["error"] is None for p in info["partitions"])
    overrides = {c["name"]: c for c in info["configs"]}
    assert overrides["retention.ms"]["value"] == "7200000"
    assert overrides["retention.ms"]["source"] == "DYNAMIC_TOPIC_CONFIG"

    cli(broker, "topic", "add-partitions", topic, "--partitions", "5")
    wait_until(lambda: cli_json(broker, "topic", "describe", topic)[0]["partition_count"] == 5,
               what="partition count 5")

    cli(broker, "topic", "alter-config", topic, "--set", "retention.ms=3600000", "--set", "segment.ms=600000")
    configs = {c["name"]: c["value"] for c in cli_json(broker, "topic", "describe", topic)[0]["configs"]}
    assert configs["retention.ms"] == "3600000" and configs["segment.ms"] == "600000"
    cli(broker, "topic", "alter-config", topic, "--delete", "segment.ms")
    configs = {c["name"]: c["value"] for c in cli_json(broker, "topic", "describe", topic)[0]["configs"]}
    assert "segment.ms" not in configs and configs["retention.ms"] == "3600000"

    out = cli(broker, "topic", "delete", topic)
    assert out.stdout.strip() == f"Deleted topic {topic}."
    wait_until(lambda: topic not in listed(broker), what="topic gone from list")


def test_create_errors_and_if_not_exists(broker):
    topic = unique("cli-dup")
    cli(broker, "topic", "create", topic)
    out = cli(broker, "topic", "create", topic, expect=1)
    assert "Error: TOPIC_ALREADY_EXISTS" in out.stderr
    out = cli(broker, "topic", "create", topic, "--if-not-exists")
    assert out.stdout == ""
    out = cli(broker, "topic", "create", unique("cli-bad"), "--config", "retention.ms=notanumber", expect=1)
    assert "Error: INVALID_CONFIG" in out.stderr
    out = cli(broker, "topic", "create", unique("cli-bad"), "--config", "no.such.config=1", expect=1)
    assert "Error: INVALID_CONFIG" in out.stderr
    out = cli(broker, "topic", "create", "bad/name", expect=1)
    assert "Error: INVALID_TOPIC_EXCEPTION" in out.stderr
    [res] = cli_json(broker, "topic", "create", topic, expect=1)
    assert res["ok"] is False and res["error"] == "TOPIC_ALREADY_EXISTS"
    cli(broker, "topic", "delete", topic)


def test_missing_topics(broker):
    missing = unique("cli-missing")
    out = cli(broker, "topic", "describe", missing, expect=1)
    assert "Error: UNKNOWN_TOPIC_OR_PARTITION" in out.stderr
    out = cli(broker, "topic", "delete", missing, expect=1)
    assert "Error: UNKNOWN_TOPIC_OR_PARTITION" in out.stderr
    cli(broker, "topic", "delete", missing, "--if-exists")
    out = cli(broker, "topic", "add-partitions", missing, "--partitions", "2", expect=1)
    assert "Error: UNKNOWN_TOPIC_OR_PARTITION" in out.stderr
    out = cli(broker, "offsets", missing, expect=1)
    assert "Error: UNKNOWN_TOPIC_OR_PARTITION" in out.stderr
    # Asking about a topic never creates it.
    assert missing not in listed(broker)


def test_add_partitions_cannot_shrink(broker):
    topic = unique("cli-shrink")
    cli(broker, "topic", "create", topic, "--partitions", "2")
    out = cli(broker, "topic", "add-partitions", topic, "--partitions", "1", expect=1)
    assert "Error: INVALID_PARTITIONS" in out.stderr
    cli(broker, "topic", "delete", topic)


def test_list_json_and_describe_all(broker):
    topics = [unique("cli-list") for _ in range(2)]
    for t in topics:
        cli(broker, "topic", "create", t)
    names = cli_json(broker, "topic", "list")
    assert set(topics) <= set(names) and names == sorted(names)
    described = {d["name"] for d in cli_json(broker, "topic", "describe")}
    assert set(topics) <= described
    assert not any(n.startswith("__") for n in cli_json(broker, "topic", "list", "--exclude-internal"))
    cli(broker, "topic", "delete", *topics)


def test_cluster_info(broker):
    out = cli(broker, "cluster", "info").stdout
    assert out.startswith("Cluster ID: ")
    assert f"127.0.0.1  {broker.port}" in out
    info = cli_json(broker, "cluster", "info", "--api-versions")
    assert info["cluster_id"]
    assert info["controller_id"] in [b["id"] for b in info["brokers"]]
    assert [b["port"] for b in info["brokers"]] == [broker.port]
    apis = {a["api_key"]: a for a in info["api_versions"]}
    for key in (0, 1, 2, 3, 18, 19, 20):  # Produce, Fetch, ListOffsets, Metadata, ApiVersions, Create/DeleteTopics
        assert apis[key]["used_version"] is not None, apis.get(key)
    text = cli(broker, "cluster", "info", "--api-versions").stdout
    assert "API VERSIONS" in text and "Metadata" in text


def test_offsets_after_produce(broker):
    topic = unique("cli-offsets")
    cli(broker, "topic", "create", topic, "--partitions", "2")
    p = Producer({"bootstrap.servers": broker.bootstrap})
    for i in range(7):
        p.produce(topic, value=b"v%d" % i, partition=i % 2)
    assert p.flush(30) == 0
    res = cli_json(broker, "offsets", topic)
    assert res["topic"] == topic
    got = {x["partition"]: (x["earliest"], x["latest"], x["error"]) for x in res["partitions"]}
    assert got == {0: (0, 4, None), 1: (0, 3, None)}
    text = cli(broker, "offsets", topic).stdout.splitlines()
    assert text[0].split() == ["TOPIC", "PARTITION", "EARLIEST", "LATEST", "ERROR"]
    assert text[1].split() == [topic, "0", "0", "4"]
    cli(broker, "topic", "delete", topic)


def test_usage_and_connection_errors(broker):
    run = lambda *a: subprocess.run([str(CLI), *a], capture_output=True, text=True, timeout=60)  # noqa: E731
    assert run("--help").returncode == 0
    assert run().returncode == 2
    assert run("topic", "frobnicate").returncode == 2
    assert run("--output", "xml", "topic", "list").returncode == 2
    assert run("-b", broker.bootstrap, "topic", "create", "x", "--config", "novalue").returncode == 2
    dead = run("-b", f"127.0.0.1:{free_port()}", "--timeout-ms", "3000", "topic", "list")
    assert dead.returncode == 1 and "Error: NETWORK_EXCEPTION" in dead.stderr
    env = dict(os.environ, CARELOG_BOOTSTRAP_SERVER=broker.bootstrap)
    out = subprocess.run([str(CLI), "cluster", "info"], capture_output=True, text=True, timeout=60, env=env)
    assert out.returncode == 0, out.stderr
