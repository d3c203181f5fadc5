"""`carelog cost-model` (docs/cost-model.md): a workload file, the built-in
examples, bad input, and --from-cluster measuring a running broker's
/metrics and object index while a confluent-kafka producer writes."""

import json
import threading
import time

from confluent_kafka import Producer

from brokers import free_port
from evidence_util import carelog, carelog_json, carelog_only
from kafka_util import unique

pytestmark = carelog_only


def test_workload_file_prices_and_flags(tmp_path):
    f = tmp_path / "w.json"
    f.write_text(json.dumps({
        "prices": {"s3_storage_gb_month": 0.046, "as_of": "test prices"},
        "assumptions": {"carelog_wal_type": "object"},
        "workloads": [
            {"name": "claims", "ingress_mb_s": 5, "retention_days": 90, "consumer_fanout": 4},
            {"name": "alerts", "ingress_mb_s": 0.01, "retention_days": 1, "latency_critical": True},
        ]}))
    doc = carelog_json("cost-model", f)
    assert doc["prices_as_of"] == "test prices"
    claims, alerts = doc["estimates"]
    storage = next(l for l in claims["lines"] if l["driver"] == "retention storage")
    # 5 MB/s x 90 days = 38,880 GB at the overridden S3 price; object WAL: no WAL volume.
    assert abs(storage["carelog"] - 38880 * 0.046) < 1e-6
    assert claims["carelog_total"] < claims["kafka_total"] and claims["flags"] == []
    messages = " ".join(f["message"] for f in alerts["flags"])
    assert "per-request costs dominate" in messages and "latency-critical" in messages
    assert "on the object WAL" in messages and "not the cheaper choice" in messages
    # --fail-on-flag turns flags into exit 1; markdown has the summary table.
    carelog("cost-model", f, "--fail-on-flag", expect=1)
    md = carelog("cost-model", f, "--format", "markdown").stdout
    assert "| claims |" in md and "## alerts" in md


def test_examples_and_bad_input(tmp_path):
    text = carelog("cost-model", "--examples").stdout
    for name in ("adt-distribution", "audit-log", "claims-events", "device-telemetry-history", "pharma-rwd"):
        assert name in text
    assert "total                    805.81         537.52" in text  # the worked example of the docs
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"workloads": [{"name": "x", "ingress_mb_s": 1, "availability_zone": 3}]}))
    out = carelog("cost-model", bad, expect=2)
    assert "workloads[0].availability_zone: unknown key" in out.stderr
    bad.write_text(json.dumps({"ingress_mb_s": 1, "kafka_replication_factor": 0}))
    assert "kafka_replication_factor" in carelog("cost-model", bad, expect=2).stderr
    bad.write_text("{not json")
    assert "not valid JSON" in carelog("cost-model", bad, expect=2).stderr
    assert "give a workload file" in carelog("cost-model", expect=2).stderr


def test_from_cluster_measures_a_running_broker(broker_factory, tmp_path):
    admin_port = free_port()
    b = broker_factory({"admin.http.listener": f"127.0.0.1:{admin_port}", "upload.interval.ms": "300"})
    topic = unique("cost")
    stop = threading.Event()
    sent = [0]

    def produce():
        p = Producer({"bootstrap.servers": b.bootstrap, "linger.ms": 20})
        while not stop.is_set():
            for i in range(2000):
                p.produce(topic, key=str(i).encode(), value=b"x" * 500)
                sent[0] += 1
            p.flush(10)
            time.sleep(0.05)
        p.flush(10)

    t = threading.Thread(target=produce)
    t.start()
    try:
        time.sleep(1.5)
        w = tmp_path / "w.json"
        w.write_text(json.dumps({"name": "measured", "ingress_mb_s": 1, "retention_days": 30, "consumer_fanout": 2}))
        doc = carelog_json("cost-model", w, "--from-cluster", "--metrics-url", f"http://127.0.0.1:{admin_port}/metrics",
                           "--data-dir", b.data_dir, "--sample-seconds", "4")
    finally:
        stop.set()
        t.join(30)
    [est] = doc["estimates"]
    measured = " ".join(doc["measured"])
    assert "carelog_upload_bytes_total" in measured and "carelog_upload_objects_total" in measured
    # The producer wrote well above 0.1 MB/s; the rate replaced the file's 1 MB/s.
    assert 0.05 < est["workload"]["ingress_mb_s"] < 200 and est["workload"]["ingress_mb_s"] != 1
    # ~500-byte values plus keys and record overhead, from the object index.
    assert 500 < est["workload"]["avg_message_bytes"] < 700
    assert est["workload"]["retention_days"] == 30 and est["workload"]["consumer_fanout"] == 2
    assert sent[0] > 0
    # Without traffic there is nothing to measure: a clear error, not a made-up rate.
    time.sleep(1)
    out = carelog("cost-model", "--from-cluster", "--metrics-url", f"127.0.0.1:{admin_port}", "--data-dir",
                  b.data_dir, "--sample-seconds", "1", expect=1)
    assert "no bytes were uploaded" in out.stderr
