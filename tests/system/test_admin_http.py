"""The operator HTTP endpoint (admin.http.listener): GET /health and GET
/metrics on a plain broker, and on S3 a health check that fails naming the
bucket and the store's answer when the bucket disappears under a running
broker (issue 4: errors that are not retried surface as a health-check
failure), then recovers when it is back."""

import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest

from brokers import free_port
from kafka_util import admin_for, create_topic, unique
from s3_broker_util import list_objects, s3_overrides
from s3_fixture import rgw  # noqa: F401  (pytest fixture)
from storage_util import TrackingProducer

pytestmark = pytest.mark.skipif(os.environ.get("CARELOG_TEST_TARGET", "carelog") != "carelog",
                                reason="the admin endpoint is Carelog-specific")


def get(port, path):
    """(status, body text) of GET http://127.0.0.1:port/path."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def metric(text, name):
    """Sum of every sample of `name` (any labels) in Prometheus text."""
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            total += float(line.rsplit(" ", 1)[1])
    return total


def produce(broker, topic, n, tag):
    prod = TrackingProducer(broker)
    for i in range(n):
        prod.produce(topic, 0, f"{tag}-{i}")
    assert prod.flush(30) == 0 and prod.failed == 0


def test_health_and_metrics(broker_factory):
    port = free_port()
    b = broker_factory({"admin.http.listener": f"127.0.0.1:{port}"})
    status, body = get(port, "/health")
    assert status == 200, body
    health = json.loads(body)
    assert health["status"] == "ok" and health["checks"]["object_store"]["target"].startswith("file://")
    topic = create_topic(admin_for(b), unique("adm"), partitions=1)
    produce(b, topic, 100, "m")
    status, text = get(port, "/metrics")
    assert status == 200
    assert metric(text, "carelog_wal_appends_total") >= 1
    assert metric(text, "carelog_object_store_healthy") == 1
    assert "# TYPE carelog_wal_used_bytes gauge" in text
    assert "m-1" not in text and topic not in text  # no payloads, no topic names
    assert get(port, "/nope")[0] == 404


def empty_and_delete_bucket(rgw, bucket, prefix):  # noqa: F811
    for key in list_objects(rgw, bucket, prefix):
        status, body = rgw.request("DELETE", f"/{bucket}/{urllib.parse.quote(key)}")
        assert status in (200, 204), body
    status, body = rgw.request("DELETE", "/" + bucket)
    assert status in (200, 204), body


def wait_for(port, want_status, timeout=20):
    deadline = time.monotonic() + timeout
    while True:
        status, body = get(port, "/health")
        if status == want_status or time.monotonic() > deadline:
            return status, body
        time.sleep(0.2)


def test_s3_health_names_the_bucket_when_it_disappears(broker_factory, rgw):  # noqa: F811
    bucket = "carelog-health-" + uuid.uuid4().hex[:8]
    status, body = rgw.request("PUT", "/" + bucket)
    assert status == 200, body
    port = free_port()
    b = broker_factory(s3_overrides(rgw, bucket, "h", **{
        "admin.http.listener": f"127.0.0.1:{port}", "upload.interval.ms": "200", "compaction.interval.ms": "0",
        "s3.max.attempts": "2", "s3.retry.backoff.max.ms": "100"}))
    topic = create_topic(admin_for(b), unique("health"), partitions=1)
    produce(b, topic, 200, "a")
    assert wait_for(port, 200)[0] == 200
    deadline = time.monotonic() + 20
    while not list_objects(rgw, bucket, "h") and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(0.5)  # the last upload pass is over: nothing new to upload

    empty_and_delete_bucket(rgw, bucket, "h")
    produce(b, topic, 200, "b")  # acknowledged from the WAL; its upload fails
    status, body = wait_for(port, 503)
    assert status == 503, body
    health = json.loads(body)
    reason = health["checks"]["object_store"]["reason"]
    assert health["status"] == "failing" and bucket in reason and "NoSuchBucket" in reason, reason
    assert rgw.secret_key not in body
    _, text = get(port, "/metrics")
    assert metric(text, "carelog_object_store_healthy") == 0
    assert metric(text, 'carelog_s3_requests_total{op="put",status="4xx"}') >= 1

    # Back: the WAL still holds the batches, the next pass uploads them.
    status, body = rgw.request("PUT", "/" + bucket)
    assert status == 200, body
    status, body = wait_for(port, 200)
    assert status == 200, body
    b.stop_clean()
    empty_and_delete_bucket(rgw, bucket, "h")
