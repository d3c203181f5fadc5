"""Which error the admin APIs answer when one request carries several
problems, as Kafka answers it. CreateTopics goes over a raw socket (v4,
non-flexible) so a request can carry what client libraries refuse to send
(0 partitions, replication factor 0, null config values); the other APIs
through confluent-kafka's admin client. Checked against Apache Kafka with
CARELOG_TEST_TARGET=kafka.

Kafka's order for CreateTopics: duplicates, topic name, existence
(TOPIC_ALREADY_EXISTS), configs (null values, unknown names, values, rules
across keys), replication factor, partitions, then placement."""

import struct

import pytest
from confluent_kafka import KafkaException
from confluent_kafka.admin import AlterConfigOpType, ConfigEntry, ConfigResource, NewPartitions

import wire
from kafka_util import admin_for, create_topic, unique

CREATE_TOPICS = 19
UNKNOWN_TOPIC = 3
INVALID_TOPIC = 17
TOPIC_ALREADY_EXISTS = 36
INVALID_PARTITIONS = 37
INVALID_REPLICATION_FACTOR = 38
INVALID_REPLICA_ASSIGNMENT = 39
INVALID_CONFIG = 40
INVALID_REQUEST = 42


def create_topics_v4(broker, topics, validate_only=True):
    """topics: dicts with name, partitions, rf, configs ({name: value|None}),
    assignments ([(partition, [broker ids])]). Returns {name: error code}."""
    body = struct.pack(">i", len(topics))
    for t in topics:
        body += wire.string(t["name"]) + struct.pack(">ih", t.get("partitions", 1), t.get("rf", 1))
        assignments = t.get("assignments", [])
        body += struct.pack(">i", len(assignments))
        for p, brokers in assignments:
            body += struct.pack(">ii", p, len(brokers)) + b"".join(struct.pack(">i", b) for b in brokers)
        configs = t.get("configs", {})
        body += struct.pack(">i", len(configs))
        for k, v in configs.items():
            body += wire.string(k) + wire.string(v)
    body += struct.pack(">i?", 30000, validate_only)
    with wire.Conn(broker) as conn:
        conn.send(wire.request(CREATE_TOPICS, 4, 7, body))
        payload = conn.recv_frame()
    pos = 8  # correlation id, throttle time
    count, = struct.unpack_from(">i", payload, pos)
    pos += 4
    out = {}
    for _ in range(count):
        n, = struct.unpack_from(">h", payload, pos)
        name = payload[pos + 2:pos + 2 + n].decode()
        pos += 2 + n
        err, mlen = struct.unpack_from(">hh", payload, pos)
        pos += 4 + max(mlen, 0)
        out[name] = err
    return out


@pytest.fixture(scope="module")
def admin(broker):
    return admin_for(broker)


@pytest.fixture(scope="module")
def existing(admin):
    return create_topic(admin, unique("adm-exists"), partitions=2)


EXISTING_CASES = {
    "compact": {"configs": {"cleanup.policy": "compact"}},
    "bogus-value": {"configs": {"retention.ms": "soon"}},
    "unknown-config": {"configs": {"no.such.config": "1"}},
    "null-config": {"configs": {"retention.ms": None}},
    "rf-3": {"rf": 3},
    "rf-0": {"rf": 0},
    "zero-partitions": {"partitions": 0},
    "assignment-and-count": {"partitions": 2, "rf": -1, "assignments": [(0, [1])]},
}


@pytest.mark.parametrize("case", list(EXISTING_CASES))
@pytest.mark.parametrize("validate_only", [True, False], ids=["validate-only", "create"])
def test_existing_topic_answers_already_exists_first(broker, existing, case, validate_only):
    topic = dict(EXISTING_CASES[case], name=existing)
    assert create_topics_v4(broker, [topic], validate_only) == {existing: TOPIC_ALREADY_EXISTS}


NEW_CASES = [
    # (case, topic fields, expected error)
    ("name-before-partitions", {"name": "adm bad name", "partitions": 0}, INVALID_TOPIC),
    ("name-before-configs", {"name": "adm/bad", "configs": {"no.such": "1"}}, INVALID_TOPIC),
    ("configs-before-partitions", {"partitions": 0, "configs": {"no.such": "1"}}, INVALID_CONFIG),
    ("value-before-partitions", {"partitions": 0, "configs": {"retention.ms": "x"}}, INVALID_CONFIG),
    ("configs-before-rf", {"rf": 3, "configs": {"no.such": "1"}}, INVALID_CONFIG),
    ("null-before-unknown", {"configs": {"retention.ms": None, "no.such": "1"}}, INVALID_CONFIG),
    ("configs-before-assignment", {"partitions": -1, "rf": -1, "assignments": [(0, [7])],
                                   "configs": {"no.such": "1"}}, INVALID_CONFIG),
    ("rf-before-partitions", {"partitions": 0, "rf": 0}, INVALID_REPLICATION_FACTOR),
    ("negative-rf", {"rf": -2}, INVALID_REPLICATION_FACTOR),
    ("partitions-before-placement", {"partitions": 0, "rf": 3}, INVALID_PARTITIONS),
    ("negative-partitions", {"partitions": -2}, INVALID_PARTITIONS),
    ("placement", {"partitions": 2, "rf": 3}, INVALID_REPLICATION_FACTOR),
    ("assignment-with-rf", {"partitions": -1, "rf": 1, "assignments": [(0, [1])]}, INVALID_REQUEST),
    ("assignment-with-count", {"partitions": 2, "rf": -1, "assignments": [(0, [1])]}, INVALID_REQUEST),
    ("assignment-unknown-broker", {"partitions": -1, "rf": -1, "assignments": [(0, [7])]},
     INVALID_REPLICA_ASSIGNMENT),
    ("assignment-gap", {"partitions": -1, "rf": -1, "assignments": [(1, [1])]}, INVALID_REPLICA_ASSIGNMENT),
    ("defaults", {"partitions": -1, "rf": -1}, 0),
]


