"""Governance (docs/governance.md): the topic catalog as ordinary topic
configs and the policy the broker enforces, driven by real clients:
Kafka's kafka-topics and kafka-configs (Java AdminClient), kcat,
confluent-kafka over SASL_SSL, and `carelog catalog` / `carelog policy check`.

One enforce-mode broker with every listener, the StandardAuthorizer and a
policy file serves most tests; a warn-mode broker and a fresh broker serve
`policy check` and the catalog round trip."""

import json
import os
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer
from confluent_kafka.admin import (AclBinding, AclOperation, AclPermissionType, AdminClient, NewTopic,
                                   ResourcePatternType, ResourceType)

from brokers import ROOT, CarelogBroker, free_port
from kafka_util import unique, wait_until
from reference_kafka import java_cmd
from tls_fixture import PASSWORD, USER, create_scram_user, pki, start_secure_broker  # noqa: F401

pytestmark = pytest.mark.skipif(os.environ.get("CARELOG_TEST_TARGET", "carelog") != "carelog",
                                reason="governance is Carelog's own (Kafka rejects carelog.* configs)")

CLI = Path(os.environ.get("CARELOG_CLI", ROOT / "build" / "bin" / "carelog"))
STANDARD = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
TOPICS = "org.apache.kafka.tools.TopicCommand"
CONFIGS = "org.apache.kafka.tools.ConfigCommand"

POLICY = {
    "version": 1,
    "required": ["carelog.owner", "carelog.classification"],
    "retention_classes": {
        "short": {"retention_ms": {"min": 3600000, "max": 604800000}},
        "clinical": {"retention_ms": {"min": 86400000, "max": -1}, "compaction": False},
    },
    "namespaces": [{"prefix": "clinical.", "owner": "clinical-data"}],
    "rules": {"ephi": {"required": ["carelog.consumers.approved"], "secure_transport": True,
                       "explicit_acls": True, "audit_access": True, "approved_consumers_only": True}},
}
EPHI = "clinical.vitals"
APPROVED_GROUP = "ephi-readers"


def write_policy(path, policy):
    # Write-then-rename: the broker never reads a half-written file.
    tmp = path.with_suffix(".tmp")
    tmp.write_text(policy if isinstance(policy, str) else json.dumps(policy))
    os.replace(tmp, path)


def tool(bootstrap, main_class, *args):
    return subprocess.run(java_cmd(main_class, "--bootstrap-server", bootstrap, *args), capture_output=True,
                          text=True, timeout=120)


