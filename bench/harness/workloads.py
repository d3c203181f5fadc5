"""The healthcare-shaped workloads of issue 7 (sizes from public FHIR/HL7
examples). Each workload is a list of topics plus a run() that drives
carelog-loadgen against a started target and returns the loadgen JSON of its
phases. Quick mode shortens durations and data, never the shape."""

import json
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import payloads


class LoadgenError(RuntimeError):
    pass


def run_loadgen(binary, bootstrap, args, timeout):
    cmd = [str(binary), "-b", bootstrap, *[str(a) for a in args]]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise LoadgenError(f"loadgen timed out after {timeout}s: {' '.join(cmd)}")
    try:
        result = json.loads(out.stdout)
    except json.JSONDecodeError:
        raise LoadgenError(f"loadgen exit {out.returncode}: {out.stderr.strip()[:2000]} {out.stdout[:500]}")
    # Exit code 1 with results: some messages were not acknowledged (or not
    # consumed) in time; that is a measurement, kept with its error counts.
    if out.returncode != 0 and not (out.returncode == 1 and "error" not in result):
        raise LoadgenError(f"loadgen exit {out.returncode}: {result.get('error') or json.dumps(result)[:2000]}"
                           f" {out.stderr.strip()[:500]}")
    return result


@dataclass
class Workload:
    name: str
    topics: list            # [(name, partitions)]
    phases: list            # [(label, loadgen args)]; "restart" between phases restarts the broker
    what: str = ""
    timeout: float = 600
    params: dict = field(default_factory=dict)
    skip: dict = field(default_factory=dict)  # target name -> why this workload does not apply

    def run(self, target, loadgen, sampler):
        results = {}
        created = False
        for label, args in self.phases:
            if label == "restart":
                if target.restart_keeps_data:
                    sampler.sample()
                    target.restart()
                continue
            if not created and target.name != "mock":
                args = ["--create", *args]
            created = True
            t0 = time.monotonic()
            results[label] = run_loadgen(loadgen, target.bootstrap, args, self.timeout)
            results[label]["wall_s"] = time.monotonic() - t0
        return results


def _topic_args(name, partitions, topics=1):
    return ["-t", name, "--partitions", partitions, "--topics", topics]


