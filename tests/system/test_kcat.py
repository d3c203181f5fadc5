"""kcat (librdkafka) against the broker: metadata, and a keyed/headered
round trip of 100k messages for every compression codec."""

import subprocess
import time
from collections import defaultdict

import pytest

from kafka_util import CODECS, admin_for, create_topic, unique
from test_log_hygiene import PAYLOAD_MARKER

MESSAGES = 100_000
PARTITIONS = 3
KEYS = 97


def kcat(broker, *args, stdin=None, timeout=120):
    out = subprocess.run(["kcat", "-b", broker.bootstrap, *args], input=stdin,
                         capture_output=True, timeout=timeout)
    assert out.returncode == 0, f"kcat {args} failed ({out.returncode}):\n{out.stderr.decode()[-3000:]}"
    return out.stdout


def test_metadata_lists_broker_and_topic(broker):
    topic = create_topic(admin_for(broker), unique("kcat-md"), partitions=2)
    text = kcat(broker, "-L", "-t", topic).decode()
    assert "1 brokers:" in text
    assert f"at {broker.bootstrap}" in text
    assert f'topic "{topic}" with 2 partitions:' in text
    assert "partition 0, leader" in text and "partition 1, leader" in text


@pytest.mark.parametrize("codec", CODECS)
def test_produce_consume_round_trip(broker, codec, report, secret_marker):
    topic = create_topic(admin_for(broker), unique(f"kcat-{codec}"), partitions=PARTITIONS)
    marker = secret_marker(f"{PAYLOAD_MARKER}-kcat")  # must never reach the broker log
    lines = [f"key{i % KEYS}:value-{i}-{codec}-{marker}-" + "x" * (i % 50) for i in range(MESSAGES)]
    payload = ("\n".join(lines) + "\n").encode()

    start = time.monotonic()
    kcat(broker, "-P", "-t", topic, "-K:", "-z", codec, "-H", "src=kcat", "-H", f"codec={codec}",
         "-X", "linger.ms=5", stdin=payload)
    produced = time.monotonic()
    out = kcat(broker, "-C", "-t", topic, "-e", "-o", "beginning", "-q",
               "-f", "%p\t%o\t%k\t%s\t%h\n")
    done = time.monotonic()

    per_partition = defaultdict(list)
    for row in out.decode().splitlines():
        part, offset, key, value, headers = row.split("\t")
        assert headers == f"src=kcat,codec={codec}", row
        per_partition[int(part)].append((int(offset), key, value))
    got = sum(len(v) for v in per_partition.values())
    assert got == MESSAGES, f"consumed {got} of {MESSAGES}"

    key_partition = {}
    seen = set()
    for part, rows in per_partition.items():
        assert 0 <= part < PARTITIONS
        offsets = [r[0] for r in rows]
        assert offsets == list(range(len(rows))), f"partition {part}: offsets not dense from 0"
        seqs = [int(r[2].split("-")[1]) for r in rows]
        assert seqs == sorted(seqs), f"partition {part}: produce order not kept"
        for _, key, value in rows:
            assert key_partition.setdefault(key, part) == part, f"{key} in two partitions"
            seen.add(f"{key}:{value}")
    assert seen == set(lines)

    secs = done - start
    report(f"kcat {codec:6s}: {MESSAGES} msgs produce {produced - start:5.2f}s + "
           f"consume {done - produced:5.2f}s = {MESSAGES / secs:,.0f} msgs/s round trip")
