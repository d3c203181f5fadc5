"""The evidence commands against a three-broker cluster (issue 17 on top of
cluster mode, docs/cluster.md): `carelog boundary` maps every broker
DescribeCluster lists, and `carelog replay-check` reads a history whose
tail sits in several broker incarnations' object WALs after a kill -9 and
a takeover, and finds it whole."""

import os
import time

import pytest
from confluent_kafka import Producer

from cluster_fixture import Cluster
from evidence_util import carelog, carelog_json
from test_cluster import create_topic

pytestmark = pytest.mark.skipif(os.environ.get("CARELOG_TEST_TARGET", "carelog") != "carelog",
                                reason="cluster mode is Carelog's own")


@pytest.fixture
def cluster(tmp_path):
    # Uploads held back: the history stays in the brokers' WAL objects.
    c = Cluster(tmp_path, overrides={"upload.interval.ms": "600000"}).start()
    yield c
    c.stop()


def produce(bootstrap, topic, n, partitions):
    p = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "acks": "all", "linger.ms": 5,
                  "message.timeout.ms": 60000})
    failed = []
    for i in range(n):
        p.produce(topic, value=b"v%06d" % i, key=b"k%d" % (i % 7), partition=i % partitions,
                  on_delivery=lambda err, msg: err and failed.append(err))
    assert p.flush(90) == 0 and not failed, failed[:3]


def test_boundary_maps_every_broker_and_replay_check_reads_every_incarnations_wal(cluster, report):
    leaders = create_topic(cluster, "evidence", 3)
    produce(cluster.bootstrap, "evidence", 600, 3)
    # kill -9 the leader of partition 0; another broker takes its WAL tail over.
    victim = cluster.broker(leaders[0])
    victim.kill()
    cluster.wait_brokers(2)
    produce(cluster.bootstrap, "evidence", 90, 3)
    store = cluster.metadata_store
    args = ["-b", cluster.bootstrap, "replay-check", "evidence", "--metadata-store", store,
            "--object-store", cluster.object_store, "--object-wal", "--online"]
    r = carelog_json(*args)
    assert r["verdict"] == "OK", r
    parts = r["reports"][0]["partitions"]
    assert sum(p["records"] for p in parts) == 690 == sum(p["high_watermark"] for p in parts), parts
    assert all(p["wal_batches"] > 0 for p in parts), parts
    report("replay-check on a 3-broker cluster after kill -9 of a leader (history in WAL objects):\n"
           + carelog(*args[:-1] + ["--online"]).stdout)
    # Without the object WAL the acknowledged tail is reported lost.
    r = carelog_json(*[a for a in args if a != "--object-wal"], "--wal-dir", "none", expect=1)
    assert {x["kind"] for p in r["reports"][0]["partitions"] for x in p["problems"]} == {"lost-acknowledged"}

    # One report per live broker, as one JSON document (an array) and as text.
    reports = carelog_json("-b", cluster.bootstrap, "boundary")
    live = sorted(x.overrides["node.id"] for x in cluster.brokers if x.running())
    assert isinstance(reports, list) and len(reports) == len(live), reports
    sources = " ".join(r["source"] for r in reports)
    for node in live:
        assert f"broker {node} at" in sources, sources
    text = carelog("-b", cluster.bootstrap, "boundary").stdout
    # Cluster mode's default WAL is the object WAL, in the shared store.
    assert "WAL (wal.type=object)" in text and "WAL (wal.type=file)" not in text, text[:3000]
    report("boundary of the cluster (text, first broker):\n" + text[:2500])
