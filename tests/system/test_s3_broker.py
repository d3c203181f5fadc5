"""carelogd with object.store=s3://... against a real Ceph RADOS Gateway:
round trip through real clients with objects landing in the bucket, a
disposable WAL (cold reads from S3), kill -9 crash safety, start-up errors
for bad credentials / a missing bucket, and an RGW outage while producing.

Each test uses its own key prefix in the session bucket (s3_fixture.rgw),
except the outage test, which starts a private RGW it can stop.
"""

import os
import random
import shutil
import subprocess
import threading
import time
import uuid

import pytest
from confluent_kafka import Consumer, TopicPartition

from brokers import CarelogBroker, log_tail
from kafka_util import admin_for, create_topic, unique
from s3_broker_util import LatencyProducer, PrivateRgw, list_objects, percentile, s3_overrides
from s3_fixture import rgw  # noqa: F401  (pytest fixture)
from storage_util import TrackingProducer, read_partition
from test_crash import OVERRIDES as CRASH_OVERRIDES
from test_crash import PARTITIONS as CRASH_PARTITIONS
from test_crash import Checker, produce_until

pytestmark = pytest.mark.skipif(os.environ.get("CARELOG_TEST_TARGET", "carelog") != "carelog",
                                reason="carelogd on S3 is Carelog-specific")

SMALL_UPLOADS = {"upload.interval.ms": "200", "upload.object.bytes": "16384"}


def wait_for(cond, timeout, what):
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out after {timeout}s waiting for {what}"
        time.sleep(0.2)


def read_all(broker, topic, partitions, timeout=60):
    """{partition: [(offset, key, value)]} from offset 0 to the high watermark."""
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": unique("s3-read"),
                  "enable.auto.commit": False})
    try:
        highs = {p: c.get_watermark_offsets(TopicPartition(topic, p), timeout=15)[1] for p in range(partitions)}
        out = {p: [] for p in range(partitions)}
        c.assign([TopicPartition(topic, p, 0) for p in range(partitions) if highs[p] > 0])
        deadline = time.monotonic() + timeout

        def done():
            return all(len(out[p]) >= highs[p] for p in range(partitions))

        while not done() and time.monotonic() < deadline:
            for m in c.consume(num_messages=10000, timeout=0.5):
                if m.error() is None and m.offset() < highs[m.partition()]:
                    out[m.partition()].append((m.offset(), m.key().decode() if m.key() else None,
                                               m.value().decode()))
        assert done(), f"read {[len(out[p]) for p in out]} of {highs}"
        return out
    finally:
        c.close()


def test_kcat_produce_confluent_consume_objects_in_bucket(broker_factory, rgw, report):  # noqa: F811
    prefix = unique("rt")
    b = broker_factory(s3_overrides(rgw, rgw.bucket, prefix, **SMALL_UPLOADS))
    partitions = 4
    topic = create_topic(admin_for(b), unique("s3-kcat"), partitions=partitions)
    n, keys = 20000, 31
    lines = [f"k{i % keys}:v{i}-" + "y" * (i % 40) for i in range(n)]
    t0 = time.monotonic()
    out = subprocess.run(["kcat", "-b", b.bootstrap, "-P", "-t", topic, "-K:", "-X", "acks=all"],
                         input=("\n".join(lines) + "\n").encode(), capture_output=True, timeout=120)
    assert out.returncode == 0, out.stderr.decode()[-2000:]
    produce_s = time.monotonic() - t0

    got = read_all(b, topic, partitions)
    assert sum(len(v) for v in got.values()) == n
    used = [p for p in got if got[p]]
    assert len(used) > 1, "keys all landed in one partition"
    for p, recs in got.items():
        assert [o for o, _, _ in recs] == list(range(len(recs))), f"partition {p}: offsets not contiguous"
        # Per partition, records are exactly the produced lines of its keys, in produce order.
        pkeys = {k for _, k, _ in recs}
        expected = [tuple(line.split(":", 1)) for line in lines if line.split(":", 1)[0] in pkeys]
        assert [(k, v) for _, k, v in recs] == expected, f"partition {p}: content or order differs"
    objects = wait_for(lambda: list_objects(rgw, rgw.bucket, prefix), 20, "objects in the bucket")
    assert sum(objects.values()) > 0
    report(f"s3 round trip: kcat produced {n} msgs (acks=all) in {produce_s:.2f}s; "
           f"{len(objects)} objects, {sum(objects.values())} bytes under s3://{rgw.bucket}/{prefix}")


