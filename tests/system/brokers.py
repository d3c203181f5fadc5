"""Process control for the broker under test.

BrokerProcess owns one server process: its data dir, log file and port. It is
used from the test thread only. Subclasses say how to launch it: CarelogBroker
runs build/bin/carelogd; reference_kafka.KafkaBroker runs Apache Kafka.
"""

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

from confluent_kafka.admin import AdminClient

ROOT = Path(__file__).resolve().parents[2]
CARELOGD = Path(os.environ.get("CARELOGD", ROOT / "build" / "bin" / "carelogd"))


def free_port():
    """A loopback port that was free a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(host, port):
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def log_tail(path, lines=60):
    try:
        text = Path(path).read_text(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    return "\n".join(text[-lines:])


class BrokerProcess:
    """A broker process on 127.0.0.1:<port> with a private data dir."""

    name = "broker"
    start_timeout = 30.0
    # Exit codes that count as a clean shutdown after SIGTERM.
    clean_exit_codes = (0,)

    def __init__(self, workdir, overrides=None):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.data_dir = self.workdir / "data"
        self.log_path = self.workdir / f"{self.name}.log"
        self.overrides = dict(overrides or {})
        self.host = "127.0.0.1"
        self.port = free_port()
        self.proc = None
        self._log = None

    @property
    def bootstrap(self):
        return f"{self.host}:{self.port}"

    def command(self):
        raise NotImplementedError

    def prepare(self):
        """One-time setup before the first start (e.g. formatting storage)."""

    def start(self):
        assert self.proc is None or self.proc.poll() is not None, "already running"
        if self.proc is None:
            self.prepare()
        self._log = open(self.log_path, "ab")
        self._log.write(f"\n=== start {time.strftime('%H:%M:%S')} ===\n".encode())
        self._log.flush()
        self.proc = subprocess.Popen(
            self.command(),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=self.workdir,
            start_new_session=True,
        )
        self.wait_ready()
        return self

    def wait_ready(self):
        """Waits for the port to accept and an ApiVersions+Metadata round trip."""
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with {self.proc.returncode} during startup; "
                    f"log {self.log_path}:\n{log_tail(self.log_path)}")
            if port_open(self.host, self.port):
                try:
                    admin = AdminClient({"bootstrap.servers": self.bootstrap})
                    admin.list_topics(timeout=5)
                    return
                except Exception:  # not serving yet: retry until the deadline
                    pass
            time.sleep(0.2)
        self.kill()
        raise RuntimeError(
            f"{self.name} not ready within {self.start_timeout}s; "
            f"log {self.log_path}:\n{log_tail(self.log_path)}")

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=30.0):
        """SIGTERM and wait; returns the exit code (None if it had to be killed)."""
        if self.proc is None:
            return 0
        code = self.proc.poll()
        if code is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                code = self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                code = None
        self._close_log()
        return code

    def stop_clean(self):
        """Stops with SIGTERM and asserts a clean exit."""
        code = self.stop()
        assert code in self.clean_exit_codes, (
            f"{self.name} did not exit cleanly on SIGTERM (code {code}); "
            f"log {self.log_path}:\n{log_tail(self.log_path)}")

    def kill(self):
        """kill -9 the whole process group (crash simulation)."""
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(timeout=30)
        self._close_log()

    def restart(self, hard=False):
        """Stops (SIGTERM, or kill -9 when hard) and starts on the same port and data."""
        if hard:
            self.kill()
        else:
            self.stop_clean()
        self.start()

    def _close_log(self):
        if self._log is not None:
            self._log.close()
            self._log = None


class CarelogBroker(BrokerProcess):
    name = "carelogd"
    clean_exit_codes = (0,)

    def command(self):
        if not CARELOGD.exists():
            raise RuntimeError(f"{CARELOGD} not built (run `make build`)")
        cmd = [str(CARELOGD),
               "--override", f"listeners=PLAINTEXT://{self.host}:{self.port}",
               "--override", f"data.dir={self.data_dir}"]
        for k, v in self.overrides.items():
            cmd += ["--override", f"{k}={v}"]
        return cmd