def carelog(bootstrap, *args, expect=0):
    out = subprocess.run([str(CLI), "--bootstrap-server", bootstrap, *args], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == expect, (f"carelog {' '.join(args)} exited {out.returncode}, expected {expect}\n"
                                      f"stdout:\n{out.stdout}\nstderr:\n{out.stderr}")
    return out


def create(admin, name, config, partitions=1):
    f = admin.create_topics([NewTopic(name, partitions, 1, config=config)], request_timeout=30)[name]
    try:
        f.result(timeout=30)
        return None
    except KafkaException as e:
        return e.args[0]


@pytest.fixture(scope="module")
def gov(pki, tmp_path_factory):  # noqa: F811
    """Enforce mode, policy file re-read every 200 ms, StandardAuthorizer with
    the PLAINTEXT listener's User:ANONYMOUS as super user (the admin), alice
    a SCRAM user with ACLs on the ePHI topic."""
    d = tmp_path_factory.mktemp("governance")
    policy = d / "policy.json"
    write_policy(policy, POLICY)
    http = free_port()
    sb = start_secure_broker(d / "broker", pki, **{
        "governance.mode": "enforce", "governance.policy.file": str(policy),
        "governance.policy.check.interval.ms": "200", "authorizer.class.name": STANDARD,
        "super.users": "User:ANONYMOUS", "admin.http.listener": f"127.0.0.1:{http}"})
    create_scram_user(sb)
    sb.policy = policy
    sb.http = http
    sb.admin = AdminClient({"bootstrap.servers": sb.addr("PLAINTEXT")})
    assert create(sb.admin, EPHI, {"carelog.owner": "clinical-data", "carelog.classification": "ephi",
                                   "carelog.retention.class": "clinical", "retention.ms": "172800000",
                                   "carelog.consumers.approved": f"group:{APPROVED_GROUP}",
                                   "carelog.schema.owner": "fhir-team", "carelog.action.path": "critical"}) is None
    acls = [AclBinding(ResourceType.TOPIC, EPHI, ResourcePatternType.LITERAL, f"User:{USER}", "*", op,
                       AclPermissionType.ALLOW) for op in (AclOperation.READ, AclOperation.WRITE)]
    acls.append(AclBinding(ResourceType.GROUP, "ephi-", ResourcePatternType.PREFIXED, f"User:{USER}", "*",
                           AclOperation.READ, AclPermissionType.ALLOW))
    for f in sb.admin.create_acls(acls, request_timeout=30).values():
        f.result(timeout=30)
    yield sb
    sb.broker.stop_clean()


# ---------------------------------------------------------------- admin

def test_kafka_topics_create_needs_catalog_keys_and_retention_in_bounds(gov):
    bs = gov.addr("PLAINTEXT")
    name = unique("orders")
    out = tool(bs, TOPICS, "--create", "--topic", name)
    assert out.returncode != 0
    text = out.stdout + out.stderr
    assert "PolicyViolationException" in text and "needs carelog.owner" in text, text
    assert "needs carelog.classification" in text and "Governance policy required" in text, text

    base = {"carelog.owner": "orders-team", "carelog.classification": "internal", "carelog.retention.class": "short"}
    err = create(gov.admin, name, {**base, "retention.ms": "60000"})
    assert err is not None and err.code() == KafkaError.POLICY_VIOLATION
    assert "retention.ms=60000 is outside retention class short" in err.str()
    err = create(gov.admin, "clinical.notes", {"carelog.owner": "claims", "carelog.classification": "internal"})
    assert err is not None and "topics named clinical.* belong to clinical-data" in err.str()
    assert create(gov.admin, name, {**base, "retention.ms": "7200000"}, partitions=2) is None

    # kafka-configs: the catalog keys with their sources; an alter outside the class's bounds is refused.
    out = tool(bs, CONFIGS, "--describe", "--entity-type", "topics", "--entity-name", name, "--all")
    assert out.returncode == 0, out.stderr
    assert "carelog.owner=orders-team" in out.stdout and "DYNAMIC_TOPIC_CONFIG:carelog.owner=orders-team" in out.stdout
    assert "carelog.sunset=null" in out.stdout or "carelog.sunset=" in out.stdout
    out = tool(bs, CONFIGS, "--alter", "--entity-type", "topics", "--entity-name", name,
               "--add-config", "retention.ms=999999999999")
    assert out.returncode != 0 and "outside retention class short" in out.stdout + out.stderr
    out = tool(bs, CONFIGS, "--alter", "--entity-type", "topics", "--entity-name", name,
               "--delete-config", "carelog.owner")
    assert out.returncode != 0 and "needs carelog.owner" in out.stdout + out.stderr
    out = tool(bs, CONFIGS, "--alter", "--entity-type", "topics", "--entity-name", name,
               "--add-config", "carelog.access.group=orders-readers,retention.ms=86400000")
    assert out.returncode == 0, out.stdout + out.stderr
    # Bad syntax is INVALID_CONFIG, named.
    err = create(gov.admin, unique("bad"), {"carelog.owner": "t", "carelog.classification": "internal",
                                             "carelog.sunset": "next tuesday"})
    assert err is not None and err.code() == KafkaError.INVALID_CONFIG and "carelog.sunset" in err.str()
    err = create(gov.admin, unique("bad"), {"carelog.owner": "t", "carelog.classification": "secret"})
    assert err is not None and err.code() == KafkaError.POLICY_VIOLATION
    assert "carelog.classification=secret is not one of" in err.str()


# ---------------------------------------------------------------- ePHI

def _sasl(gov, **extra):
    return {"bootstrap.servers": gov.addr("SASL_SSL"), "security.protocol": "SASL_SSL",
            "sasl.mechanism": "SCRAM-SHA-512", "sasl.username": USER, "sasl.password": PASSWORD,
            "ssl.ca.location": gov.pki.path("ca.pem"), **extra}


def _consume(conf, topic, n, timeout=30):
    c = Consumer({**conf, "auto.offset.reset": "earliest", "enable.auto.commit": False})
    c.subscribe([topic])
    got, errors = [], []
    deadline = time.monotonic() + timeout
    while len(got) < n and not errors and time.monotonic() < deadline:
        m = c.poll(0.5)
        if m is None:
            continue
        if m.error():
            if m.error().code() != KafkaError._PARTITION_EOF:
                errors.append(m.error())
        else:
            got.append(m.value().decode())
    c.close()
    return got, errors


def test_ephi_topic_served_only_to_approved_consumers_over_tls(gov):
    p = Producer(_sasl(gov))
    for i in range(5):
        p.produce(EPHI, value=f"obs-{i}".encode())
    assert p.flush(30) == 0

    # The same principal: an approved group reads, another group is refused.
    got, errors = _consume(_sasl(gov, **{"group.id": APPROVED_GROUP}), EPHI, 5)
    assert got == [f"obs-{i}" for i in range(5)] and not errors
    got, errors = _consume(_sasl(gov, **{"group.id": "ephi-other"}), EPHI, 1, timeout=20)
    assert not got and errors and errors[0].code() == KafkaError.GROUP_AUTHORIZATION_FAILED, errors

    # PLAINTEXT kcat consumer (the super user, even) is refused.
    kcat = subprocess.Popen(["kcat", "-b", gov.addr("PLAINTEXT"), "-C", "-t", EPHI, "-o", "beginning", "-e"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = kcat.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        kcat.kill()
        out, err = kcat.communicate()
    assert "obs-" not in out
    assert "authorization failed" in err.lower(), err
    # PLAINTEXT produce too.
    p = Producer({"bootstrap.servers": gov.addr("PLAINTEXT")})
    results = []
    p.produce(EPHI, value=b"leak", on_delivery=lambda e, m: results.append(e))
    p.flush(30)
    assert results and results[0] is not None and results[0].code() == KafkaError.TOPIC_AUTHORIZATION_FAILED

    log = gov.log()
    assert "rules.ephi.secure_transport" in log and "rules.ephi.approved_consumers_only" in log
    # The refusals and the forced access audit are in the audit stream, with the rule.
    audit = subprocess.run(["kcat", "-b", gov.addr("PLAINTEXT"), "-C", "-t", "__carelog_audit", "-o",
                            "beginning", "-e", "-q"], capture_output=True, text=True, timeout=60).stdout
    assert "governance refused by rules.ephi.secure_transport" in audit
    assert "governance refused by rules.ephi.approved_consumers_only" in audit
    assert any('"Produce"' in line or "Produce" in line for line in audit.splitlines() if EPHI in line)


def test_offsets_of_ephi_topics_only_for_approved_groups(gov):
    """OffsetCommit and OffsetFetch follow carelog.consumers.approved as Fetch
    and JoinGroup do: another group of the same principal can neither store
    nor read progress on the ePHI topic; the approved group can."""
    from confluent_kafka import TopicPartition

    def commit_and_read(group, offset):
        c = Consumer({**_sasl(gov, **{"group.id": group}), "enable.auto.commit": False})
        try:
            try:
                c.commit(offsets=[TopicPartition(EPHI, 0, offset)], asynchronous=False)
                commit_error = None
            except KafkaException as e:
                commit_error = e.args[0].code()
            [tp] = c.committed([TopicPartition(EPHI, 0)], timeout=30)
            return commit_error, tp.offset, tp.error.code() if tp.error else None
        except KafkaException as e:
            return commit_error, None, e.args[0].code()
        finally:
            c.close()

    assert commit_and_read(APPROVED_GROUP, 3) == (None, 3, None)
    commit_error, _, fetch_error = commit_and_read("ephi-unapproved", 2)
    assert commit_error == KafkaError.TOPIC_AUTHORIZATION_FAILED
    assert fetch_error == KafkaError.TOPIC_AUTHORIZATION_FAILED
    audit = subprocess.run(["kcat", "-b", gov.addr("PLAINTEXT"), "-C", "-t", "__carelog_audit", "-o",
                            "beginning", "-e", "-q"], capture_output=True, text=True, timeout=60).stdout
    refused = [line for line in audit.splitlines() if "ephi-unapproved" in line or "OffsetCommit" in line]
    assert any("OffsetCommit" in line and "approved_consumers_only" in line for line in refused), refused[-5:]
    assert any("OffsetFetch" in line and "approved_consumers_only" in line for line in audit.splitlines())


def test_wildcard_acl_on_ephi_topic_refused_in_enforce(gov):
    b = AclBinding(ResourceType.TOPIC, "clinical.", ResourcePatternType.PREFIXED, "User:*", "*",
                   AclOperation.READ, AclPermissionType.ALLOW)
    f = gov.admin.create_acls([b], request_timeout=30)[b]
    with pytest.raises(KafkaException) as e:
        f.result(timeout=30)
    assert e.value.args[0].code() == KafkaError.POLICY_VIOLATION
    assert "rules.ephi.explicit_acls" in e.value.args[0].str()


def test_sunset_topic_refuses_produce(gov):
    name = unique("orders-old")
    assert create(gov.admin, name, {"carelog.owner": "orders-team", "carelog.classification": "internal",
                                     "carelog.deprecated.since": "2000-01-01", "carelog.sunset": "2001-01-01",
                                     "carelog.replaced.by": "orders.v2"}) is None
    p = Producer({"bootstrap.servers": gov.addr("PLAINTEXT")})
    results = []
    p.produce(name, value=b"late", on_delivery=lambda e, m: results.append(e))
    p.flush(30)
    assert results and results[0] is not None and results[0].code() == KafkaError.TOPIC_AUTHORIZATION_FAILED
    wait_until(lambda: "passed its sunset date" in gov.log() and "orders.v2" in gov.log(), 10, "sunset log")


def test_policy_file_hot_reload_and_broken_file_kept(gov):
    def health():
        with urllib.request.urlopen(f"http://127.0.0.1:{gov.http}/health", timeout=10) as r:
            return json.loads(r.read())["checks"]["governance"]

    base = {"carelog.owner": "orders-team", "carelog.classification": "internal"}
    try:
        stricter = dict(POLICY, required=POLICY["required"] + ["carelog.schema.owner"])
        write_policy(gov.policy, stricter)
        wait_until(lambda: create(gov.admin, unique("r"), base) is not None, 15, "the new policy")
        err = create(gov.admin, unique("r"), base)
        assert err.code() == KafkaError.POLICY_VIOLATION and "needs carelog.schema.owner" in err.str()

        write_policy(gov.policy, '{"version": 1, "required": ["carelog.owner"], "rules": {"nope": {}}}')
        wait_until(lambda: not health()["ok"], 15, "the rejected reload in /health")
        assert "'nope' is not in classifications" in health()["reason"]
        assert "governance policy reload rejected" in gov.log()
        err = create(gov.admin, unique("r"), base)  # the stricter policy still holds
        assert err is not None and "needs carelog.schema.owner" in err.str()
        assert create(gov.admin, unique("r"), {**base, "carelog.schema.owner": "fhir-team"}) is None
    finally:
        write_policy(gov.policy, POLICY)
        wait_until(lambda: health()["ok"], 15, "the original policy")


# ---------------------------------------------------------------- CLI

def test_catalog_export_import_round_trip(gov, tmp_path):
    out = carelog(gov.addr("PLAINTEXT"), "catalog", "list")
    assert EPHI in out.stdout and "clinical-data" in out.stdout and "ephi" in out.stdout
    md = carelog(gov.addr("PLAINTEXT"), "catalog", "export", "--format", "markdown").stdout
    assert md.startswith("| Topic | Owner |") and f"| {EPHI} | clinical-data | fhir-team | ephi |" in md
    show = json.loads(carelog(gov.addr("PLAINTEXT"), "catalog", "show", EPHI, "--format", "json").stdout)
    assert show["catalog"]["carelog.consumers.approved"] == f"group:{APPROVED_GROUP}"
    assert any(g["group"] == APPROVED_GROUP for g in show["live"]["consumer_groups"]) or show["live"]["messages"] >= 0
    # Bytes stored come from DescribeLogDirs: present, and > 0 once the topic holds messages.
    assert show["live"]["bytes"] is not None and (show["live"]["bytes"] > 0) == (show["live"]["messages"] > 0), show
    assert "BYTES" in out.stdout.splitlines()[0]

    exported = carelog(gov.addr("PLAINTEXT"), "catalog", "export").stdout
    (tmp_path / "catalog.json").write_text(exported)
    # A fresh broker under the same policy file.
    fresh = CarelogBroker(tmp_path / "fresh", {"governance.policy.file": str(gov.policy)})
    fresh.start()
    try:
        carelog(fresh.bootstrap, "catalog", "import", str(tmp_path / "catalog.json"))
        again = json.loads(carelog(fresh.bootstrap, "catalog", "export").stdout)
    finally:
        fresh.stop_clean()

    def shape(doc):
        return {t["name"]: (t["partitions"], t["catalog"], t["configs"]) for t in doc["topics"]}
    assert shape(again) == shape(json.loads(exported))
    assert shape(again)[EPHI][1]["carelog.classification"] == "ephi"


def test_policy_check_reports_wildcard_acl_in_warn_mode(broker_factory):
    b = broker_factory({"governance.mode": "warn", "authorizer.class.name": STANDARD,
                        "super.users": "User:ANONYMOUS"})
    admin = AdminClient({"bootstrap.servers": b.bootstrap})
    clean = carelog(b.bootstrap, "policy", "check")
    assert "No violations" in clean.stdout
    assert create(admin, "clinical.labs", {"carelog.owner": "clinical-data", "carelog.classification": "ephi"}) is None
    acl = AclBinding(ResourceType.TOPIC, "clinical.labs", ResourcePatternType.LITERAL, "User:*", "*",
                     AclOperation.READ, AclPermissionType.ALLOW)
    for f in admin.create_acls([acl], request_timeout=30).values():
        f.result(timeout=30)  # warn: allowed, logged and audited
    out = carelog(b.bootstrap, "--output", "json", "policy", "check", expect=1)
    found = json.loads(out.stdout)
    assert found["mode"] == "warn"
    rules = {(v["rule"], v["resource"].split(" ")[0]) for v in found["violations"]}
    assert ("rules.ephi.explicit_acls", "acl") in rules, found
    assert ("rules.ephi.secure_transport", "listener") in rules, found
    assert any("User:*" in v["message"] for v in found["violations"])
    assert "governance warning: CreateAcls" in b.log_path.read_text(errors="replace")


def test_critical_topic_latency_alerts(broker_factory):
    """carelog.action.path=critical: a produce acknowledged later than the
    topic's carelog.latency.alert.ms raises an alert: counted per topic in
    /metrics, logged and audited (once a minute per topic, with the count).
    Topics not on the critical path, or under their threshold, raise none."""
    http = free_port()
    b = broker_factory({"governance.mode": "warn", "admin.http.listener": f"127.0.0.1:{http}"})
    admin = AdminClient({"bootstrap.servers": b.bootstrap})
    catalog = {"carelog.owner": "clinical-data", "carelog.classification": "internal"}
    assert create(admin, "clinical.alarms", {**catalog, "carelog.action.path": "critical",
                                             "carelog.latency.alert.ms": "0"}) is None
    assert create(admin, "clinical.calm", {**catalog, "carelog.action.path": "critical",
                                           "carelog.latency.alert.ms": "600000"}) is None
    assert create(admin, "clinical.reports", {**catalog, "carelog.action.path": "replay",
                                              "carelog.latency.alert.ms": "0"}) is None
    p = Producer({"bootstrap.servers": b.bootstrap, "acks": "all", "linger.ms": 0})
    for topic in ("clinical.alarms", "clinical.calm", "clinical.reports"):
        for i in range(20):
            p.produce(topic, value=b"v%d" % i)
            p.flush(30)
    metrics = urllib.request.urlopen(f"http://127.0.0.1:{http}/metrics", timeout=10).read().decode()
    counts = {line.split('"')[1]: int(line.split()[-1]) for line in metrics.splitlines()
              if line.startswith("carelog_governance_latency_alerts_total{")}
    assert counts.get("clinical.alarms", 0) >= 20 and set(counts) == {"clinical.alarms"}, counts
    assert 'carelog_governance_latency_alert_max_ms{topic="clinical.alarms"}' in metrics
    log = b.log_path.read_text(errors="replace")
    assert "latency alert on clinical.alarms" in log and "latency alert on clinical.calm" not in log
    # One audit event so far (the next comes a minute later, with the count since).
    audit = subprocess.run(["kcat", "-b", b.bootstrap, "-C", "-t", "__carelog_audit", "-o", "beginning", "-e",
                            "-q"], capture_output=True, text=True, timeout=60).stdout
    alerts = [line for line in audit.splitlines() if "carelog.latency.alert.ms" in line]
    assert len(alerts) == 1 and "clinical.alarms" in alerts[0] and "1 alert(s) since the last report" in alerts[0]


def test_policy_check_replay_topics(broker_factory, tmp_path):
    """carelog.action.path=replay: `policy check` holds replay topics to the
    history a replay from the log start expects. A retention class must
    state the window, retention must be by time, a topic that keeps
    everything must still start at offset 0 (Kafka's DeleteRecordsCommand
    cuts it here), and the batch at each partition's log start must be
    readable through Fetch (here its object is deleted from the store)."""
    policy = tmp_path / "policy.json"
    write_policy(policy, POLICY)
    # No audit topic: the objects removed below would take its chain with
    # them, and a broker refuses to start on a broken audit chain.
    b = broker_factory({"governance.mode": "warn", "governance.policy.file": str(policy), "audit.enable": "false",
                        "upload.interval.ms": "200", "compaction.interval.ms": "0"})
    admin = AdminClient({"bootstrap.servers": b.bootstrap})
    replay = {"carelog.owner": "claims", "carelog.classification": "internal", "carelog.action.path": "replay",
              "carelog.retention.class": "clinical", "retention.ms": "-1"}
    assert create(admin, "claims.history", replay, partitions=3) is None
    assert create(admin, "claims.cut", replay, partitions=2) is None
    p = Producer({"bootstrap.servers": b.bootstrap, "acks": "all", "linger.ms": 5})
    for topic, partitions in (("claims.history", 3), ("claims.cut", 2)):
        for i in range(300):
            p.produce(topic, key=b"k%d" % i, value=b"claim-%d" % i, partition=i % partitions)
        assert p.flush(30) == 0

    clean = json.loads(carelog(b.bootstrap, "--output", "json", "policy", "check").stdout)
    assert clean["violations"] == [] and clean["replay_topics"] == 2 and clean["replay_partitions_read"] == 5, clean

    # Configuration rules: no retention class; size-based retention.
    assert create(admin, "claims.unstated", {k: v for k, v in replay.items() if k != "carelog.retention.class"}) \
        is None
    assert create(admin, "claims.sized", {**replay, "retention.bytes": "1000000"}) is None
    # History cut by DeleteRecords on a topic that keeps everything.
    spec = tmp_path / "delete.json"
    spec.write_text(json.dumps({"version": 1, "partitions": [{"topic": "claims.cut", "partition": 1,
                                                             "offset": 40}]}))
    out = tool(b.bootstrap, "org.apache.kafka.tools.DeleteRecordsCommand", "--offset-json-file", str(spec))
    assert out.returncode == 0 and "low_watermark: 40" in out.stdout, out.stdout + out.stderr
    found = json.loads(carelog(b.bootstrap, "--output", "json", "policy", "check", expect=1).stdout)
    rules = {(v["resource"], v["rule"]) for v in found["violations"]}
    assert rules == {("topic claims.unstated", "replay.retention_class"),
                     ("topic claims.sized", "replay.retention_bytes"),
                     ("topic claims.cut", "replay.history")}, found
    cut = next(v for v in found["violations"] if v["rule"] == "replay.history")
    assert "partition 1 starts at offset 40" in cut["message"] and "offsets 0..39" in cut["message"], cut
    text = carelog(b.bootstrap, "policy", "check", expect=1).stdout
    assert "Replay topics: 4 checked" in text and "replay.history" in text, text

    # The objects go missing (a bucket lifecycle rule expiring them, a
    # hand-deleted prefix): after a restart nothing holds those batches but
    # the objects, and a replay from the log start fails there.
    def indexed():
        r = subprocess.run([str(CLI), "-o", "json", "replay-check", "claims.history", "--data-dir",
                            str(b.data_dir), "--wal-dir", "none"], capture_output=True, text=True, timeout=60)
        return r.stdout and sum(x["index_records"] for x in json.loads(r.stdout)["reports"][0]["partitions"]) >= 300
    wait_until(indexed, 30, "uploads to cover claims.history")
    b.stop_clean()
    objects = [f for f in (b.data_dir / "objects").rglob("*") if f.is_file() and "wal" not in f.parts]
    assert objects, list((b.data_dir / "objects").rglob("*"))
    for f in objects:
        f.unlink()
    b.start()
    found = json.loads(carelog(b.bootstrap, "--output", "json", "policy", "check", expect=1).stdout)
    unreadable = {v["resource"]: v["message"] for v in found["violations"] if v["rule"] == "replay.readable"}
    assert set(unreadable) == {"partition claims.history-0", "partition claims.history-1",
                               "partition claims.history-2", "partition claims.cut-0",
                               "partition claims.cut-1"}, found
    assert all("cannot be replayed from its log start" in m and "KAFKA_STORAGE_ERROR" in m
               for m in unreadable.values()), unreadable
    skipped = json.loads(carelog(b.bootstrap, "--output", "json", "policy", "check", "--skip-replay-read",
                                 expect=1).stdout)
    assert not [v for v in skipped["violations"] if v["rule"] == "replay.readable"]
    assert skipped["replay_partitions_read"] == 0
