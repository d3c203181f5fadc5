"""@kafkajs/confluent-schema-registry (npm) as a second registry client:
tests/js/registry.test.js registers, evolves and has incompatible changes
refused for Avro, JSON Schema and Protobuf, and sends and decodes records
through kafkajs on topics with carelog.value.validation=schema."""

import os
import re
import subprocess

import pytest

from brokers import ROOT
from registry_util import reg_broker  # noqa: F401  (module fixture)

pytestmark = pytest.mark.skipif(os.environ.get("CARELOG_TEST_TARGET", "carelog") != "carelog",
                                reason="Carelog's schema registry")

JS_DIR = ROOT / "tests" / "js"


def test_kafkajs_schema_registry_client(reg_broker):  # noqa: F811
    env = dict(os.environ, BOOTSTRAP_SERVERS=reg_broker.bootstrap, REGISTRY_URL=reg_broker.registry_url)
    out = subprocess.run(["node", "--test", "--test-reporter=spec", "registry.test.js"], cwd=JS_DIR,
                         env=env, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert out.returncode == 0, f"node --test failed:\n{out.stdout[-6000:]}\n{out.stderr[-3000:]}"
    summary = out.stdout.replace("ℹ ", "")
    assert re.search(r"^pass 4$", summary, re.M), out.stdout[-2000:]
    assert re.search(r"^skipped 0$", summary, re.M), out.stdout[-2000:]
