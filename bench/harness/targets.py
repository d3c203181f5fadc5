"""Brokers the benchmark runs against, all on loopback.

Each target starts a fresh broker for one workload in its own work dir and
exposes the process ids whose CPU and memory are measured. carelog and the
two Apache Kafka variants reuse the system tests' process control
(tests/system/brokers.py, reference_kafka.py); the mock peer is
bench/mock_peer (librdkafka's in-memory cluster).
"""

import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "system"))

from brokers import CarelogBroker, log_tail  # noqa: E402

# Broker settings every run uses. Kafka's reference config already sets the
# group rebalance delay to 0; carelog gets the same so consumers start at once.
CARELOG_OVERRIDES = {"group.initial.rebalance.delay.ms": "0"}
KAFKA_HEAP = "1g"


class _BrokerTarget:
    """A target backed by a tests/system BrokerProcess (self.broker)."""

    restart_keeps_data = True

    @property
    def bootstrap(self):
        return self.broker.bootstrap

    def start(self, topics):
        self.broker.start()

    def pid(self):
        return self.broker.proc.pid if self.broker.running() else None

    stop_timeout = 30

    def restart(self):
        self.stop()
        self.broker.start()

    def stop(self):
        code = self.broker.stop(timeout=self.stop_timeout)
        if code not in self.broker.clean_exit_codes:
            raise RuntimeError(f"{self.name} did not exit cleanly on SIGTERM (code {code}); "
                               f"log {self.broker.log_path}")

    def object_dir(self):
        return None

    def data_dir(self):
        return self.broker.data_dir


class CarelogTarget(_BrokerTarget):
    name = "carelog"

    def __init__(self, workdir, carelogd):
        self.broker = _Carelogd(workdir, CARELOG_OVERRIDES, Path(carelogd))

    def object_dir(self):
        return self.broker.data_dir / "objects"

    def cache_bytes(self):
        # Defaults of cache.log.bytes + cache.block.bytes (src/config/broker_config_defs.cpp).
        return 2 * 256 * 2**20


class _Carelogd(CarelogBroker):
    def __init__(self, workdir, overrides, binary):
        super().__init__(workdir, overrides)
        self.binary = binary

    def command(self):
        cmd = super().command()
        cmd[0] = str(self.binary)
        return cmd


def kafka_jvm_defaults(cmd):
    """The test harness runs Kafka with a small heap, serial GC and C1 only
    (fast start); a benchmark uses what bin/kafka-server-start.sh uses."""
    out = []
    for c in cmd:
        if c.startswith("-Xmx"):
            out += [f"-Xmx{KAFKA_HEAP}", f"-Xms{KAFKA_HEAP}", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20",
                    "-XX:InitiatingHeapOccupancyPercent=35", "-XX:+ExplicitGCInvokesConcurrent"]
        elif c not in ("-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"):
            out.append(c)
    return out


class KafkaTarget(_BrokerTarget):
    """Apache Kafka 4.x, single KRaft node; flush=True fsyncs every message."""

    def __init__(self, workdir, flush=False):
        from reference_kafka import KafkaBroker

        class Broker(KafkaBroker):
            def command(self):
                return kafka_jvm_defaults(super().command())

        self.name = "kafka-flush" if flush else "kafka"
        # With 10,000 partitions Kafka needs well over 30 s to close its logs.
        self.stop_timeout = 180
        overrides = {"log.flush.interval.messages": "1"} if flush else {}
        self.broker = Broker(workdir, overrides)

    def cache_bytes(self):
        return 2**30  # the heap


class MockTarget:
    """librdkafka's mock cluster: memory only, so a restart loses the data."""

    name = "mock"
    restart_keeps_data = False

    def __init__(self, workdir, binary):
        self.binary = Path(binary)
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.proc = None
        self.bootstrap = None

    def start(self, topics):
        if not self.binary.exists():
            raise RuntimeError(f"{self.binary} not built")
        specs = [f"{t}:{p}" for t, p in topics]
        log = open(self.workdir / "mock.log", "ab")
        self.proc = subprocess.Popen([str(self.binary), *specs], stdout=subprocess.PIPE, stderr=log,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        line = self.proc.stdout.readline().decode().strip()
        if not line.startswith("bootstrap="):
            self.proc.kill()
            raise RuntimeError(f"mock peer did not start: {line!r} {log_tail(self.workdir / 'mock.log')}")
        self.bootstrap = line.split("=", 1)[1]

    def pid(self):
        return self.proc.pid if self.proc and self.proc.poll() is None else None

    def restart(self):
        raise RuntimeError("the mock peer keeps data in memory only")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    def object_dir(self):
        return None

    def data_dir(self):
        return None

    def cache_bytes(self):
        return 0


def make_target(name, workdir, bins):
    if name == "carelog":
        return CarelogTarget(workdir, bins["carelogd"])
    if name == "kafka":
        return KafkaTarget(workdir)
    if name == "kafka-flush":
        return KafkaTarget(workdir, flush=True)
    if name == "mock":
        return MockTarget(workdir, bins["mock"])
    raise ValueError(f"unknown target {name}")
