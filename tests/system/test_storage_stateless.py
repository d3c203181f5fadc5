"""Diskless storage: after a clean shutdown everything lives in object
storage, so the WAL directory can be deleted without losing anything."""

import shutil
import struct
import time

import wire
from kafka_util import admin_for, create_topic, unique
from storage_util import TrackingProducer, read_partition


def test_clean_shutdown_uploads_everything_and_wal_is_disposable(broker_factory):
    b = broker_factory({"upload.interval.ms": "60000"})  # only the shutdown uploads
    topic = create_topic(admin_for(b), unique("stateless"), partitions=3)
    prod = TrackingProducer(b)
    for i in range(3000):
        prod.produce(topic, i % 3, f"m{i}")
    assert prod.flush(60) == 0 and prod.failed == 0
    assert len(prod.acked) == 3000

    b.stop_clean()  # SIGTERM: uploads everything and empties the WAL
    wal = b.data_dir / "wal"
    assert not any(wal.glob("*.wal")), f"WAL not emptied: {list(wal.iterdir())}"
    objects = [p for p in (b.data_dir / "objects").rglob("*") if p.is_file() and ".tmp" not in p.parts]
    assert objects, "nothing was uploaded"
    shutil.rmtree(wal)

    b.start()
    for p in range(3):
        low, high, recs = read_partition(b, topic, p, start=0)
        assert (low, high) == (0, 1000)
        assert [o for o, _ in recs] == list(range(1000))
        assert [v for _, v in recs] == [f"m{i}" for i in range(p, 3000, 3)]
    # The log continues at the right offsets.
    prod = TrackingProducer(b)
    prod.produce(topic, 0, "after")
    assert prod.flush(30) == 0
    assert prod.acked == [(0, 1000, "after")]


def test_crash_recovery_uses_objects_and_wal_tail(broker_factory):
    # Small objects and a short interval: some data is in objects, the rest
    # only in the WAL when the broker is killed.
    b = broker_factory({"upload.interval.ms": "100", "upload.object.bytes": "4096"})
    topic = create_topic(admin_for(b), unique("tiered"), partitions=2)
    prod = TrackingProducer(b)
    for i in range(4000):
        prod.produce(topic, i % 2, f"m{i}")
    assert prod.flush(60) == 0 and prod.failed == 0
    time.sleep(0.5)  # an upload pass or more
    for i in range(4000, 4100):
        prod.produce(topic, i % 2, f"m{i}")  # these stay in the WAL
    assert prod.flush(60) == 0 and prod.failed == 0
    b.kill()
    assert list((b.data_dir / "objects").rglob("*/sso/*")), "nothing uploaded before the crash"
    b.start()
    for p in range(2):
        _, high, recs = read_partition(b, topic, p, start=0)
        assert high == 2050
        assert [v for _, v in recs] == [f"m{i}" for i in range(p, 4100, 2)]


def test_debug_dump_wal_and_object(broker_factory):
    import os
    import subprocess
    from pathlib import Path

    cli = Path(os.environ.get("CARELOG_CLI", Path(__file__).resolve().parents[2] / "build" / "bin" / "carelog"))
    b = broker_factory({"upload.interval.ms": "100"})
    topic = create_topic(admin_for(b), unique("dump"), partitions=1)
    prod = TrackingProducer(b)
    for i in range(100):
        prod.produce(topic, 0, f"m{i}")
    assert prod.flush(30) == 0
    time.sleep(0.5)
    prod.produce(topic, 0, "tail")
    assert prod.flush(30) == 0
    b.kill()
    wal = subprocess.run([str(cli), "debug", "dump-wal", str(b.data_dir / "wal")], capture_output=True,
                         text=True, timeout=30)
    assert wal.returncode == 0, wal.stderr
    assert "offsets 100..100" in wal.stdout
    objects = b.data_dir / "objects"
    key = next(p for p in objects.rglob("*") if p.is_file() and "sso" in p.parts).relative_to(objects)
    dump = subprocess.run([str(cli), "debug", "dump-object", str(key), "--object-store", f"file://{objects}"],
                          capture_output=True, text=True, timeout=30)
    assert dump.returncode == 0, dump.stderr
    assert "crc ok" in dump.stdout and " offsets 0.." in dump.stdout
    assert "m1" not in dump.stdout  # never payloads


