#!/usr/bin/env python3
"""wal.type=file vs wal.type=object: produce latency (acks=all, paced below
saturation: 1 producer at 50 msgs/s and 1 MB/s, 8 concurrent producers at
16 MB/s, each with librdkafka's defaults and with 5 requests in flight like
the Java producer), saturated throughput, and object-store requests per GiB
ingested at the default thresholds
(wal.object.max.puts.per.sec=50: adaptive batching, wal.object.batch.ms=200,
wal.object.batch.bytes=4 MiB, upload.interval.ms=2000, upload.object.bytes=16 MiB;
compaction off so every stream-set object is an upload). The fixed window of
earlier versions: --set wal.object.max.puts.per.sec=0.

Request counts come from two independent sides:
  * the broker: WAL PUTs and deleted WAL objects from its shutdown line
    `object WAL closed: N PUTs ...`, stream-set objects listed in the store
    after a clean stop (and the multipart requests their sizes imply);
  * with --store s3, the gateway: RGW's usage log for the run's own bucket
    (put_obj counts single PUTs and multipart parts alike).
With --store file there is no second side (the file store keeps no counts).

Usage: .cache/venv/bin/python bench/object_wal_bench.py [--store file|s3] [--reps 2]
       CARELOGD=build-x/bin/carelogd selects the broker binary; --store s3
       starts a private Ceph RGW (scripts/s3-rgw.sh) with its usage log on.
"""

import argparse
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "system"))
sys.path.insert(0, str(ROOT / "bench"))

from confluent_kafka import Producer  # noqa: E402

from brokers import CarelogBroker  # noqa: E402
from kafka_util import admin_for, create_topic  # noqa: E402
from s3_broker_util import PrivateRgw, list_objects, s3_overrides  # noqa: E402
from storage_bench import produce  # noqa: E402

PARTITIONS = 8
MSG = 1024
# The broker's S3 defaults (s3.multipart.threshold.bytes / part.bytes).
MULTIPART_THRESHOLD = 16 << 20
MULTIPART_PART = 8 << 20


