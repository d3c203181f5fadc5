"""Compacted topics (cleanup.policy=compact, docs/compaction.md) with
confluent-kafka: keyed updates and tombstones, read back latest-per-key with
their original offsets from offset 0 (across the gaps compaction leaves),
keyless records refused as Kafka does, and the erasure deadline
(max.compaction.lag.ms) checked on the raw objects of the file:// store.

The same broker overrides are real Kafka keys (log.cleaner.backoff.ms) or
ignored by Kafka, so CARELOG_TEST_TARGET=kafka runs the shared tests against
the reference; Kafka never cleans its active segment, so the tests keep
producing a filler key while they wait (segment.ms rolls segments)."""

import os
import threading
import time
from pathlib import Path

import pytest
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition

from kafka_util import admin_for, create_topic, unique
from s3_fixture import rgw  # noqa: F401  (pytest fixture)

TARGET = os.environ.get("CARELOG_TEST_TARGET", "carelog")

OVERRIDES = {
    "upload.interval.ms": "200",      # Carelog: uploads (what the cleaner sees) every 200 ms
    "log.cleaner.backoff.ms": "300",  # both: look at compacted partitions often
    "object.delete.delay.ms": "0",    # Carelog: superseded objects deleted at the next GC pass
}
TOPIC_CONFIG = {
    "cleanup.policy": "compact",
    "min.cleanable.dirty.ratio": "0.01",
    "delete.retention.ms": "1000",
    "segment.ms": "100",  # Kafka: roll segments so they become cleanable
}


@pytest.fixture
def compact_broker(broker_factory):
    return broker_factory(OVERRIDES)


def produce_all(broker, topic, records):
    """Produces (key, value) pairs in order; returns the offset of each."""
    p = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 5, "enable.idempotence": True})
    offsets = [None] * len(records)
    errors = []

    def report(i):
        def cb(err, msg):
            if err:
                errors.append(err)
            else:
                offsets[i] = msg.offset()
        return cb

    for i, (k, v) in enumerate(records):
        p.produce(topic, key=k, value=v, partition=0, on_delivery=report(i))
        if i % 500 == 0:
            p.poll(0)
    assert p.flush(60) == 0
    assert not errors, errors[:3]
    return offsets


def read_from_zero(broker, topic, timeout=30):
    """Every record of partition 0 from offset 0 up to the high watermark:
    a list of (offset, key, value)."""
    return read_isolated(broker, topic, "read_uncommitted", timeout)


def objects_holding(rgw, prefix, needle):
    """Keys of the objects under prefix/ in the test bucket whose bytes contain `needle`."""
    from s3_broker_util import list_objects
    hits = []
    for key in list_objects(rgw, rgw.bucket, prefix):
        status, body = rgw.request("GET", f"/{rgw.bucket}/{key}", {})
        if status == 200 and needle in body:
            hits.append(key)
    return hits


class Filler:
    """Keeps appending to one key while a test waits (Kafka's active segment
    is never cleaned, so the reference needs new segments)."""

    def __init__(self, broker, topic):
        self.p = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 0})
        self.topic = topic
        self.stop = threading.Event()
        self.t = threading.Thread(target=self.run, daemon=True)

    def run(self):
        i = 0
        while not self.stop.is_set():
            self.p.produce(self.topic, key=b"filler", value=b"f%d" % i, partition=0)
            self.p.poll(0)
            i += 1
            time.sleep(0.15)
        self.p.flush(10)

    def __enter__(self):
        self.t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.t.join(30)


