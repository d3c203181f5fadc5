"""Every topic config Apache Kafka 4.4 defines, through confluent-kafka's
admin client: accepted with Kafka's validation of its value, reported by
DescribeConfigs with its default, source and broker synonyms, and changeable
with IncrementalAlterConfigs. Runs unchanged against the reference Kafka
(CARELOG_TEST_TARGET=kafka), which is how the table below is checked."""

import pytest
from confluent_kafka import KafkaException
from confluent_kafka.admin import (AlterConfigOpType, ConfigEntry, ConfigResource, ConfigSource, NewTopic)

from kafka_util import admin_for, create_error, create_topic, unique

INVALID_CONFIG = 40
LONG_MAX = "9223372036854775807"

# name -> (default, the broker synonyms DescribeConfigs lists for it (Kafka
#          lists none while the primary broker synonym, e.g. log.retention.ms,
#          is unset), a valid non-default value, the value reported for it)
KAFKA_TOPIC_CONFIGS = {
    "cleanup.policy": ("delete", ["log.cleanup.policy"], "compact, delete", "compact,delete"),
    "compression.gzip.level": ("-1", ["compression.gzip.level"], "5", "5"),
    "compression.lz4.level": ("9", ["compression.lz4.level"], "12", "12"),
    "compression.type": ("producer", ["compression.type"], "producer", "producer"),
    "compression.zstd.level": ("3", ["compression.zstd.level"], "-7", "-7"),
    "delete.retention.ms": ("86400000", ["log.cleaner.delete.retention.ms"], "1000", "1000"),
    "errors.deadletterqueue.group.enable": ("false", [], "true", "true"),
    "file.delete.delay.ms": ("60000", ["log.segment.delete.delay.ms"], " 5000 ", "5000"),
    "flush.messages": (LONG_MAX, ["log.flush.interval.messages"], "1", "1"),
    "flush.ms": (LONG_MAX, [], "0", "0"),
    "follower.replication.throttled.replicas": ("", [], "0:1, 1:1", "0:1,1:1"),
    "index.interval.bytes": ("4096", ["log.index.interval.bytes"], "0", "0"),
    "leader.replication.throttled.replicas": ("", [], "*", "*"),
    "local.retention.bytes": ("-2", ["log.local.retention.bytes"], "1048576", "1048576"),
    "local.retention.ms": ("-2", ["log.local.retention.ms"], "-1", "-1"),
    "max.compaction.lag.ms": (LONG_MAX, ["log.cleaner.max.compaction.lag.ms"], "86400000", "86400000"),
    "max.decompressed.message.bytes": ("2147483639", ["max.decompressed.message.bytes"], "1048576", "1048576"),
    "max.message.bytes": ("1048588", ["message.max.bytes"], "2000000", "2000000"),
    "message.timestamp.after.max.ms": ("3600000", ["log.message.timestamp.after.max.ms"], "60000", "60000"),
    "message.timestamp.before.max.ms": (LONG_MAX, ["log.message.timestamp.before.max.ms"], "0", "0"),
    "message.timestamp.type": ("CreateTime", ["log.message.timestamp.type"], "LogAppendTime",
                               "LogAppendTime"),
    "min.cleanable.dirty.ratio": ("0.5", ["log.cleaner.min.cleanable.ratio"], "0.25", "0.25"),
    "min.compaction.lag.ms": ("0", ["log.cleaner.min.compaction.lag.ms"], "1000", "1000"),
    "min.insync.replicas": ("1", ["min.insync.replicas"], "1", "1"),
    "preallocate": ("false", ["log.preallocate"], "TRUE", "true"),
    "remote.copy.lag.bytes": ("-1", ["log.remote.copy.lag.bytes"], "1024", "1024"),
    "remote.copy.lag.ms": ("0", ["log.remote.copy.lag.ms"], "-1", "-1"),
    "remote.log.copy.disable": ("false", [], "true", "true"),
    "remote.log.delete.on.disable": ("false", [], "true", "true"),
    "remote.storage.enable": ("false", [], "false", "false"),
    "retention.bytes": ("-1", ["log.retention.bytes"], "-5", "-5"),
    "retention.ms": ("604800000", [], "3600000", "3600000"),
    "segment.bytes": ("1073741824", ["log.segment.bytes"], "1048576", "1048576"),
    "segment.index.bytes": ("10485760", ["log.index.size.max.bytes"], "4", "4"),
    "segment.jitter.ms": ("0", [], "100", "100"),
    "segment.ms": ("604800000", [], "1", "1"),
    "unclean.leader.election.enable": ("false", ["unclean.leader.election.enable"], "true", "true"),
}