@pytest.mark.parametrize("case,fields,expected", NEW_CASES, ids=[c[0] for c in NEW_CASES])
def test_new_topic_problems_in_kafkas_order(broker, case, fields, expected):
    topic = dict({"name": unique("adm-new")}, **fields)
    assert create_topics_v4(broker, [topic]) == {topic["name"]: expected}


def test_duplicates_and_collisions(broker, admin, existing):
    assert create_topics_v4(broker, [{"name": existing}, {"name": existing}]) == {existing: INVALID_REQUEST}
    underscore = create_topic(admin, unique("adm_col"))
    dotted = underscore.replace("_", ".")
    assert create_topics_v4(broker, [{"name": dotted}]) == {dotted: INVALID_TOPIC}


def test_create_partitions_count_before_assignment(admin, existing):
    def error(np):
        try:
            admin.create_partitions([np], validate_only=True)[np.topic].result(30)
            return 0
        except KafkaException as e:
            return e.args[0].code()
    assert error(NewPartitions(existing, 1, [[7]])) == INVALID_PARTITIONS  # decrease beats bad assignment
    assert error(NewPartitions(existing, 2)) == INVALID_PARTITIONS
    assert error(NewPartitions(existing, 5, [[1]])) == INVALID_REPLICA_ASSIGNMENT
    assert error(NewPartitions(existing, 3, [[7]])) == INVALID_REPLICA_ASSIGNMENT
    assert error(NewPartitions(unique("adm-missing"), 3, [[7]])) == UNKNOWN_TOPIC
    assert error(NewPartitions(existing, 3)) == 0


def incremental(admin, name, entries):
    res = ConfigResource(ConfigResource.Type.TOPIC, name, incremental_configs=entries)
    try:
        admin.incremental_alter_configs([res], validate_only=True)[res].result(30)
        return 0
    except KafkaException as e:
        return e.args[0].code()


def legacy_alter(admin, name, configs):
    res = ConfigResource(ConfigResource.Type.TOPIC, name, set_config=configs)
    try:
        admin.alter_configs([res], validate_only=True)[res].result(30)
        return 0
    except KafkaException as e:
        return e.args[0].code()


def test_alter_configs_name_then_operations_then_configs_then_existence(admin, existing):
    SET, APPEND = AlterConfigOpType.SET, AlterConfigOpType.APPEND
    DELETE = AlterConfigOpType.DELETE
    missing = unique("adm-missing")
    # Topic name first.
    assert incremental(admin, "adm/bad", [ConfigEntry("retention.ms", "x", incremental_operation=SET)]) \
        == INVALID_TOPIC
    assert legacy_alter(admin, "adm/bad", {"retention.ms": "x"}) == INVALID_TOPIC
    # APPEND to a non-list key, before unknown names and the topic's existence.
    assert incremental(admin, missing, [ConfigEntry("zz.zz", "1", incremental_operation=SET),
                                        ConfigEntry("retention.ms", "5", incremental_operation=APPEND)]) \
        == INVALID_CONFIG
    # Config validation before existence.
    assert incremental(admin, missing, [ConfigEntry("retention.ms", "x", incremental_operation=SET)]) \
        == INVALID_CONFIG
    assert legacy_alter(admin, missing, {"no.such": "1"}) == INVALID_CONFIG
    # Unknown names before bad values.
    assert incremental(admin, existing, [ConfigEntry("retention.ms", "x", incremental_operation=SET),
                                         ConfigEntry("zz.zz", "1", incremental_operation=SET)]) == INVALID_CONFIG
    # Valid configs, missing topic; deleting an unknown key is not a config error.
    assert incremental(admin, missing, [ConfigEntry("retention.ms", "1", incremental_operation=SET)]) \
        == UNKNOWN_TOPIC
    assert incremental(admin, missing, [ConfigEntry("zz.zz", None, incremental_operation=DELETE)]) \
        == UNKNOWN_TOPIC
    assert legacy_alter(admin, missing, {"retention.ms": "1"}) == UNKNOWN_TOPIC
    assert incremental(admin, existing, [ConfigEntry("zz.zz", None, incremental_operation=DELETE)]) == 0


def test_delete_topics_disabled_answers_every_entry_first(broker_factory):
    b = broker_factory({"delete.topic.enable": "false"})
    a = admin_for(b)
    name = create_topic(a, unique("adm-keep"))
    missing = unique("adm-missing")
    futures = a.delete_topics([name, missing], operation_timeout=30)
    for topic in (name, missing):
        with pytest.raises(KafkaException) as err:
            futures[topic].result(60)
        assert err.value.args[0].code() == 73, topic  # TOPIC_DELETION_DISABLED
    assert name in a.list_topics(timeout=10).topics
