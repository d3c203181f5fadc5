"""The tamper-evident audit stream (docs/audit.md): admin changes and data
access to topics marked carelog.audit.access=true land in __carelog_audit as
hash-chained FHIR AuditEvent JSON, readable by a regular client; the audit
topic cannot be deleted, truncated, written by clients or given a retention
below audit.retention.min.ms; `carelog audit verify` checks the chain in
object storage and pinpoints a hand-edited record.

Authorization denials (recorded by server/authorize.cpp) are checked with
the StandardAuthorizer on; authentication events (server/sasl_session.cpp)
need a SASL listener and are not asserted here.
"""

import hashlib
import json
import os
import struct
import subprocess
import time
from pathlib import Path

import pytest
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic

from kafka_util import create_topic, wait_until
from test_log_hygiene import PAYLOAD_MARKER
from wire import crc32c

ROOT = Path(__file__).resolve().parents[2]
CLI = Path(os.environ.get("CARELOG_CLI", ROOT / "build" / "bin" / "carelog"))
AUDIT_TOPIC = "__carelog_audit"
GENESIS = "0" * 64

pytestmark = pytest.mark.skipif(os.environ.get("CARELOG_TEST_TARGET", "carelog") != "carelog",
                                reason="Carelog's audit stream")


def edit_object(path, needle, replacement):
    """Replaces `needle` (inside one record value) by a same-length
    `replacement` and re-seals the object: batch CRC, range CRC, index CRC
    and footer CRC, so only the audit hash chain can notice the edit."""
    assert len(needle) == len(replacement)
    data = bytearray(path.read_bytes())
    at = data.find(needle)
    assert at >= 0
    data[at:at + len(needle)] = replacement
    index_pos, index_len, _length, count = struct.unpack_from(">QQQI", data, len(data) - 44)
    for i in range(count):
        e = index_pos + 72 * i
        pos, length = struct.unpack_from(">QQ", data, e + 48)
        if not pos <= at < pos + length:
            continue
        b = pos  # find the batch holding the edit
        while b < pos + length:
            size = 12 + struct.unpack_from(">i", data, b + 8)[0]
            if b <= at < b + size:
                struct.pack_into(">I", data, b + 17, crc32c(data[b + 21:b + size]))
                break
            b += size
        struct.pack_into(">I", data, e + 64, crc32c(data[pos:pos + length]))
    struct.pack_into(">I", data, len(data) - 44 + 28, crc32c(data[index_pos:index_pos + index_len]))
    struct.pack_into(">I", data, len(data) - 44 + 36, crc32c(data[len(data) - 44:len(data) - 8]))
    path.write_bytes(bytes(data))


def read_audit(bootstrap, want, timeout=30.0):
    """Audit records (offset, key, value bytes, parsed) until want(records) holds."""
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": f"audit-reader-{time.time()}",
                  "enable.auto.commit": False})
    c.assign([TopicPartition(AUDIT_TOPIC, 0, 0)])
    records = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            m = c.poll(0.5)
            if m is not None and not m.error():
                records.append((m.offset(), m.key().decode(), m.value(), json.loads(m.value())))
            elif m is None and want(records):
                return records
    finally:
        c.close()
    raise AssertionError(f"audit records never satisfied the check; got {len(records)}")


def find(records, api, name=None):
    return [r for r in records if r[3]["subtype"][0]["code"] == api
            and (name is None or r[3].get("entity", [{}])[0].get("name") == name)]


def detail(event, kind):
    for d in event["entity"][0].get("detail", []):
        if d["type"] == kind:
            return d["valueString"]
    return None


def admin_error(future):
    try:
        future.result(30)
    except KafkaException as e:
        return e.args[0]
    return None


def run_cli(*args):
    return subprocess.run([str(CLI), *args], capture_output=True, text=True, timeout=60)