# (key, value) pairs Kafka refuses with INVALID_CONFIG: type, range, choice
# and cross-key checks.
INVALID = [
    ("compression.gzip.level", "0"),
    ("compression.gzip.level", "10"),
    ("compression.lz4.level", "18"),
    ("compression.zstd.level", "23"),
    ("compression.zstd.level", "-131073"),
    ("delete.retention.ms", "-1"),
    ("errors.deadletterqueue.group.enable", "yes"),
    ("file.delete.delay.ms", "1.5"),
    ("flush.messages", "0"),
    ("flush.ms", "-1"),
    ("follower.replication.throttled.replicas", "0-1"),
    ("follower.replication.throttled.replicas", "*,0:1"),
    ("index.interval.bytes", "-1"),
    ("leader.replication.throttled.replicas", "a:1"),
    ("local.retention.bytes", "-3"),
    ("local.retention.ms", "-3"),
    ("max.compaction.lag.ms", "0"),
    ("max.decompressed.message.bytes", "0"),
    ("max.decompressed.message.bytes", "2147483640"),
    ("message.timestamp.after.max.ms", "-1"),
    ("message.timestamp.before.max.ms", "x"),
    ("min.cleanable.dirty.ratio", "1.5"),
    ("min.cleanable.dirty.ratio", "-0.1"),
    ("min.cleanable.dirty.ratio", "half"),
    ("min.compaction.lag.ms", "-1"),
    ("preallocate", "1"),
    ("remote.copy.lag.bytes", "-2"),
    ("remote.copy.lag.ms", "-2"),
    ("remote.log.copy.disable", "no"),
    ("retention.bytes", "9223372036854775808"),
    ("segment.bytes", "1048575"),
    ("segment.index.bytes", "3"),
    ("segment.jitter.ms", "-1"),
    ("segment.ms", "0"),
    # Kafka 4.0 removed it; Kafka 4.4 does not know the name.
    ("message.timestamp.difference.max.ms", "1000"),
]


@pytest.fixture(scope="module")
def admin(broker):
    return admin_for(broker)


def describe(admin, name):
    res = ConfigResource(ConfigResource.Type.TOPIC, name)
    return admin.describe_configs([res])[res].result(30)


def test_describe_lists_every_kafka_topic_config_with_default_and_synonyms(admin):
    name = create_topic(admin, unique("cfg-all"))
    entries = describe(admin, name)
    assert set(KAFKA_TOPIC_CONFIGS) <= set(entries), set(KAFKA_TOPIC_CONFIGS) - set(entries)
    extra = [n for n in entries if n not in KAFKA_TOPIC_CONFIGS and not n.startswith("carelog.")]
    assert not extra, f"configs Kafka 4.4 does not define: {extra}"
    for key, (default, synonyms, _, _) in KAFKA_TOPIC_CONFIGS.items():
        e = entries[key]
        assert e.value == default, (key, e.value)
        # Kafka's storage format sets min.insync.replicas as a cluster default.
        assert e.source in (ConfigSource.DEFAULT_CONFIG.value, ConfigSource.STATIC_BROKER_CONFIG.value,
                            ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG.value), key
        assert not e.is_read_only, key
        assert list(e.synonyms) == synonyms, (key, list(e.synonyms))


def test_create_with_every_kafka_topic_config_and_describe(admin):
    config = {k: v[2] for k, v in KAFKA_TOPIC_CONFIGS.items() if v[2] is not None}
    name = create_topic(admin, unique("cfg-set"), config=config)
    entries = describe(admin, name)
    for key, (_, _, value, shown) in KAFKA_TOPIC_CONFIGS.items():
        if value is None:
            continue
        e = entries[key]
        assert e.value == shown, (key, e.value)
        assert e.source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value, key
        assert list(e.synonyms)[0] == key, (key, list(e.synonyms))


@pytest.mark.parametrize("key,value", INVALID, ids=[f"{k}={v}" for k, v in INVALID])
def test_invalid_value_is_refused_with_invalid_config(admin, key, value):
    topic = NewTopic(unique("cfg-bad"), 1, 1, config={key: value})
    assert create_error(admin, topic) == INVALID_CONFIG
    assert topic.topic not in admin.list_topics(timeout=10).topics


def test_compaction_lag_conflict_is_refused(admin):
    topic = NewTopic(unique("cfg-lag"), 1, 1,
                     config={"min.compaction.lag.ms": "5000", "max.compaction.lag.ms": "1000"})
    assert create_error(admin, topic) == INVALID_CONFIG


def test_incremental_alter_sets_and_deletes_a_no_effect_config(admin):
    name = create_topic(admin, unique("cfg-alter"))
    res = ConfigResource(ConfigResource.Type.TOPIC, name, incremental_configs=[
        ConfigEntry("flush.ms", "1000", incremental_operation=AlterConfigOpType.SET),
        ConfigEntry("min.cleanable.dirty.ratio", "0.75", incremental_operation=AlterConfigOpType.SET)])
    admin.incremental_alter_configs([res])[res].result(30)
    entries = describe(admin, name)
    assert entries["flush.ms"].value == "1000"
    assert entries["flush.ms"].source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value
    assert entries["min.cleanable.dirty.ratio"].value == "0.75"

    res = ConfigResource(ConfigResource.Type.TOPIC, name, incremental_configs=[
        ConfigEntry("flush.ms", None, incremental_operation=AlterConfigOpType.DELETE)])
    admin.incremental_alter_configs([res])[res].result(30)
    assert describe(admin, name)["flush.ms"].value == LONG_MAX

    bad = ConfigResource(ConfigResource.Type.TOPIC, name, incremental_configs=[
        ConfigEntry("segment.bytes", "100", incremental_operation=AlterConfigOpType.SET)])
    with pytest.raises(KafkaException) as err:
        admin.incremental_alter_configs([bad])[bad].result(30)
    assert err.value.args[0].code() == INVALID_CONFIG
