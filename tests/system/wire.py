"""Hand-rolled Kafka wire encoding for tests that must send bytes no client
library would: corrupt CRCs, lying length prefixes, unknown API keys.
Only the few non-flexible request versions the bad-input tests use."""

import socket
import struct
import time

API_PRODUCE = 0
API_VERSIONS = 18


def _crc32c_table():
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_CRC_TABLE = _crc32c_table()


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = _CRC_TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def string(s):
    if s is None:
        return struct.pack(">h", -1)
    raw = s.encode()
    return struct.pack(">h", len(raw)) + raw


def varint(n):
    z = (n << 1) ^ (n >> 63)  # zigzag
    out = bytearray()
    while True:
        if z < 0x80:
            out.append(z)
            return bytes(out)
        out.append((z & 0x7F) | 0x80)
        z >>= 7


def frame(payload):
    return struct.pack(">i", len(payload)) + payload


def request(api_key, version, correlation_id, body=b"", client_id="carelog-systest"):
    """Request header v1 (non-flexible) + body, with the size prefix."""
    return frame(struct.pack(">hhi", api_key, version, correlation_id) + string(client_id) + body)


def api_versions_v0(correlation_id=1, version=0):
    """ApiVersions with an empty body. From v3 on the request header is v2,
    which ends with an (empty) tagged-field section: one zero byte. That is
    how a client newer than the broker asks; the answer comes back in v0."""
    if version < 3:
        return request(API_VERSIONS, version, correlation_id)
    header = struct.pack(">hhi", API_VERSIONS, version, correlation_id) + string("carelog-systest")
    return frame(header + b"\x00")


def parse_api_versions_v0(payload):
    """Returns (correlation_id, error_code, {api_key: (min, max)})."""
    corr, err, n = struct.unpack_from(">ihi", payload, 0)
    apis, pos = {}, 10
    for _ in range(n):
        key, lo, hi = struct.unpack_from(">hhh", payload, pos)
        apis[key] = (lo, hi)
        pos += 6
    return corr, err, apis


def record(offset_delta, key, value):
    body = (b"\x00" + varint(0) + varint(offset_delta)
            + varint(len(key)) + key + varint(len(value)) + value + varint(0))
    return varint(len(body)) + body


def record_batch(values, timestamp_ms, corrupt_crc=False):
    """A magic-2 batch, no compression, no producer id."""
    recs = b"".join(record(i, b"k%d" % i, v) for i, v in enumerate(values))
    after_crc = (struct.pack(">hiqqqhii", 0, len(values) - 1, timestamp_ms, timestamp_ms,
                             -1, -1, -1, len(values)) + recs)
    crc = crc32c(after_crc)
    if corrupt_crc:
        crc ^= 0xDEADBEEF
    after_len = struct.pack(">ibI", 0, 2, crc) + after_crc  # leader epoch, magic, crc
    return struct.pack(">qi", 0, len(after_len)) + after_len


def produce_v7(correlation_id, topic, partition, batch, acks=-1, timeout_ms=30000):
    body = (string(None) + struct.pack(">hi", acks, timeout_ms) + struct.pack(">i", 1)
            + string(topic) + struct.pack(">i", 1) + struct.pack(">ii", partition, len(batch))
            + batch)
    return request(API_PRODUCE, 7, correlation_id, body)


def parse_produce_v7(payload):
    """Returns (correlation_id, [(topic, partition, error_code, base_offset)])."""
    corr, = struct.unpack_from(">i", payload, 0)
    pos = 4
    n_topics, = struct.unpack_from(">i", payload, pos)
    pos += 4
    out = []
    for _ in range(n_topics):
        tlen, = struct.unpack_from(">h", payload, pos)
        topic = payload[pos + 2:pos + 2 + tlen].decode()
        pos += 2 + tlen
        n_parts, = struct.unpack_from(">i", payload, pos)
        pos += 4
        for _ in range(n_parts):
            part, err, base, _append_time, _log_start = struct.unpack_from(">ihqqq", payload, pos)
            pos += 30
            out.append((topic, part, err, base))
    return corr, out


class Conn:
    """A raw client socket to the broker; reads whole response frames."""

    def __init__(self, broker, timeout=10.0):
        self.sock = socket.create_connection((broker.host, broker.port), timeout=timeout)

    def send(self, data):
        self.sock.sendall(data)

    def recv_exact(self, n):
        buf = bytearray()
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("closed by broker")
            buf += chunk
        return bytes(buf)

    def recv_frame(self):
        size, = struct.unpack(">i", self.recv_exact(4))
        return self.recv_exact(size)

    def closed_by_peer(self, timeout=10.0):
        """True when the broker closes the connection within timeout (any
        bytes it sends first are drained); False if it stays open."""
        self.sock.settimeout(0.5)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.sock.recv(65536) == b"":
                    return True
            except socket.timeout:
                continue
            except (ConnectionResetError, BrokenPipeError):
                return True
        return False

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