def test_audit_stream_events_protection_and_verify(broker_factory, secret_marker):
    b = broker_factory({"upload.interval.ms": "200", "audit.retention.min.ms": "86400000"})
    admin = AdminClient({"bootstrap.servers": b.bootstrap, "client.id": "audit-admin"})

    # Admin changes.
    create_topic(admin, "patients", config={"carelog.audit.access": "true"})
    create_topic(admin, "quiet")
    create_topic(admin, "scratch")
    res = ConfigResource("topic", "scratch", set_config={"retention.ms": "3600000"})
    admin.alter_configs([res])[res].result(30)
    admin.delete_topics(["scratch"])["scratch"].result(30)

    # Data access: the marked topic is audited, the other is not.
    value = secret_marker(f"{PAYLOAD_MARKER}-audit")
    key = secret_marker(f"{PAYLOAD_MARKER}-audit-key")
    p = Producer({"bootstrap.servers": b.bootstrap, "client.id": "ehr-writer", "linger.ms": 50})
    for i in range(5):
        p.produce("patients", key=key, value=f"{value}-{i}")
    p.flush(15)
    p.produce("quiet", value=value)
    p.flush(15)
    c = Consumer({"bootstrap.servers": b.bootstrap, "group.id": "ehr-reader", "client.id": "ehr-reader",
                  "auto.offset.reset": "earliest"})
    c.subscribe(["patients"])
    got = []

    def poll_one():
        m = c.poll(0.5)
        if m is not None and not m.error():
            got.append(m)
        return len(got) >= 5

    wait_until(poll_one, what="consumed patients")
    c.close()

    # Protection of the audit topic, even for this (anonymous, unrestricted) client.
    err = admin_error(admin.delete_topics([AUDIT_TOPIC])[AUDIT_TOPIC])
    assert err is not None and err.name() == "TOPIC_DELETION_DISABLED", err
    for cfg in ({"retention.ms": "1000"}, {"retention.bytes": "1048576"}):
        res = ConfigResource("topic", AUDIT_TOPIC, set_config=cfg)
        err = admin_error(admin.alter_configs([res])[res])
        assert err is not None and err.name() == "POLICY_VIOLATION", (cfg, err)
    res = ConfigResource("topic", AUDIT_TOPIC, set_config={"retention.ms": str(90 * 86400000)})
    admin.alter_configs([res])[res].result(30)  # longer retention is fine
    futs = admin.delete_records([TopicPartition(AUDIT_TOPIC, 0, 1)])
    err = admin_error(list(futs.values())[0])
    assert err is not None and err.name() == "POLICY_VIOLATION", err
    forger = Producer({"bootstrap.servers": b.bootstrap, "message.send.max.retries": 0})
    delivery = []
    forger.produce(AUDIT_TOPIC, value=b'{"seq":0}', on_delivery=lambda e, m: delivery.append(e))
    forger.flush(15)
    assert delivery and delivery[0] is not None, "a client appended to the audit topic"

    def complete(records):
        return (find(records, "DeleteTopics", AUDIT_TOPIC) and len(find(records, "Fetch", "patients")) >= 1
                and find(records, "AlterConfigs", AUDIT_TOPIC))

    records = read_audit(b.bootstrap, complete)

    # Every value is a FHIR AuditEvent with chain fields; the chain holds.
    prev = GENESIS
    for i, (offset, k, raw, ev) in enumerate(records):
        assert offset == i
        assert ev["resourceType"] == "AuditEvent"
        assert ev["seq"] == i and ev["prev"] == prev, f"chain broken at offset {offset}"
        prev = hashlib.sha256(raw).hexdigest()
        assert k == ev["type"]["code"]
        assert ev["action"] in "CRUDE" and ev["outcome"] in ("0", "4", "8", "12")
        assert ev["recorded"].endswith("Z") and "T" in ev["recorded"]
        assert ev["source"]["observer"]["identifier"]["value"] == "1"
        assert ev["agent"][0]["requestor"] is True
        assert PAYLOAD_MARKER.encode() not in raw, "a payload reached the audit stream"

    created = find(records, "CreateTopics", "patients")[0][3]
    assert created["action"] == "C" and created["outcome"] == "0" and created["type"]["code"] == "admin"
    assert created["agent"][0]["who"]["identifier"]["value"] == "User:ANONYMOUS"
    assert created["agent"][0]["altId"] == "audit-admin"
    assert created["agent"][0]["network"]["address"] == "127.0.0.1"
    assert created["entity"][0]["type"]["code"] == "topic"
    assert find(records, "AlterConfigs", "scratch")[0][3]["action"] == "U"
    assert find(records, "DeleteTopics", "scratch")[0][3]["action"] == "D"
    refused = find(records, "DeleteTopics", AUDIT_TOPIC)[0][3]
    assert refused["outcome"] == "4" and refused["outcomeDesc"] == "TOPIC_DELETION_DISABLED"
    assert [r[3]["outcome"] for r in find(records, "AlterConfigs", AUDIT_TOPIC)] == ["4", "4", "0"]

    produced = find(records, "Produce", "patients")
    assert produced and all(r[3]["type"]["code"] == "data-access" and r[3]["action"] == "C" for r in produced)
    assert sum(int(detail(r[3], "bytes")) for r in produced) > 0
    assert produced[0][3]["agent"][0]["altId"] == "ehr-writer"
    first, last = map(int, detail(produced[0][3], "offsetRange").split("-"))
    assert first == 0 and last >= first
    assert detail(produced[0][3], "partition") == "0"
    fetched = find(records, "Fetch", "patients")
    assert all(r[3]["action"] == "R" and r[3]["agent"][0]["altId"] == "ehr-reader" for r in fetched)
    assert max(int(detail(r[3], "offsetRange").split("-")[1]) for r in fetched) == 4
    assert not find(records, "Produce", "quiet") and not find(records, "Fetch", "quiet")

    # The chain verifies from object storage after a clean stop (which uploads everything).
    b.stop_clean()
    ok = run_cli("audit", "verify", "--data-dir", str(b.data_dir))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "audit chain OK" in ok.stdout and "from genesis" in ok.stdout
    head = hashlib.sha256(records[-1][2]).hexdigest()
    n_stored = int(ok.stdout.split("audit chain OK: ")[1].split()[0])
    assert n_stored >= len(records)
    if n_stored == len(records):
        assert head in ok.stdout

    # Hand-edit one record inside its object, re-sealing every CRC: only the chain notices.
    needle = b'"name":"scratch"'
    victim = next(r for r in records if needle in r[2])  # the first record naming it (CreateTopics)
    edited = 0
    for obj in (b.data_dir / "objects").rglob("*"):
        if obj.is_file() and needle in obj.read_bytes() and b'"resourceType":"AuditEvent"' in obj.read_bytes():
            edit_object(obj, needle, b'"name":"scratcH"')
            edited += 1
    assert edited >= 1
    bad = run_cli("audit", "verify", "--data-dir", str(b.data_dir))
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert f"offset {victim[0] + 1}:" in bad.stdout, bad.stdout
    assert "partition 0: BROKEN" in bad.stdout

    # After a restart the writer continues the chain from the (edited) last record.
    b.start()
    create_topic(AdminClient({"bootstrap.servers": b.bootstrap}), "after-restart")
    after = read_audit(b.bootstrap, lambda rs: find(rs, "CreateTopics", "after-restart"))
    last_before = max(r[0] for r in records)
    new = [r for r in after if r[0] > last_before]
    assert new and new[0][3]["seq"] == new[0][0]
    before = {r[0]: r[2] for r in after}
    assert new[0][3]["prev"] == hashlib.sha256(before[new[0][0] - 1]).hexdigest()


