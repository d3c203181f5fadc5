"""The schema registry served by carelogd (docs/schema-registry.md), driven by
confluent-kafka's SchemaRegistryClient and its Avro serializers: register,
evolve compatibly, incompatible changes refused with 409 and Confluent's error
code, soft/permanent deletes, configs and modes, Confluent's error codes for
raw REST calls, import from a JSON export, HTTP Basic against SCRAM users, and
produce to topics with carelog.value.validation=schema-id / schema.
"""

import json
import os
import struct
import threading
import urllib.error
import urllib.request

import pytest
from confluent_kafka import KafkaError
from confluent_kafka.admin import ScramCredentialInfo, ScramMechanism, UserScramCredentialUpsertion
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.serialization import MessageField, SerializationContext

from brokers import free_port
from kafka_util import admin_for, create_topic, unique
from postgres_fixture import postgres  # noqa: F401  (session fixture)
from registry_util import INVALID_RECORD, client, produce, reg_broker  # noqa: F401  (module fixtures)
from registry_util import start_registry_broker as start_broker

pytestmark = pytest.mark.skipif(os.environ.get("CARELOG_TEST_TARGET", "carelog") != "carelog",
                                reason="Carelog's schema registry")

ORDER_V1 = json.dumps({"type": "record", "name": "Order", "namespace": "shop",
                       "fields": [{"name": "id", "type": "long"}, {"name": "item", "type": "string"}]})
# + a field with a default: BACKWARD and FORWARD compatible with v1.
ORDER_V2 = json.dumps({"type": "record", "name": "Order", "namespace": "shop",
                       "fields": [{"name": "id", "type": "long"}, {"name": "item", "type": "string"},
                                  {"name": "qty", "type": "int", "default": 1}]})
# + a field without a default: new readers cannot read old data (not BACKWARD).
ORDER_BAD = json.dumps({"type": "record", "name": "Order", "namespace": "shop",
                        "fields": [{"name": "id", "type": "long"}, {"name": "item", "type": "string"},
                                   {"name": "price", "type": "double"}]})