def test_clean_shutdown_then_wal_deleted_reads_come_from_s3(broker_factory, rgw):  # noqa: F811
    prefix = unique("stateless")
    b = broker_factory(s3_overrides(rgw, rgw.bucket, prefix, **{"upload.interval.ms": "60000"}))
    topic = create_topic(admin_for(b), unique("s3-stateless"), partitions=3)
    prod = TrackingProducer(b)
    for i in range(3000):
        prod.produce(topic, i % 3, f"m{i}")
    assert prod.flush(60) == 0 and prod.failed == 0 and len(prod.acked) == 3000
    assert not list_objects(rgw, rgw.bucket, prefix), "uploaded before shutdown despite the 60 s interval"

    b.stop_clean()  # SIGTERM: uploads everything and empties the WAL
    assert list_objects(rgw, rgw.bucket, prefix), "shutdown uploaded nothing to S3"
    wal = b.data_dir / "wal"
    assert not any(wal.glob("*.wal")), f"WAL not emptied: {list(wal.iterdir())}"
    shutil.rmtree(wal)
    assert not (b.data_dir / "objects").exists(), "objects were written locally, not to S3"

    b.start()
    for p in range(3):
        low, high, recs = read_partition(b, topic, p, start=0)
        assert (low, high) == (0, 1000)
        assert [o for o, _ in recs] == list(range(1000))
        assert [v for _, v in recs] == [f"m{i}" for i in range(p, 3000, 3)]
    prod = TrackingProducer(b)
    prod.produce(topic, 0, "after")
    assert prod.flush(30) == 0
    assert prod.acked == [(0, 1000, "after")]


def test_kill9_rounds_on_s3(broker_factory, rgw, report):  # noqa: F811
    rounds = int(os.environ.get("CARELOG_S3_CRASH_ROUNDS", "6"))
    rng = random.Random(int(os.environ.get("CARELOG_CRASH_SEED", str(time.time_ns()))))
    prefix = unique("crash")
    b = broker_factory(s3_overrides(rgw, rgw.bucket, prefix, **CRASH_OVERRIDES))
    topic = create_topic(admin_for(b), unique("s3-crash"), partitions=CRASH_PARTITIONS)
    checker = Checker()
    produced = 0
    started = time.monotonic()
    for rnd in range(rounds):
        prod = TrackingProducer(b)
        stop = threading.Event()
        counter = []
        t = threading.Thread(target=produce_until, args=(prod, topic, rnd, stop, counter))
        t.start()
        time.sleep(rng.uniform(0.3, 1.5))
        b.kill()
        stop.set()
        t.join()
        produced += counter[0]
        b.start()
        prod.flush(30)
        checker.add_acks(prod.acked)
        checker.verify(b, topic, full=(rnd == rounds - 1))
    acked = sum(len(v) for v in checker.expected.values())
    objects = list_objects(rgw, rgw.bucket, prefix)
    report(f"s3 crash test: {rounds} kill -9 rounds in {time.monotonic() - started:.0f}s, {produced} produced, "
           f"{acked} acknowledged, {len(objects)} objects in the bucket")
    assert acked > 0 and objects


