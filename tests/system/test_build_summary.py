"""The build this run tests has every part: CMake writes what it configured
(build/carelog-build-summary.txt), so a part skipped at configure time fails
here by name instead of as a missing file in some later test."""

from brokers import CARELOGD


def test_every_part_is_built():
    build = CARELOGD.parent.parent
    parts = set((build / "carelog-build-summary.txt").read_text().split())
    assert {"carelogd", "carelog", "carelog-loadgen", "carelog-mock-peer", "unit-tests"} <= parts, parts
    for exe in ("carelogd", "carelog", "carelog-loadgen", "carelog-mock-peer"):
        assert (CARELOGD.parent / exe).exists(), f"{exe} is not in {CARELOGD.parent}"
