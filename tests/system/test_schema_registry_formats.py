"""JSON Schema and Protobuf in carelogd's schema registry, driven by
confluent-kafka's JSONSerializer/JSONDeserializer and
ProtobufSerializer/ProtobufDeserializer: register, evolve compatibly, have an
incompatible change refused with 409, decode with a fresh client, and produce
through carelog.value.validation=schema topics (right and wrong payloads).
Then the subject name strategies of schema-id validation, with the
serializers' own strategies. docs/schema-registry.md.
"""

import json
import os
import struct

import pytest
from confluent_kafka.schema_registry import (Schema, SchemaRegistryClient, record_subject_name_strategy,
                                             topic_record_subject_name_strategy)
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.schema_registry.json_schema import JSONDeserializer, JSONSerializer
from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer, ProtobufSerializer
from confluent_kafka.serialization import MessageField, SerializationContext
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from kafka_util import admin_for, create_topic, unique
from registry_util import INVALID_RECORD, client, produce, reg_broker  # noqa: F401  (module fixtures)

pytestmark = pytest.mark.skipif(os.environ.get("CARELOG_TEST_TARGET", "carelog") != "carelog",
                                reason="Carelog's schema registry")

VITALS_V1 = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "Vitals", "type": "object",
    "properties": {"patient": {"type": "string", "minLength": 1},
                   "hr": {"type": "integer", "minimum": 0, "maximum": 300},
                   "note": {"type": "string"}},
    "required": ["patient", "hr"],
}


def test_json_schema_serializer_round_trip_and_evolution(reg_broker, client):
    topic = unique("vitals-json")
    ctx = SerializationContext(topic, MessageField.VALUE)
    ser = JSONSerializer(json.dumps(VITALS_V1), client)
    data = ser({"patient": "p-1", "hr": 72}, ctx)
    assert data[0] == 0
    (sid,) = struct.unpack(">I", data[1:5])
    latest = client.get_latest_version(f"{topic}-value")
    assert (latest.schema_id, latest.schema.schema_type) == (sid, "JSON")
    fresh = SchemaRegistryClient({"url": reg_broker.registry_url})
    assert JSONDeserializer(None, schema_registry_client=fresh)(data, ctx) == {"patient": "p-1", "hr": 72}
    # The serializer validates locally too; the registry's copy is what the
    # deserializer checked against.
    assert fresh.get_schema(sid).schema_type == "JSON"

    subject = f"{topic}-value"
    # Open content model: dropping a property is BACKWARD compatible ...
    v2 = dict(VITALS_V1, properties={k: v for k, v in VITALS_V1["properties"].items() if k != "note"})
    assert client.register_schema(subject, Schema(json.dumps(v2), "JSON")) != sid
    # ... adding a constrained one is not (old writers could send anything under it).
    v3 = dict(v2, properties=dict(v2["properties"], spo2={"type": "integer"}))
    assert client.test_compatibility(subject, Schema(json.dumps(v3), "JSON")) is False
    with pytest.raises(SchemaRegistryError) as e:
        client.register_schema(subject, Schema(json.dumps(v3), "JSON"))
    assert e.value.http_status_code == 409 and e.value.error_code == 409
    assert "PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL" in e.value.error_message
    # Narrowing a type is refused too.
    v4 = dict(v2, properties=dict(v2["properties"], hr={"type": "string"}))
    with pytest.raises(SchemaRegistryError) as e:
        client.register_schema(subject, Schema(json.dumps(v4), "JSON"))
    assert e.value.error_code == 409
    # Closed content model: adding an optional property is compatible.
    closed = unique("closed") + "-value"
    c1 = dict(v2, additionalProperties=False)
    client.register_schema(closed, Schema(json.dumps(c1), "JSON"))
    c2 = dict(c1, properties=dict(c1["properties"], spo2={"type": "integer"}))
    assert client.register_schema(closed, Schema(json.dumps(c2), "JSON")) > 0
    # A malformed JSON schema is 42201.
    with pytest.raises(SchemaRegistryError) as e:
        client.register_schema(unique("bad") + "-value", Schema('{"type": "strnig"}', "JSON"))
    assert (e.value.http_status_code, e.value.error_code) == (422, 42201)