def make_workloads(quick=False, smoke=False):
    """name -> Workload. smoke: a few seconds each (harness test)."""
    scale = 0.1 if smoke else (0.25 if quick else 1.0)

    def dur(full):
        return max(2.0, round(full * scale, 1))

    w = {}
    # adt: 500 B HL7-like events keyed by patient id, acks=all, steady 5,000 msgs/s.
    adt = _topic_args("adt", 12) + ["-s", 500, "--keys", 100000, "--acks", "all", "-r", 5000,
                                    "-d", dur(40), "--linger-ms", 1, "-c", 1]
    w["adt"] = Workload("adt", [("adt", 12)], [("produce", adt)],
                        "500 B keyed, 12 partitions, acks=all, open loop 5,000 msgs/s, 1 consumer")
    # vitals: 1 KiB telemetry, 64 partitions, bursts of 5x the average rate.
    rate = 5000 if smoke else 20000
    period = 2 if smoke else (4 if quick else 10)
    vitals = _topic_args("vitals", 64) + ["-s", 1024, "--keys", 5000, "--acks", "all", "-r", rate,
                                          "--burst-factor", 5, "--burst-period", period, "--burst-fraction", 0.1,
                                          "-d", max(dur(40), 3 * period), "-c", 1]
    w["vitals"] = Workload("vitals", [("vitals", 64)], [("produce", vitals)],
                           f"1 KiB keyed, 64 partitions, acks=all, {rate} msgs/s average with 5x bursts, 1 consumer",
                           params={"rate": rate})
    # claims: 2.5 KiB, 24 partitions, zstd, max throughput.
    claims = _topic_args("claims", 24) + ["-s", 2560, "--keys", 100000, "--acks", "all", "-z", "zstd",
                                          "-d", dur(30), "-p", 2, "--inflight", 20000, "--linger-ms", 10]
    w["claims"] = Workload("claims", [("claims", 24)], [("produce", claims)],
                           "2.5 KiB keyed, 24 partitions, zstd, acks=all, closed loop, 2 producers")
    # claims-txn: claims with transactional producers committing every
    # 100 ms (issue 14: >= 0.8x the idempotent claims of the same run).
    w["claims-txn"] = Workload("claims-txn", [("claims-txn", 24)],
                               [("produce", _topic_args("claims-txn", 24) + claims[len(_topic_args("claims", 24)):]
                                 + ["--txn-ms", 100])],
                               "claims with transactional producers, one commit every 100 ms",
                               skip={"mock": "the librdkafka mock has no transaction coordinator worth timing"})
    # Validation at produce (issue 18): the same real-looking payloads on a
    # topic without validation and on one with it, in the same run.
    # claims-fhir: FHIR R4 Claim resources (~2.8 KB), otherwise claims;
    # adt-hl7v2: HL7 v2.5.1 ADT^A01/A08 (~400 B), keyed, acks=all, closed
    # loop (the throughput cost is what is measured, not a fixed rate).
    samples = Path(tempfile.mkdtemp(prefix="carelog-bench-payloads-"))
    fhir = payloads.write_samples(samples / "claims-fhir.txt", "fhir")
    hl7 = payloads.write_samples(samples / "adt-hl7v2.txt", "hl7")
    only_carelog = {t: "Carelog's validation at produce" for t in ("kafka", "kafka-flush", "mock")}
    claims_tail = claims[len(_topic_args("claims", 24)):]
    adt_v2 = ["--keys", 100000, "--acks", "all", "-d", dur(30), "-p", 2, "--inflight", 20000, "--linger-ms", 5]
    for name, file, mode, parts, tail, what in (
            ("claims-fhir", fhir, "fhir-r4", 24, claims_tail, "FHIR R4 Claims (~2.8 KB), otherwise claims"),
            ("adt-hl7v2", hl7, "hl7v2", 12, adt_v2,
             "HL7 v2.5.1 ADT^A01/A08 (~400 B) keyed, 12 partitions, acks=all, closed loop, 2 producers")):
        base = _topic_args(name, parts) + ["--payload-file", file] + tail
        w[f"{name}-plain"] = Workload(f"{name}-plain", [(f"{name}-plain", parts)],
                                      [("produce", [*base[:1], f"{name}-plain", *base[2:]])],
                                      f"{what}, no validation", skip=only_carelog)
        w[name] = Workload(name, [(name, parts)],
                           [("produce", base + ["--topic-config", f"carelog.value.validation={mode}"])],
                           f"{what}, carelog.value.validation={mode}", skip=only_carelog)
    # audit-replay: write N bytes, restart (cold broker caches), 4 groups read from offset 0.
    gib = 0.02 if smoke else (0.25 if quick else 2.0)
    msgs = int(gib * 2**30 / 1024)
    write = _topic_args("audit", 12) + ["-s", 1024, "--keys", 100000, "--acks", "all", "-n", msgs, "-p", 2,
                                        "--inflight", 20000, "--linger-ms", 10]
    replay = ["-t", "audit", "-p", 0, "--groups", 4, "--expect", msgs,
              "--consume-timeout", 60 if smoke else (180 if quick else 900)]
    w["audit-replay"] = Workload("audit-replay", [("audit", 12)],
                                 [("write", write), ("restart", None), ("replay", replay)],
                                 f"write {gib:g} GiB of 1 KiB keyed events (12 partitions), restart, "
                                 "4 groups read everything from offset 0", timeout=1800, params={"gib": gib},
                                 skip={"mock": "the mock keeps only the newest few MB of each partition"})
    # max: 1 KiB, 16 partitions, acks=all, closed loop: the headline produce MB/s.
    mx = _topic_args("max", 16) + ["-s", 1024, "--acks", "all", "-d", dur(30), "-p", 2, "--inflight", 50000,
                                   "--linger-ms", 10]
    w["max"] = Workload("max", [("max", 16)], [("produce", mx)],
                        "1 KiB unkeyed, 16 partitions, acks=all, closed loop, 2 producers")
    # partitions: 10,000 partitions over 100 topics, low rate on all.
    # Quick runs use 2,000 partitions: Kafka takes minutes to create and
    # close 10,000 on two cores.
    n_topics = 10 if smoke else (20 if quick else 100)
    parts = [(f"parts-{i}", 100) for i in range(n_topics)]
    pt = _topic_args("parts", 100, n_topics) + ["-s", 500, "--keys", 100000, "--acks", "all", "-r", 2000,
                                                "-d", dur(30), "--linger-ms", 5, "--metadata-probes", 20]
    w["partitions"] = Workload("partitions", parts, [("produce", pt)],
                               f"{n_topics * 100} partitions over {n_topics} topics, 500 B keyed, 2,000 msgs/s, "
                               "20 full Metadata requests", timeout=900)
    return w
