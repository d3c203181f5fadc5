"""carelogd with its metadata in PostgreSQL (metadata.store=postgresql://...):
the real-client basics, kill -9 with everything acknowledged intact, and a
PostgreSQL outage under load (retriable errors only, nothing acknowledged
lost, uploads catch up). The server comes from postgres_fixture.py."""

import re
import threading
import time
import urllib.request

from confluent_kafka import Consumer, KafkaException, TopicPartition
from confluent_kafka.admin import ConfigResource, NewPartitions

from brokers import free_port
from kafka_util import admin_for, create_topic, topic_partitions, unique, wait_until
from postgres_fixture import postgres  # noqa: F401  (session fixture)
from storage_util import TrackingProducer, read_partition

FAST_UPLOADS = {"upload.interval.ms": "200", "upload.object.bytes": "65536"}


def pg_broker(postgres, broker_factory, **extra):  # noqa: F811
    uri = postgres.create_database()
    b = broker_factory({"metadata.store": uri, **FAST_UPLOADS, **extra})
    return b, uri


def uploaded_marks(postgres, uri, topic):  # noqa: F811
    rows = postgres.sql(uri, "SELECT u.partition_index, u.last_offset FROM uploaded_offsets u "
                             f"JOIN topics t ON t.id = u.topic_id WHERE t.name = '{topic}'")
    return {int(p): int(o) for p, o in rows}


def metric(http, name):
    text = urllib.request.urlopen(f"http://{http}/metrics", timeout=10).read().decode()
    m = re.search(rf"^{name} (\d+)$", text, re.M)
    assert m, f"{name} missing from /metrics"
    return int(m.group(1))


def test_clients_use_a_postgresql_metadata_store(postgres, broker_factory, report):  # noqa: F811
    http = f"127.0.0.1:{free_port()}"
    b, uri = pg_broker(postgres, broker_factory, **{"admin.http.listener": http})
    admin = admin_for(b)
    topic = create_topic(admin, unique("pg-basics"), partitions=2, config={"retention.ms": "86400000"})
    # Topics and their configs live in PostgreSQL, not in a local SQLite file.
    assert postgres.sql(uri, f"SELECT partitions FROM topics WHERE name = '{topic}'") == [["2"]]
    assert not (b.data_dir / "metadata.db").exists()

    # AlterConfigs and CreatePartitions.
    res = ConfigResource("topic", topic, set_config={"retention.ms": "3600000"})
    admin.alter_configs([res])[res].result(30)
    admin.create_partitions([NewPartitions(topic, 3)])[topic].result(30)
    wait_until(lambda: topic_partitions(admin, topic) == 3, what="3 partitions")
    assert postgres.sql(uri, "SELECT c.value FROM topic_configs c JOIN topics t ON t.id = c.topic_id "
                             f"WHERE t.name = '{topic}' AND c.key = 'retention.ms'") == [["3600000"]]

    # Produce, consume with a group, commit. Metadata round trips while
    # producing and uploading: none per produce, two per uploaded object.
    # A broker on PostgreSQL runs in cluster mode (a cluster of one): its
    # heartbeats and leadership passes are counted apart and left out.
    def request_trips():
        return (metric(http, "carelog_metadata_round_trips_total")
                - metric(http, "carelog_metadata_background_round_trips_total"))

    trips0 = request_trips()
    objects0 = metric(http, "carelog_upload_objects_total")
    prod = TrackingProducer(b)
    requests = 0
    for i in range(60):
        prod.produce(topic, i % 3, f"m-{i}")
        if i % 6 == 5:  # ten separate produce requests
            assert prod.flush(30) == 0
            requests += 1
    assert prod.flush(30) == 0 and len(prod.acked) == 60
    wait_until(lambda: uploaded_marks(postgres, uri, topic) == {0: 19, 1: 19, 2: 19}, what="uploads indexed")
    trips = request_trips() - trips0
    objects = metric(http, "carelog_upload_objects_total") - objects0
    assert objects >= 1
    # Bounded: two per object plus a few background calls, nothing per message.
    assert trips <= 2 * objects + 10, f"{trips} round trips for {objects} objects and {requests} produces"
    c = Consumer({"bootstrap.servers": b.bootstrap, "group.id": "pg-group", "auto.offset.reset": "earliest",
                  "enable.auto.commit": False})
    c.subscribe([topic])
    got = []
    deadline = time.monotonic() + 60
    while len(got) < 60 and time.monotonic() < deadline:
        m = c.poll(0.5)
        if m is not None and m.error() is None:
            got.append(m.value().decode())
    assert sorted(got) == sorted(f"m-{i}" for i in range(60))
    c.commit(asynchronous=False)
    c.close()
    rows = postgres.sql(uri, "SELECT partition_index, committed_offset FROM committed_offsets "
                             "WHERE group_id = 'pg-group' ORDER BY partition_index")
    assert rows == [["0", "20"], ["1", "20"], ["2", "20"]]

    # A restarted broker gets everything back from PostgreSQL.
    b.restart()
    admin = admin_for(b)
    assert topic_partitions(admin, topic) == 3
    desc = admin.describe_configs([ConfigResource("topic", topic)])
    cfg = list(desc.values())[0].result(30)
    assert cfg["retention.ms"].value == "3600000"
    c = Consumer({"bootstrap.servers": b.bootstrap, "group.id": "pg-group", "enable.auto.commit": False})
    committed = c.committed([TopicPartition(topic, p) for p in range(3)], timeout=30)
    c.close()
    assert [tp.offset for tp in committed] == [20, 20, 20]
    report(f"postgresql metadata: {requests} produce requests (60 messages) uploaded as {objects} objects cost "
           f"{trips} metadata round trips ({trips / requests:.2f} per produce request, {trips / objects:.1f} per "
           f"object, incl. background calls); topics, configs, offsets and the object index back after a restart")


