"""kafkajs consumer groups (tests/js/groups.test.js, node's test runner)."""

import os
import subprocess

from brokers import ROOT

JS_DIR = ROOT / "tests" / "js"


def test_groups_kafkajs(broker):
    env = dict(os.environ, BOOTSTRAP_SERVERS=broker.bootstrap)
    out = subprocess.run(["node", "--test", "--test-reporter=spec", "groups.test.js"], cwd=JS_DIR,
                         env=env, capture_output=True, text=True, timeout=300,
                         stdin=subprocess.DEVNULL)
    assert out.returncode == 0, f"node --test failed:\n{out.stdout[-6000:]}\n{out.stderr[-3000:]}"
    assert "skipped 0" in out.stdout.replace("ℹ ", ""), out.stdout[-2000:]
