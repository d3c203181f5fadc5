"""SASL listeners: SCRAM-SHA-512 over SASL_SSL with kcat and
confluent-kafka-python, PLAIN over SSL, SASL_PLAINTEXT, wrong passwords,
requests before authentication, and KIP-368 re-authentication."""

import os
import re
import socket
import struct
import subprocess
import time

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient

import wire
from kafka_util import admin_for, create_topic, unique
from tls_fixture import (PASSWORD, USER, connect_fails, create_scram_user, pki,  # noqa: F401
                         plaintext_still_serves, round_trip, secure_broker, start_secure_broker)

SASL_HANDSHAKE = 17

# The secure broker is always carelogd (its config uses Carelog's reload key
# and a PEM keystore file); the reference-Kafka run skips these tests.
pytestmark = pytest.mark.skipif(os.environ.get("CARELOG_TEST_TARGET", "carelog") != "carelog",
                                reason="runs against carelogd only")


def test_scram_sha_512_over_sasl_ssl_python(secure_broker):
    sb = secure_broker
    topic = create_topic(admin_for(sb.broker), unique("scram-py"))
    round_trip(sb.sasl_conf("SCRAM-SHA-512"), topic)
    assert f"authenticated SCRAM-SHA-512 as User:{USER}" in sb.log()


# kcat links the system librdkafka 2.0.2, whose client-final message repeats
# the client nonce; the server accepts it as Kafka does (suffix match).
def test_scram_sha_512_over_sasl_ssl_kcat(secure_broker):
    sb = secure_broker
    topic = create_topic(admin_for(sb.broker), unique("scram-kcat"))
    args = ["kcat", "-b", sb.addr("SASL_SSL"), "-X", "security.protocol=sasl_ssl",
            "-X", "sasl.mechanisms=SCRAM-SHA-512", "-X", f"sasl.username={USER}",
            "-X", f"sasl.password={PASSWORD}", "-X", f"ssl.ca.location={sb.pki.path('ca.pem')}"]
    lines = [f"kcat-scram-{i}" for i in range(50)]
    out = subprocess.run(args + ["-P", "-t", topic], input="\n".join(lines).encode(),
                         capture_output=True, timeout=60)
    assert out.returncode == 0, out.stderr.decode()
    out = subprocess.run(args + ["-C", "-t", topic, "-o", "beginning", "-e", "-q"],
                         capture_output=True, timeout=60)
    assert out.returncode == 0, out.stderr.decode()
    assert out.stdout.decode().split() == lines


def test_plain_over_ssl_and_scram_256_over_sasl_plaintext(secure_broker):
    sb = secure_broker
    topic = create_topic(admin_for(sb.broker), unique("plain"))
    round_trip(sb.sasl_conf("PLAIN"), topic)
    round_trip(sb.sasl_conf("SCRAM-SHA-256", listener="SASL_PLAINTEXT"), topic + "-b")


def test_wrong_password_and_unknown_user_fail_cleanly(secure_broker):
    sb = secure_broker
    for mech in ("SCRAM-SHA-512", "PLAIN"):
        assert connect_fails(sb.sasl_conf(mech, password="not-the-password")), mech
        assert connect_fails(sb.sasl_conf(mech, user="nobody")), mech
        assert plaintext_still_serves(sb)
    log = sb.log()
    assert "SASL authentication from" in log and "failed" in log
    assert "not-the-password" not in log  # credentials never reach the log
    # The right password still works afterwards.
    AdminClient(sb.sasl_conf()).list_topics(timeout=10)


def test_requests_before_authentication_close_the_connection(secure_broker):
    sb = secure_broker
    port = sb.ports["SASL_PLAINTEXT"]
    # ApiVersions is allowed; Metadata before SaslHandshake is not.
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        c = wire.Conn.__new__(wire.Conn)
        c.sock = s
        c.send(wire.api_versions_v0())
        assert wire.parse_api_versions_v0(c.recv_frame())[1] == 0
        c.send(wire.request(3, 1, 2, struct.pack(">i", 0)))  # Metadata v1, no topics
        assert c.closed_by_peer(timeout=10)
    # An unknown mechanism: UNSUPPORTED_SASL_MECHANISM with the enabled list.
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        c = wire.Conn.__new__(wire.Conn)
        c.sock = s
        c.send(wire.request(SASL_HANDSHAKE, 1, 3, wire.string("GSSAPI")))
        body = c.recv_frame()
        corr, err, n = struct.unpack(">ihi", body[:10])
        assert (corr, err) == (3, 33)
        assert n == 3 and b"SCRAM-SHA-512" in body
        assert c.closed_by_peer(timeout=10)
    # On a PLAINTEXT listener SaslHandshake answers ILLEGAL_SASL_STATE.
    with wire.Conn(sb.broker) as c:
        c.send(wire.request(SASL_HANDSHAKE, 1, 4, wire.string("PLAIN")))
        corr, err = struct.unpack(">ih", c.recv_frame()[:6])
        assert (corr, err) == (4, 34)