def test_audit_disabled_has_no_topic(broker_factory):
    b = broker_factory({"audit.enable": "false"})
    admin = AdminClient({"bootstrap.servers": b.bootstrap})
    assert AUDIT_TOPIC not in admin.list_topics(timeout=10).topics


def test_authorization_denials_are_audited(broker_factory):
    b = broker_factory({"authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
                        "allow.everyone.if.no.acl.found": "false", "upload.interval.ms": "200"})
    admin = AdminClient({"bootstrap.servers": b.bootstrap, "client.id": "intruder"})
    fut = admin.create_topics([NewTopic("forbidden", 1, 1)], request_timeout=15)["forbidden"]
    err = admin_error(fut)
    assert err is not None and err.name() == "TOPIC_AUTHORIZATION_FAILED", err
    # Read the stream back with the authorizer off (the anonymous reader would be denied too).
    b.stop_clean()
    del b.overrides["authorizer.class.name"]
    b.start()
    records = read_audit(b.bootstrap, lambda rs: [r for r in rs if r[1] == "authorization"])
    denied = [r[3] for r in records if r[1] == "authorization" and r[3]["entity"][0]["name"] == "forbidden"]
    assert denied, [r[3]["subtype"] for r in records]
    ev = denied[0]
    assert ev["subtype"][0]["code"] == "CreateTopics" and ev["action"] == "C" and ev["outcome"] == "4"
    assert ev["agent"][0]["who"]["identifier"]["value"] == "User:ANONYMOUS"
    assert ev["agent"][0]["altId"] == "intruder"
    b.stop_clean()
    ok = run_cli("audit", "verify", "--data-dir", str(b.data_dir))
    assert ok.returncode == 0, ok.stdout + ok.stderr
