"""A cluster of carelogd processes sharing one metadata store and one object store.

Cluster(workdir, size=3) starts `size` CarelogBroker processes with node.id
1..size, each with its own data dir and port, all pointing at the same
metadata.store and the same object.store (a file:// directory). With a
postgresql:// metadata_store the brokers get nothing else (PostgreSQL
implies cluster mode); with the default shared SQLite file (WAL mode: one
machine) cluster.enable=true turns it on. Everything else is at its
defaults unless `overrides` says otherwise.
"""

import time
from pathlib import Path

from brokers import CarelogBroker, free_port
from confluent_kafka.admin import AdminClient


class Cluster:
    def __init__(self, workdir, size=3, overrides=None, metadata_store=None, object_store=None):
        self.workdir = Path(workdir)
        shared = self.workdir / "shared"
        shared.mkdir(parents=True, exist_ok=True)
        self.metadata_store = metadata_store or f"sqlite://{shared / 'metadata.db'}"
        self.object_store = object_store or f"file://{shared / 'objects'}"
        self.overrides = dict(overrides or {})
        self.brokers = [self.make_broker(i + 1) for i in range(size)]

    def make_broker(self, node_id, extra=None):
        overrides = {
            "node.id": node_id,
            "metadata.store": self.metadata_store,
            "admin.http.listener": f"127.0.0.1:{free_port()}",
            "object.store": self.object_store,
            **({} if self.metadata_store.startswith("postgresql://") else {"cluster.enable": "true"}),
            **self.overrides,
            **(extra or {}),
        }
        return CarelogBroker(self.workdir / f"broker{node_id}", overrides)

    @property
    def bootstrap(self):
        return ",".join(b.bootstrap for b in self.brokers if b.running())

    def start(self):
        for b in self.brokers:
            b.start()
        self.wait_brokers(len(self.brokers))
        return self

    def broker(self, node_id):
        return next(b for b in self.brokers if b.overrides["node.id"] == node_id)

    def health(self, node_id):
        """GET /health of one broker: (HTTP status, parsed body)."""
        import json
        import urllib.error
        import urllib.request
        url = f"http://{self.broker(node_id).overrides['admin.http.listener']}/health"
        try:
            with urllib.request.urlopen(url, timeout=10) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def admin(self):
        return AdminClient({"bootstrap.servers": self.bootstrap})

    def wait_brokers(self, n, timeout=30):
        """Waits until Metadata from every running broker lists exactly n
        live brokers (each refreshes its view on its own heartbeat)."""
        deadline = time.monotonic() + timeout
        seen = None
        while time.monotonic() < deadline:
            try:
                views = [sorted(AdminClient({"bootstrap.servers": b.bootstrap}).list_topics(timeout=5).brokers)
                         for b in self.brokers if b.running()]
                seen = views[0] if views else None
                if views and all(len(v) == n for v in views) and all(v == seen for v in views):
                    return seen
                seen = views
            except Exception:
                pass
            time.sleep(0.2)
        raise AssertionError(f"expected {n} live brokers, Metadata lists {seen}")

    def leaders(self, topic, timeout=30):
        """partition -> leader node id, once every partition has a live leader."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                md = self.admin().list_topics(topic, timeout=5)
                t = md.topics[topic]
                last = {p.id: p.leader for p in t.partitions.values()}
                live = set(md.brokers)
                if last and t.error is None and all(l in live for l in last.values()):
                    return last
            except Exception:
                pass
            time.sleep(0.2)
        raise AssertionError(f"partitions of {topic} without a live leader: {last}")

    def stop(self):
        for b in self.brokers:
            if b.running():
                b.stop()
