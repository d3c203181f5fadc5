"""Shared pieces of the schema registry system tests: a carelogd with the
registry listener, a SchemaRegistryClient on it, and a producer that reports
each value's delivery error code."""

import pytest
from confluent_kafka import Producer
from confluent_kafka.schema_registry import SchemaRegistryClient

from brokers import CarelogBroker, free_port

INVALID_RECORD = 87  # Kafka's error code for a record the broker's validation refused


def start_registry_broker(tmp_path_factory, name, **overrides):
    """A started carelogd serving the registry on a free port (`.registry_url`)."""
    port = free_port()
    overrides.setdefault("schema.registry.listener", f"127.0.0.1:{port}")
    b = CarelogBroker(tmp_path_factory.mktemp(name), overrides)
    b.start()
    b.registry_url = f"http://127.0.0.1:{port}"
    return b


@pytest.fixture(scope="module")
def reg_broker(tmp_path_factory):
    b = start_registry_broker(tmp_path_factory, "registry")
    yield b
    b.stop_clean()


@pytest.fixture(scope="module")
def client(reg_broker):
    return SchemaRegistryClient({"url": reg_broker.registry_url})


def produce(broker, topic, values):
    """Produces each value in its own batch; returns the delivery error codes (0 = stored)."""
    p = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 0, "retries": 0,
                  "enable.idempotence": False})
    results = []
    for v in values:
        out = {}
        p.produce(topic, v, on_delivery=lambda err, msg, out=out: out.update(err=err))
        p.flush(30)
        err = out.get("err")
        results.append(0 if err is None else err.code())
    return results