def test_json_schema_validation_at_produce(reg_broker, client):
    admin = admin_for(reg_broker)
    topic = create_topic(admin, unique("vitals-checked"), config={"carelog.value.validation": "schema"})
    ctx = SerializationContext(topic, MessageField.VALUE)
    good = JSONSerializer(json.dumps(VITALS_V1), client)({"patient": "p-2", "hr": 80}, ctx)
    header = good[:5]
    results = produce(reg_broker, topic, [
        good,
        header + b'{"patient": "p-2"}',                # required hr missing
        header + b'{"patient": "p-2", "hr": 999}',     # above the maximum
        header + b'{"patient": "p-2", "hr": "80"}',    # wrong type
        header + b'not json',
    ])
    assert results == [0, INVALID_RECORD, INVALID_RECORD, INVALID_RECORD, INVALID_RECORD]


def vitals_message_class(extra_field=None, hr_type=descriptor_pb2.FieldDescriptorProto.TYPE_INT32):
    """A protobuf message class built at run time (no protoc): ward.Vitals."""
    f = descriptor_pb2.FieldDescriptorProto
    fdp = descriptor_pb2.FileDescriptorProto(name=f"vitals_{unique('p')}.proto", package="ward", syntax="proto3")
    fdp.dependency.append("google/protobuf/timestamp.proto")
    m = fdp.message_type.add(name="Vitals")
    m.field.add(name="patient", number=1, type=f.TYPE_STRING, label=f.LABEL_OPTIONAL)
    m.field.add(name="hr", number=2, type=hr_type, label=f.LABEL_OPTIONAL)
    m.field.add(name="at", number=3, type=f.TYPE_MESSAGE, label=f.LABEL_OPTIONAL,
                type_name=".google.protobuf.Timestamp")
    if extra_field:
        m.field.add(name=extra_field, number=4, type=f.TYPE_STRING, label=f.LABEL_OPTIONAL)
    pool = descriptor_pool.DescriptorPool()
    from google.protobuf import timestamp_pb2
    pool.AddSerializedFile(timestamp_pb2.DESCRIPTOR.serialized_pb)
    pool.Add(fdp)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("ward.Vitals"))


def test_protobuf_serializer_round_trip_and_evolution(reg_broker, client):
    topic = unique("vitals-proto")
    ctx = SerializationContext(topic, MessageField.VALUE)
    Vitals = vitals_message_class()
    ser = ProtobufSerializer(Vitals, client, {"use.deprecated.format": False})
    msg = Vitals(patient="p-3", hr=64)
    msg.at.seconds = 1_700_000_000
    data = ser(msg, ctx)
    assert data[0] == 0
    (sid,) = struct.unpack(">I", data[1:5])
    subject = f"{topic}-value"
    latest = client.get_latest_version(subject)
    assert (latest.schema_id, latest.schema.schema_type) == (sid, "PROTOBUF")
    # Stored as .proto text; format=serialized gives the descriptor back.
    assert "message Vitals" in latest.schema.schema_str
    fresh = SchemaRegistryClient({"url": reg_broker.registry_url})
    back = ProtobufDeserializer(Vitals, {"use.deprecated.format": False},
                                schema_registry_client=fresh)(data, ctx)
    assert (back.patient, back.hr, back.at.seconds) == ("p-3", 64, 1_700_000_000)

    # Adding a field: compatible. int32 -> int64 (same varint encoding): compatible.
    v2 = vitals_message_class(extra_field="ward_name")
    assert ProtobufSerializer(v2, client, {"use.deprecated.format": False})(v2(patient="p"), ctx)
    v3 = vitals_message_class(extra_field="ward_name", hr_type=descriptor_pb2.FieldDescriptorProto.TYPE_INT64)
    assert ProtobufSerializer(v3, client, {"use.deprecated.format": False})(v3(patient="p"), ctx)
    assert client.get_versions(subject) == [1, 2, 3]
    # hr as a string: another wire encoding, refused.
    bad = vitals_message_class(hr_type=descriptor_pb2.FieldDescriptorProto.TYPE_STRING)
    with pytest.raises(SchemaRegistryError) as e:
        ProtobufSerializer(bad, client, {"use.deprecated.format": False})(bad(patient="p"), ctx)
    assert e.value.error_code == 409 and "FIELD_KIND_CHANGED" in e.value.error_message
    # .proto text works as input too (what Java and other clients send).
    proto_text = 'syntax = "proto3"; package ward; message Bed { string id = 1; int32 floor = 2; }'
    text_id = client.register_schema(unique("bed") + "-value", Schema(proto_text, "PROTOBUF"))
    assert "message Bed" in client.get_schema(text_id).schema_str


