"""Helpers for the evidence commands' system tests (test_cost_model.py,
test_boundary.py, test_replay_check.py): running build/bin/carelog
($CARELOG_CLI) and reading its JSON output."""

import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLI = Path(os.environ.get("CARELOG_CLI", ROOT / "build" / "bin" / "carelog"))

carelog_only = pytest.mark.skipif(os.environ.get("CARELOG_TEST_TARGET", "carelog") != "carelog",
                                  reason="a Carelog tool (reads Carelog's config, metrics or storage)")


def carelog(*args, expect=0, timeout=120, cwd=None):
    if not CLI.exists():
        pytest.fail(f"{CLI} not built (run `make build`)")
    out = subprocess.run([str(CLI), *map(str, args)], capture_output=True, text=True, timeout=timeout, cwd=cwd)
    if expect is not None:
        assert out.returncode == expect, (f"carelog {' '.join(map(str, args))} exited {out.returncode}, expected "
                                          f"{expect}\nstdout:\n{out.stdout}\nstderr:\n{out.stderr}")
    return out


def carelog_json(*args, expect=0, timeout=120):
    out = carelog("-o", "json", *args, expect=expect, timeout=timeout)
    return json.loads(out.stdout)


def netns_carelog(workdir, overrides, cli_args, wait_for, aliases=()):
    """carelogd with `overrides` plus `carelog cli_args` in a private network
    namespace (netns_run.py); returns (exit code, stdout, stderr)."""
    import sys
    from brokers import CARELOGD
    spec = {"carelogd": str(CARELOGD), "cli": str(CLI), "workdir": str(workdir), "overrides": {k: str(v) for k, v in overrides.items()},
            "cli_args": list(map(str, cli_args)), "wait_for": list(wait_for), "aliases": list(aliases)}
    out = subprocess.run(["unshare", "-rn", sys.executable, str(Path(__file__).parent / "netns_run.py"),
                          json.dumps(spec)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, f"netns run failed: {out.stderr}"
    r = json.loads(out.stdout.strip().splitlines()[-1])
    assert r["rc"] >= 0, f"{r['stderr']}\nlog:\n{(Path(workdir) / 'carelogd.log').read_text(errors='replace')[-3000:]}"
    return r["rc"], r["stdout"], r["stderr"]
