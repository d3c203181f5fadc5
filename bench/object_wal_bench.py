#!/usr/bin/env python3
"""wal.type=file vs wal.type=object: produce latency (acks=all, paced below
saturation), saturated throughput, and object-store PUTs per GiB ingested at
the default thresholds (wal.object.batch.ms=200, wal.object.batch.bytes=4 MiB,
upload.interval.ms=2000, upload.object.bytes=16 MiB; compaction off so every
stream-set object is an upload PUT).

PUTs are counted from the broker's own log (the object WAL logs its PUT count
when it closes) plus the stream-set objects in the store after a clean stop.

Usage: .cache/venv/bin/python bench/object_wal_bench.py [--store file|s3] [--mib 512]
       CARELOGD=build-x/bin/carelogd selects the broker binary; --store s3
       starts a private Ceph RGW (scripts/s3-rgw.sh).
"""

import argparse
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "system"))
sys.path.insert(0, str(ROOT / "bench"))

from brokers import CarelogBroker  # noqa: E402
from kafka_util import admin_for, create_topic  # noqa: E402
from s3_broker_util import PrivateRgw, list_objects, s3_overrides  # noqa: E402
from storage_bench import paced_latency, produce  # noqa: E402

PARTITIONS = 8


def wal_puts(log_path):
    m = re.findall(r"object WAL closed: (\d+) PUTs \((\d+) bytes\)", Path(log_path).read_text())
    return int(m[-1][0]) if m else 0


def run(tmp, wal_type, store, rgw, args):
    over = {"wal.type": wal_type, "compaction.interval.ms": "0"}
    if store == "s3":
        over.update(s3_overrides(rgw, rgw.bucket, f"bench-{wal_type}-{int(time.time())}"))
    b = CarelogBroker(Path(tmp) / f"{store}-{wal_type}", over)
    b.start()
    topic = create_topic(admin_for(b), "bench", partitions=PARTITIONS)
    out = {}
    out["p50_1"], out["p99_1"], n1 = paced_latency(b, topic, PARTITIONS, 1, seconds=args.seconds)
    out["p50_20"], out["p99_20"], n20 = paced_latency(b, topic, PARTITIONS, 20, seconds=args.seconds)
    total = args.mib << 20
    out["mbps"], out["sat_p50"], out["sat_p99"] = produce(b, topic, PARTITIONS, total)
    b.stop_clean()
    ingested = total + (n1 + n20) * 1024
    if store == "s3":
        prefix = over["object.store"].split("/", 3)[3]
        sso = sum(1 for k in list_objects(rgw, rgw.bucket, prefix) if "/sso/" in k)
    else:
        sso = sum(1 for p in (b.data_dir / "objects").rglob("*") if p.is_file() and "sso" in p.parts)
    out["wal_puts"] = wal_puts(b.log_path)
    out["sso"] = sso
    out["puts_per_gib"] = (out["wal_puts"] + sso) / (ingested / 2**30)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--store", choices=["file", "s3"], default="file")
    ap.add_argument("--mib", type=int, default=512, help="saturated phase size")
    ap.add_argument("--seconds", type=float, default=8.0, help="each paced phase")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="carelog-owal-bench-") as tmp:
        rgw = None
        private = None
        if args.store == "s3":
            private = PrivateRgw(Path(tmp) / "rgw")
            rgw = private.start("carelog-bench")
        try:
            for wal_type in ("file", "object"):
                r = run(tmp, wal_type, args.store, rgw, args)
                print(f"{args.store} store, wal.type={wal_type}: acks=all 1 KiB msgs at 1 MB/s p50 "
                      f"{r['p50_1']:.1f} ms p99 {r['p99_1']:.1f} ms; at 20 MB/s p50 {r['p50_20']:.1f} ms "
                      f"p99 {r['p99_20']:.1f} ms; saturated {r['mbps']:.0f} MB/s (p50 {r['sat_p50']:.0f} ms, "
                      f"p99 {r['sat_p99']:.0f} ms); PUTs: {r['wal_puts']} WAL objects + {r['sso']} stream-set "
                      f"objects = {r['puts_per_gib']:.0f} per GiB", flush=True)
        finally:
            if private:
                private.stop()


if __name__ == "__main__":
    main()
