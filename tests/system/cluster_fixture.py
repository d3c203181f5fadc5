"""A cluster of carelogd processes sharing one metadata store and one object store.

Cluster(workdir, size=3) starts `size` CarelogBroker processes with node.id
1..size, each with its own data dir and port, all pointing at the same
metadata.store (a shared SQLite file in WAL mode: one machine) and the same
object.store (a file:// directory). cluster.enable=true turns cluster mode
on; everything else is at its defaults unless `overrides` says otherwise.
"""

import time
from pathlib import Path

from brokers import CarelogBroker
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
            "cluster.enable": "true",
            "metadata.store": self.metadata_store,
            "object.store": self.object_store,
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

    def admin(self):
        return AdminClient({"bootstrap.servers": self.bootstrap})

    def wait_brokers(self, n, timeout=30):
        """Waits until Metadata lists exactly n live brokers."""
        deadline = time.monotonic() + timeout
        seen = None
        while time.monotonic() < deadline:
            try:
                seen = sorted(self.admin().list_topics(timeout=5).brokers)
                if len(seen) == n:
                    return seen
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
