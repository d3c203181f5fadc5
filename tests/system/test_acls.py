"""Kafka ACLs on carelogd: Kafka's own kafka-acls tool and `carelog acl`
manage them (CreateAcls/DescribeAcls/DeleteAcls), and an ACL matrix over
SASL_PLAINTEXT: a principal without the ACL is denied with Kafka's error,
and allowed once the ACL is added; prefixed ACLs; DENY beats ALLOW; super
users pass everything. Brokers without authorizer.class.name answer the ACL
APIs with SECURITY_DISABLED and allow everything (checked by every other
system test)."""

import json
import os
import subprocess
import time
from pathlib import Path

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewPartitions, NewTopic

from brokers import ROOT, CarelogBroker, free_port
from kafka_util import unique
from reference_kafka import java_cmd

CLI = Path(os.environ.get("CARELOG_CLI", ROOT / "build" / "bin" / "carelog"))
ACLS = "org.apache.kafka.tools.AclCommand"
STANDARD = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"


def carelog(*args, bootstrap, expect=0):
    if not CLI.exists():
        pytest.fail(f"{CLI} not built (run `make build`)")
    out = subprocess.run([str(CLI), "--bootstrap-server", bootstrap, *args], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == expect, (f"carelog {' '.join(args)} exited {out.returncode}, expected {expect}\n"
                                      f"stdout:\n{out.stdout}\nstderr:\n{out.stderr}")
    return out


def kafka_acls(bootstrap, *args):
    out = subprocess.run(java_cmd(ACLS, "--bootstrap-server", bootstrap, *args), capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, f"kafka-acls {args} exited {out.returncode}:\n{out.stdout}\n{out.stderr}"
    return out.stdout


def acl_rows(bootstrap, *filters):
    return json.loads(carelog("--output", "json", "acl", "list", *filters, bootstrap=bootstrap).stdout)


def test_acl_apis_without_authorizer_are_security_disabled(broker):
    err = carelog("acl", "list", bootstrap=broker.bootstrap, expect=1).stderr
    assert "SECURITY_DISABLED" in err
    err = carelog("acl", "add", "--allow-principal", "User:x", "--operation", "Read", "--topic", "t",
                  bootstrap=broker.bootstrap, expect=1).stderr
    assert "SECURITY_DISABLED" in err


def test_kafka_acls_tool_and_carelog_acl(broker_factory):
    # PLAINTEXT clients are User:ANONYMOUS; make it the super user to manage ACLs.
    b = broker_factory({"authorizer.class.name": STANDARD, "super.users": "User:ANONYMOUS"})
    bs = b.bootstrap
    kafka_acls(bs, "--add", "--allow-principal", "User:alice", "--operation", "Read", "--operation", "Describe",
               "--topic", "orders")
    kafka_acls(bs, "--add", "--deny-principal", "User:bob", "--operation", "All", "--topic", "pii-",
               "--resource-pattern-type", "prefixed", "--allow-host", "*", "--deny-host", "10.0.0.9")
    kafka_acls(bs, "--add", "--allow-principal", "User:alice", "--operation", "Read", "--group", "app")
    listed = kafka_acls(bs, "--list", "--topic", "orders")
    assert "User:alice" in listed and "READ" in listed and "DESCRIBE" in listed

    rows = acl_rows(bs)
    assert {(r["resource_type"], r["resource_name"], r["pattern_type"], r["principal"], r["host"], r["operation"],
             r["permission"]) for r in rows} == {
        ("TOPIC", "orders", "LITERAL", "User:alice", "*", "READ", "ALLOW"),
        ("TOPIC", "orders", "LITERAL", "User:alice", "*", "DESCRIBE", "ALLOW"),
        ("TOPIC", "pii-", "PREFIXED", "User:bob", "10.0.0.9", "ALL", "DENY"),
        ("GROUP", "app", "LITERAL", "User:alice", "*", "READ", "ALLOW"),
    }
    # The same ACLs through `carelog acl`, and a MATCH lookup finds the prefixed one.
    carelog("acl", "add", "--allow-principal", "User:carol", "--operation", "Write", "--topic", "logs-",
            "--resource-pattern-type", "prefixed", bootstrap=bs)
    match = acl_rows(bs, "--topic", "logs-app", "--resource-pattern-type", "match")
    assert [(r["resource_name"], r["principal"]) for r in match] == [("logs-", "User:carol")]
    assert len(acl_rows(bs, "--principal", "User:alice")) == 3

    kafka_acls(bs, "--remove", "--force", "--allow-principal", "User:alice", "--operation", "Describe",
               "--topic", "orders")
    carelog("acl", "remove", "--topic", "logs-", "--resource-pattern-type", "prefixed", bootstrap=bs)
    assert len(acl_rows(bs)) == 3
    # ACLs survive a restart (metadata store).
    b.restart()
    assert len(acl_rows(b.bootstrap)) == 3
    # Invalid input is INVALID_REQUEST, not a crash.
    err = carelog("acl", "add", "--allow-principal", "alice", "--operation", "Read", "--topic", "t",
                  bootstrap=b.bootstrap, expect=1).stderr
    assert "INVALID_REQUEST" in err


# ------------------------------------------------------------- ACL matrix

def _sasl(b, user):
    return {"bootstrap.servers": f"127.0.0.1:{b.sasl_port}", "security.protocol": "SASL_PLAINTEXT",
            "sasl.mechanism": "SCRAM-SHA-512", "sasl.username": user, "sasl.password": f"{user}-pw"}


@pytest.fixture
def acl_broker(tmp_path):
    """Authorizer on; admin (super user), alice and mallory as SCRAM users; a
    PLAINTEXT listener for readiness and a SASL_PLAINTEXT one for the matrix."""
    b = CarelogBroker(tmp_path / "acl")
    db = f"sqlite://{b.data_dir}/metadata.db"
    for user in ("admin", "alice", "mallory"):
        subprocess.run([str(CLI), "user", "add", user, "--metadata", db, "--password", f"{user}-pw"],
                       check=True, capture_output=True, timeout=60)
    b.sasl_port = free_port()
    b.overrides.update({"listeners": f"PLAINTEXT://127.0.0.1:{b.port},SASL_PLAINTEXT://127.0.0.1:{b.sasl_port}",
                        "authorizer.class.name": STANDARD, "super.users": "User:admin"})
    b.start()
    b.admin = AdminClient(_sasl(b, "admin"))
    yield b
    b.stop_clean()


def add_acl(b, *args):
    """Adds one ACL as the super user over SASL (confluent-kafka's CreateAcls);
    args in kafka-acls flag style."""
    admin = b.admin
    from confluent_kafka.admin import (AclBinding, AclOperation, AclPermissionType, ResourcePatternType,
                                       ResourceType)
    parsed = dict(zip(args[0::2], args[1::2]))
    op = getattr(AclOperation, parsed["--operation"].upper())
    perm = AclPermissionType.DENY if "--deny-principal" in parsed else AclPermissionType.ALLOW
    principal = parsed.get("--allow-principal") or parsed.get("--deny-principal")
    if "--topic" in parsed:
        rtype, name = ResourceType.TOPIC, parsed["--topic"]
    elif "--group" in parsed:
        rtype, name = ResourceType.GROUP, parsed["--group"]
    else:
        rtype, name = ResourceType.BROKER, "kafka-cluster"
    pattern = ResourcePatternType.PREFIXED if parsed.get("--resource-pattern-type") == "prefixed" \
        else ResourcePatternType.LITERAL
    binding = AclBinding(rtype, name, pattern, principal, "*", op, perm)
    for f in admin.create_acls([binding], request_timeout=15).values():
        f.result()


def produce_error(b, user, topic):
    p = Producer({**_sasl(b, user), "message.timeout.ms": 8000, "enable.idempotence": False,
                  "allow.auto.create.topics": False})
    errors = []
    p.produce(topic, b"v", on_delivery=lambda err, msg: errors.append(err))
    p.flush(15)
    assert errors, f"no delivery report for {user} producing to {topic}"
    return errors[0].code() if errors[0] else None


def consume_error(b, user, topic, group):
    c = Consumer({**_sasl(b, user), "group.id": group, "auto.offset.reset": "earliest",
                  "enable.auto.commit": False})
    try:
        c.subscribe([topic])
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            m = c.poll(1.0)
            if m is None:
                continue
            if m.error():
                return m.error().code()
            return None
        return "timeout"
    finally:
        c.close()


def admin_error(future):
    try:
        future.result()
        return None
    except KafkaException as e:
        return e.args[0].code()


def test_acl_matrix(acl_broker):
    b = acl_broker
    topic, app_topic, group = unique("orders"), unique("app-events"), unique("billing")
    for f in b.admin.create_topics([NewTopic(topic, 1), NewTopic(app_topic, 1)]).values():
        f.result()
    # The super user can do anything, e.g. produce.
    assert produce_error(b, "admin", topic) is None

    alice = AdminClient(_sasl(b, "alice"))
    # Metadata hides topics alice may not describe.
    assert topic not in alice.list_topics(timeout=10).topics

    # CreateTopics: CREATE on the cluster or topic.
    assert admin_error(alice.create_topics([NewTopic("alice-new", 1)])["alice-new"]) == \
        KafkaError.TOPIC_AUTHORIZATION_FAILED
    add_acl(b, "--allow-principal", "User:alice", "--operation", "Create", "--topic", "alice-new")
    assert admin_error(alice.create_topics([NewTopic("alice-new", 1)])["alice-new"]) is None

    # Produce: WRITE on the topic.
    assert produce_error(b, "alice", topic) == KafkaError.TOPIC_AUTHORIZATION_FAILED
    add_acl(b, "--allow-principal", "User:alice", "--operation", "Write", "--topic", topic)
    assert produce_error(b, "alice", topic) is None
    assert topic in alice.list_topics(timeout=10).topics  # WRITE implies DESCRIBE

    # Consume: READ on the group, then READ on the topic.
    assert consume_error(b, "alice", topic, group) == KafkaError.GROUP_AUTHORIZATION_FAILED
    add_acl(b, "--allow-principal", "User:alice", "--operation", "Read", "--group", group)
    assert consume_error(b, "alice", topic, group) == KafkaError.TOPIC_AUTHORIZATION_FAILED
    add_acl(b, "--allow-principal", "User:alice", "--operation", "Read", "--topic", topic)
    assert consume_error(b, "alice", topic, group) is None

    # CreatePartitions: ALTER; DeleteTopics: DELETE.
    assert admin_error(alice.create_partitions([NewPartitions(topic, 2)])[topic]) == \
        KafkaError.TOPIC_AUTHORIZATION_FAILED
    add_acl(b, "--allow-principal", "User:alice", "--operation", "Alter", "--topic", topic)
    assert admin_error(alice.create_partitions([NewPartitions(topic, 2)])[topic]) is None
    assert admin_error(alice.delete_topics(["alice-new"])["alice-new"]) == KafkaError.TOPIC_AUTHORIZATION_FAILED

    # Prefixed ACL: app-* for alice; DENY beats ALLOW for mallory.
    assert produce_error(b, "alice", app_topic) == KafkaError.TOPIC_AUTHORIZATION_FAILED
    add_acl(b, "--allow-principal", "User:alice", "--operation", "Write", "--topic", "app-",
                     "--resource-pattern-type", "prefixed")
    assert produce_error(b, "alice", app_topic) is None
    add_acl(b, "--allow-principal", "User:*", "--operation", "Write", "--topic", "app-",
                     "--resource-pattern-type", "prefixed")
    add_acl(b, "--deny-principal", "User:mallory", "--operation", "Write", "--topic", app_topic)
    assert produce_error(b, "mallory", app_topic) == KafkaError.TOPIC_AUTHORIZATION_FAILED
    assert produce_error(b, "alice", app_topic) is None

    # ACL APIs need ALTER/DESCRIBE on the cluster.
    err = carelog("acl", "list", bootstrap=b.bootstrap, expect=1).stderr  # PLAINTEXT = User:ANONYMOUS
    assert "CLUSTER_AUTHORIZATION_FAILED" in err
