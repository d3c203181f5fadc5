"""Physical limits of this machine, measured in the same run as the brokers:
fio sequential write with fdatasync after every write at the WAL's write
size, fio sequential read of a broker's stored files, iperf3 over loopback."""

import json
import shutil
import socket
import subprocess
import time
from pathlib import Path


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def have(tool):
    return shutil.which(tool) is not None


def fio_sync_write(directory, block_bytes, size_bytes, runtime_s):
    """Sequential write, one fdatasync per write (what the WAL's commit
    thread does); bandwidth and fdatasync latency percentiles."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    bs = max(4096, int(block_bytes) // 4096 * 4096)
    out = subprocess.run(
        ["fio", "--name=walsync", f"--directory={directory}", "--rw=write", f"--bs={bs}",
         f"--size={int(size_bytes)}", "--fdatasync=1", "--ioengine=sync", f"--runtime={runtime_s}",
         "--output-format=json", "--percentile_list=50:99:99.9"],
        capture_output=True, text=True, timeout=runtime_s + 120, check=True)
    job = json.loads(out.stdout)["jobs"][0]
    pct = job["sync"]["lat_ns"].get("percentile", {})
    for f in directory.glob("walsync*"):
        f.unlink()
    return {"block_bytes": bs, "mb_per_s": job["write"]["bw_bytes"] / 1e6,
            "fdatasync_ms": {"p50": pct.get("50.000000", 0) / 1e6, "p99": pct.get("99.000000", 0) / 1e6,
                             "p999": pct.get("99.900000", 0) / 1e6}}


def fio_read_files(files, page_cache_warm):
    """Sequential 128 KiB reads of the given files, one after another.
    page_cache_warm=False drops each file's cached pages first (fio's
    invalidate), True reads whatever the OS still caches, as the broker does.
    fio takes the file list as one ':'-separated option of limited length,
    so long lists are read in several fio runs and the times added up."""
    files = [str(f) for f in files if Path(f).stat().st_size > 0]
    if not files:
        return None
    groups, cur = [], []
    for f in files:
        if cur and sum(len(c) + 1 for c in cur) + len(f) > 3000:
            groups.append(cur)
            cur = []
        cur.append(f.replace(":", "\\:"))
    groups.append(cur)
    total_bytes, total_ms = 0, 0
    for g in groups:
        out = subprocess.run(
            ["fio", "--name=rawread", f"--filename={':'.join(g)}", "--rw=read", "--bs=128k", "--ioengine=psync",
             f"--invalidate={0 if page_cache_warm else 1}", "--file_service_type=sequential",
             "--output-format=json"],
            capture_output=True, text=True, timeout=900)
        if out.returncode != 0:
            raise RuntimeError(f"fio read failed: {out.stderr.strip()[:500]}")
        job = json.loads(out.stdout)["jobs"][0]
        total_bytes += job["read"]["io_bytes"]
        total_ms += job["read"]["runtime"]
    return {"mb_per_s": total_bytes / (total_ms / 1000) / 1e6 if total_ms else 0.0, "bytes": total_bytes,
            "files": len(files)}


def iperf3_loopback(seconds):
    port = _free_port()
    server = subprocess.Popen(["iperf3", "-s", "-p", str(port)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        last = None
        for _ in range(20):  # until the server listens
            out = subprocess.run(["iperf3", "-c", "127.0.0.1", "-p", str(port), "-t", str(seconds), "-J"],
                                 capture_output=True, text=True, timeout=seconds + 30)
            j = json.loads(out.stdout) if out.stdout.strip().startswith("{") else {}
            if out.returncode == 0 and "error" not in j and "sum_received" in j.get("end", {}):
                return {"mb_per_s": j["end"]["sum_received"]["bits_per_second"] / 8 / 1e6}
            last = out.stdout[-500:] + out.stderr[-500:]
            time.sleep(0.2)
        raise RuntimeError(f"iperf3 failed: {last}")
    finally:
        server.terminate()
        server.wait(timeout=10)