def test_latest_per_key_with_original_offsets_and_tombstones(compact_broker):
    b = compact_broker
    topic = create_topic(admin_for(b), unique("compact"), config=TOPIC_CONFIG)
    keys = [b"patient-%03d" % k for k in range(100)]
    records = [(keys[i % 100], b"v%d-" % i + b"x" * 40) for i in range(3000)]
    deleted = keys[:10]
    records += [(k, None) for k in deleted]
    offsets = produce_all(b, topic, records)
    latest = {}
    for (k, v), off in zip(records, offsets):
        latest[k] = (off, v)
    expect = {k: ov for k, ov in latest.items() if ov[1] is not None}

    def state():
        got = [r for r in read_from_zero(b, topic) if r[1] != b"filler"]
        return got

    deadline = time.time() + 50
    with Filler(b, topic):
        while True:
            got = state()
            by_key = {}
            for off, k, v in got:
                by_key.setdefault(k, []).append((off, v))
            done = (len(got) == len(expect) and all(len(v) == 1 for v in by_key.values()))
            if done or time.time() > deadline:
                break
            time.sleep(1)
    assert len(got) < len(records) // 10, f"no compaction: {len(got)} of {len(records)} records remain"
    # Every surviving record is a key's latest value at its original offset;
    # tombstoned keys are gone (delete.retention.ms passed).
    assert {k: v[0] for k, v in by_key.items()} == {k: ov for k, ov in expect.items()}
    assert [off for off, _, _ in got] == sorted(off for off, _ in expect.values())


def test_keyless_record_refused_on_compacted_topic(broker):
    topic = create_topic(admin_for(broker), unique("compact-nokey"), config={"cleanup.policy": "compact"})
    p = Producer({"bootstrap.servers": broker.bootstrap, "retries": 0})
    errors = []
    p.produce(topic, value=b"no key", partition=0, on_delivery=lambda err, msg: errors.append(err))
    assert p.flush(30) == 0
    assert errors and errors[0] is not None
    assert errors[0].code() == KafkaError.INVALID_RECORD, errors[0]
    # A keyed record is accepted; so is compact,delete and a change back to delete.
    ok = []
    p.produce(topic, key=b"k", value=b"v", partition=0, on_delivery=lambda err, msg: ok.append(err))
    assert p.flush(30) == 0 and ok == [None]


@pytest.mark.skipif(TARGET != "carelog", reason="reads Carelog's file:// object store")
def test_superseded_value_erased_from_object_storage_by_max_compaction_lag(broker_factory):
    # The dirty-ratio trigger is out of reach (0.99), so only the deadline
    # (max.compaction.lag.ms) can start the pass that erases the old value.
    from brokers import free_port
    http_port = free_port()
    b = broker_factory(dict(OVERRIDES, **{"admin.http.listener": f"127.0.0.1:{http_port}"}))
    max_lag_ms = 3000
    topic = create_topic(admin_for(b), unique("erase"), config={
        "cleanup.policy": "compact", "min.cleanable.dirty.ratio": "0.99",
        "max.compaction.lag.ms": str(max_lag_ms)})
    objects = b.data_dir / "objects"
    # Live data first (a first pass cleans it: everything is dirty then).
    produce_all(b, topic, [(b"bulk-%04d" % i, b"y" * 200) for i in range(2000)])
    time.sleep(2)
    secret = b"SECRET-DIAGNOSIS-%d" % time.time_ns()
    produce_all(b, topic, [(b"patient-1", secret)])
    written = time.time()
    produce_all(b, topic, [(b"patient-1", b"erased-on-request")])

    def stored():
        for f in objects.rglob("*"):
            if f.is_file() and secret in f.read_bytes():
                return True
        return False

    # Uploaded first (the promise is about object storage)...
    deadline = time.time() + 20
    while not stored() and time.time() < deadline:
        time.sleep(0.2)
    assert stored(), "the first value never reached object storage"
    # ...then gone within max.compaction.lag.ms + upload + check interval + delete delay.
    deadline = written + max_lag_ms / 1000 + 15
    while stored() and time.time() < deadline:
        time.sleep(0.2)
    gone_after = time.time() - written
    assert not stored(), f"superseded value still in {objects} after {gone_after:.1f}s"
    print(f"superseded value erased from object storage {gone_after:.1f}s after it was written "
          f"(max.compaction.lag.ms={max_lag_ms})")
    import urllib.request
    with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/metrics", timeout=10) as r:
        metrics = dict(line.rsplit(" ", 1) for line in r.read().decode().splitlines()
                       if line and not line.startswith("#"))
    assert int(metrics["carelog_log_compaction_deadline_passes_total"]) >= 1, metrics
    assert int(metrics["carelog_log_compaction_removed_records_total"]) >= 1
    assert int(metrics["carelog_log_compaction_reclaimed_bytes_total"]) > 0
    assert int(metrics["carelog_log_compaction_written_bytes_total"]) > 0
    got = read_from_zero(b, topic)
    assert [v for _, k, v in got if k == b"patient-1"] == [b"erased-on-request"]
    assert len([1 for _, k, _ in got if k.startswith(b"bulk-")]) == 2000
    # Restart: the cleaned log is what the broker serves afterwards too.
    b.stop_clean()
    b.start()
    assert read_from_zero(b, topic) == got


