"""Group error codes at the wire level, on raw sockets with non-flexible
request versions, so the same bytes can be checked against Kafka
(CARELOG_TEST_TARGET=kafka): the codes must match Kafka's exactly."""

import struct
import time

import wire
from kafka_util import admin_for, create_topic, unique

JOIN, HEARTBEAT, LEAVE, SYNC, COMMIT, FETCH, DESCRIBE, DELETE = 11, 12, 13, 14, 8, 9, 15, 42
NONE, UNKNOWN_TOPIC, ILLEGAL_GENERATION, INCONSISTENT_PROTOCOL = 0, 3, 22, 23
INVALID_GROUP_ID, UNKNOWN_MEMBER, INVALID_SESSION_TIMEOUT = 24, 25, 26
NON_EMPTY_GROUP, GROUP_ID_NOT_FOUND, MEMBER_ID_REQUIRED = 68, 69, 79


def s(v):
    return wire.string(v)


def i16(v):
    return struct.pack(">h", v)


def i32(v):
    return struct.pack(">i", v)


def i64(v):
    return struct.pack(">q", v)


def array(items):
    return i32(len(items)) + b"".join(items)


class Reader:
    def __init__(self, data):
        self.data, self.pos = data, 0

    def take(self, fmt):
        v, = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += struct.calcsize(fmt)
        return v

    def string(self):
        n = self.take(">h")
        if n < 0:
            return None
        v = self.data[self.pos:self.pos + n].decode()
        self.pos += n
        return v

    def bytes_(self):
        n = self.take(">i")
        v = self.data[self.pos:self.pos + max(n, 0)]
        self.pos += max(n, 0)
        return v


def call(conn, api, version, body, corr=[0]):
    corr[0] += 1
    conn.send(wire.request(api, version, corr[0], body))
    r = Reader(conn.recv_frame())
    assert r.take(">i") == corr[0]
    return r


def join_v5(conn, group, member="", session_ms=10000, instance=None, ptype="consumer", protocols=("range",)):
    body = (s(group) + i32(session_ms) + i32(30000) + s(member) + s(instance) + s(ptype)
            + array([s(p) + i32(0) for p in protocols]))
    r = call(conn, JOIN, 5, body)
    r.take(">i")  # throttle
    err, gen = r.take(">h"), r.take(">i")
    r.string()  # protocol name
    leader, member_id = r.string(), r.string()
    return err, gen, leader, member_id


def heartbeat_v3(conn, group, gen, member, instance=None):
    r = call(conn, HEARTBEAT, 3, s(group) + i32(gen) + s(member) + s(instance))
    r.take(">i")
    return r.take(">h")


def sync_v3(conn, group, gen, member, assignments=()):
    body = s(group) + i32(gen) + s(member) + s(None) + array([s(m) + i32(0) for m in assignments])
    r = call(conn, SYNC, 3, body)
    r.take(">i")
    return r.take(">h")


def leave_v3(conn, group, members):
    r = call(conn, LEAVE, 3, s(group) + array([s(m) + s(i) for m, i in members]))
    r.take(">i")
    top = r.take(">h")
    out = []
    for _ in range(r.take(">i")):
        r.string(), r.string()
        out.append(r.take(">h"))
    return top, out


def commit_v7(conn, group, gen, member, topic, partition, offset=1):
    body = (s(group) + i32(gen) + s(member) + s(None)
            + array([s(topic) + array([i32(partition) + i64(offset) + i32(-1) + s("")])]))
    r = call(conn, COMMIT, 7, body)
    r.take(">i")
    r.take(">i"), r.string(), r.take(">i"), r.take(">i")  # one topic, one partition
    return r.take(">h")


def fetch_v5(conn, group, topic, partition):
    r = call(conn, FETCH, 5, s(group) + array([s(topic) + array([i32(partition)])]))
    r.take(">i")
    r.take(">i"), r.string(), r.take(">i"), r.take(">i")
    offset, epoch, metadata, err = r.take(">q"), r.take(">i"), r.string(), r.take(">h")
    return offset, err


def describe_v4(conn, group):
    r = call(conn, DESCRIBE, 4, array([s(group)]) + b"\x00")
    r.take(">i"), r.take(">i")
    err, gid, state = r.take(">h"), r.string(), r.string()
    return err, state


def delete_v1(conn, groups):
    r = call(conn, DELETE, 1, array([s(g) for g in groups]))
    r.take(">i")
    out = {}
    for _ in range(r.take(">i")):
        gid = r.string()
        out[gid] = r.take(">h")
    return out


