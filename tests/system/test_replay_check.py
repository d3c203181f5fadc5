"""`carelog replay-check` (docs/replay-check.md) against carelogd's real
storage: a healthy history written by an idempotent confluent-kafka producer
(counts, digests, --compare, --from-offset, the audit chain), then each case
the command exists for: a deleted object, a corrupted byte in an object, a
missing range in the object index, and a truncated WAL (seen through the
broker's high watermark while it runs, and through an earlier report after
a restart)."""

import json
import os
import sqlite3
import subprocess
import time

from confluent_kafka import Producer

from evidence_util import CLI, carelog, carelog_json, carelog_only
from kafka_util import unique, wait_until
from s3_fixture import rgw  # noqa: F401  (pytest fixture)

pytestmark = carelog_only

# Small, frequent uploads and no merging: many objects and ranges to break.
MANY_OBJECTS = {"upload.interval.ms": "200", "compaction.interval.ms": "0"}


def produce_rounds(b, topic, rounds, per_round, partitions=1, pause=0.5):
    p = Producer({"bootstrap.servers": b.bootstrap, "enable.idempotence": True, "linger.ms": 5})
    n = 0
    for r in range(rounds):
        for i in range(per_round):
            p.produce(topic, key=f"k{i % 17}".encode(), value=f"r{r}-{i}-".encode() * 8,
                      partition=n % partitions, headers=[("h", str(n).encode())])
            n += 1
        assert p.flush(30) == 0
        time.sleep(pause)
    return n


def uploaded(b, topic, expected):
    """Waits until the object index covers `expected` records of the topic."""
    def done():
        r = carelog_json("replay-check", topic, "--data-dir", b.data_dir, "--wal-dir", "none", expect=None)
        return sum(p["index_records"] for p in r["reports"][0]["partitions"]) >= expected
    wait_until(done, 30, "uploads to cover the topic")


def objects_of(b):
    return sorted((b.data_dir / "objects").rglob("*.obj")) or sorted(
        f for f in (b.data_dir / "objects").rglob("*") if f.is_file())


def problems(report):
    return [(x["kind"], x["message"]) for p in report["reports"][0]["partitions"] for x in p["problems"]]


def test_healthy_history_digest_compare_and_audit_chain(broker_factory, tmp_path):
    b = broker_factory(MANY_OBJECTS)
    topic = unique("replay")
    carelog("-b", b.bootstrap, "topic", "create", topic, "-p", "3")
    n = produce_rounds(b, topic, 4, 300, partitions=3)
    uploaded(b, topic, n)
    report = tmp_path / "before.json"
    r = carelog_json("-b", b.bootstrap, "replay-check", topic, "--data-dir", b.data_dir, "--online",
                     "--report", report)
    assert r["verdict"] == "OK", r
    [t] = r["reports"]
    assert t["records"] == n and t["records_per_s"] > 0 and t["mb_per_s"] > 0
    for p in t["partitions"]:
        assert p["records"] == p["index_records"] == p["high_watermark"] == n // 3
        assert p["first"] == 0 and p["last"] == n // 3 - 1 and len(p["digest"]) == 64
        assert p["object_ranges"] >= 2 and p["problems"] == []
    # Same history, same digests; --compare says so.
    again = carelog_json("replay-check", topic, "--data-dir", b.data_dir, "--compare", report)
    assert [p["digest"] for p in again["reports"][0]["partitions"]] == [p["digest"] for p in t["partitions"]]
    assert all(any("match the earlier report" in e for e in p["explained"]) for p in again["reports"][0]["partitions"])
    # New records after the report are fine; the old range still matches.
    produce_rounds(b, topic, 1, 30, partitions=3, pause=0)
    later = carelog_json("-b", b.bootstrap, "replay-check", topic, "--data-dir", b.data_dir, "--online",
                         "--compare", report)
    assert later["verdict"] == "OK", later
    # From an offset: fewer records, and the text output names the rate and verdict.
    out = carelog("replay-check", topic, "--data-dir", b.data_dir, "--from-offset", "100").stdout
    assert "partition 0: offsets 100.." in out and "MB/s" in out and out.rstrip().endswith("verdict: OK")
    # The audit topic holds the CreateTopics event: its hash chain is verified.
    wait_until(lambda: "audit chain OK" in carelog("replay-check", "__carelog_audit", "--data-dir",
                                                   b.data_dir).stdout, 30, "the audit chain in the report")