@pytest.mark.skipif(TARGET != "carelog", reason="kills the broker during Carelog's log compaction")
def test_kill_during_compaction_loses_nothing_and_resurrects_nothing(broker_factory):
    # Rounds of keyed updates and tombstones; the broker is killed -9 at a
    # random moment while the cleaner runs every 100 ms. Afterwards every
    # key's last record is its last acknowledged one: nothing lost, and no
    # deleted key comes back with an older value.
    import random
    rnd = random.Random(int(os.environ.get("CARELOG_SEED", time.time_ns())))
    b = broker_factory(dict(OVERRIDES, **{"log.cleaner.backoff.ms": "100", "upload.interval.ms": "100"}))
    topic = create_topic(admin_for(b), unique("compact-kill"), config=dict(
        TOPIC_CONFIG, **{"delete.retention.ms": "300"}))
    expect = {}
    for rnd_no in range(4):
        records = []
        for i in range(1500):
            k = b"key-%03d" % rnd.randrange(150)
            records.append((k, b"r%d-%d" % (rnd_no, i)))
        for k in rnd.sample(sorted({k for k, _ in records}), 15):
            records.append((k, None))
        produce_all(b, topic, records)  # all acknowledged
        for k, v in records:
            expect[k] = v
        time.sleep(rnd.uniform(0.2, 1.2))
        b.kill()
        b.start()
    deadline = time.time() + 40
    while True:
        got = read_from_zero(b, topic)
        last = {}
        for _, k, v in got:
            last[k] = v
        present = {k: v for k, v in last.items() if v is not None}
        want = {k: v for k, v in expect.items() if v is not None}
        # The partition's last record stays even when it is a tombstone.
        rest = got[:-1] if got and got[-1][2] is None else got
        if (present == want and len(rest) == len(present)) or time.time() > deadline:
            break
        time.sleep(0.5)
    assert present == want
    assert len(rest) == len(present), "superseded records or tombstones left after compaction settled"


@pytest.mark.skipif(TARGET != "carelog", reason="carelogd on S3 is Carelog-specific")
def test_compaction_on_s3_keeps_latest_and_deletes_superseded_objects(broker_factory, rgw):  # noqa: F811
    from s3_broker_util import s3_overrides
    prefix = unique("compact")
    b = broker_factory(s3_overrides(rgw, rgw.bucket, prefix, **OVERRIDES))
    topic = create_topic(admin_for(b), unique("compact-s3"), config=TOPIC_CONFIG)
    secret = b"S3-SUPERSEDED-%d" % time.time_ns()
    records = [(b"device-%02d" % (i % 20), secret if i < 20 else b"reading-%d" % i) for i in range(600)]
    offsets = produce_all(b, topic, records)
    latest = {k: (off, v) for (k, v), off in zip(records, offsets)}

    def objects_with_secret():
        return objects_holding(rgw, prefix, secret)

    deadline = time.time() + 40
    while (objects_with_secret() or len(read_from_zero(b, topic)) != 20) and time.time() < deadline:
        time.sleep(0.5)
    assert objects_with_secret() == [], "superseded values still stored in the bucket"
    got = read_from_zero(b, topic)
    assert {k: (off, v) for off, k, v in got} == latest


