"""Malformed and hostile input on raw sockets. The broker must answer with
Kafka's error (or close that one connection, as Kafka does) and keep serving
everybody else."""

import random
import struct
import time

import pytest

import wire
from kafka_util import admin_for, create_topic, unique

CORRUPT_MESSAGE = 2
UNSUPPORTED_VERSION = 35


def assert_serves(broker):
    """The broker answers a raw ApiVersions and a librdkafka metadata call."""
    assert broker.running(), "broker process died"
    with wire.Conn(broker) as c:
        c.send(wire.api_versions_v0(correlation_id=4242))
        corr, err, apis = wire.parse_api_versions_v0(c.recv_frame())
    assert (corr, err) == (4242, 0)
    assert wire.API_PRODUCE in apis and wire.API_VERSIONS in apis
    admin_for(broker).list_topics(timeout=10)


def test_raw_api_versions_round_trip(broker):
    with wire.Conn(broker) as c:
        for corr in (1, 2, 3):  # pipelined requests come back in order
            c.send(wire.api_versions_v0(correlation_id=corr))
        for corr in (1, 2, 3):
            got_corr, err, apis = wire.parse_api_versions_v0(c.recv_frame())
            assert (got_corr, err) == (corr, 0)
            lo, hi = apis[wire.API_VERSIONS]
            assert lo == 0 and hi >= 3


def test_unsupported_api_versions_version_gets_error_and_key_list(broker):
    with wire.Conn(broker) as c:
        c.send(wire.api_versions_v0(correlation_id=7, version=999))
        corr, err, apis = wire.parse_api_versions_v0(c.recv_frame())
    assert (corr, err) == (7, UNSUPPORTED_VERSION)
    assert wire.API_VERSIONS in apis
    assert_serves(broker)


def test_truncated_frame_then_close(broker):
    full = wire.api_versions_v0()
    with wire.Conn(broker) as c:
        c.send(full[:len(full) - 3])
    assert_serves(broker)


def test_truncated_frame_held_open_does_not_block_others(broker):
    with wire.Conn(broker) as c:
        c.send(struct.pack(">i", 64) + b"\x00\x12\x00\x00")
        assert_serves(broker)
        assert_serves(broker)


def test_length_prefix_shorter_than_header_closes_connection(broker):
    with wire.Conn(broker) as c:
        # 6 bytes claimed: api key, version and half a correlation id.
        c.send(struct.pack(">ihhh", 6, 18, 0, 0))
        assert c.closed_by_peer()
    assert_serves(broker)


def test_length_prefix_cutting_client_id_closes_connection(broker):
    req = wire.api_versions_v0()
    body = req[4:]
    with wire.Conn(broker) as c:
        # Claims 12 bytes: the header's client id length says 15 more follow.
        c.send(struct.pack(">i", 12) + body[:12])
        assert c.closed_by_peer()
    assert_serves(broker)


@pytest.mark.parametrize("size", [1 << 30, 0x7FFFFFFF, -1, -(1 << 30)],
                         ids=["1GiB", "int32-max", "minus-1", "negative-1GiB"])
def test_absurd_size_field_closes_connection(broker, size):
    with wire.Conn(broker) as c:
        c.send(struct.pack(">i", size) + b"\x00\x12\x00\x00\x00\x00\x00\x01")
        assert c.closed_by_peer()
    assert_serves(broker)


def test_unknown_api_key_closes_connection(broker):
    with wire.Conn(broker) as c:
        c.send(wire.request(9999, 0, 1))
        assert c.closed_by_peer()
    assert_serves(broker)


def test_produce_with_bad_crc_is_corrupt_message(broker):
    topic = create_topic(admin_for(broker), unique("raw-crc"), partitions=1)
    now = int(time.time() * 1000)
    with wire.Conn(broker) as c:
        c.send(wire.produce_v7(11, topic, 0, wire.record_batch([b"a", b"b"], now)))
        corr, parts = wire.parse_produce_v7(c.recv_frame())
        assert corr == 11 and parts == [(topic, 0, 0, 0)]

        c.send(wire.produce_v7(12, topic, 0, wire.record_batch([b"c"], now, corrupt_crc=True)))
        corr, parts = wire.parse_produce_v7(c.recv_frame())
        assert corr == 12
        assert [(t, p, e) for t, p, e, _ in parts] == [(topic, 0, CORRUPT_MESSAGE)]

        # The connection stays usable and the bad batch left no trace.
        c.send(wire.produce_v7(13, topic, 0, wire.record_batch([b"d"], now)))
        corr, parts = wire.parse_produce_v7(c.recv_frame())
        assert corr == 13 and parts == [(topic, 0, 0, 2)]
    assert_serves(broker)


def test_silent_clients_do_not_block_others(broker):
    silent = [wire.Conn(broker) for _ in range(20)]
    try:
        time.sleep(1)
        assert_serves(broker)
    finally:
        for c in silent:
            c.close()
    assert_serves(broker)


def test_random_garbage_frames(broker):
    rng = random.Random(20240611)
    for _ in range(30):
        with wire.Conn(broker) as c:
            payload = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 200)))
            try:
                c.send(wire.frame(payload))
                c.closed_by_peer(timeout=0.5)
            except (ConnectionResetError, BrokenPipeError):
                pass
    assert_serves(broker)
