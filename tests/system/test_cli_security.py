"""The carelog CLI against TLS and SASL listeners (docs/cli.md): SCRAM-SHA-512
over SASL_SSL with -X settings, SCRAM-SHA-256 over SASL_PLAINTEXT and PLAIN
over SASL_SSL from a --command-config file, mTLS over SSL, and the refusals
a user must see: a wrong password, a CA that does not sign the broker's
certificate, a host name the certificate does not carry, a typo in a key."""

import json
import os

import pytest

from evidence_util import carelog
from kafka_util import unique
from tls_fixture import PASSWORD, USER, pki, secure_broker  # noqa: F401  (fixtures)

pytestmark = pytest.mark.skipif(os.environ.get("CARELOG_TEST_TARGET", "carelog") != "carelog",
                                reason="runs against carelogd only (PEM keystores)")


def sasl_args(sb, mechanism="SCRAM-SHA-512", listener="SASL_SSL", password=PASSWORD):
    args = ["-b", sb.addr(listener), "-X", f"security.protocol={listener}", "-X", f"sasl.mechanism={mechanism}",
            "-X", f"sasl.username={USER}", "-X", f"sasl.password={password}"]
    if listener == "SASL_SSL":
        args += ["-X", f"ssl.ca.location={sb.pki.path('ca.pem')}"]
    return args


def test_scram_512_over_sasl_ssl(secure_broker):
    sb = secure_broker
    topic = unique("cli-scram")
    carelog(*sasl_args(sb), "topic", "create", topic, "--partitions", "2")
    out = carelog(*sasl_args(sb), "-o", "json", "topic", "describe", topic)
    [info] = json.loads(out.stdout)
    assert info["partition_count"] == 2, out.stdout
    assert f"authenticated SCRAM-SHA-512 as User:{USER}" in sb.log()


def test_command_config_file_scram_256_and_plain(secure_broker, tmp_path):
    sb = secure_broker
    topic = unique("cli-cfg")
    cfg = tmp_path / "client.properties"
    cfg.write_text(f"security.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-256\n"
                   f"sasl.username={USER}\nsasl.password={PASSWORD}\n")
    carelog("-b", sb.addr("SASL_PLAINTEXT"), "--command-config", cfg, "topic", "create", topic)
    # -X on top of the file: PLAIN over SASL_SSL, verifying the broker's certificate.
    out = carelog("-b", sb.addr("SASL_SSL"), "--command-config", cfg, "-X", "security.protocol=SASL_SSL",
                  "-X", "sasl.mechanism=PLAIN", "-X", f"ssl.ca.location={sb.pki.path('ca.pem')}", "topic", "list")
    assert topic in out.stdout
    assert f"authenticated PLAIN as User:{USER}" in sb.log()


def test_mtls_over_ssl_with_host_name_check(secure_broker):
    sb = secure_broker
    port = sb.ports["SSL"]
    tls = ["-X", "security.protocol=SSL", "-X", f"ssl.ca.location={sb.pki.path('ca.pem')}",
           "-X", f"ssl.certificate.location={sb.pki.path('client.crt')}",
           "-X", f"ssl.key.location={sb.pki.path('client.key')}"]
    # The certificate names 127.0.0.1 and localhost: both verify.
    for host in ("127.0.0.1", "localhost"):
        carelog("-b", f"{host}:{port}", *tls, "topic", "list")
    # The listener requires a client certificate: without one the handshake fails.
    out = carelog("-b", f"127.0.0.1:{port}", *tls[:4], "--timeout-ms", "5000", "topic", "list", expect=1)
    assert "NETWORK_EXCEPTION" in out.stderr, out.stderr


def test_refusals(secure_broker):
    sb = secure_broker
    out = carelog(*sasl_args(sb, password="wrong"), "topic", "list", expect=1)
    assert "SASL_AUTHENTICATION_FAILED" in out.stderr, out.stderr
    # A CA that did not sign the broker's certificate.
    out = carelog("-b", sb.addr("SASL_SSL"), *sasl_args(sb)[2:-2], "-X", f"ssl.ca.location={sb.pki.path('otherca.pem')}",
                  "topic", "list", expect=1)
    assert "certificate not trusted" in out.stderr, out.stderr
    # An address the certificate does not carry: loopback as an IPv4-mapped
    # IPv6 address reaches the same listener, but the certificate names 127.0.0.1.
    mapped = f"[::ffff:127.0.0.1]:{sb.ports['SASL_SSL']}"
    out = carelog("-b", mapped, *sasl_args(sb)[2:], "topic", "list", expect=1)
    assert "certificate not trusted" in out.stderr and "mismatch" in out.stderr, out.stderr
    # ... unless the check is turned off explicitly.
    carelog("-b", mapped, *sasl_args(sb)[2:],
            "-X", "ssl.endpoint.identification.algorithm=none", "topic", "list")
    # Settings that would silently connect differently are usage errors.
    out = carelog("-b", sb.addr("SASL_SSL"), "-X", "security.protcol=SASL_SSL", "topic", "list", expect=2)
    assert "unknown client property 'security.protcol'" in out.stderr
    out = carelog("-b", sb.addr("SASL_SSL"), "-X", "sasl.username=x", "topic", "list", expect=2)
    assert "need security.protocol=SASL_PLAINTEXT or SASL_SSL" in out.stderr