def read_isolated(broker, topic, isolation, timeout=30):
    """Partition 0 from offset 0 to its end when the read began (the last
    stable offset for read_committed) or beyond: a list of (offset, key,
    value). Stops at end of partition or at the first record at or past the
    end it started with (a Filler may keep writing)."""
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": unique("cg"),
                  "enable.auto.commit": False, "enable.partition.eof": True, "isolation.level": isolation})
    try:
        _, high = c.get_watermark_offsets(TopicPartition(topic, 0), timeout=10, cached=False)
        c.assign([TopicPartition(topic, 0, 0)])
        out = []
        deadline = time.time() + timeout
        while time.time() < deadline:
            m = c.poll(1.0)
            if m is None:
                continue
            if m.error():
                if m.error().code() == KafkaError._PARTITION_EOF:
                    return out
                raise AssertionError(m.error())
            out.append((m.offset(), m.key(), m.value()))
            if m.offset() >= high:
                return out
        raise AssertionError(f"no end of partition within {timeout}s ({isolation}): {len(out)} records, "
                             f"last {out[-3:]}, end {high}")
    finally:
        c.close()


def metrics_of(port):
    import urllib.request
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        return {k: float(v) for k, v in (line.rsplit(" ", 1) for line in r.read().decode().splitlines()
                                         if line and not line.startswith("#"))}