def wait_for_coordinator(conn, group):
    """FindCoordinator v2 until it answers without error (Kafka creates and
    loads its offsets topic on the first lookup)."""
    deadline = time.monotonic() + 60
    while True:
        r = call(conn, 10, 2, s(group) + b"\x00")
        r.take(">i")
        if r.take(">h") == NONE:
            return
        assert time.monotonic() < deadline, "no group coordinator"
        time.sleep(0.5)


def test_groups_wire_error_codes(broker):
    topic = create_topic(admin_for(broker), unique("grpwire"), partitions=1)
    group, other = unique("gwire"), unique("gwire-none")
    with wire.Conn(broker, timeout=30) as c:
        wait_for_coordinator(c, group)
        wait_for_coordinator(c, other)
        assert join_v5(c, group, session_ms=1)[0] == INVALID_SESSION_TIMEOUT
        assert join_v5(c, "")[0] == INVALID_GROUP_ID
        assert join_v5(c, other, member="made-up")[0] == UNKNOWN_MEMBER
        assert heartbeat_v3(c, other, 1, "made-up") == UNKNOWN_MEMBER
        assert sync_v3(c, other, 1, "made-up") == UNKNOWN_MEMBER
        top, members = leave_v3(c, other, [("made-up", None)])
        assert (top, members) == (NONE, [UNKNOWN_MEMBER])
        assert commit_v7(c, other, 3, "made-up", topic, 0) == ILLEGAL_GENERATION
        assert commit_v7(c, other, -1, "", unique("no-such-topic"), 0) == UNKNOWN_TOPIC
        assert fetch_v5(c, other, topic, 0) == (-1, NONE)

        err, gen, leader, member = join_v5(c, group)
        assert err == MEMBER_ID_REQUIRED and member and gen == -1
        err, gen, leader, member = join_v5(c, group, member=member)
        assert err == NONE and gen >= 1 and leader == member
        assert sync_v3(c, group, gen, member, [member]) == NONE
        assert heartbeat_v3(c, group, gen, member) == NONE
        assert heartbeat_v3(c, group, gen + 5, member) == ILLEGAL_GENERATION
        assert heartbeat_v3(c, group, gen, "stranger") == UNKNOWN_MEMBER
        assert join_v5(c, group, ptype="connect")[0] == INCONSISTENT_PROTOCOL
        assert commit_v7(c, group, gen, member, topic, 0, offset=7) == NONE
        assert commit_v7(c, group, gen - 1, member, topic, 0) == ILLEGAL_GENERATION
        assert commit_v7(c, group, gen, "stranger", topic, 0) == UNKNOWN_MEMBER
        assert commit_v7(c, group, -1, "", topic, 0) == UNKNOWN_MEMBER  # simple commit, active group
        assert fetch_v5(c, group, topic, 0) == (7, NONE)
        assert describe_v4(c, group) == (NONE, "Stable")
        assert delete_v1(c, [group, other]) == {group: NON_EMPTY_GROUP, other: GROUP_ID_NOT_FOUND}

        assert leave_v3(c, group, [(member, None)]) == (NONE, [NONE])
        assert describe_v4(c, group) == (NONE, "Empty")
        assert commit_v7(c, group, -1, "", topic, 0, offset=9) == NONE
        assert delete_v1(c, [group]) == {group: NONE}
        assert fetch_v5(c, group, topic, 0) == (-1, NONE)


def test_members_expire_at_their_session_deadline(broker):
    """A member that stops heartbeating is gone exactly one session timeout
    after its last heartbeat: DeleteGroups sent right at the deadline finds
    the group Empty, as on Kafka (issue 12, item 5). One second earlier the
    member is still there. Timed against the heartbeat's response, so the
    broker's deadline (from when it handled the heartbeat) is never later."""
    group = unique("gexpiry")
    session_ms = 6000  # Kafka's group.min.session.timeout.ms
    with wire.Conn(broker, timeout=30) as c:
        wait_for_coordinator(c, group)
        err, gen, leader, member = join_v5(c, group, session_ms=session_ms)
        assert err == MEMBER_ID_REQUIRED
        err, gen, leader, member = join_v5(c, group, member=member, session_ms=session_ms)
        assert err == NONE
        assert sync_v3(c, group, gen, member, [member]) == NONE
        assert heartbeat_v3(c, group, gen, member) == NONE
        t0 = time.monotonic()

        def at(ms):
            while time.monotonic() < t0 + ms / 1000:
                time.sleep(0.0005)

        at(session_ms - 1000)
        assert delete_v1(c, [group]) == {group: NON_EMPTY_GROUP}
        assert describe_v4(c, group) == (NONE, "Stable")
        at(session_ms)
        assert delete_v1(c, [group]) == {group: NONE}
