"""Apache Kafka's own command-line tools (from .cache/kafka/libs, see
scripts/kafka-dist.sh) against the broker: topics, configs, console
producer/consumer, GetOffsetShell and DeleteRecordsCommand. The console
consumer reads by partition and offset, without a consumer group."""

import json
import subprocess

from kafka_util import unique
from reference_kafka import java_cmd


def tool(broker, main_class, *args, stdin=None, timeout=120):
    cmd = java_cmd(main_class, "--bootstrap-server", broker.bootstrap, *args)
    out = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, (f"{main_class} {args} exited {out.returncode}:\n"
                                 f"{out.stdout[-3000:]}\n{out.stderr[-3000:]}")
    return out.stdout


def topics(broker, *args):
    return tool(broker, "org.apache.kafka.tools.TopicCommand", *args)


def offsets(broker, topic, time_spec):
    """GetOffsetShell output as {partition: offset}."""
    text = tool(broker, "org.apache.kafka.tools.GetOffsetShell", "--topic", topic,
                "--time", str(time_spec))
    result = {}
    for line in text.splitlines():
        name, part, off = line.rsplit(":", 2)
        assert name == topic, line
        result[int(part)] = int(off)
    return result


def test_topic_command_lifecycle(broker):
    topic = unique("cli-topics")
    topics(broker, "--create", "--topic", topic, "--partitions", "2", "--replication-factor", "1",
           "--config", "retention.ms=7200000")
    assert topic in topics(broker, "--list").split()

    desc = topics(broker, "--describe", "--topic", topic)
    assert f"Topic: {topic}" in desc and "PartitionCount: 2" in desc
    assert "retention.ms=7200000" in desc
    assert "Partition: 0" in desc and "Partition: 1" in desc

    topics(broker, "--alter", "--topic", topic, "--partitions", "4")
    assert "PartitionCount: 4" in topics(broker, "--describe", "--topic", topic)

    topics(broker, "--delete", "--topic", topic)
    # Deletion may complete asynchronously; --list must drop it soon after.
    for _ in range(20):
        if topic not in topics(broker, "--list").split():
            break
    else:
        raise AssertionError(f"{topic} still listed after --delete")


def test_config_command_alter_and_describe(broker):
    topic = unique("cli-configs")
    topics(broker, "--create", "--topic", topic, "--partitions", "1", "--replication-factor", "1")
    configs = "org.apache.kafka.tools.ConfigCommand"
    tool(broker, configs, "--entity-type", "topics", "--entity-name", topic, "--alter",
         "--add-config", "retention.ms=123456,max.message.bytes=65536")
    desc = tool(broker, configs, "--entity-type", "topics", "--entity-name", topic, "--describe")
    assert "retention.ms=123456" in desc and "max.message.bytes=65536" in desc

    tool(broker, configs, "--entity-type", "topics", "--entity-name", topic, "--alter",
         "--delete-config", "retention.ms")
    desc = tool(broker, configs, "--entity-type", "topics", "--entity-name", topic, "--describe")
    assert "retention.ms=" not in desc and "max.message.bytes=65536" in desc


def test_console_tools_offsets_and_delete_records(broker, tmp_path):
    topic = unique("cli-console")
    topics(broker, "--create", "--topic", topic, "--partitions", "1", "--replication-factor", "1")
    lines = [f"key{i}:value {i}" for i in range(50)]
    tool(broker, "org.apache.kafka.tools.ConsoleProducer", "--topic", topic,
         "--property", "parse.key=true", "--property", "key.separator=:",
         "--command-property", "acks=all", stdin="\n".join(lines) + "\n")

    assert offsets(broker, topic, -2) == {0: 0}   # earliest
    assert offsets(broker, topic, -1) == {0: 50}  # latest

    def consume(offset, count):
        out = tool(broker, "org.apache.kafka.tools.consumer.ConsoleConsumer", "--topic", topic,
                   "--partition", "0", "--offset", str(offset), "--max-messages", str(count),
                   "--timeout-ms", "30000", "--command-property", "enable.auto.commit=false",
                   "--property", "print.key=true", "--property", "print.offset=true")
        return [line for line in out.splitlines() if line.startswith("Offset:")]

    got = consume("earliest", 50)
    assert got == [f"Offset:{i}\tkey{i}\tvalue {i}" for i in range(50)]

    spec = tmp_path / "delete.json"
    spec.write_text(json.dumps({"version": 1,
                                "partitions": [{"topic": topic, "partition": 0, "offset": 20}]}))
    out = tool(broker, "org.apache.kafka.tools.DeleteRecordsCommand", "--offset-json-file", str(spec))
    assert "low_watermark: 20" in out
    assert offsets(broker, topic, -2) == {0: 20}
    assert offsets(broker, topic, -1) == {0: 50}
    got = consume("earliest", 30)
    assert got == [f"Offset:{i}\tkey{i}\tvalue {i}" for i in range(20, 50)]


def log_dirs(broker, topic):
    """kafka-log-dirs.sh --describe for one topic: {partition: size}, and the log dirs."""
    text = tool(broker, "org.apache.kafka.tools.LogDirsCommand", "--describe", "--topic-list", topic)
    doc = json.loads(next(line for line in text.splitlines() if line.startswith("{")))
    [b] = doc["brokers"]
    sizes = {}
    for d in b["logDirs"]:
        assert d["error"] is None, d
        for p in d["partitions"]:
            name, part = p["partition"].rsplit("-", 1)
            assert name == topic and p["offsetLag"] == 0 and p["isFuture"] is False, p
            sizes[int(part)] = p["size"]
    return sizes, b["logDirs"]


def test_log_dirs_command_reports_partition_sizes(broker):
    """kafka-log-dirs.sh --describe (DescribeLogDirs): one entry per
    partition of the topic with its size, which grows with what is produced."""
    topic = unique("logdirs")
    topics(broker, "--create", "--topic", topic, "--partitions", "2")
    tool(broker, "org.apache.kafka.tools.ConsoleProducer", "--topic", topic,
         stdin="".join(f"message-{i:04d}-" + "x" * 100 + "\n" for i in range(200)))
    before, dirs = log_dirs(broker, topic)
    assert set(before) == {0, 1} and sum(before.values()) > 200 * 100, before
    tool(broker, "org.apache.kafka.tools.ConsoleProducer", "--topic", topic,
         stdin="".join("y" * 500 + "\n" for _ in range(200)))
    after, _ = log_dirs(broker, topic)
    assert sum(after.values()) >= sum(before.values()) + 200 * 500, (before, after)
