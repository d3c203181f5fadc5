"""Turns measurements into the results table and the issue's target ratios."""

MIB = 2**20
GIB = 2**30


def summarize(workload, target, phases, sampler, produced_bytes, wall_s):
    """One row of results.json for (workload, target)."""
    row = {"workload": workload, "target": target.name, "wall_s": round(wall_s, 2)}
    main = phases.get("produce") or phases.get("write") or {}
    prod = main.get("produce", {})
    # Messages sent but not acknowledged (errors or purged), plus any the
    # consumer did not receive.
    row["errors"] = prod.get("sent", 0) - prod.get("messages", 0)
    if cons := main.get("consume"):
        row["errors"] += max(0, prod.get("messages", 0) - cons.get("messages", 0))
    row["mb_per_s"] = prod.get("mb_per_s", 0.0)
    row["msgs_per_s"] = prod.get("msgs_per_s", 0.0)
    lat = prod.get("latency_ms", {})
    row["produce_ms"] = {k: lat.get(k, 0.0) for k in ("p50", "p99", "p999", "max")}
    if "burst_latency_ms" in prod:
        b = prod["burst_latency_ms"]
        row["burst_produce_ms"] = {k: b.get(k, 0.0) for k in ("p50", "p99", "p999")}
    if "commit_latency_ms" in prod:
        c = prod["commit_latency_ms"]
        row["transactions"] = prod.get("transactions", 0)
        row["commit_ms"] = {k: c.get(k, 0.0) for k in ("p50", "p99", "max")}
    cons = main.get("consume")
    if cons and "e2e_latency_ms" in cons:
        e = cons["e2e_latency_ms"]
        row["e2e_ms"] = {"p50": e.get("p50", 0.0), "p99": e.get("p99", 0.0)}
    if "replay" in phases:
        r = phases["replay"]["consume"]
        row["replay_mb_per_s"] = r.get("mb_per_s", 0.0)
        row["replay_group_mb_per_s"] = [g.get("mb_per_s", 0.0) for g in r.get("groups", [])]
    if "metadata_ms" in main:
        row["metadata_ms"] = {k: main["metadata_ms"].get(k, 0.0) for k in ("p50", "p99", "max")}
    if "topic_create_s" in main:
        row["topic_create_s"] = main["topic_create_s"]
    row["broker_cpu_s"] = round(sampler.cpu_seconds(), 2)
    row["peak_rss_mib"] = round(sampler.hwm / MIB, 1)
    row["rss_budget_mib"] = round((target.cache_bytes() + 300 * MIB) / MIB, 1)
    if target.object_dir() is not None:
        n = len(sampler.objects)
        total = sum(sampler.objects.values())
        row["objects_written"] = n
        row["object_bytes"] = total
        row["avg_object_mib"] = round(total / n / MIB, 2) if n else 0.0
        row["puts_per_gib"] = round(n / (produced_bytes / GIB), 1) if produced_bytes else 0.0
    return row


def _fmt(v, nd=1):
    if v is None or v == "":
        return "-"
    if isinstance(v, float):
        return f"{v:.{nd}f}"
    return str(v)


COLUMNS = [
    ("workload", lambda r: r["workload"]),
    ("target", lambda r: r["target"]),
    ("MB/s", lambda r: _fmt(r.get("mb_per_s"))),
    ("msgs/s", lambda r: f"{r.get('msgs_per_s', 0):.0f}"),
    ("p50 ms", lambda r: _fmt(r["produce_ms"]["p50"], 2)),
    ("p99 ms", lambda r: _fmt(r["produce_ms"]["p99"], 2)),
    ("p99.9 ms", lambda r: _fmt(r["produce_ms"]["p999"], 2)),
    ("burst p99", lambda r: _fmt(r.get("burst_produce_ms", {}).get("p99"), 2)),
    ("e2e p50", lambda r: _fmt(r.get("e2e_ms", {}).get("p50"), 2)),
    ("e2e p99", lambda r: _fmt(r.get("e2e_ms", {}).get("p99"), 2)),
    ("replay MB/s", lambda r: _fmt(r.get("replay_mb_per_s"))),
    ("commit p99", lambda r: _fmt(r.get("commit_ms", {}).get("p99"), 1)),
    ("errors", lambda r: _fmt(r.get("errors", 0))),
    ("CPU s", lambda r: _fmt(r.get("broker_cpu_s"))),
    ("RSS MiB", lambda r: _fmt(r.get("peak_rss_mib"), 0)),
    ("objects", lambda r: _fmt(r.get("objects_written"))),
    ("PUTs/GiB", lambda r: _fmt(r.get("puts_per_gib"))),
    ("obj MiB", lambda r: _fmt(r.get("avg_object_mib"), 2)),
]


def table(rows, markdown=False):
    head = [c[0] for c in COLUMNS]
    body = [[c[1](r) for c in COLUMNS] for r in rows]
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(b) + " |" for b in body]
        return "\n".join(lines)
    widths = [max(len(h), *(len(b[i]) for b in body)) if body else len(h) for i, h in enumerate(head)]
    fmt = lambda cells: "  ".join(c.rjust(w) if i > 1 else c.ljust(w)  # noqa: E731
                                  for i, (c, w) in enumerate(zip(cells, widths)))
    return "\n".join([fmt(head), fmt(["-" * w for w in widths])] + [fmt(b) for b in body])


def _get(rows, workload, target):
    for r in rows:
        if r["workload"] == workload and r["target"] == target:
            return r
    return None