@pytest.mark.skipif(TARGET != "carelog", reason="counts Carelog's removed markers in /metrics")
def test_transactions_on_compacted_topic(broker_factory):
    # Kafka's cleaner rules for transactions: aborted records are removed and
    # never supersede a committed value; nothing at or above the last stable
    # offset (an open transaction) is cleaned; markers go once no data of
    # their transaction is left (after delete.retention.ms); read_committed
    # and read_uncommitted consumers see the same latest committed values,
    # also for a later transaction of the same producer and after a restart.
    from brokers import free_port
    http_port = free_port()
    b = broker_factory(dict(OVERRIDES, **{"admin.http.listener": f"127.0.0.1:{http_port}"}))
    topic = create_topic(admin_for(b), unique("compact-txn"), config=TOPIC_CONFIG)
    keys = [b"acct-%02d" % i for i in range(20)]

    def txn_producer(txn_id):
        p = Producer({"bootstrap.servers": b.bootstrap, "transactional.id": txn_id, "linger.ms": 5})
        p.init_transactions(30)
        return p

    p = txn_producer(unique("txn"))
    for rnd in range(6):
        p.begin_transaction()
        for k in keys:
            p.produce(topic, key=k, value=b"r%d-%s" % (rnd, k), partition=0)
        if rnd % 2:
            for g in range(5):
                p.produce(topic, key=b"ghost-%d" % g, value=b"aborted-%d" % rnd, partition=0)
            p.flush(30)
            p.abort_transaction(30)
        else:
            p.commit_transaction(30)
    committed = {k: b"r4-%s" % k for k in keys}

    # An open transaction: it and everything after it stay as written.
    p2 = txn_producer(unique("txn-open"))
    p2.begin_transaction()
    p2.produce(topic, key=keys[0], value=b"open-txn", partition=0)
    p2.flush(30)

    def latest(recs):
        out = {}
        for _, k, v in recs:
            if k != b"filler":
                out[k] = v
        return out

    with Filler(b, topic):
        deadline = time.time() + 40
        while True:
            unc = read_isolated(b, topic, "read_uncommitted")
            open_at = [o for o, k, v in unc if v == b"open-txn"]
            below = [(o, k, v) for o, k, v in unc if not open_at or o < open_at[0]]
            acct = [r for r in below if r[1].startswith(b"acct-")]
            if (len(acct) == len(keys) and not any(r[1].startswith(b"ghost") for r in unc)) or time.time() > deadline:
                break
            time.sleep(0.5)
        assert not [r for r in unc if r[1].startswith(b"ghost")], f"aborted records survived compaction (log {b.log_path})"
        assert {k: v for _, k, v in acct} == committed, "compaction below the stable offset"
        assert len(open_at) == 1
        # Past the open transaction nothing was cleaned: every filler record is there.
        after = [o for o, k, _ in unc if k == b"filler" and o > open_at[0]]
        assert len(after) >= 3 and after == list(range(after[0], after[0] + len(after))), after
        rc = read_isolated(b, topic, "read_committed")
        assert latest(rc) == committed
        assert max(o for o, _, _ in rc) < open_at[0]

        p2.commit_transaction(30)
        committed[keys[0]] = b"open-txn"

        def wait_markers(n):
            deadline = time.time() + 40
            while True:
                m = metrics_of(http_port)
                if m["carelog_log_compaction_removed_markers_total"] >= n or time.time() > deadline:
                    return m
                time.sleep(0.5)

        # The markers of rounds 0-3 go (no data of theirs left); round 4's
        # stays for its surviving values, round 5's because its emptied
        # batch is the producer's last one (kept for its sequence numbers,
        # as Kafka does)...
        m = wait_markers(4)
        assert m["carelog_log_compaction_removed_markers_total"] >= 4, m
        assert m["carelog_log_compaction_removed_aborted_records_total"] >= 3 * (len(keys) + 5), m
        # ...until the producer writes again: a later committed transaction,
        # which the earlier aborted spans must not hide once they are gone.
        p.begin_transaction()
        p.produce(topic, key=keys[1], value=b"after-cleaning", partition=0)
        p.commit_transaction(30)
        committed[keys[1]] = b"after-cleaning"
        m = wait_markers(5)
        assert m["carelog_log_compaction_removed_markers_total"] >= 5, m
    for isolation in ("read_committed", "read_uncommitted"):
        assert latest(read_isolated(b, topic, isolation)) == committed, isolation
    b.stop_clean()
    b.start()
    for isolation in ("read_committed", "read_uncommitted"):
        assert latest(read_isolated(b, topic, isolation)) == committed, isolation
    print("markers removed:", m["carelog_log_compaction_removed_markers_total"],
          "aborted records removed:", m["carelog_log_compaction_removed_aborted_records_total"])


