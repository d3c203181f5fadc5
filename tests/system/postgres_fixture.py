"""A throwaway PostgreSQL server for system tests (scripts/pg-test-server.sh:
Debian's `postgresql` package, initdb into a temp dir, pg_ctl on a free
127.0.0.1 port; as root the server runs as the `postgres` user).

PostgreSQL is REQUIRED: when it cannot start the tests fail, never skip.

    from postgres_fixture import postgres  # noqa: F401  (session fixture)

    def test_x(postgres, broker_factory):
        uri = postgres.create_database()          # fresh database per test
        b = broker_factory({"metadata.store": uri})
        postgres.restart("immediate")             # crash-like restart
"""

import itertools
import os
import shutil
import subprocess
import tempfile

import pytest

from brokers import free_port

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SCRIPT = os.path.join(ROOT, "scripts", "pg-test-server.sh")
_counter = itertools.count(1)


class Postgres:
    def __init__(self, workdir=None):
        self.dir = workdir or tempfile.mkdtemp(prefix="carelog-pg-")
        self.port = None
        self.uri = None

    def _run(self, *args):
        r = subprocess.run(["bash", SCRIPT, *args], capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            raise RuntimeError(f"pg-test-server.sh {args[0]} failed ({r.returncode}); PostgreSQL is required "
                               f"(Debian package postgresql, scripts/deps-test.txt):\n{r.stderr}")
        return r.stdout.strip()

    def start(self):
        self.port = free_port()
        self.uri = self._run("start", self.dir, str(self.port))
        return self

    def create_database(self, name=None):
        """A new empty database; returns its postgresql:// URI."""
        name = name or f"carelog_{os.getpid()}_{next(_counter)}"
        return self._run("createdb", self.dir, name)

    def sql(self, uri, query):
        """Runs one query with psql; returns the rows as lists of strings."""
        r = subprocess.run(["psql", "-X", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-d", uri, "-c", query],
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError(f"psql failed: {r.stderr}")
        return [line.split("\t") for line in r.stdout.splitlines() if line]

    def stop(self, mode="immediate"):
        self._run("stop", self.dir, mode)

    def resume(self):
        self._run("resume", self.dir)

    def restart(self, mode="fast"):
        self._run("restart", self.dir, mode)

    def close(self):
        try:
            self._run("stop", self.dir, "immediate")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres():
    pg = Postgres()
    try:
        pg.start()
    except RuntimeError as e:
        pg.close()
        pytest.fail(str(e))
    yield pg
    pg.close()