def paced(broker, topic, producers, mb_per_s, seconds, extra=None):
    """acks=all latency of 1 KiB messages sent at a fixed total rate by
    `producers` clients (one thread each). Sleeping happens inside poll(), so
    an acknowledgement is seen as soon as it arrives, not at the next send.
    Returns (p50 ms, p99 ms, max ms, messages acked, messages failed)."""
    lat, failed = [], [0]
    lock = threading.Lock()  # guards lat and failed
    rate = mb_per_s * 1e6 / MSG / producers
    payload = b"x" * MSG

    def one(idx):
        p = Producer({"bootstrap.servers": broker.bootstrap, "acks": "all", "client.id": f"owb-{idx}",
                      **(extra or {})})
        mine = []
        errors = []

        def done(err, _msg, sent):
            if err is None:
                mine.append(time.monotonic() - sent)
            else:
                errors.append(err)

        start = time.monotonic()
        i = 0
        while (now := time.monotonic()) - start < seconds:
            due = start + i / rate
            if due > now:
                p.poll(due - now)
                continue
            sent = time.monotonic()
            p.produce(topic, payload, partition=(idx + i * producers) % PARTITIONS,
                      on_delivery=lambda err, msg, sent=sent: done(err, msg, sent))
            p.poll(0)  # behind schedule: still see acknowledgements promptly
            i += 1
        p.flush(60)
        with lock:
            lat.extend(mine)
            failed[0] += len(errors)

    threads = [threading.Thread(target=one, args=(k,)) for k in range(producers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lat.sort()
    ms = [x * 1000 for x in lat]
    return ms[len(ms) // 2], ms[int(len(ms) * 0.99)], ms[-1], len(ms), failed[0]


def broker_counts(log_path):
    """WAL PUTs, failed PUTs and deleted WAL objects (shutdown line), plus
    failed stream-set PUT attempts (uploader warnings)."""
    text = Path(log_path).read_text(errors="replace")
    m = re.findall(r"object WAL closed: (\d+) PUTs \((\d+) bytes\), (\d+) failed, (\d+) timed out, "
                   r"(\d+) records failed, (\d+) deleted", text)
    wal = [int(x) for x in m[-1]] if m else [0] * 6
    return {"wal_puts": wal[0], "wal_put_failed": wal[2] + wal[3], "wal_deleted": wal[5],
            "upload_put_failed": len(re.findall(r"uploader: PUT .* failed", text)),
            "warn": len(re.findall(r"Z WARN ", text)), "error": len(re.findall(r"Z ERROR ", text))}


def sso_requests(sizes):
    """(objects, single PUTs, multipart uploads, parts) for stream-set objects."""
    multi = [s for s in sizes if s >= MULTIPART_THRESHOLD]
    parts = sum(math.ceil(s / MULTIPART_PART) for s in multi)
    return len(sizes), len(sizes) - len(multi), len(multi), parts


class UsageRgw:
    """A private RGW with its usage log flushed every second, so each run's
    requests can be read back per bucket from the gateway's side."""

    def __init__(self, workdir):
        self.p = PrivateRgw(workdir)
        self.rgw = None

    def admin(self, *args):
        out = subprocess.run(list(args), env=self.p.env, capture_output=True, text=True, timeout=300)
        if out.returncode != 0:
            raise RuntimeError(f"{' '.join(args)}: {out.stderr[-500:]}")
        return out.stdout

    def start(self):
        self.rgw = self.p.start("owb-setup")
        for k, v in (("rgw_enable_usage_log", "true"), ("rgw_usage_log_tick_interval", "1"),
                     ("rgw_usage_log_flush_threshold", "1"), ("rgw_gc_obj_min_wait", "0")):
            self.admin("ceph", "config", "set", "client.rgw.gw", k, v)
        self.p.stop_gateway()
        self.p.start_gateway()

    def put_ms(self, size, n=20):
        """Median wall time of one PUT of `size` bytes from this client (SigV4
        in Python included), for splitting object WAL latency into parts."""
        body = os.urandom(size)
        times = []
        for i in range(n):
            t0 = time.monotonic()
            status, _ = self.rgw.request("PUT", f"/owb-setup/probe-{i}", body=body)
            times.append((time.monotonic() - t0) * 1000)
            assert status == 200, f"probe PUT: HTTP {status}"
        return sorted(times)[n // 2]

    def new_bucket(self, name):
        status, body = self.rgw.request("PUT", "/" + name)
        assert status == 200, f"create bucket {name}: HTTP {status} {body[:200]!r}"
        self.rgw.bucket = name

    def usage(self, bucket):
        time.sleep(3)  # > tick interval: the last requests reach the log
        doc = json.loads(self.admin("radosgw-admin", "usage", "show", "--uid=carelog"))
        ops = {}
        for user in doc.get("entries", []):
            for b in user.get("buckets", []):
                if b.get("bucket") == bucket:
                    for c in b.get("categories", []):
                        ops[c["category"]] = ops.get(c["category"], 0) + c["ops"]
        return ops

    def drop(self, bucket):
        """Frees the memstore OSD (2 GiB) for the next run."""
        self.admin("radosgw-admin", "bucket", "rm", f"--bucket={bucket}", "--purge-objects", "--bypass-gc")
        self.admin("radosgw-admin", "gc", "process", "--include-all")

    def stop(self):
        self.p.stop()


# Paced phases: (name, producers, total MB/s, producer config). librdkafka's
# defaults are linger.ms=5 and an unbounded number of requests in flight per
# connection; the Java producer's default is 5 in flight.
JAVA_LIKE = {"max.in.flight.requests.per.connection": 5}
PHASES = [("lone", 1, 0.05, {}),
          ("1p", 1, 1.0, {}),
          ("1p-if5", 1, 1.0, JAVA_LIKE),
          ("8p", 8, 16.0, {}),
          ("8p-if5", 8, 16.0, JAVA_LIKE)]


def s3_counts(rgw, bucket):
    """PUT-class requests so far from the gateway's side, split with a
    listing: stream-set requests (implied by the objects' sizes) and the rest,
    which belong to WAL objects (deleted by then; a WAL object that grew past
    the multipart threshold while 4 PUTs were in flight is a multipart upload
    too)."""
    u = rgw.usage(bucket)
    sizes = [s for k, s in list_objects(rgw.rgw, bucket, "c").items() if "/sso/" in k]
    _, single, multi, parts = sso_requests(sizes)
    upload = single + parts + 2 * multi
    put_class = u.get("put_obj", 0) + u.get("init_multipart", 0) + u.get("complete_multipart", 0)
    return {"wal_put": put_class - upload, "upload_put": upload,
            "multi_delete": u.get("multi_object_delete", 0), "delete": u.get("delete_obj", 0)}


def run(tmp, wal_type, rep, store, rgw, args):
    over = {"wal.type": wal_type, "compaction.interval.ms": "0", **dict(kv.split("=", 1) for kv in args.set)}
    bucket = f"owb-{wal_type}-{rep}"
    if store == "s3":
        rgw.new_bucket(bucket)
        over.update(s3_overrides(rgw.rgw, bucket, "c"))
    b = CarelogBroker(Path(tmp) / f"{store}-{wal_type}-{rep}", over)
    b.start()
    topic = create_topic(admin_for(b), "bench", partitions=PARTITIONS)
    r = {"store": store, "wal": wal_type, "rep": rep, "load": os.getloadavg()[0], "phases": {}}
    acked = 0
    last = s3_counts(rgw, bucket) if store == "s3" else None
    for name, producers, mbps, extra in PHASES + [("saturated", 1, None, {})]:
        if mbps is None:
            total = args.mib << 20
            r["mbps"], r["sat_p50"], r["sat_p99"] = produce(b, topic, PARTITIONS, total)
            n = total // MSG
        else:
            p50, p99, mx, n, failed = paced(b, topic, producers, mbps, args.seconds, extra)
            r["phases"][name] = {"p50": p50, "p99": p99, "max": mx, "acked": n, "failed": failed}
            acked += n
        if store == "s3":
            # Requests of this phase (WAL PUTs are done once everything is
            # acknowledged; the wait in s3_counts covers the next upload pass).
            now = s3_counts(rgw, bucket)
            r.setdefault("per_phase", {})[name] = {k: now[k] - last[k] for k in now} | {"gib": n * MSG / 2**30}
            last = now
    r["load_end"] = os.getloadavg()[0]
    b.stop_clean()
    r["gib"] = (total + acked * MSG) / 2**30
    if store == "s3":
        keys = list_objects(rgw.rgw, bucket, "c")
        sizes = [s for k, s in keys.items() if "/sso/" in k]
        r["left_wal"] = sum(1 for k in keys if "/wal/" in k)
        r["rgw"] = rgw.usage(bucket)
        rgw.drop(bucket)
    else:
        files = [p for p in (b.data_dir / "objects").rglob("*") if p.is_file()]
        sizes = [p.stat().st_size for p in files if "sso" in p.parts]
        r["left_wal"] = sum(1 for p in files if "wal" in p.parts)
    r.update(broker_counts(b.log_path))
    r["sso"], r["sso_single"], r["sso_multi"], r["sso_parts"] = sso_requests(sizes)
    # Requests billed as PUT class: single PUTs, CreateMultipartUpload,
    # UploadPart, CompleteMultipartUpload.
    r["upload_reqs"] = r["sso_single"] + r["sso_parts"] + 2 * r["sso_multi"]
    if args.logs:
        Path(args.logs).mkdir(parents=True, exist_ok=True)
        shutil.copy(b.log_path, Path(args.logs) / f"{store}-{wal_type}-{rep}.log")
    return r


def report(r):
    g = r["gib"]
    lat = " ".join(f"{k} {v['p50']:.0f}/{v['p99']:.0f}/{v['max']:.0f}"
                   + (f" ({v['failed']} failed)" if v["failed"] else "") for k, v in r["phases"].items())
    line = (f"{r['store']} store, wal.type={r['wal']} #{r['rep']} (load {r['load']:.1f}->{r['load_end']:.1f}): "
            f"latency p50/p99/max ms: {lat}; saturated {r['mbps']:.0f} MB/s (p50 {r['sat_p50']:.0f} "
            f"p99 {r['sat_p99']:.0f} ms); {g:.3f} GiB ingested; broker: WAL PUTs {r['wal_puts']} "
            f"({r['wal_puts'] / g:.0f}/GiB, {r['wal_put_failed']} failed), stream-set objects {r['sso']} "
            f"({r['sso_multi']} multipart, {r['sso_parts']} parts) = {r['upload_reqs']} PUT-class requests "
            f"({r['upload_reqs'] / g:.0f}/GiB), WAL objects deleted {r['wal_deleted']} "
            f"({r['wal_deleted'] / g:.0f}/GiB), left in store {r['left_wal']}, failed upload PUTs "
            f"{r['upload_put_failed']}, log lines WARN {r['warn']} ERROR {r['error']}")
    if "rgw" in r:
        u = r["rgw"]
        put_class = u.get("put_obj", 0) + u.get("init_multipart", 0) + u.get("complete_multipart", 0)
        line += (f"; RGW usage log: {json.dumps(u, sort_keys=True)}; PUT-class {put_class} = WAL "
                 f"{put_class - r['upload_reqs']} + stream-set {r['upload_reqs']} (broker counted "
                 f"{r['wal_puts']} WAL objects; more requests = WAL objects sent as multipart)")
    print(line, flush=True)
    for name, d in r.get("per_phase", {}).items():
        print(f"    {name}: {d['gib'] * 1024:.1f} MiB acked, RGW: {d['wal_put']} WAL PUTs "
              f"({d['wal_put'] / d['gib']:.0f}/GiB), {d['upload_put']} stream-set PUT-class "
              f"({d['upload_put'] / d['gib']:.0f}/GiB), {d['multi_delete']} DeleteObjects + {d['delete']} DELETE "
              f"({(d['multi_delete'] + d['delete']) / d['gib']:.0f}/GiB)", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--store", choices=["file", "s3"], default="file")
    ap.add_argument("--mib", type=int, default=256, help="saturated phase size")
    ap.add_argument("--seconds", type=float, default=5.0, help="each paced phase")
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="extra broker setting, e.g. wal.object.batch.ms=50 (repeatable)")
    ap.add_argument("--json", help="append each run's figures to this file (JSON lines)")
    ap.add_argument("--logs", help="copy each broker log into this directory")
    ap.add_argument("--wal", choices=["file", "object", "both"], default="both")
    args = ap.parse_args()
    wal_types = ("file", "object") if args.wal == "both" else (args.wal,)
    with tempfile.TemporaryDirectory(prefix="carelog-owal-bench-") as tmp:
        rgw = None
        if args.store == "s3":
            rgw = UsageRgw(Path(tmp) / "rgw")
            rgw.start()
            print("RGW PUT latency from Python, median of 20: " +
                  ", ".join(f"{size >> 10} KiB {rgw.put_ms(size):.1f} ms" for size in (4 << 10, 64 << 10, 1 << 20, 4 << 20)),
                  flush=True)
        try:
            # Interleaved (file, object, file, object) so drifting machine load
            # hits both WAL types alike.
            for rep in range(1, args.reps + 1):
                for wal_type in wal_types:
                    r = run(tmp, wal_type, rep, args.store, rgw, args)
                    report(r)
                    if args.json:
                        with open(args.json, "a") as f:
                            f.write(json.dumps(r) + "\n")
        finally:
            if rgw:
                rgw.stop()


if __name__ == "__main__":
    main()
