"""Helpers for running carelogd on S3 (tests/system/test_s3_broker.py):
broker overrides for an RGW endpoint, listing a bucket prefix, a second
private RGW that a test may stop, and a producer that records latencies."""

import os
import signal
import subprocess
import time
import urllib.parse
import xml.etree.ElementTree as ET

from confluent_kafka import Producer

from s3_fixture import SCRIPT, Rgw, _free_port

S3_NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


def s3_overrides(rgw, bucket, prefix, **extra):
    """carelogd --override settings for s3://bucket/prefix on `rgw`."""
    o = {"object.store": f"s3://{bucket}/{prefix}", "s3.endpoint": rgw.endpoint,
         "s3.region": rgw.region, "s3.path.style": "true", "s3.access.key.id": rgw.access_key,
         "s3.secret.access.key": rgw.secret_key}
    o.update(extra)
    return o


def list_objects(rgw, bucket, prefix):
    """{key: size} for every object under prefix/ (ListObjectsV2, all pages)."""
    out = {}
    token = None
    while True:
        q = {"list-type": "2", "prefix": prefix.rstrip("/") + "/"}
        if token:
            q["continuation-token"] = token
        status, body = rgw.request("GET", "/" + bucket, q)
        assert status == 200, f"list {bucket}/{prefix}: HTTP {status} {body[:300]!r}"
        root = ET.fromstring(body)
        for c in root.findall(f"{S3_NS}Contents"):
            out[urllib.parse.unquote(c.find(f"{S3_NS}Key").text)] = int(c.find(f"{S3_NS}Size").text)
        if root.findtext(f"{S3_NS}IsTruncated") != "true":
            return out
        token = root.findtext(f"{S3_NS}NextContinuationToken")


class PrivateRgw:
    """A throwaway RGW owned by one test, whose gateway process can be stopped
    and restarted (the monitor and the memstore OSD keep running, so the
    stored objects survive). Used from the test thread only."""

    def __init__(self, workdir):
        self.dir = str(workdir)
        self.port = _free_port()
        self.env = dict(os.environ, CARELOG_RGW_MON_PORT=str(_free_port()),
                        CEPH_CONF=os.path.join(self.dir, "ceph.conf"))
        self.rgw = None

    def start(self, bucket):
        out = subprocess.run([SCRIPT, "start", self.dir, str(self.port)], env=self.env,
                             capture_output=True, text=True, timeout=180)
        assert out.returncode == 0, f"s3-rgw.sh start: {out.stdout}\n{out.stderr}"
        vals = dict(line.split("=", 1) for line in out.stdout.splitlines() if "=" in line)
        self.rgw = Rgw(vals["CARELOG_S3_ENDPOINT"], vals["CARELOG_S3_ACCESS_KEY"],
                       vals["CARELOG_S3_SECRET_KEY"], vals["CARELOG_S3_REGION"], bucket, 0.0)
        status, body = self.rgw.request("PUT", "/" + bucket)
        assert status == 200, f"create bucket: HTTP {status} {body[:300]!r}"
        return self.rgw

    def _gateway_pid(self):
        with open(os.path.join(self.dir, "run", "client.rgw.gw.pid")) as f:
            return int(f.read().strip())

    def stop_gateway(self):
        """Stops radosgw (TERM, then KILL); the port then refuses connections."""
        pid = self._gateway_pid()
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)
        os.kill(pid, signal.SIGKILL)

    def start_gateway(self):
        subprocess.run(["radosgw", "-n", "client.rgw.gw"], env=self.env, check=True, timeout=30,
                       capture_output=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            status, _ = self.rgw.request("GET", "/" + self.rgw.bucket, {"list-type": "2", "max-keys": "1"}) \
                if _port_open(self.port) else (0, b"")
            if status == 200:
                return
            time.sleep(0.1)
        raise AssertionError("radosgw did not come back within 60 s")

    def stop(self):
        subprocess.run([SCRIPT, "stop", self.dir], env=self.env, timeout=60)


def _port_open(port):
    import socket
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class LatencyProducer:
    """Idempotent acks=all producer recording (partition, offset, value) and
    the produce-to-ack latency of every acknowledged message."""

    def __init__(self, bootstrap, **extra):
        conf = {"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True,
                "linger.ms": 2, "message.timeout.ms": 60000, "retry.backoff.ms": 50}
        conf.update(extra)
        self.p = Producer(conf)
        self.acked = []  # (partition, offset, value, ack monotonic time)
        self.latencies = []
        self.failed = 0

    def produce(self, topic, partition, value):
        sent = time.monotonic()

        def done(err, msg):
            now = time.monotonic()
            if err is None:
                self.acked.append((msg.partition(), msg.offset(), msg.value().decode(), now))
                self.latencies.append(now - sent)
            else:
                self.failed += 1

        while True:
            try:
                self.p.produce(topic, value=value.encode(), partition=partition, on_delivery=done)
                return
            except BufferError:
                self.p.poll(0.05)

    def poll(self, t=0):
        self.p.poll(t)

    def flush(self, timeout):
        return self.p.flush(timeout)


def percentile(values, q):
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))] if s else float("nan")