def test_retention_bytes_advances_log_start_and_deletes_objects(broker_factory):
    from confluent_kafka import Consumer, TopicPartition

    b = broker_factory({"upload.interval.ms": "100", "upload.object.bytes": "4096",
                        "log.retention.check.interval.ms": "200", "object.delete.delay.ms": "0",
                        "compaction.interval.ms": "0"})
    topic = create_topic(admin_for(b), unique("retention"), partitions=1,
                         config={"retention.bytes": "20000"})
    prod = TrackingProducer(b, **{"linger.ms": 0})
    for i in range(3000):
        prod.produce(topic, 0, f"m{i}-" + "x" * 100)
        if i % 100 == 99:
            assert prod.flush(30) == 0  # many small batches
    assert prod.flush(30) == 0 and prod.failed == 0
    objects_dir = b.data_dir / "objects"

    def count_objects():
        return len([p for p in objects_dir.rglob("*") if p.is_file() and "sso" in p.parts])

    c = Consumer({"bootstrap.servers": b.bootstrap, "group.id": unique("ret")})
    try:
        def low():
            return c.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)[0]
        deadline = time.monotonic() + 30
        while low() < 2000 and time.monotonic() < deadline:
            time.sleep(0.3)
        start = low()
        assert start >= 2000, f"log start only {start}"
    finally:
        c.close()
    # Expired objects disappear; what is left is readable from the log start.
    deadline = time.monotonic() + 30
    while count_objects() > 12 and time.monotonic() < deadline:
        time.sleep(0.3)
    assert count_objects() <= 12
    _, high, recs = read_partition(b, topic, 0)
    assert high == 3000
    # Retention may have moved the log start on since `start` was read
    # (uploads still finishing); it never moves back, and what is left is
    # contiguous up to the end.
    assert recs[0][0] >= start and [o for o, _ in recs] == list(range(recs[0][0], 3000))
    assert recs[-1][1].startswith("m2999-")


def _idempotent_batch(producer_id, sequence, values, timestamp_ms):
    """A magic-2 batch of an idempotent producer (epoch 0), no compression."""
    recs = b"".join(wire.record(i, b"k", v) for i, v in enumerate(values))
    after_crc = (struct.pack(">hiqqqhii", 0, len(values) - 1, timestamp_ms, timestamp_ms,
                             producer_id, 0, sequence, len(values)) + recs)
    after_len = struct.pack(">ibI", 0, 2, wire.crc32c(after_crc)) + after_crc
    return struct.pack(">qi", 0, len(after_len)) + after_len


def _produce(conn, corr, topic, batch):
    conn.send(wire.produce_v7(corr, topic, 0, batch))
    _, [(_, _, err, base)] = wire.parse_produce_v7(conn.recv_frame())
    return err, base


def test_idempotent_retry_across_restart_without_wal(broker_factory):
    # The producer's last batch is followed by more than the 4 MiB of data
    # that start-up used to scan for producer state: with snapshots stored
    # alongside every upload, the retry is still recognised.
    b = broker_factory({"upload.interval.ms": "200"})
    topic = create_topic(admin_for(b), unique("idem"), partitions=1)
    pid, now = 424242, int(time.time() * 1000)
    with wire.Conn(b) as c:
        for seq in range(0, 15, 3):
            err, base = _produce(c, seq, topic, _idempotent_batch(pid, seq, [b"a", b"b", b"c"], now))
            assert (err, base) == (0, seq)
    prod = TrackingProducer(b)
    for i in range(6000):
        prod.produce(topic, 0, "x" * 1000 + str(i))
    assert prod.flush(60) == 0 and prod.failed == 0
    b.stop_clean()
    shutil.rmtree(b.data_dir / "wal")
    b.start()
    with wire.Conn(b) as c:
        # A retry of the last batch: the original offsets, nothing appended.
        assert _produce(c, 1, topic, _idempotent_batch(pid, 12, [b"a", b"b", b"c"], now)) == (0, 12)
        # A gap is out of order (45); the next sequence is appended at the end.
        assert _produce(c, 2, topic, _idempotent_batch(pid, 16, [b"d"], now))[0] == 45
        assert _produce(c, 3, topic, _idempotent_batch(pid, 15, [b"d"], now)) == (0, 6015)
    _, high, _ = read_partition(b, topic, 0, start=6010)
    assert high == 6016


def test_compaction_split_keeps_catch_up_reads_identical(broker_factory):
    # Many small uploads, then compaction merges them: the busy partition
    # into an object of its own, the quiet one into a mixed object. Catch-up
    # reads before, after, and after a restart without the WAL are identical.
    b = broker_factory({"upload.interval.ms": "100", "upload.object.bytes": "8192",
                        "compaction.interval.ms": "4000", "compaction.small.object.bytes": "50000",
                        "compaction.partition.split.bytes": "100000", "object.delete.delay.ms": "0"})
    topic = create_topic(admin_for(b), unique("split"), partitions=2)
    prod = TrackingProducer(b)
    for i in range(2400):
        p = 0 if i % 8 else 1
        prod.produce(topic, p, f"v{i}-" + "y" * 100)
        if i % 200 == 199:
            assert prod.flush(30) == 0
            time.sleep(0.15)  # an upload per round: many small objects
    assert prod.flush(60) == 0 and prod.failed == 0
    before = [read_partition(b, topic, p, start=0) for p in range(2)]
    assert [h for _, h, _ in before] == [2100, 300]
    deadline = time.time() + 30
    while "per-partition" not in b.log_path.read_text(errors="replace") and time.time() < deadline:
        time.sleep(0.2)
    log = b.log_path.read_text(errors="replace")
    merged = [line for line in log.splitlines() if "compactor: merged" in line]
    assert merged and any(" 0 of them per-partition" not in line for line in merged), merged
    assert [read_partition(b, topic, p, start=0) for p in range(2)] == before
    b.stop_clean()
    shutil.rmtree(b.data_dir / "wal")
    b.start()
    assert [read_partition(b, topic, p, start=0) for p in range(2)] == before