def test_protobuf_validation_at_produce(reg_broker, client):
    admin = admin_for(reg_broker)
    topic = create_topic(admin, unique("vitals-pcheck"), config={"carelog.value.validation": "schema"})
    ctx = SerializationContext(topic, MessageField.VALUE)
    Vitals = vitals_message_class()
    good = ProtobufSerializer(Vitals, client, {"use.deprecated.format": False})(Vitals(patient="p", hr=70), ctx)
    header = good[:5]
    results = produce(reg_broker, topic, [
        good,
        header + b"\x00" + b"\x0a\x10abc",   # patient: length 16, 3 bytes follow (truncated)
        header + b"\x00" + b"\x10\x80",      # hr: varint cut short
        header + b"\x00" + b"\x12\x01x",     # hr (int32) sent as length-delimited: wrong wire type
        header + b"\x02\x0a" + b"\x08\x01",  # message index 5: out of range
    ])
    assert results == [0, INVALID_RECORD, INVALID_RECORD, INVALID_RECORD, INVALID_RECORD]


ORDER = json.dumps({"type": "record", "name": "Order", "namespace": "shop",
                    "fields": [{"name": "id", "type": "long"}]})


def test_subject_name_strategies_for_schema_id(reg_broker, client):
    admin = admin_for(reg_broker)
    by_record = create_topic(admin, unique("rec"), config={
        "carelog.value.validation": "schema-id", "carelog.value.subject.name.strategy": "RecordNameStrategy"})
    by_topic_record = create_topic(admin, unique("toprec"), config={
        "carelog.value.validation": "schema-id",
        "carelog.value.subject.name.strategy":
            "io.confluent.kafka.serializers.subject.TopicRecordNameStrategy"})
    rec_ser = AvroSerializer(client, ORDER, conf={"subject.name.strategy": record_subject_name_strategy})
    tr_ser = AvroSerializer(client, ORDER, conf={"subject.name.strategy": topic_record_subject_name_strategy})
    topic_ser = AvroSerializer(client, ORDER)
    rec_ok = rec_ser({"id": 1}, SerializationContext(by_record, MessageField.VALUE))
    tr_ok = tr_ser({"id": 1}, SerializationContext(by_topic_record, MessageField.VALUE))
    assert "shop.Order" in client.get_subjects()
    assert f"{by_topic_record}-shop.Order" in client.get_subjects()
    # A schema registered only under another record name is refused on the record-name topic.
    other = client.register_schema(unique("x") + "-value", Schema(json.dumps(
        {"type": "record", "name": "Other", "fields": [{"name": "a", "type": "int"}]}), "AVRO"))
    wrong = b"\x00" + struct.pack(">I", other) + b"\x02"
    assert produce(reg_broker, by_record, [rec_ok, wrong]) == [0, INVALID_RECORD]
    # TopicRecordNameStrategy: <topic>-<record>; the record-name subject alone is not enough there.
    client.delete_subject(f"{by_topic_record}-shop.Order")
    client.register_schema("shop.Order", Schema(ORDER, "AVRO"))
    assert produce(reg_broker, by_topic_record, [tr_ok]) == [INVALID_RECORD]
    # A fresh client: this one caches (subject, schema) -> id and would not send the registration again.
    SchemaRegistryClient({"url": reg_broker.registry_url}).register_schema(
        f"{by_topic_record}-shop.Order", Schema(ORDER, "AVRO"))
    assert produce(reg_broker, by_topic_record, [tr_ok]) == [0]
    # The default TopicNameStrategy topic refuses the record-name id until <topic>-value has it.
    by_topic = create_topic(admin, unique("top"), config={"carelog.value.validation": "schema-id"})
    assert produce(reg_broker, by_topic, [rec_ok]) == [INVALID_RECORD]
    topic_ser({"id": 1}, SerializationContext(by_topic, MessageField.VALUE))
    assert produce(reg_broker, by_topic, [rec_ok]) == [0]
    # An unknown strategy name is refused by the topic config.
    with pytest.raises(Exception):
        create_topic(admin, unique("badstrat"), config={"carelog.value.subject.name.strategy": "Nope"})
