"""Fixtures for the system tests.

`broker` is one broker for the whole session; `broker_factory` starts extra
brokers (own data dir and port, optional config overrides) for tests that
restart, kill -9 or reconfigure them. CARELOG_TEST_TARGET=kafka runs the same
tests against the reference Apache Kafka instead of build/bin/carelogd.
"""

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from brokers import CarelogBroker  # noqa: E402

TARGET = os.environ.get("CARELOG_TEST_TARGET", "carelog")
_report_lines = []


def broker_class():
    if TARGET == "kafka":
        from reference_kafka import KafkaBroker
        return KafkaBroker
    if TARGET == "carelog":
        return CarelogBroker
    raise pytest.UsageError(f"CARELOG_TEST_TARGET must be carelog or kafka, not {TARGET!r}")


@pytest.fixture(scope="session")
def broker(tmp_path_factory):
    b = broker_class()(tmp_path_factory.mktemp("broker"))
    b.start()
    yield b
    b.stop_clean()


@pytest.fixture
def broker_factory(tmp_path):
    started = []

    def make(overrides=None):
        b = broker_class()(tmp_path / f"broker{len(started)}", overrides)
        started.append(b)
        return b.start()

    yield make
    for b in started:
        if b.running():
            b.stop_clean()


@pytest.fixture
def report():
    """report(line): shown in the terminal summary (e.g. throughput numbers)."""
    return _report_lines.append


def pytest_report_header(config):
    return f"system-test target: {TARGET}"


def pytest_terminal_summary(terminalreporter):
    if _report_lines:
        terminalreporter.section("measurements")
        for line in _report_lines:
            terminalreporter.write_line(line)