def test_reauthentication_keeps_a_producer_going(pki, tmp_path):
    """connections.max.reauth.ms=2000: librdkafka re-authenticates on the same
    connection before the session expires; producing never stops."""
    sb = start_secure_broker(tmp_path / "broker", pki, **{"connections.max.reauth.ms": "2000"})
    try:
        create_scram_user(sb)
        topic = create_topic(admin_for(sb.broker), unique("reauth"))
        p = Producer({**sb.sasl_conf(), "linger.ms": 5})
        errors = []
        delivered = []
        deadline = time.monotonic() + 7
        i = 0
        while time.monotonic() < deadline:
            p.produce(topic, value=f"reauth-{i}".encode(),
                      on_delivery=lambda e, m: (errors if e else delivered).append(e or m.offset()))
            i += 1
            p.poll(0.05)
        assert p.flush(30) == 0
        assert not errors, errors[:3]
        assert len(delivered) == i
        log = sb.log()
        assert log.count(f"re-authenticated SCRAM-SHA-512 as User:{USER}") >= 2
        assert "SASL session expired" not in log
    finally:
        sb.broker.stop_clean()


def test_expired_session_without_reauthentication_is_closed(pki, tmp_path):
    """A client that never re-authenticates (here: raw SASL/PLAIN over the
    wire) is disconnected on its first request after the session expired."""
    sb = start_secure_broker(tmp_path / "broker", pki, **{"connections.max.reauth.ms": "1000"})
    try:
        create_scram_user(sb)
        with socket.create_connection(("127.0.0.1", sb.ports["SASL_PLAINTEXT"]), timeout=10) as s:
            c = wire.Conn.__new__(wire.Conn)
            c.sock = s
            c.send(wire.request(SASL_HANDSHAKE, 1, 1, wire.string("PLAIN")))
            assert struct.unpack(">ih", c.recv_frame()[:6]) == (1, 0)
            token = b"\0" + USER.encode() + b"\0" + PASSWORD.encode()
            c.send(wire.request(36, 1, 2, struct.pack(">i", len(token)) + token))  # SaslAuthenticate v1
            resp = c.recv_frame()
            corr, err = struct.unpack(">ih", resp[:6])
            assert (corr, err) == (2, 0)
            assert struct.unpack(">q", resp[-8:])[0] == 1000  # session_lifetime_ms
            c.send(wire.request(3, 1, 3, struct.pack(">i", 0)))
            assert struct.unpack(">i", c.recv_frame()[:4])[0] == 3  # served while valid
            time.sleep(1.3)
            c.send(wire.request(3, 1, 4, struct.pack(">i", 0)))
            assert c.closed_by_peer(timeout=10)
        assert "SASL session expired" in sb.log()
    finally:
        sb.broker.stop_clean()


def secure_client_settings(sb):
    return {"sasl": sb.addr("SASL_SSL"), "ssl": sb.addr("SSL"), "ca": sb.pki.path("ca.pem"),
            "client_pem": sb.pki.path("client.pem"), "client_crt": sb.pki.path("client.crt"),
            "client_key": sb.pki.path("client.key")}


def test_java_clients_scram_and_mtls(secure_broker):
    from brokers import ROOT
    s = secure_client_settings(secure_broker)
    project = ROOT / "tests" / "java"
    cmd = ["mvn", "-q", "-B", "-o", "-f", str(project / "pom.xml"),
           f"-Dsecure.sasl.bootstrap={s['sasl']}", f"-Dsecure.ssl.bootstrap={s['ssl']}",
           f"-Dsecure.ca={s['ca']}", f"-Dsecure.client.pem={s['client_pem']}",
           f"-Dsecure.user={USER}", f"-Dsecure.password={PASSWORD}",
           "-Dbootstrap.servers=unused:9", "-Dtest=SecureClientsTest",
           "-Dsurefire.failIfNoSpecifiedTests=false", "test"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)
    report = project / "target" / "surefire-reports" / "dev.carelog.systest.SecureClientsTest.txt"
    details = report.read_text(errors="replace")[-6000:] if report.exists() else "(no report)"
    assert out.returncode == 0, f"mvn failed:\n{out.stdout[-6000:]}\n{out.stderr[-3000:]}\n{details}"
    assert "Tests run: 2, Failures: 0, Errors: 0, Skipped: 0" in details, details


def test_kafkajs_scram_and_mtls(secure_broker):
    from brokers import ROOT
    s = secure_client_settings(secure_broker)
    env = {**os.environ, "SECURE_SASL_BOOTSTRAP": s["sasl"], "SECURE_SSL_BOOTSTRAP": s["ssl"],
           "SECURE_CA": s["ca"], "SECURE_CLIENT_CERT": s["client_crt"],
           "SECURE_CLIENT_KEY": s["client_key"], "SECURE_USER": USER, "SECURE_PASSWORD": PASSWORD}
    out = subprocess.run(["node", "--test", "--test-reporter=spec", "secure.test.js"],
                         cwd=ROOT / "tests" / "js", env=env, capture_output=True, text=True,
                         timeout=180)
    assert out.returncode == 0, f"node --test failed:\n{out.stdout[-6000:]}\n{out.stderr[-3000:]}"
    # Summary lines of node's spec reporter ("ℹ pass 2"): both ran, none skipped.
    assert re.search(r"\bpass 2\b", out.stdout) and re.search(r"\bskipped 0\b", out.stdout), \
        out.stdout[-3000:]