def test_deleted_object_and_corrupted_byte_are_found(broker_factory):
    b = broker_factory(MANY_OBJECTS)
    topic = unique("replay-objects")
    n = produce_rounds(b, topic, 4, 200)
    uploaded(b, topic, n)
    objects = [o for o in objects_of(b) if o.stat().st_size > 0]
    assert len(objects) >= 3, objects
    # Flip one byte inside the second object's record data (not its index).
    victim = objects[1]
    data = bytearray(victim.read_bytes())
    data[200] ^= 0x40
    victim.write_bytes(bytes(data))
    r = carelog_json("replay-check", topic, "--data-dir", b.data_dir, "--wal-dir", "none", expect=1)
    kinds = [k for k, _ in problems(r)]
    assert r["verdict"] == "FAILED" and "crc-mismatch" in kinds, r
    # Delete the third object outright.
    objects[2].unlink()
    r = carelog_json("replay-check", topic, "--data-dir", b.data_dir, "--wal-dir", "none", expect=1)
    found = problems(r)
    assert any(k == "missing-object" and "not in the store" in m for k, m in found), found
    # Text output points at the object and fails.
    out = carelog("replay-check", topic, "--data-dir", b.data_dir, "--wal-dir", "none", expect=1).stdout
    assert "PROBLEM missing-object" in out and "PROBLEM crc-mismatch" in out and "verdict: FAILED" in out


def test_missing_range_in_the_index_is_found(broker_factory):
    b = broker_factory(MANY_OBJECTS)
    topic = unique("replay-index")
    n = produce_rounds(b, topic, 4, 200)
    uploaded(b, topic, n)
    b.stop_clean()
    db = sqlite3.connect(b.data_dir / "metadata.db")
    rows = db.execute("SELECT base_offset, last_offset FROM object_ranges r JOIN topics t ON r.topic_id = t.id "
                      "WHERE t.name = ? ORDER BY base_offset", (topic,)).fetchall()
    assert len(rows) >= 3, rows
    base, last = rows[1]
    db.execute("DELETE FROM object_ranges WHERE base_offset = ? AND topic_id = (SELECT id FROM topics WHERE name = ?)",
               (base, topic))
    db.commit()
    db.close()
    r = carelog_json("replay-check", topic, "--data-dir", b.data_dir, expect=1)
    assert ("missing-offsets", f"offsets {base}..{last} are missing: no object of the index holds them") in problems(r)


