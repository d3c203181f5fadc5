#!/usr/bin/env python3
"""Storage benchmark: produce throughput and latency with acks=all, objects
per GiB, crash-recovery time per GiB of WAL, and replay speed of uploaded
data with cold broker caches (compared with the raw read speed of the same
object files).

Usage: .cache/venv/bin/python bench/storage_bench.py [--gib 1] [--partitions 16]
       CARELOGD=build-u/bin/carelogd selects the broker binary.
"""

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "system"))

from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402

from brokers import CarelogBroker  # noqa: E402
from kafka_util import admin_for, create_topic  # noqa: E402

VALUE = 16 * 1024


def produce(broker, topic, partitions, total_bytes):
    p = Producer({"bootstrap.servers": broker.bootstrap, "acks": "all", "linger.ms": 5,
                  "batch.size": 1 << 20, "queue.buffering.max.kbytes": 262144,
                  "compression.type": "none"})
    payload = bytes(range(256)) * (VALUE // 256)
    latencies = []
    errors = []

    def cb(err, msg, sent):
        if err is not None:
            errors.append(err)
        else:
            latencies.append(time.monotonic() - sent)

    n = total_bytes // VALUE
    start = time.monotonic()
    for i in range(n):
        sent = time.monotonic()
        while True:
            try:
                p.produce(topic, payload, partition=i % partitions,
                          on_delivery=lambda err, msg, sent=sent: cb(err, msg, sent))
                break
            except BufferError:
                p.poll(0.01)
        if i % 64 == 0:
            p.poll(0)
    p.flush(300)
    elapsed = time.monotonic() - start
    assert not errors, errors[:3]
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99)] * 1000
    p50 = latencies[len(latencies) // 2] * 1000
    return n * VALUE / elapsed / 1e6, p50, p99


def paced_latency(broker, topic, partitions, mb_per_s, seconds=5.0):
    """acks=all latency at a fixed rate below saturation (1 KiB messages)."""
    p = Producer({"bootstrap.servers": broker.bootstrap, "acks": "all", "linger.ms": 1})
    payload = b"x" * 1024
    lat = []
    rate = mb_per_s * 1e6 / len(payload)
    start = time.monotonic()
    i = 0
    while time.monotonic() - start < seconds:
        due = start + i / rate
        now = time.monotonic()
        if due > now:
            time.sleep(due - now)
        sent = time.monotonic()
        p.produce(topic, payload, partition=i % partitions,
                  on_delivery=lambda err, msg, sent=sent: err is None and lat.append(time.monotonic() - sent))
        p.poll(0)
        i += 1
    p.flush(60)
    lat.sort()
    return lat[len(lat) // 2] * 1000, lat[int(len(lat) * 0.99)] * 1000, i


def consume_all(broker, topic, partitions, expected_msgs):
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "bench-replay", "enable.auto.commit": False,
                  "fetch.max.bytes": 64 << 20, "max.partition.fetch.bytes": 8 << 20,
                  "queued.max.messages.kbytes": 262144})
    c.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
    got = 0
    nbytes = 0
    start = time.monotonic()
    while got < expected_msgs and time.monotonic() - start < 600:
        for m in c.consume(num_messages=10000, timeout=1.0):
            if m.error() is None:
                got += 1
                nbytes += len(m.value())
    elapsed = time.monotonic() - start
    c.close()
    return nbytes / elapsed / 1e6


def kcat_replay(broker, topic):
    """Replay with kcat (C client): the Python consumer tops out first."""
    import subprocess
    start = time.monotonic()
    out = subprocess.run(["kcat", "-C", "-b", broker.bootstrap, "-t", topic, "-o", "beginning", "-e", "-q",
                          "-X", "fetch.max.bytes=67108864", "-X", "max.partition.fetch.bytes=8388608",
                          "-f", "%S\n"], capture_output=True, text=True, timeout=600, check=True)
    elapsed = time.monotonic() - start
    return sum(int(x) for x in out.stdout.split()) / elapsed / 1e6


def object_files(data_dir):
    return [p for p in (data_dir / "objects").rglob("*") if p.is_file() and "sso" in p.parts]


def raw_read_speed(files):
    start = time.monotonic()
    total = 0
    for f in files:
        with open(f, "rb") as fh:
            while chunk := fh.read(8 << 20):
                total += len(chunk)
    return total / (time.monotonic() - start) / 1e6


def recovery_ms(log_path):
    for line in reversed(Path(log_path).read_text().splitlines()):
        if "recovered" in line and " ms " in line:
            return int(line.split(" in ")[1].split(" ms")[0])
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gib", type=float, default=1.0)
    ap.add_argument("--partitions", type=int, default=16)
    args = ap.parse_args()
    total = int(args.gib * (1 << 30))
    n_msgs = total // VALUE
    with tempfile.TemporaryDirectory(prefix="carelog-bench-") as tmp:
        # 1. Produce with uploads running, then replay from objects.
        b = CarelogBroker(Path(tmp) / "tiered")
        b.start()
        topic = create_topic(admin_for(b), "bench", partitions=args.partitions)
        mbps, p50, p99 = produce(b, topic, args.partitions, total)
        print(f"produce acks=all (saturated, 16 KiB messages): {mbps:.0f} MB/s, latency incl. client queueing "
              f"p50 {p50:.1f} ms p99 {p99:.1f} ms", flush=True)
        lp50, lp99, paced = paced_latency(b, topic, args.partitions, 20)
        print(f"produce acks=all at 20 MB/s (1 KiB messages): latency p50 {lp50:.1f} ms p99 {lp99:.1f} ms", flush=True)
        n_msgs += paced  # the paced phase's messages are replayed too
        b.stop_clean()  # uploads the rest, empties the WAL
        files = object_files(b.data_dir)
        size = sum(f.stat().st_size for f in files)
        print(f"objects: {len(files)} for {size / 2**30:.2f} GiB = {len(files) / (size / 2**30):.0f} per GiB")
        b.start()  # cold broker caches (block cache empty)
        replay_kcat = kcat_replay(b, topic)
        b.stop_clean()
        b.start()
        replay_py = consume_all(b, topic, args.partitions, n_msgs)
        b.stop_clean()
        raw = raw_read_speed(files)
        print(f"replay from offset 0 (cold broker): kcat {replay_kcat:.0f} MB/s, confluent-kafka-python "
              f"{replay_py:.0f} MB/s; raw read of the same objects: {raw:.0f} MB/s (OS page cache warm)", flush=True)

        # 2. Recovery time of a WAL that was never uploaded.
        w = CarelogBroker(Path(tmp) / "walonly", {"upload.interval.ms": "3600000",
                                                   "upload.object.bytes": str(8 << 30),
                                                   "wal.capacity.bytes": str(4 << 30)})
        w.start()
        topic = create_topic(admin_for(w), "bench", partitions=args.partitions)
        produce(w, topic, args.partitions, total)
        w.kill()
        t0 = time.monotonic()
        w.start()
        ready = time.monotonic() - t0
        ms = recovery_ms(w.log_path)
        print(f"crash recovery of {args.gib:.2f} GiB of WAL: index rebuilt in {ms} ms, broker serving after "
              f"{ready:.1f} s ({ms / args.gib:.0f} ms per GiB)", flush=True)
        w.kill()


if __name__ == "__main__":
    main()