def ratios(rows, limits):
    """The issue's targets: [{target, value, required, pass}] for what was measured."""
    out = []

    def check(name, value, required, detail, higher_is_better=True):
        if value is None or required is None:
            return
        ok = value >= required if higher_is_better else value <= required
        out.append({"target": name, "value": round(value, 3), "required": round(required, 3), "pass": ok,
                    "detail": detail})

    c_max, k_max, kf_max = _get(rows, "max", "carelog"), _get(rows, "max", "kafka"), _get(rows, "max", "kafka-flush")
    fw = limits.get("fio_wal_write")
    if c_max and fw:
        check("max MB/s / fio write+fdatasync MB/s", c_max["mb_per_s"] / fw["mb_per_s"], 0.7,
              f"{c_max['mb_per_s']:.1f} vs {fw['mb_per_s']:.1f} MB/s at {fw['block_bytes']} B writes")
    if c_max and k_max:
        check("max MB/s / Kafka default", c_max["mb_per_s"] / k_max["mb_per_s"], 1.0,
              f"{c_max['mb_per_s']:.1f} vs {k_max['mb_per_s']:.1f} MB/s")
    if c_max and kf_max:
        check("max MB/s / Kafka flush.messages=1", c_max["mb_per_s"] / kf_max["mb_per_s"], 1.5,
              f"{c_max['mb_per_s']:.1f} vs {kf_max['mb_per_s']:.1f} MB/s")
    c_adt = _get(rows, "adt", "carelog")
    fa = limits.get("fio_wal_sync_adt") or fw
    if c_adt and fa:
        check("adt p99 ms <= 4 x fio fdatasync p99", c_adt["produce_ms"]["p99"], 4 * fa["fdatasync_ms"]["p99"],
              f"{c_adt['produce_ms']['p99']:.2f} ms vs 4 x {fa['fdatasync_ms']['p99']:.2f} ms "
              f"at {fa['block_bytes']} B writes", False)
    for peer in ("kafka", "kafka-flush", "mock"):
        p = _get(rows, "adt", peer)
        if c_adt and p:
            check(f"adt p99 ms < {peer} p99", c_adt["produce_ms"]["p99"], p["produce_ms"]["p99"],
                  f"{c_adt['produce_ms']['p99']:.2f} vs {p['produce_ms']['p99']:.2f} ms", False)
    for wl, key in (("audit-replay", "replay_mb_per_s"), ("claims", "mb_per_s")):
        c, k = _get(rows, wl, "carelog"), _get(rows, wl, "kafka")
        if c and k and k.get(key):
            check(f"{wl} MB/s / Kafka default", c[key] / k[key], 1.0, f"{c[key]:.1f} vs {k[key]:.1f} MB/s")
    c_claims, c_txn = _get(rows, "claims", "carelog"), _get(rows, "claims-txn", "carelog")
    if c_claims and c_txn and c_claims.get("mb_per_s"):
        check("claims-txn MB/s / claims (idempotent) MB/s", c_txn["mb_per_s"] / c_claims["mb_per_s"], 0.8,
              f"{c_txn['mb_per_s']:.1f} vs {c_claims['mb_per_s']:.1f} MB/s; commit p99 "
              f"{c_txn.get('commit_ms', {}).get('p99', 0):.1f} ms over {c_txn.get('transactions', 0)} transactions")
    for wl in ("claims-fhir", "adt-hl7v2"):
        v, plain = _get(rows, wl, "carelog"), _get(rows, f"{wl}-plain", "carelog")
        if v and plain and plain.get("mb_per_s"):
            check(f"{wl} MB/s / the same without validation", v["mb_per_s"] / plain["mb_per_s"], 0.75,
                  f"{v['mb_per_s']:.1f} vs {plain['mb_per_s']:.1f} MB/s; broker CPU {v['broker_cpu_s']:.1f} vs "
                  f"{plain['broker_cpu_s']:.1f} s; p99 {v['produce_ms']['p99']:.1f} vs "
                  f"{plain['produce_ms']['p99']:.1f} ms; errors {v['errors']}")
    c_ar = _get(rows, "audit-replay", "carelog")
    raw = limits.get("raw_object_read")
    if c_ar and raw:
        # Bytes delivered to all four groups per second, next to one raw pass.
        groups = c_ar.get("replay_group_mb_per_s") or [0]
        check("audit-replay MB/s / raw read of the objects", c_ar["replay_mb_per_s"] / raw["mb_per_s"], 0.7,
              f"{c_ar['replay_mb_per_s']:.1f} (4 groups; slowest group {min(groups):.1f}) vs "
              f"{raw['mb_per_s']:.1f} MB/s (page cache as the broker saw it)")
    if c_max and c_max.get("objects_written"):
        check("max average object MiB", c_max["avg_object_mib"], 8.0, f"{c_max['objects_written']} objects")
    for r in rows:
        if r["target"] == "carelog":
            check(f"{r['workload']} peak RSS MiB <= caches + 300 MiB", r["peak_rss_mib"], r["rss_budget_mib"],
                  "cache.log.bytes + cache.block.bytes + 300 MiB", False)
    return out


def ratio_table(items, markdown=False):
    lines = []
    if markdown:
        lines += ["| target | value | required | result | detail |", "|---|---|---|---|---|"]
    for i in items:
        res = "PASS" if i["pass"] else "MISS"
        if markdown:
            lines.append(f"| {i['target']} | {i['value']} | {i['required']} | {res} | {i['detail']} |")
        else:
            lines.append(f"{res:4}  {i['target']}: {i['value']} (required {i['required']}; {i['detail']})")
    return "\n".join(lines)
