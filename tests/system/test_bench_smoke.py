"""The benchmark harness end to end, minimally: bench/run --smoke against this
build's carelogd with its carelog-loadgen (a few seconds per workload), and
the JSON it writes has every figure, non-zero."""

import json
import os
import subprocess
from pathlib import Path

import pytest

from brokers import CARELOGD, ROOT
from conftest import TARGET

pytestmark = pytest.mark.skipif(TARGET != "carelog", reason="benchmarks carelogd itself")


def test_bench_smoke(tmp_path, report):
    loadgen = CARELOGD.parent / "carelog-loadgen"
    assert loadgen.exists(), f"{loadgen} not built (carelog-loadgen is part of the default build)"
    out = tmp_path / "results.json"
    env = dict(os.environ, CARELOGD=str(CARELOGD), CARELOG_LOADGEN=str(loadgen))
    proc = subprocess.run([str(ROOT / "bench" / "run"), "--smoke", "--out", str(out), "max", "adt"],
                          capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    res = json.loads(out.read_text())
    assert res["failures"] == []
    rows = {r["workload"]: r for r in res["rows"]}
    assert set(rows) == {"max", "adt"}
    for name, r in rows.items():
        assert r["target"] == "carelog"
        for key in ("mb_per_s", "msgs_per_s", "broker_cpu_s", "peak_rss_mib", "objects_written",
                    "puts_per_gib", "avg_object_mib"):
            assert r[key] > 0, (name, key, r)
        for q in ("p50", "p99", "p999"):
            assert r["produce_ms"][q] > 0, (name, q, r)
        assert r["produce_ms"]["p50"] <= r["produce_ms"]["p99"] <= r["produce_ms"]["p999"]
        assert r["peak_rss_mib"] < 4096
    # adt is open loop at 5,000 msgs/s: it must reach most of that, and its
    # consumer measures end-to-end latency.
    assert rows["adt"]["msgs_per_s"] > 2500, rows["adt"]
    assert 0 < rows["adt"]["e2e_ms"]["p50"] <= rows["adt"]["e2e_ms"]["p99"]
    # 1 KiB messages: MB/s and msgs/s must agree.
    m = rows["max"]
    assert abs(m["mb_per_s"] * 1e6 / m["msgs_per_s"] - 1024) < 64, m
    assert "max" in proc.stdout and "PUTs/GiB" in proc.stdout
    report(f"bench smoke: max {m['mb_per_s']:.0f} MB/s, adt p99 {rows['adt']['produce_ms']['p99']:.1f} ms")