@pytest.mark.skipif(TARGET != "carelog", reason="Carelog's CLI and operator endpoint")
def test_cli_topic_describe_shows_compaction_state(broker_factory):
    import json
    import subprocess
    from brokers import ROOT, free_port
    cli = Path(os.environ.get("CARELOG_CLI", ROOT / "build" / "bin" / "carelog"))
    http_port = free_port()
    b = broker_factory(dict(OVERRIDES, **{"admin.http.listener": f"127.0.0.1:{http_port}"}))
    topic = create_topic(admin_for(b), unique("compact-cli"), config=TOPIC_CONFIG)
    plain = create_topic(admin_for(b), unique("plain-cli"))

    def describe(*args, json_out=False):
        out = subprocess.run([str(cli), "--bootstrap-server", b.bootstrap, *(["--output", "json"] if json_out else []),
                              "topic", "describe", topic, plain, *args],
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        return out.stdout

    # Before anything is uploaded: nothing dirty, no pass yet.
    first = describe()
    assert "DirtyRatio: 0.00\tLastCompaction: never\tBytesReclaimed: 0" in first, first
    produce_all(b, topic, [(b"k%d" % (i % 10), b"v%d-" % i + b"z" * 100) for i in range(2000)])
    deadline = time.time() + 30
    while time.time() < deadline:
        [info] = [t for t in json.loads(describe(json_out=True)) if t["name"] == topic]
        c = info["partitions"][0]["compaction"]
        if c["passes"] >= 1 and c["bytes_reclaimed"] > 100000:
            break
        time.sleep(0.5)
    assert c["passes"] >= 1 and c["bytes_reclaimed"] > 100000, c
    assert abs(c["last_compaction_ms"] / 1000 - time.time()) < 60, c
    assert 0 <= c["dirty_ratio"] <= 1
    m = metrics_of(http_port)
    assert m[f'carelog_log_compaction_partition_reclaimed_bytes_total{{topic="{topic}",partition="0"}}'] \
        >= c["bytes_reclaimed"]
    text = describe("--admin-url", f"http://127.0.0.1:{http_port}")
    line = [ln for ln in text.splitlines() if ln.startswith(f"\tTopic: {topic}\tPartition: 0")][0]
    assert "\tDirtyRatio: " in line and "LastCompaction: 20" in line and "BytesReclaimed: " in line, line
    # Topics that are not compacted show no compaction columns.
    assert not [ln for ln in text.splitlines() if plain in ln and "DirtyRatio" in ln]
    [pinfo] = [t for t in json.loads(describe(json_out=True)) if t["name"] == plain]
    assert pinfo["partitions"][0]["compaction"] is None
    # An explicit operator endpoint that does not answer is an error.
    out = subprocess.run([str(cli), "--bootstrap-server", b.bootstrap, "topic", "describe", topic,
                          "--admin-url", f"127.0.0.1:{free_port()}"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 1, out


@pytest.mark.skipif(TARGET != "carelog", reason="carelogd's object WAL on S3 is Carelog-specific")
def test_compaction_with_object_wal_on_s3_erases_by_max_compaction_lag(broker_factory, rgw):  # noqa: F811
    # wal.type=object: the WAL itself is objects in the bucket. Only the
    # deadline can start a pass (min.cleanable.dirty.ratio=0.99). Afterwards
    # every key's latest value survives, tombstoned keys are gone, and no
    # object under the prefix (WAL or stream-set) holds a superseded value.
    from s3_broker_util import s3_overrides
    prefix = unique("compact-owal")
    b = broker_factory(s3_overrides(rgw, rgw.bucket, prefix, **dict(OVERRIDES, **{"wal.type": "object"})))
    max_lag_ms = 3000
    topic = create_topic(admin_for(b), unique("compact-owal"), config={
        "cleanup.policy": "compact", "min.cleanable.dirty.ratio": "0.99", "delete.retention.ms": "500",
        "max.compaction.lag.ms": str(max_lag_ms)})
    produce_all(b, topic, [(b"bulk-%04d" % i, b"y" * 200) for i in range(1000)])
    time.sleep(1)
    secret = b"OWAL-SUPERSEDED-%d" % time.time_ns()
    gone = b"OWAL-DELETED-%d" % time.time_ns()
    records = [(b"device-%02d" % i, secret + b"-%d" % i) for i in range(20)]
    records += [(b"erased-%02d" % i, gone) for i in range(5)]
    produce_all(b, topic, records)
    written = time.time()
    latest = [(b"device-%02d" % i, b"reading-%d" % i) for i in range(20)] + [(b"erased-%02d" % i, None)
                                                                           for i in range(5)]

    def holding(needle):
        return objects_holding(rgw, prefix, needle)

    assert holding(secret), "the superseded values never reached the bucket (WAL objects)"
    produce_all(b, topic, latest + [(b"last", b"keeps-the-tombstones-off-the-end")])
    deadline = written + max_lag_ms / 1000 + 25
    while (holding(secret) or holding(gone)) and time.time() < deadline:
        time.sleep(0.5)
    took = time.time() - written
    assert holding(secret) == [] and holding(gone) == [], f"still stored after {took:.1f}s"
    print(f"object WAL on S3: superseded and deleted values gone from the bucket {took:.1f}s after writing "
          f"(max.compaction.lag.ms={max_lag_ms})")
    # Tombstones go after delete.retention.ms (a later pass, started by the deadline again).
    deadline = time.time() + 25
    while time.time() < deadline:
        got = read_from_zero(b, topic)
        if not [r for r in got if r[1].startswith(b"erased-")]:
            break
        produce_all(b, topic, [(b"last", b"keeps-the-tombstones-off-the-end")])
        time.sleep(1)
    last = {}
    for _, k, v in got:
        last.setdefault(k, []).append(v)
    assert not [k for k in last if k.startswith(b"erased-")], "tombstones (or deleted keys) left"
    for k, v in latest[:20]:
        assert last[k] == [v], (k, last[k])
    assert len([k for k in last if k.startswith(b"bulk-")]) == 1000


@pytest.mark.skipif(TARGET != "carelog", reason="measures Carelog's file:// object store")
@pytest.mark.skipif(os.environ.get("CARELOG_LONG_TESTS") != "1",
                    reason="long suite (about 60 s): set CARELOG_LONG_TESTS=1")
def test_million_updates_over_10k_keys_shrink_to_the_live_set(broker_factory):
    # Issue 13's shrink test: 1M keyed updates over 10k keys, then
    # tombstones for 1k of them. After compaction every key's latest value
    # remains, the tombstoned keys are gone, and the stored bytes come down
    # to about the live set (the ratio is printed).
    b = broker_factory(dict(OVERRIDES, **{"upload.interval.ms": "500", "log.cleaner.backoff.ms": "500"}))
    topic = create_topic(admin_for(b), unique("compact-1m"), config=dict(TOPIC_CONFIG, **{
        "min.cleanable.dirty.ratio": "0.5"}))
    n, n_keys, n_dead = 1_000_000, 10_000, 1_000
    pad = b"x" * 90
    p = Producer({"bootstrap.servers": b.bootstrap, "linger.ms": 50, "batch.size": 1_000_000,
                  "queue.buffering.max.messages": 2_000_000, "queue.buffering.max.kbytes": 1_048_576,
                  "enable.idempotence": True})
    t0 = time.time()
    for i in range(n):
        p.produce(topic, key=b"k%05d" % (i % n_keys), value=b"%07d" % i + pad, partition=0)
        if i % 100_000 == 0:
            p.poll(0)
    for k in range(n_dead):
        p.produce(topic, key=b"k%05d" % k, value=None, partition=0)
    p.produce(topic, key=b"last", value=b"end", partition=0)
    assert p.flush(120) == 0
    produced_s = time.time() - t0
    want = {b"k%05d" % k: b"%07d" % (n - n_keys + k) + pad for k in range(n_dead, n_keys)}
    want[b"last"] = b"end"
    live = sum(len(k) + len(v) for k, v in want.items())
    objects = b.data_dir / "objects"

    def stored():
        return sum(f.stat().st_size for f in objects.rglob("*") if f.is_file())

    # Tombstones go in a pass after delete.retention.ms, which new dirty
    # data starts (as Kafka needs a new segment): a filler key keeps writing.
    deadline = time.time() + 90
    with Filler(b, topic):
        while stored() >= 3 * live and time.time() < deadline:
            time.sleep(0.5)  # cheap: reading 1M records back would take longer than compacting them
        while time.time() < deadline:
            got = [r for r in read_from_zero(b, topic, timeout=60) if r[1] != b"filler"]
            if len(got) == len(want) and stored() < 3 * live:
                break
            time.sleep(1)
    settled_s = time.time() - t0
    assert {k: v for _, k, v in got} == want
    assert len(got) == len(want), "superseded records or tombstones left"
    ratio = stored() / live
    written = n * (len(b"k00000") + len(b"%07d" % 0 + pad))
    print(f"1M updates over 10k keys: produced in {produced_s:.1f}s, settled after {settled_s:.1f}s; "
          f"stored {stored()} bytes for {live} live key+value bytes: ratio {ratio:.2f} "
          f"(written {written / live:.0f}x the live set)")
    assert ratio < 3, ratio
