"""Reference Apache Kafka: a single KRaft broker+controller on loopback.

Runs from the jars that scripts/kafka-dist.sh puts in .cache/kafka/libs. Used
when CARELOG_TEST_TARGET=kafka to check the system tests against real Kafka,
and by differential tests. Run directly to keep one up for manual poking:
    .cache/venv/bin/python tests/system/reference_kafka.py
"""

import base64
import os
import subprocess
import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from brokers import ROOT, BrokerProcess, free_port  # noqa: E402

KAFKA_LIBS = ROOT / ".cache" / "kafka" / "libs"


def kafka_classpath():
    if not any(KAFKA_LIBS.glob("kafka_2.13-*.jar")):
        raise RuntimeError(f"no Kafka jars in {KAFKA_LIBS}: run scripts/kafka-dist.sh")
    return str(KAFKA_LIBS / "*")


def java_cmd(main_class, *args, heap="256m"):
    """Command line running a Kafka main class (server or CLI tool)."""
    return ["java", f"-Xmx{heap}", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
            "-Djava.awt.headless=true", "-Dlog4j2.level=warn",
            "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
            "-cp", kafka_classpath(), main_class, *args]


class KafkaBroker(BrokerProcess):
    name = "kafka"
    start_timeout = 90.0
    # The JVM exits 143 (128+SIGTERM) after its shutdown hooks complete.
    clean_exit_codes = (0, 143)

    def __init__(self, workdir, overrides=None):
        super().__init__(workdir, overrides)
        self.controller_port = free_port()
        self.config_path = self.workdir / "server.properties"

    def properties(self):
        props = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@{self.host}:{self.controller_port}",
            "listeners": f"PLAINTEXT://{self.host}:{self.port},CONTROLLER://{self.host}:{self.controller_port}",
            "advertised.listeners": f"PLAINTEXT://{self.host}:{self.port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "log.dirs": str(self.data_dir),
            "num.partitions": "1",
            "offsets.topic.replication.factor": "1",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
        }
        props.update({k: str(v) for k, v in self.overrides.items()})
        return props

    def prepare(self):
        self.config_path.write_text(
            "".join(f"{k}={v}\n" for k, v in self.properties().items()))
        # kafka-storage reads an id starting with '-' as an option: draw again.
        cluster_id = "-"
        while cluster_id.startswith("-"):
            cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        out = subprocess.run(
            java_cmd("kafka.tools.StorageTool", "format", "-t", cluster_id,
                     "-c", str(self.config_path)),
            capture_output=True, text=True, timeout=120)
        if out.returncode != 0:
            raise RuntimeError(f"kafka storage format failed:\n{out.stdout}\n{out.stderr}")

    def command(self):
        cmd = java_cmd("kafka.Kafka", str(self.config_path), heap="768m")
        # The broker itself logs at INFO into its log file, for debugging.
        return [c for c in cmd if "defaultLogLevel" not in c]


if __name__ == "__main__":
    import tempfile
    import time
    work = tempfile.mkdtemp(prefix="refkafka-")
    b = KafkaBroker(work).start()
    print(f"reference Kafka at {b.bootstrap} (log {b.log_path}); Ctrl-C stops it", flush=True)
    try:
        while b.running():
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        print("exit code", b.stop())