def run_failing_start(tmp_path, overrides):
    """Runs carelogd expecting a start-up failure; returns (code, output, seconds)."""
    b = CarelogBroker(tmp_path / unique("bad"), overrides)
    t0 = time.monotonic()
    try:
        out = subprocess.run(b.command(), capture_output=True, text=True, timeout=30, cwd=b.workdir,
                             stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        raise AssertionError(f"carelogd still running after 30 s: {e.stdout!r} {e.stderr!r}")
    return out.returncode, out.stdout + out.stderr, time.monotonic() - t0


def test_wrong_credentials_fail_startup_without_leaking_secret(tmp_path, rgw):  # noqa: F811
    wrong_secret = "WrongSecret" + uuid.uuid4().hex
    code, output, secs = run_failing_start(
        tmp_path, s3_overrides(rgw, rgw.bucket, "creds", **{"s3.secret.access.key": wrong_secret}))
    assert code != 0, output
    assert secs < 15, f"took {secs:.1f}s to fail"
    assert rgw.bucket in output and "SignatureDoesNotMatch" in output, output
    assert wrong_secret not in output and "WrongSecret" not in output

    code, output, _ = run_failing_start(tmp_path, s3_overrides(rgw, rgw.bucket, "creds",
                                                               **{"s3.access.key.id": "NOSUCHKEYID"}))
    assert code != 0 and rgw.bucket in output and "InvalidAccessKeyId" in output, output
    assert rgw.secret_key not in output


def test_missing_bucket_fails_startup(tmp_path, rgw):  # noqa: F811
    missing = "carelog-missing-" + uuid.uuid4().hex[:8]
    code, output, secs = run_failing_start(tmp_path, s3_overrides(rgw, missing, "x"))
    assert code != 0, output
    assert secs < 15, f"took {secs:.1f}s to fail"
    assert missing in output and "NoSuchBucket" in output, output
    assert rgw.secret_key not in output


def test_unreachable_endpoint_fails_startup(tmp_path, rgw):  # noqa: F811
    from s3_fixture import _free_port
    dead = f"http://127.0.0.1:{_free_port()}"
    code, output, secs = run_failing_start(
        tmp_path, s3_overrides(rgw, rgw.bucket, "x", **{"s3.endpoint": dead, "s3.retry.backoff.max.ms": "200"}))
    assert code != 0, output
    assert secs < 15, f"took {secs:.1f}s to fail"
    assert rgw.bucket in output and "connect" in output, output
    assert rgw.secret_key not in output


def test_rgw_outage_produce_continues_and_catches_up(broker_factory, tmp_path, report):
    from s3_fixture import rgw_available, skip_or_fail
    if not rgw_available():
        skip_or_fail("Ceph RGW not installed")
    private = PrivateRgw(tmp_path / "rgw")
    try:
        r = private.start("carelog-outage")
        prefix = "carelog"
        # Objects of ~128 KiB keep the count (and the cold start below) small.
        b = broker_factory(s3_overrides(r, r.bucket, prefix, **{
            "upload.interval.ms": "200", "upload.object.bytes": "131072", "s3.max.attempts": "2",
            "s3.retry.backoff.max.ms": "200"}))
        partitions = 3
        topic = create_topic(admin_for(b), unique("s3-outage"), partitions=partitions)
        prod = LatencyProducer(b.bootstrap)
        stop = threading.Event()

        def produce():
            seq = 0
            while not stop.is_set():
                for _ in range(20):
                    prod.produce(topic, seq % partitions, f"o-{seq}-" + "z" * 200)
                    seq += 1
                prod.poll(0)
                time.sleep(0.01)

        t = threading.Thread(target=produce)
        t.start()
        try:
            time.sleep(2)
            before = wait_for(lambda: list_objects(r, r.bucket, prefix), 20, "uploads before the outage")
            down_at = time.monotonic()
            private.stop_gateway()
            time.sleep(10)
            up_at = time.monotonic()
            acks_during = sum(1 for a in prod.acked if down_at + 1 < a[3] < up_at)
            private.start_gateway()
            time.sleep(2)
        finally:
            stop.set()
            t.join()
        assert prod.flush(60) == 0 and prod.failed == 0
        assert acks_during > 1000, f"only {acks_during} acks while RGW was down"
        # Uploads resume: new objects appear after the gateway is back.
        wait_for(lambda: set(list_objects(r, r.bucket, prefix)) - set(before), 30, "uploads after the outage")
        catch_up_s = time.monotonic() - up_at

        def check(recs_by_p):
            for p in range(partitions):
                recs = recs_by_p[p]
                values = [v for _, _, v in recs]
                assert len(set(values)) == len(values), f"partition {p}: duplicates"
                assert [o for o, _, _ in recs] == list(range(len(recs)))
            got = {(p, o): v for p in recs_by_p for o, _, v in recs_by_p[p]}
            for p, o, v, _ in prod.acked:
                assert got.get((p, o)) == v, f"acknowledged {v!r} at {p}/{o}, found {got.get((p, o))!r}"

        check(read_all(b, topic, partitions))
        # Everything reached S3: a clean stop, no WAL, and all of it is still readable.
        b.stop_clean()
        shutil.rmtree(b.data_dir / "wal")
        t0 = time.monotonic()
        b.start()
        cold_start_s = time.monotonic() - t0
        check(read_all(b, topic, partitions))
        lat = prod.latencies
        report(f"s3 outage: {len(prod.acked)} acked ({acks_during} during a 10 s RGW outage); "
               f"produce latency p50 {percentile(lat, 0.5) * 1000:.1f} ms, p99 {percentile(lat, 0.99) * 1000:.1f} ms; "
               f"{len(list_objects(r, r.bucket, prefix))} objects; new objects {catch_up_s:.1f}s after RGW was back; "
               f"restart without WAL {cold_start_s:.1f}s")
        b.stop_clean()  # before the private RGW goes away
    finally:
        private.stop()
