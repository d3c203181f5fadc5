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
# Payload markers and passwords tests sent: no carelogd log of the run may
# contain one (checked at session end, see test_log_hygiene.py).
_secret_markers = set()


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


@pytest.fixture(scope="session")
def secret_marker():
    """secret_marker(text) -> text: registers a payload or password that must never appear in broker logs."""
    def register(text):
        _secret_markers.add(text)
        return text
    return register


def pytest_sessionfinish(session, exitstatus):
    """Fails the run when any carelogd log of the session contains a registered secret."""
    if TARGET != "carelog" or not _secret_markers:
        return
    from test_log_hygiene import leaked_secrets
    factory = getattr(session.config, "_tmp_path_factory", None)
    if factory is None:
        return
    leaks = leaked_secrets(Path(factory.getbasetemp()), _secret_markers)
    if leaks:
        tr = session.config.pluginmanager.get_plugin("terminalreporter")
        for line in leaks:
            if tr is not None:
                tr.write_line(f"LOG HYGIENE: {line}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


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