def rest(url, method="GET", body=None, auth=None):
    """(status, parsed JSON) of one raw REST call."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/vnd.schemaregistry.v1+json"})
    if auth:
        import base64
        req.add_header("Authorization", "Basic " + base64.b64encode(auth.encode()).decode())
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def test_avro_serializer_registers_and_round_trips(reg_broker, client):
    topic = unique("orders")
    ser = AvroSerializer(client, ORDER_V1)
    ctx = SerializationContext(topic, MessageField.VALUE)
    data = ser({"id": 7, "item": "gauze"}, ctx)
    assert data[0] == 0
    (schema_id,) = struct.unpack(">I", data[1:5])
    latest = client.get_latest_version(f"{topic}-value")
    assert latest.version == 1 and latest.schema_id == schema_id
    assert produce(reg_broker, topic, [data]) == [0]
    # A fresh client (empty cache) resolves the id from the registry.
    fresh = SchemaRegistryClient({"url": reg_broker.registry_url})
    de = AvroDeserializer(fresh)
    assert de(data, ctx) == {"id": 7, "item": "gauze"}
    assert fresh.get_schema(schema_id).schema_type == "AVRO"
    assert [v.subject for v in fresh.get_schema_versions(schema_id)] == [f"{topic}-value"]
    # The same schema under another subject keeps its id.
    assert client.register_schema(unique("other") + "-value", Schema(ORDER_V1, "AVRO")) == schema_id


def test_compatible_evolution_and_409_refusals(client):
    subject = unique("evolve") + "-value"
    v1 = client.register_schema(subject, Schema(ORDER_V1, "AVRO"))
    v2 = client.register_schema(subject, Schema(ORDER_V2, "AVRO"))
    assert v2 != v1
    assert client.get_versions(subject) == [1, 2]
    assert client.test_compatibility(subject, Schema(ORDER_BAD, "AVRO")) is False
    with pytest.raises(SchemaRegistryError) as e:
        client.register_schema(subject, Schema(ORDER_BAD, "AVRO"))
    assert e.value.http_status_code == 409 and e.value.error_code == 409
    assert "incompatible" in e.value.error_message
    # FORWARD: dropping a field without a default breaks old readers.
    fwd = unique("fwd") + "-value"
    client.set_compatibility(fwd, "FORWARD")
    assert client.get_compatibility(fwd) == "FORWARD"
    client.register_schema(fwd, Schema(ORDER_V1, "AVRO"))
    only_id = json.dumps({"type": "record", "name": "Order", "namespace": "shop",
                          "fields": [{"name": "id", "type": "long"}]})
    with pytest.raises(SchemaRegistryError) as e:
        client.register_schema(fwd, Schema(only_id, "AVRO"))
    assert e.value.error_code == 409
    # NONE lets anything through.
    client.set_compatibility(subject, "NONE")
    assert client.register_schema(subject, Schema(ORDER_BAD, "AVRO")) > 0
    assert client.get_versions(subject) == [1, 2, 3]


def test_delete_lookup_and_modes(client):
    subject = unique("del") + "-value"
    sid = client.register_schema(subject, Schema(ORDER_V1, "AVRO"))
    found = client.lookup_schema(subject, Schema(ORDER_V1, "AVRO"))
    assert found.schema_id == sid and found.version == 1
    with pytest.raises(SchemaRegistryError) as e:
        client.delete_subject(subject, permanent=True)
    assert e.value.error_code == 40405
    assert client.delete_subject(subject) == [1]
    assert subject not in client.get_subjects()
    with pytest.raises(SchemaRegistryError) as e:
        client.get_latest_version(subject)
    assert e.value.error_code == 40401 and e.value.http_status_code == 404
    assert client.delete_subject(subject, permanent=True) == [1]
    # Ids survive a permanent delete.
    assert client.get_schema(sid).schema_str
    ro = unique("ro") + "-value"
    client.register_schema(ro, Schema(ORDER_V1, "AVRO"))
    client.update_mode(ro, "READONLY")
    with pytest.raises(SchemaRegistryError) as e:
        client.register_schema(ro, Schema(ORDER_V2, "AVRO"))
    assert e.value.error_code == 42205
    client.update_mode(ro, "READWRITE")
    assert client.register_schema(ro, Schema(ORDER_V2, "AVRO")) > 0


def test_rest_error_codes_and_probed_endpoints(reg_broker):
    url = reg_broker.registry_url
    assert rest(url + "/schemas/types") == (200, ["AVRO", "JSON", "PROTOBUF"])
    assert rest(url + "/subjects/nope/versions")[1]["error_code"] == 40401
    assert rest(url + "/schemas/ids/99999")[1]["error_code"] == 40403
    status, body = rest(url + "/subjects/x-value/versions", "POST", {"schema": "{\"type\": \"nope\"}"})
    assert (status, body["error_code"]) == (422, 42201)
    status, body = rest(url + "/config", "PUT", {"compatibility": "SIDEWAYS"})
    assert (status, body["error_code"]) == (422, 42203)
    for probe in ("/dek-registry/v1/keks", "/associations/subjects/x", "/contexts/a/b"):
        status, body = rest(url + probe)
        assert status == 404 and body["error_code"] == 404, probe
    s = unique("cfg") + "-value"
    assert rest(url + f"/config/{s}")[1]["error_code"] == 40408
    assert rest(url + f"/config/{s}?defaultToGlobal=true") == (200, {"compatibilityLevel": "BACKWARD"})
    rest(url + f"/subjects/{s}/versions", "POST", {"schema": ORDER_V1})
    status, body = rest(url + f"/compatibility/subjects/{s}/versions/latest?verbose=true", "POST",
                        {"schema": ORDER_BAD})
    assert status == 200 and body["is_compatible"] is False and body["messages"]


def test_produce_with_schema_id_and_schema_validation(reg_broker, client):
    admin = admin_for(reg_broker)
    by_id = create_topic(admin, unique("byid"), config={"carelog.value.validation": "schema-id"})
    by_schema = create_topic(admin, unique("byschema"), config={"carelog.value.validation": "schema"})
    good = {}
    for topic in (by_id, by_schema):
        good[topic] = AvroSerializer(client, ORDER_V1)({"id": 1, "item": "x"},
                                                       SerializationContext(topic, MessageField.VALUE))
    (id_of_byid,) = struct.unpack(">I", good[by_id][1:5])
    other = client.register_schema(unique("unrelated") + "-value", Schema('"string"', "AVRO"))
    header = lambda sid: b"\x00" + struct.pack(">I", sid)  # noqa: E731
    garbage = header(id_of_byid) + b"\xff\xff"
    # schema-id: the id must be a version of <topic>-value; the payload is not decoded.
    assert produce(reg_broker, by_id, [good[by_id], b"no wire format", header(other) + b"\x02",
                                       header(987654) + b"", garbage]) == \
        [0, INVALID_RECORD, INVALID_RECORD, INVALID_RECORD, 0]
    # schema: the payload must also be valid Avro of that schema.
    (id_of_byschema,) = struct.unpack(">I", good[by_schema][1:5])
    assert produce(reg_broker, by_schema, [good[by_schema], header(id_of_byschema) + b"\xff\xff",
                                           good[by_schema] + b"\x00"]) == [0, INVALID_RECORD, INVALID_RECORD]


def test_import_from_json_export(tmp_path_factory, tmp_path):
    export = [
        {"subject": "legacy-value", "version": 1, "id": 100, "schema": ORDER_V1},
        {"subject": "legacy-value", "version": 2, "id": 101, "schema": ORDER_V2},
        {"subject": "gone-value", "version": 4, "id": 102, "schema": '"string"', "deleted": True},
    ]
    path = tmp_path / "export.json"
    path.write_text(json.dumps(export))
    b = start_broker(tmp_path_factory, "import", **{"schema.registry.import.file": str(path)})
    try:
        c = SchemaRegistryClient({"url": b.registry_url})
        assert c.get_versions("legacy-value") == [1, 2]
        assert c.get_latest_version("legacy-value").schema_id == 101
        assert "gone-value" not in c.get_subjects()
        # A record another registry's serializer wrote with id 100 still decodes.
        topic = "legacy"
        record = b"\x00" + struct.pack(">I", 100) + b"\x0e\x04ab"  # id 7, item "ab"
        de = AvroDeserializer(c)
        assert de(record, SerializationContext(topic, MessageField.VALUE)) == {"id": 7, "item": "ab"}
        # New registrations continue above the imported ids.
        assert c.register_schema("new-value", Schema('"int"', "AVRO")) == 103
    finally:
        b.stop_clean()
    # Restarting with the same file is a no-op.
    b.start()
    try:
        assert SchemaRegistryClient({"url": b.registry_url}).get_versions("legacy-value") == [1, 2]
    finally:
        b.stop_clean()


def test_basic_auth_against_scram_users(tmp_path_factory, secret_marker):
    b = start_broker(tmp_path_factory, "auth", **{"schema.registry.authentication": "basic"})
    try:
        password = secret_marker("registry-pass-5e1f")
        admin = admin_for(b)
        futs = admin.alter_user_scram_credentials([UserScramCredentialUpsertion(
            "alice", ScramCredentialInfo(ScramMechanism.SCRAM_SHA_256, 4096), password.encode())])
        for f in futs.values():
            f.result(30)
        ok = SchemaRegistryClient({"url": b.registry_url, "basic.auth.user.info": f"alice:{password}"})
        assert ok.register_schema("authed-value", Schema(ORDER_V1, "AVRO")) == 1
        assert ok.get_subjects() == ["authed-value"]
        for info in ("alice:wrong", "bob:" + password):
            bad = SchemaRegistryClient({"url": b.registry_url, "basic.auth.user.info": info})
            with pytest.raises(SchemaRegistryError) as e:
                bad.get_subjects()
            assert e.value.http_status_code == 401
        assert rest(b.registry_url + "/subjects")[0] == 401
    finally:
        b.stop_clean()


def test_brokers_sharing_postgresql_serve_one_registry(postgres, broker_factory):  # noqa: F811
    """Two carelogd on one PostgreSQL database: what one registers the other
    serves with the same id, and registrations through both at once get
    distinct ids and one dense version sequence."""
    uri = postgres.create_database()
    brokers = []
    for node in (1, 2):
        port = free_port()
        b = broker_factory({"metadata.store": uri, "node.id": str(node),
                            "schema.registry.listener": f"127.0.0.1:{port}"})
        b.registry_url = f"http://127.0.0.1:{port}"
        brokers.append(b)
    a, b = (SchemaRegistryClient({"url": x.registry_url}) for x in brokers)
    subject = unique("shared") + "-value"
    sid = a.register_schema(subject, Schema(ORDER_V1, "AVRO"))
    assert b.get_latest_version(subject).schema_id == sid
    assert b.register_schema(subject, Schema(ORDER_V1, "AVRO")) == sid  # same content, same id
    assert postgres.sql(uri, "SELECT count(*) FROM registry_schemas") == [["1"]]
    # BACKWARD is checked against what the other broker registered.
    with pytest.raises(SchemaRegistryError) as e:
        b.register_schema(subject, Schema(ORDER_BAD, "AVRO"))
    assert e.value.error_code == 409
    a.set_compatibility(subject, "NONE")
    assert b.get_compatibility(subject) == "NONE"

    ids, errors = [], []

    def register(client, side):
        try:
            for i in range(10):
                enum = json.dumps({"type": "enum", "name": "E", "symbols": [f"S{side}{i}"]})
                ids.append(client.register_schema(subject, Schema(enum, "AVRO")))
        except Exception as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=register, args=(c, n)) for n, c in enumerate((a, b))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    assert len(set(ids)) == 20 and sid not in ids
    fresh = SchemaRegistryClient({"url": brokers[1].registry_url})
    assert fresh.get_versions(subject) == list(range(1, 22))


def test_header_based_schema_guids(reg_broker, client):
    """Newer Confluent serializers can put the schema's GUID in a
    `__value_schema_id` header (magic 1 + 16 bytes) and send the bare Avro
    data: the registry answers a GUID per schema, serves
    /schemas/guids/{guid}, and `schema` validation reads the header."""
    from confluent_kafka import Consumer, Producer
    from confluent_kafka.schema_registry import header_schema_id_serializer
    topic = create_topic(admin_for(reg_broker), unique("byguid"), config={"carelog.value.validation": "schema"})
    ser = AvroSerializer(client, ORDER_V1, conf={"schema.id.serializer": header_schema_id_serializer})
    headers = []
    data = ser({"id": 3, "item": "swab"}, SerializationContext(topic, MessageField.VALUE, headers))
    [(name, value)] = headers
    assert name == "__value_schema_id" and value[0] == 1 and len(value) == 17 and data[0] != 0
    latest = client.get_latest_version(f"{topic}-value")
    import uuid
    assert latest.guid == str(uuid.UUID(bytes=value[1:17]))
    status, body = rest(f"{reg_broker.registry_url}/schemas/guids/{latest.guid}")
    assert status == 200 and json.loads(body["schema"])["name"] in ("Order", "shop.Order")
    foreign = b"\x01" + uuid.uuid4().bytes

    p = Producer({"bootstrap.servers": reg_broker.bootstrap, "linger.ms": 0, "retries": 0,
                  "enable.idempotence": False})
    results = []
    for value_bytes, hdrs in [(data, headers), (b"\xff\xff", headers), (data, [("__value_schema_id", foreign)]),
                              (data, [])]:
        out = {}
        p.produce(topic, value_bytes, headers=hdrs, on_delivery=lambda err, msg, out=out: out.update(err=err))
        p.flush(30)
        results.append(0 if out.get("err") is None else out["err"].code())
    # Good data with its GUID; bad data; a GUID of no schema here; bare data without any id.
    assert results == [0, INVALID_RECORD, INVALID_RECORD, INVALID_RECORD]
    # A consumer's deserializer finds the schema by the header's GUID (a fresh client asks the registry).
    c = Consumer({"bootstrap.servers": reg_broker.bootstrap, "group.id": unique("g"), "auto.offset.reset": "earliest"})
    try:
        c.subscribe([topic])
        msg = None
        for _ in range(60):
            msg = c.poll(1)
            if msg is not None and not msg.error():
                break
        assert msg is not None and not msg.error(), msg
        de = AvroDeserializer(SchemaRegistryClient({"url": reg_broker.registry_url}))
        got = de(msg.value(), SerializationContext(topic, MessageField.VALUE, msg.headers()))
        assert got == {"id": 3, "item": "swab"}
    finally:
        c.close()