def test_truncated_wal_is_found_by_high_watermark_and_by_earlier_report(broker_factory, tmp_path):
    # Nothing is uploaded: the whole history is in the WAL.
    b = broker_factory({"upload.interval.ms": "600000", "upload.object.bytes": str(1 << 30)})
    topic = unique("replay-wal")
    n = produce_rounds(b, topic, 3, 200, pause=0)
    report = tmp_path / "before.json"
    r = carelog_json("-b", b.bootstrap, "replay-check", topic, "--data-dir", b.data_dir, "--online",
                     "--report", report)
    assert r["verdict"] == "OK", r
    [p] = r["reports"][0]["partitions"]
    assert p["records"] == n and p["index_records"] == 0 and p["wal_batches"] > 1
    # Cut the WAL in the middle of the topic's records, as a bad disk or an operator would.
    dump = carelog("debug", "dump-wal", b.data_dir / "wal").stdout
    topic_id = r["reports"][0]["topic_id"]
    positions = [(line.split()[0][1:], line) for line in dump.splitlines() if f"topic {topic_id}" in line]
    assert len(positions) > 2, dump
    cut_at = int(positions[len(positions) // 2][0])
    [segment] = [f for f in (b.data_dir / "wal").iterdir() if f.suffix == ".wal" and f.stat().st_size > cut_at]
    os.truncate(segment, cut_at)
    r = carelog_json("-b", b.bootstrap, "replay-check", topic, "--data-dir", b.data_dir, "--online", expect=1)
    found = problems(r)
    assert any(k == "lost-acknowledged" and f"below the high watermark {n}" in m for k, m in found), found
    # After a crash and restart the broker recovers what is left and its high
    # watermark drops with it; only the earlier report still knows.
    b.kill()
    b.start()
    r = carelog_json("-b", b.bootstrap, "replay-check", topic, "--data-dir", b.data_dir, "--online",
                     "--compare", report, expect=1)
    found = problems(r)
    assert any(k == "missing-since-report" and f"..{n - 1} were in the earlier report" in m for k, m in found), found
    b.kill()


def test_group_mode_receives_exactly_the_log(broker_factory):
    from confluent_kafka import Consumer, TopicPartition
    b = broker_factory({"upload.interval.ms": "300"})
    topic = unique("replay-group")
    carelog("-b", b.bootstrap, "topic", "create", topic, "-p", "2")
    n = produce_rounds(b, topic, 2, 200, partitions=2, pause=0.2)
    group = unique("g")
    # The group has committed offset 50 on partition 0 and nothing on partition 1.
    c = Consumer({"bootstrap.servers": b.bootstrap, "group.id": group})
    c.commit(offsets=[TopicPartition(topic, 0, 50)], asynchronous=False)
    c.close()
    r = carelog_json("-b", b.bootstrap, "replay-check", topic, "--data-dir", b.data_dir, "--group", group,
                     "--commit", "--group-timeout-ms", "30000")
    assert r["verdict"] == "OK", r
    p0, p1 = r["reports"][0]["partitions"]
    assert any(f"group {group} received offsets 50..{n // 2 - 1} ({n // 2 - 50} records) exactly as stored, "
               "from its committed offset" in e for e in p0["explained"]), p0
    assert any(f"received offsets 0..{n // 2 - 1}" in e and "from the log start" in e for e in p1["explained"]), p1
    # --commit moved the group to the high watermarks: a second run has nothing left to receive.
    r = carelog_json("-b", b.bootstrap, "replay-check", topic, "--data-dir", b.data_dir, "--group", group,
                     "--group-timeout-ms", "20000")
    assert r["verdict"] == "OK"
    assert all(any("already at the high watermark" in e for e in p["explained"]) for p in r["reports"][0]["partitions"])
    assert "give --group or --compare" in carelog("replay-check", topic, "--group", group, "--compare", "x",
                                                   expect=2).stderr


def test_object_wal_tail_is_read_and_a_lost_wal_object_is_found(broker_factory):
    """wal.type=object with uploads held back: the whole history is in WAL
    objects. replay-check reads them (--object-wal) as recovery would, and a
    WAL object deleted under the running broker shows up as missing offsets
    below the high watermark."""
    b = broker_factory({"wal.type": "object", "upload.interval.ms": "600000", "compaction.interval.ms": "0"})
    topic = unique("replay-owal")
    n = produce_rounds(b, topic, 4, 50, pause=0.2)
    args = ["-b", b.bootstrap, "replay-check", topic, "--data-dir", b.data_dir, "--online"]
    # Without the object WAL the acknowledged history is nowhere to be read.
    r = carelog_json(*args, "--wal-dir", "none", expect=1)
    assert [k for k, _ in problems(r)] == ["lost-acknowledged"], r
    r = carelog_json(*args, "--object-wal")
    assert r["verdict"] == "OK", r
    [p] = r["reports"][0]["partitions"]
    assert p["records"] == p["high_watermark"] == n and p["index_records"] == 0 and p["wal_batches"] >= 4, p
    wal_objects = sorted((b.data_dir / "objects" / "wal").glob("*.cwo"))
    assert len(wal_objects) >= 4, wal_objects
    wal_objects[1].unlink()
    r = carelog_json(*args, "--object-wal", expect=1)
    found = problems(r)
    # The lost object's offsets, and the producer's sequence jump across them.
    assert found[0][0] == "missing-offsets" and "in neither object storage nor the WAL" in found[0][1], found
    assert {k for k, _ in found} <= {"missing-offsets", "order"}, found


FHIR_PATIENT = b'{"resourceType":"Patient","id":"p1","gender":"female","birthDate":"1970-01-01"}'


def test_records_invalid_under_the_topic_validation_are_found(broker_factory):
    """The history is checked against the topic's current contract with the
    validators produce uses: records written before carelog.value.validation
    was set to fhir-r4 that break it are reported with offset and FHIR path;
    --no-validate skips the check."""
    b = broker_factory(MANY_OBJECTS)
    topic = unique("replay-valid")
    carelog("-b", b.bootstrap, "topic", "create", topic)
    p = Producer({"bootstrap.servers": b.bootstrap, "linger.ms": 0})
    bad = [b"not json", FHIR_PATIENT.replace(b"female", b"mail"), FHIR_PATIENT.replace(b"1970-01-01", b"1970-13-45")]
    values = [FHIR_PATIENT] * 3 + bad + [FHIR_PATIENT] * 2
    for v in values:
        p.produce(topic, v)
    assert p.flush(30) == 0
    carelog("-b", b.bootstrap, "topic", "alter-config", topic, "--set", "carelog.value.validation=fhir-r4")
    # The broker now refuses the same bad record; history keeps the old ones.
    out = {}
    p.produce(topic, bad[1], on_delivery=lambda err, msg: out.update(err=err))
    p.flush(30)
    assert out["err"] is not None and out["err"].code() == 87, out
    uploaded(b, topic, len(values))
    r = carelog_json("replay-check", topic, "--data-dir", b.data_dir, expect=1)
    [t] = r["reports"]
    assert t["validation"] == "value=fhir-r4 key=none"
    [part] = t["partitions"]
    assert part["validated_records"] == len(values) and part["invalid_records"] == 3, part
    found = problems(r)
    assert [k for k, _ in found] == ["invalid-record"] * 3, found
    assert ["offset 3:" in found[0][1], "offset 4:" in found[1][1], "offset 5:" in found[2][1]] == [True] * 3
    assert "Patient.gender" in found[1][1] and "Patient.birthDate" in found[2][1], found
    r = carelog_json("replay-check", topic, "--data-dir", b.data_dir, "--no-validate")
    assert r["verdict"] == "OK" and r["reports"][0]["validation"] == "not checked (--no-validate)", r


def test_object_wal_on_s3_is_read_from_the_bucket(broker_factory, rgw, tmp_path, report):  # noqa: F811
    """The same on RGW: --config names the broker's S3 settings and
    wal.type=object, so replay-check reads the WAL objects from the bucket
    (SigV4, ListObjectsV2) and, once uploaded, the stream-set objects."""
    from s3_broker_util import s3_overrides
    o = s3_overrides(rgw, rgw.bucket, unique("replay-owal"), **{"wal.type": "object", "upload.interval.ms": "600000"})
    b = broker_factory(o)
    topic = unique("replay-owal-s3")
    carelog("-b", b.bootstrap, "topic", "create", topic, "-p", "2")
    n = produce_rounds(b, topic, 3, 100, partitions=2, pause=0.2)
    config = tmp_path / "server.properties"
    config.write_text("".join(f"{k}={v}\n" for k, v in o.items()) +
                      f"metadata.store=sqlite://{b.data_dir}/metadata.db\n")
    out = carelog("-b", b.bootstrap, "replay-check", topic, "--config", config, "--online").stdout
    report("replay-check on RGW, object WAL tail:\n" + out)
    assert out.rstrip().endswith("verdict: OK") and f"replayed {n} records" in out, out
    assert "0 from 0 object range(s)" in out, out


def test_compacted_topic_gaps_are_explained_and_a_lost_object_still_found(broker_factory):
    """cleanup.policy=compact: the cleaner removes superseded records and so
    leaves offset gaps (and producer sequence jumps) in object storage; they
    are explained as compaction, the surviving records are checked as usual,
    and a deleted object is still a problem."""
    b = broker_factory({"upload.interval.ms": "200", "log.cleaner.backoff.ms": "200", "object.delete.delay.ms": "0"})
    topic = unique("replay-compact")
    carelog("-b", b.bootstrap, "topic", "create", topic, "-c", "cleanup.policy=compact",
            "-c", "min.cleanable.dirty.ratio=0.01", "-c", "min.compaction.lag.ms=0")
    n = produce_rounds(b, topic, 4, 400, pause=0.3)

    def compacted():
        r = carelog_json("replay-check", topic, "--data-dir", b.data_dir, "--wal-dir", "none", expect=None)
        [p] = r["reports"][0]["partitions"]
        return r if p["last"] == n - 1 and p["records"] < n // 4 and not p["problems"] else None
    wait_until(compacted, 60, "the cleaner to compact the topic")
    r = carelog_json("-b", b.bootstrap, "replay-check", topic, "--data-dir", b.data_dir, "--online")
    assert r["verdict"] == "OK", r
    [p] = r["reports"][0]["partitions"]
    assert any("removed by compaction" in e for e in p["explained"]), p
    for o in objects_of(b):
        if o.stat().st_size > 0:
            o.unlink()
            break
    r = carelog_json("replay-check", topic, "--data-dir", b.data_dir, expect=1)
    assert "missing-object" in [k for k, _ in problems(r)], r
