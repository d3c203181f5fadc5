"""bench/run's driver: runs the workloads against each target, then the
physical limits, prints one table and writes results.json (docs/benchmarks.md)."""

import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import limits  # noqa: E402
import report  # noqa: E402
from procstat import Sampler  # noqa: E402
from targets import ROOT, make_target  # noqa: E402
from workloads import make_workloads  # noqa: E402

ORDER = ["max", "adt", "vitals", "claims", "claims-txn", "claims-fhir-plain", "claims-fhir", "adt-hl7v2-plain",
         "adt-hl7v2", "audit-replay", "partitions"]
TARGETS = ["carelog", "kafka", "kafka-flush", "mock"]
DEFAULT_WAL_WRITE = 256 * 1024
# The WAL's average write size is measured under these workloads; fio then
# writes at that size: max for bandwidth, adt for fdatasync latency.
WAL_SIZE_WORKLOADS = {"max": "fio_wal_write", "adt": "fio_wal_sync_adt"}
DEFAULT_WAL_WRITE_ADT = 16 * 1024


def machine():
    info = {"kernel": platform.release(), "cores": os.cpu_count()}
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name:"):
                info["cpu"] = line.split(":", 1)[1].strip()
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                info["mem_gib"] = round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return info


class PerfStat:
    """Counts fdatasync calls of one process (perf stat on the syscall
    tracepoint) to derive the WAL's average write size."""

    def __init__(self, pid, out):
        self.out = out
        self.proc = None
        if shutil.which("perf"):
            self.proc = subprocess.Popen(["perf", "stat", "-x", ",", "-e", "syscalls:sys_enter_fdatasync",
                                          "-p", str(pid), "-o", str(out)],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop(self):
        if self.proc is None:
            return None
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(timeout=30)
        for line in Path(self.out).read_text().splitlines():
            parts = line.split(",")
            if len(parts) > 2 and "fdatasync" in line and parts[0].strip().isdigit():
                return int(parts[0])
        return None


class PerfRecord:
    """perf record -g of one process; report() gives the top entries."""

    def __init__(self, pid, data):
        self.data = data
        self.proc = subprocess.Popen(["perf", "record", "-g", "-F", "499", "-p", str(pid), "-o", str(data)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop(self, text_out):
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(timeout=60)
        out = subprocess.run(["perf", "report", "-i", str(self.data), "--stdio", "--no-children",
                              "--percent-limit", "1.5", "-g", "none", "--sort", "dso,symbol"],
                             capture_output=True, text=True, timeout=300)
        Path(text_out).write_text(out.stdout)


def reset_peak_rss(pid):
    """Restarts VmHWM counting for a broker that serves several workloads."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        pass


def run_one(wl, target_name, args, bins, work, logs, shared=None):
    """Runs one workload on one target: a fresh broker on a fresh data dir,
    or `shared` (an Apache Kafka started once per run, see main())."""
    wdir = work / wl.name / target_name
    t0 = time.monotonic()
    if shared is not None:
        target = shared
        reset_peak_rss(target.pid())
    else:
        shutil.rmtree(wdir, ignore_errors=True)
        target = make_target(target_name, wdir, bins)
        target.start(wl.topics)
    sampler = Sampler(target).start()
    extra = {}
    perf_stat = perf_rec = None
    try:
        if target_name == "carelog" and wl.name in WAL_SIZE_WORKLOADS:
            perf_stat = PerfStat(target.pid(), args.out.parent / f"perf-stat-{wl.name}.txt")
        if target_name == "carelog" and wl.name == "max":
            if args.profile and shutil.which("perf"):
                perf_rec = PerfRecord(target.pid(), args.out.parent / "perf-max.data")
        phases = wl.run(target, bins["loadgen"], sampler)
        if perf_stat:
            syncs = perf_stat.stop()
            perf_stat = None
            produced = phases["produce"]["produce"]["bytes"]
            if syncs:
                extra["fdatasyncs"] = syncs
                extra["wal_write_bytes"] = int(produced / syncs)
        if perf_rec:
            perf_rec.stop(args.out.parent / "perf-max.txt")
            perf_rec = None
        sampler.sample()
    finally:
        for p in (perf_stat, perf_rec):
            if p is not None and p.proc.poll() is None:
                p.proc.send_signal(signal.SIGINT)
        try:
            if shared is None:
                target.stop()
        finally:
            sampler.stop()
    main = phases.get("produce") or phases.get("write")
    row = report.summarize(wl.name, target, phases, sampler, main["produce"]["bytes"], time.monotonic() - t0)
    row.update(extra)
    if wl.name == "audit-replay" and target.data_dir() is not None and not args.smoke and limits.have("fio"):
        files = stored_files(target)
        try:
            row["raw_read_warm"] = limits.fio_read_files(files, page_cache_warm=True)
            row["raw_read_cold"] = limits.fio_read_files(files, page_cache_warm=False)
        except (RuntimeError, subprocess.SubprocessError, ValueError, KeyError) as e:
            row["raw_read_error"] = str(e)[:1000]
    (logs / f"{wl.name}-{target_name}.json").write_text(json.dumps(phases, indent=2))
    if shared is None:
        shutil.rmtree(wdir, ignore_errors=True)
    return row


def stored_files(target):
    if target.object_dir() is not None:
        return sorted(p for p in Path(target.object_dir()).rglob("*") if p.is_file() and "sso" in p.parts)
    return sorted(p for p in Path(target.data_dir()).rglob("*.log") if p.parent.name.startswith("audit-"))


# Apache Kafka takes ~20 s to format and start, so each Kafka variant is
# started once per run; workloads use their own topics, CPU is counted as a
# delta and peak RSS is reset per workload. carelogd and the mock peer start
# fresh for every workload.
SHARED_TARGETS = ("kafka", "kafka-flush")


def run_target(t, names, workloads, args, bins, work, logs, rows, failures):
    shared = None
    try:
        for name in names:
            wl = workloads[name]
            if t in wl.skip:
                print(f"bench: {name} on {t}: skipped ({wl.skip[t]})", flush=True)
                continue
            print(f"bench: {name} on {t}: {wl.what} ...", end="", flush=True)
            start = time.monotonic()
            try:
                if t in SHARED_TARGETS and (shared is None or shared.pid() is None):
                    shutil.rmtree(work / t, ignore_errors=True)
                    shared = make_target(t, work / t, bins)
                    shared.start([])
                rows.append(run_one(wl, t, args, bins, work, logs, shared))
                print(f" {time.monotonic() - start:.0f} s", flush=True)
            except Exception as e:  # one failed pair must not lose the rest of the run
                print(f" FAILED: {str(e)[:500]}", flush=True)
                traceback.print_exc(file=sys.stderr)
                failures.append({"workload": name, "target": t, "error": str(e)[:4000]})
    finally:
        if shared is not None:
            try:
                if shared.pid() is not None:
                    shared.stop()
            except RuntimeError as e:
                failures.append({"workload": "shutdown", "target": t, "error": str(e)[:4000]})
            shutil.rmtree(work / t, ignore_errors=True)


def markdown(result):
    """results.md: the tables as docs/benchmarks.md shows them."""
    m = result["machine"]
    lines = [f"Run {result['generated']} ({result['mode']}), {m.get('cpu', '?')}, {m.get('cores')} cores, "
             f"{m.get('mem_gib')} GiB RAM, kernel {m.get('kernel')}.", "", report.table(result["rows"], True), ""]
    for k, v in result["limits"].items():
        lines.append(f"* limit `{k}`: {json.dumps(v)}")
    if result["targets"]:
        lines += ["", report.ratio_table(result["targets"], True)]
    for f in result["failures"]:
        lines.append(f"* FAILED {f['workload']} on {f['target']}: {f['error'][:300]}")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(prog="bench/run", description=__doc__)
    ap.add_argument("workloads", nargs="*", help=f"subset of {', '.join(ORDER)} (default: all)")
    ap.add_argument("--quick", action="store_true", help="short durations and small data (3-5 min)")
    ap.add_argument("--smoke", action="store_true", help="seconds per workload; carelog only (harness test)")
    ap.add_argument("--targets", default=None, help=f"comma-separated subset of {','.join(TARGETS)}")
    ap.add_argument("--no-limits", action="store_true", help="skip fio and iperf3")
    ap.add_argument("--profile", action="store_true", help="perf record -g carelogd during max")
    ap.add_argument("--merge", action="store_true",
                    help="keep the other rows and limits of an existing --out file (re-run some pairs)")
    ap.add_argument("--bin-dir", type=Path, default=ROOT / "build-bench" / "bin")
    ap.add_argument("--out", type=Path, default=ROOT / "build" / "bench" / "results.json")
    args = ap.parse_args()

    names = args.workloads or ORDER
    unknown = [n for n in names if n not in ORDER]
    if unknown:
        ap.error(f"unknown workload(s) {unknown}; choose from {ORDER}")
    names = [n for n in ORDER if n in names]
    targets = (args.targets.split(",") if args.targets else (["carelog"] if args.smoke else TARGETS))
    bad = [t for t in targets if t not in TARGETS]
    if bad:
        ap.error(f"unknown target(s) {bad}; choose from {TARGETS}")
    if args.smoke:
        args.no_limits = True
    bins = {"carelogd": Path(os.environ.get("CARELOGD", args.bin_dir / "carelogd")),
            "loadgen": Path(os.environ.get("CARELOG_LOADGEN", args.bin_dir / "carelog-loadgen")),
            "mock": Path(os.environ.get("CARELOG_MOCK_PEER", args.bin_dir / "carelog-mock-peer"))}
    bins = {k: v.resolve() for k, v in bins.items()}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    work = args.out.parent / "work"
    logs = args.out.parent / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    workloads = make_workloads(quick=args.quick, smoke=args.smoke)
    mode = "smoke" if args.smoke else ("quick" if args.quick else "full")
    print(f"bench: {mode} run, workloads {' '.join(names)}, targets {' '.join(targets)}", flush=True)

    rows, failures = [], []
    for t in targets:
        run_target(t, names, workloads, args, bins, work, logs, rows, failures)
    rows.sort(key=lambda r: (ORDER.index(r["workload"]), TARGETS.index(r["target"])))

    lim = {}
    if not args.no_limits:
        try:
            if limits.have("fio"):
                for wl_name, key in WAL_SIZE_WORKLOADS.items():
                    size = DEFAULT_WAL_WRITE if wl_name == "max" else DEFAULT_WAL_WRITE_ADT
                    size = next((r.get("wal_write_bytes", size) for r in rows
                                 if r["workload"] == wl_name and r["target"] == "carelog"), size)
                    print(f"bench: fio sequential {size} B writes + fdatasync per write ({wl_name}) ...", flush=True)
                    lim[key] = limits.fio_sync_write(work / "fio", size, (256 if args.quick else 1024) * 2**20,
                                                     10 if args.quick else 30)
            if limits.have("iperf3"):
                print("bench: iperf3 loopback ...", flush=True)
                lim["iperf3_loopback"] = limits.iperf3_loopback(3 if args.quick else 10)
        except (subprocess.SubprocessError, OSError, ValueError, KeyError, RuntimeError) as e:
            failures.append({"workload": "limits", "target": "machine", "error": str(e)[:4000]})
    for r in rows:
        if r["workload"] == "audit-replay" and r["target"] == "carelog" and r.get("raw_read_warm"):
            lim["raw_object_read"] = r["raw_read_warm"]
            lim["raw_object_read_cold"] = r.get("raw_read_cold")

    if args.merge and args.out.exists():
        old = json.loads(args.out.read_text())
        done = {(r["workload"], r["target"]) for r in rows}
        rows += [r for r in old["rows"] if (r["workload"], r["target"]) not in done]
        rows.sort(key=lambda r: (ORDER.index(r["workload"]), TARGETS.index(r["target"])))
        lim = {**old.get("limits", {}), **lim}
        failures += [f for f in old.get("failures", []) if (f["workload"], f["target"]) not in done]
        mode = old.get("mode", mode) if old.get("mode") == mode else f"{old.get('mode')}+{mode}"
    checks = report.ratios(rows, lim)
    result = {"generated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "mode": mode,
              "machine": machine(), "limits": lim, "rows": rows, "targets": checks, "failures": failures}
    args.out.write_text(json.dumps(result, indent=2))
    args.out.with_suffix(".md").write_text(markdown(result))

    print()
    print(report.table(rows))
    if lim:
        print()
        for k, v in lim.items():
            print(f"limit {k}: {json.dumps(v)}")
    if checks:
        print()
        print(report.ratio_table(checks))
    for f in failures:
        print(f"FAILED {f['workload']} on {f['target']}: {f['error'][:300]}")
    print(f"\nresults: {args.out} (tables: {args.out.with_suffix('.md')})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