def test_acknowledged_data_survives_kill9_with_postgresql(postgres, broker_factory, report):  # noqa: F811
    b, uri = pg_broker(postgres, broker_factory)
    topic = create_topic(admin_for(b), unique("pg-kill"), partitions=2)
    acked = []
    for rnd in range(2):
        prod = TrackingProducer(b)
        stop = threading.Event()

        def run(prod=prod, rnd=rnd, stop=stop):
            seq = 0
            while not stop.is_set():
                for _ in range(20):
                    prod.produce(topic, seq % 2, f"r{rnd}-{seq}")
                    seq += 1
                prod.poll(0)
                time.sleep(0.005)

        t = threading.Thread(target=run)
        t.start()
        time.sleep(1.5)
        b.kill()  # SIGKILL mid-produce and, often, mid-commit to PostgreSQL
        stop.set()
        t.join()
        b.start()
        prod.flush(30)
        acked += prod.acked
    assert acked
    for p in range(2):
        _, high, recs = read_partition(b, topic, p)
        stored = dict(recs)
        assert [o for o, _ in recs] == list(range(high)), f"partition {p}: offsets not contiguous"
        for part, off, value in acked:
            if part == p:
                assert stored.get(off) == value, f"{p}/{off}: acknowledged {value!r}, stored {stored.get(off)!r}"
    report(f"postgresql metadata: 2 kill -9 rounds, {len(acked)} acknowledged messages all intact")


def test_postgresql_outage_under_load_loses_nothing_acknowledged(postgres, broker_factory, report):  # noqa: F811
    b, uri = pg_broker(postgres, broker_factory)
    topic = create_topic(admin_for(b), unique("pg-outage"), partitions=2)
    prod = TrackingProducer(b, **{"message.timeout.ms": 60000})
    errors = []
    orig = prod._on_delivery

    def on_delivery(err, msg):
        if err is not None:
            errors.append(err)
        orig(err, msg)

    prod._on_delivery = on_delivery
    stop = threading.Event()
    commit_errors = []

    def produce():
        seq = 0
        while not stop.is_set():
            for _ in range(20):
                prod.produce(topic, seq % 2, f"o-{seq}")
                seq += 1
            prod.poll(0)
            time.sleep(0.01)

    def commit_loop():
        c = Consumer({"bootstrap.servers": b.bootstrap, "group.id": "pg-outage-group",
                      "auto.offset.reset": "earliest", "enable.auto.commit": False})
        c.subscribe([topic])
        while not stop.is_set():
            m = c.poll(0.2)
            if m is None or m.error() is not None:
                continue
            try:
                c.commit(message=m, asynchronous=False)
            except KafkaException as e:
                commit_errors.append(e.args[0])
        c.close()

    threads = [threading.Thread(target=produce), threading.Thread(target=commit_loop)]
    for t in threads:
        t.start()
    time.sleep(1.5)
    started = time.monotonic()
    postgres.stop("immediate")  # crash-like: every connection drops at once
    time.sleep(3)
    postgres.resume()
    outage = time.monotonic() - started
    time.sleep(1.5)
    stop.set()
    for t in threads:
        t.join()
    assert prod.flush(60) == 0
    assert b.running(), "carelogd exited during the PostgreSQL outage"
    # Only retriable errors reach clients.
    assert all(e.retriable() for e in errors), [str(e) for e in errors]
    # An outage longer than the lease makes the broker restart in place
    # (docs/cluster.md): group membership is not stored, so a commit with
    # the old generation gets ILLEGAL_GENERATION / UNKNOWN_MEMBER_ID and the
    # consumer rejoins, as after any broker restart.
    assert all(e.retriable() or e.code() in (15, 16, 22, 25) for e in commit_errors), \
        [str(e) for e in commit_errors]
    # Everything acknowledged is there, and the uploader caught up in PostgreSQL.
    highs = {}
    for p in range(2):
        _, high, recs = read_partition(b, topic, p)
        stored = dict(recs)
        highs[p] = high - 1
        for part, off, value in prod.acked:
            if part == p:
                assert stored.get(off) == value, f"{p}/{off}: acknowledged {value!r}, stored {stored.get(off)!r}"
    wait_until(lambda: uploaded_marks(postgres, uri, topic) == highs, timeout=60, what="uploads after outage")
    report(f"postgresql outage {outage:.1f}s under load: {len(prod.acked)} acknowledged, all intact; "
           f"{len(errors)} producer errors, {len(commit_errors)} commit errors (retriable, or a rejoin after the restart in place); "
           "uploads caught up")
