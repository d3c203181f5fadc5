"""Observability without leaks: broker logs never contain record keys,
values, headers or credentials.

Tests register the payload markers and passwords they send with the
`secret_marker` fixture (conftest.py). At the end of the session,
conftest's pytest_sessionfinish greps every carelogd log the run produced
(all *.log files named carelogd* under pytest's base temp dir) for every
registered marker and fails the run if one appears. The tests here check
the checker itself and run a broker at log.level=debug, where rejected and
odd requests are logged in most detail, with marked keys, values, headers
and client ids.
"""

import subprocess
from pathlib import Path

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

# A fixed marker in the payloads of several tests (grep-friendly, unlikely elsewhere).
PAYLOAD_MARKER = "carelog-secret-payload-7f3a9c"


def leaked_secrets(root, markers):
    """Lines 'file: marker' for every carelogd log under `root` containing a marker."""
    leaks = []
    needles = [m.encode() for m in markers if m]
    for path in sorted(Path(root).rglob("*.log")):
        if not path.name.startswith("carelogd"):
            continue
        try:
            data = path.read_bytes()
        except OSError:
            continue
        for m in needles:
            if m in data:
                leaks.append(f"{path}: contains secret marker {m.decode(errors='replace')!r}")
    return leaks


def test_checker_finds_a_leak(tmp_path):
    (tmp_path / "b0").mkdir()
    (tmp_path / "b0" / "carelogd.log").write_text(f"INFO something\nDEBUG value={PAYLOAD_MARKER}-x\n")
    (tmp_path / "other.log").write_text(PAYLOAD_MARKER)  # not a broker log
    leaks = leaked_secrets(tmp_path, {PAYLOAD_MARKER, "never-there"})
    assert len(leaks) == 1 and "carelogd.log" in leaks[0]
    assert leaked_secrets(tmp_path, {"never-there"}) == []


def test_debug_log_of_produce_fetch_and_bad_requests_has_no_payload(broker_factory, secret_marker):
    b = broker_factory({"log.level": "debug"})
    value = secret_marker(f"{PAYLOAD_MARKER}-value")
    key = secret_marker(f"{PAYLOAD_MARKER}-key")
    header = secret_marker(f"{PAYLOAD_MARKER}-header")
    topic = "hygiene"
    admin = AdminClient({"bootstrap.servers": b.bootstrap})
    admin.create_topics([NewTopic(topic, 1, 1, config={"max.message.bytes": "5000"})])[topic].result(15)
    p = Producer({"bootstrap.servers": b.bootstrap, "client.id": "hygiene-client", "enable.idempotence": True})
    for i in range(20):
        p.produce(topic, key=key, value=f"{value}-{i}", headers={"h": header})
    assert p.flush(15) == 0
    # Rejected by the broker (larger than the topic's max.message.bytes): logged at debug.
    big = Producer({"bootstrap.servers": b.bootstrap, "message.send.max.retries": 0})
    big.produce(topic, key=key, value=value * 200)
    big.flush(15)
    c = Consumer({"bootstrap.servers": b.bootstrap, "group.id": "hygiene", "enable.auto.commit": False})
    c.assign([TopicPartition(topic, 0, 0)])
    got = 0
    for _ in range(60):
        m = c.poll(0.5)
        if m is not None and not m.error():
            got += 1
        if got >= 20:
            break
    c.close()
    assert got >= 20
    # kcat as another client, producing marked values to an auto-created topic.
    subprocess.run(["kcat", "-b", b.bootstrap, "-P", "-t", "hygiene-kcat"],
                   input=f"{value}\n".encode(), capture_output=True, timeout=20)
    b.stop_clean()
    leaks = leaked_secrets(b.workdir, {value, key, header})
    assert not leaks, "\n".join(leaks)
