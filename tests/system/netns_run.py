"""Runs carelogd and one `carelog` command inside a private network
namespace, for tests whose broker must bind or advertise addresses other
than loopback (0.0.0.0, a "public" documentation address). Started by
netns_carelog() as `unshare -rn python netns_run.py SPEC`: the namespace has
only its own loopback device (brought up here, with the spec's extra
addresses on it), so nothing bound or dialled can reach a real network.
Prints one JSON object: the command's exit code, stdout and stderr."""

import json
import os
import signal
import socket
import subprocess
import sys
import time


def main():
    spec = json.loads(sys.argv[1])
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    for addr in spec.get("aliases", []):
        subprocess.run(["ip", "addr", "add", f"{addr}/32", "dev", "lo"], check=True)
    cmd = [spec["carelogd"]]
    for k, v in spec["overrides"].items():
        cmd += ["--override", f"{k}={v}"]
    log = open(os.path.join(spec["workdir"], "carelogd.log"), "ab")
    broker = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=spec["workdir"])
    try:
        host, port = spec["wait_for"]
        deadline = time.monotonic() + 30
        while True:
            if broker.poll() is not None:
                print(json.dumps({"rc": -1, "stdout": "", "stderr": f"carelogd exited {broker.returncode}"}))
                return
            try:
                socket.create_connection((host, port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    print(json.dumps({"rc": -1, "stdout": "", "stderr": "carelogd did not listen"}))
                    return
                time.sleep(0.1)
        out = subprocess.run([spec["cli"], *spec["cli_args"]], capture_output=True, text=True, timeout=60)
        print(json.dumps({"rc": out.returncode, "stdout": out.stdout, "stderr": out.stderr}))
    finally:
        broker.send_signal(signal.SIGTERM)
        try:
            broker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            broker.kill()
            broker.wait()


if __name__ == "__main__":
    main()
