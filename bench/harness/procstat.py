"""Broker resource sampling from /proc while a workload runs.

Sampler owns one background thread that, every `interval` seconds, reads
the broker's peak RSS (VmHWM), its CPU time (utime+stime of all threads)
and, for carelog, the names and sizes of the object files, so objects that
compaction later deletes still count as PUTs. The broker may be restarted
during a workload: CPU time of every process seen is summed. Results are
read after stop().
"""

import os
import threading
import time
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """utime + stime of the process (all threads), or None when gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # fields[0] is the state (field 3); utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def peak_rss_bytes(pid):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def list_objects(obj_dir):
    """{relative path: size} of stream-set objects under the file:// store."""
    out = {}
    if obj_dir is None or not Path(obj_dir).is_dir():
        return out
    for root, _dirs, files in os.walk(obj_dir):
        if "sso" not in Path(root).parts:
            continue
        for f in files:
            p = os.path.join(root, f)
            try:
                out[os.path.relpath(p, obj_dir)] = os.path.getsize(p)
            except OSError:
                pass
    return out


class Sampler:
    def __init__(self, target, interval=0.25):
        self.target = target
        self.interval = interval
        self.cpu = {}        # pid -> last CPU seconds seen
        self.cpu_base = {}   # pid -> CPU seconds when first seen
        self.hwm = 0
        self.objects = {}    # every object file seen, with its largest size
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self.sample()
        self._thread.start()
        return self

    def sample(self):
        pid = self.target.pid()
        if pid is not None:
            c = cpu_seconds(pid)
            if c is not None:
                self.cpu_base.setdefault(pid, c)
                self.cpu[pid] = c
            h = peak_rss_bytes(pid)
            if h is not None:
                self.hwm = max(self.hwm, h)
        for k, size in list_objects(self.target.object_dir()).items():
            self.objects[k] = max(size, self.objects.get(k, 0))

    def _run(self):
        while not self._stop.wait(self.interval):
            self.sample()

    def stop(self):
        self._stop.set()
        self._thread.join()
        self.sample()

    def cpu_seconds(self):
        return sum(self.cpu[p] - self.cpu_base[p] for p in self.cpu)
