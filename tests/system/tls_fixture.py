"""Throwaway PKI for the TLS/SASL system tests, made with the openssl CLI.

`pki` (session scope) is a Pki object with paths to:
  ca.pem / ca.key          the trusted CA
  server.pem               server chain + key (SAN 127.0.0.1, localhost)
  server.crt / server.key  the same, split (for clients that want files)
  server2.pem              a second server certificate (CN=carelog-rotated), for reload tests
  client.crt / client.key / client.pem   valid client cert, subject
                           CN=app-client,OU=apps,O=Carelog
  rogue.crt / rogue.key    client cert signed by an untrusted CA
  expired.crt / expired.key client cert signed by the CA, expired in 2020
Keys are unencrypted PKCS#8 so Java's PEM keystore, librdkafka and node all
read them.
"""

import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from confluent_kafka import Consumer, KafkaException, Producer
from confluent_kafka.admin import AdminClient


def _run(args, cwd):
    out = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{out.stderr}")


def _key_and_csr(d, name, subject):
    _run(["openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes", "-subj", subject,
          "-keyout", f"{name}.key", "-out", f"{name}.csr"], d)


def _self_signed_ca(d, name, subject):
    _run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
          "-subj", subject, "-keyout", f"{name}.key", "-out", f"{name}.pem",
          "-addext", "basicConstraints=critical,CA:TRUE",
          "-addext", "keyUsage=critical,keyCertSign,cRLSign"], d)


def _sign(d, name, ca, ext_lines):
    (d / f"{name}.ext").write_text("\n".join(ext_lines) + "\n")
    _run(["openssl", "x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem",
          "-CAkey", f"{ca}.key", "-CAcreateserial", "-days", "30",
          "-extfile", f"{name}.ext", "-out", f"{name}.crt"], d)


def _sign_expired(d, name, ca):
    """`openssl x509` cannot backdate; `openssl ca` with a tiny config can."""
    (d / "ca-db").mkdir(exist_ok=True)
    (d / "ca-db" / "index.txt").write_text("")
    (d / "ca-db" / "serial").write_text("1000\n")
    (d / "expired-ca.cnf").write_text(f"""
[ca]
default_ca = tmp
[tmp]
dir = {d}
database = {d}/ca-db/index.txt
serial = {d}/ca-db/serial
new_certs_dir = {d}/ca-db
certificate = {d}/{ca}.pem
private_key = {d}/{ca}.key
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
[any]
commonName = supplied
organizationalUnitName = optional
organizationName = optional
""")
    _run(["openssl", "ca", "-batch", "-config", "expired-ca.cnf", "-in", f"{name}.csr",
          "-startdate", "20200101000000Z", "-enddate", "20200201000000Z",
          "-out", f"{name}.crt", "-notext"], d)


@dataclass
class Pki:
    dir: Path

    def path(self, name):
        return str(self.dir / name)

    def text(self, name):
        return (self.dir / name).read_text()


def make_pki(d):
    d = Path(d)
    d.mkdir(parents=True, exist_ok=True)
    _self_signed_ca(d, "ca", "/CN=Carelog Test CA")
    _self_signed_ca(d, "otherca", "/CN=Untrusted CA")
    server_ext = ["subjectAltName=IP:127.0.0.1,DNS:localhost",
                  "extendedKeyUsage=serverAuth", "basicConstraints=CA:FALSE"]
    client_ext = ["extendedKeyUsage=clientAuth", "basicConstraints=CA:FALSE"]
    for name, subject in [("server", "/CN=carelog-server"), ("server2", "/CN=carelog-rotated")]:
        _key_and_csr(d, name, subject)
        _sign(d, name, "ca", server_ext)
        (d / f"{name}.pem").write_text((d / f"{name}.crt").read_text() + (d / f"{name}.key").read_text())
    _key_and_csr(d, "client", "/O=Carelog/OU=apps/CN=app-client")
    _sign(d, "client", "ca", client_ext)
    (d / "client.pem").write_text((d / "client.crt").read_text() + (d / "client.key").read_text())
    _key_and_csr(d, "rogue", "/O=Carelog/OU=apps/CN=rogue-client")
    _sign(d, "rogue", "otherca", client_ext)
    _key_and_csr(d, "expired", "/O=Carelog/OU=apps/CN=expired-client")
    _sign_expired(d, "expired", "ca")
    return Pki(d)


@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"))


# ---------------------------------------------------------------------------
# A broker with every kind of listener, shared by test_tls.py and test_sasl.py.

USER = "alice"
PASSWORD = "alice-Secret-7"
MAPPING_RULES = "RULE:^CN=(.*?),OU=apps,.*$/$1/L,DEFAULT"


def _unique(prefix):
    from kafka_util import unique
    return unique(prefix)


def round_trip(conf, topic, n=20):
    p = Producer(conf)
    for i in range(n):
        p.produce(topic, key=f"k{i}".encode(), value=f"tls-value-{i}".encode())
    assert p.flush(30) == 0
    c = Consumer({**conf, "group.id": _unique("tls-g"), "auto.offset.reset": "earliest"})
    c.subscribe([topic])
    got = []
    deadline = time.monotonic() + 30
    while len(got) < n and time.monotonic() < deadline:
        m = c.poll(0.5)
        if m is not None and m.error() is None:
            got.append(m.value().decode())
    c.close()
    assert got == [f"tls-value-{i}" for i in range(n)]


def connect_fails(conf):
    """True when the client cannot even fetch metadata."""
    a = AdminClient({**conf, "socket.timeout.ms": 5000})
    try:
        a.list_topics(timeout=6)
    except KafkaException:
        return True
    return False


def plaintext_still_serves(sb):
    md = AdminClient({"bootstrap.servers": sb.addr("PLAINTEXT")}).list_topics(timeout=10)
    return md.brokers and sb.broker.running()



def secure_overrides(pki, ports, **extra):
    """Config for PLAINTEXT (first: the fixture's readiness probe uses it),
    SSL with required client certificates, SASL_SSL and SASL_PLAINTEXT."""
    o = {
        "listeners": (f"PLAINTEXT://127.0.0.1:{ports['PLAINTEXT']},SSL://127.0.0.1:{ports['SSL']},"
                      f"SASL_SSL://127.0.0.1:{ports['SASL_SSL']},"
                      f"SASL_PLAINTEXT://127.0.0.1:{ports['SASL_PLAINTEXT']}"),
        "ssl.keystore.location": pki.path("server.pem"),
        "ssl.truststore.location": pki.path("ca.pem"),
        "ssl.client.auth": "required",
        "ssl.principal.mapping.rules": MAPPING_RULES,
        "log.level": "debug",
    }
    o.update(extra)
    return o


class SecureBroker:
    """A started CarelogBroker plus the ports of its listeners."""

    def __init__(self, broker, ports, pki):
        self.broker = broker
        self.ports = ports
        self.pki = pki

    def addr(self, listener):
        return f"127.0.0.1:{self.ports[listener]}"

    def log(self):
        return self.broker.log_path.read_text(errors="replace")

    def ssl_conf(self, cert="client", listener="SSL"):
        c = {"bootstrap.servers": self.addr(listener), "security.protocol": "SSL",
             "ssl.ca.location": self.pki.path("ca.pem"),
             "ssl.endpoint.identification.algorithm": "https"}
        if cert:
            c["ssl.certificate.location"] = self.pki.path(f"{cert}.crt")
            c["ssl.key.location"] = self.pki.path(f"{cert}.key")
        return c

    def sasl_conf(self, mechanism="SCRAM-SHA-512", listener="SASL_SSL", user=USER, password=PASSWORD):
        c = {"bootstrap.servers": self.addr(listener), "sasl.mechanism": mechanism,
             "sasl.username": user, "sasl.password": password}
        if listener == "SASL_SSL":
            c.update({"security.protocol": "SASL_SSL", "ssl.ca.location": self.pki.path("ca.pem")})
        else:
            c["security.protocol"] = "SASL_PLAINTEXT"
        return c


def _store_credentials(db_path, user, password):
    """Writes SCRAM-SHA-256/512 credentials straight into the metadata
    store's scram_credentials table (RFC 5802 derivation), as an offline
    provisioning step; used only when the broker lacks
    AlterUserScramCredentials."""
    import hashlib
    import hmac
    import os
    import sqlite3
    con = sqlite3.connect(db_path, timeout=10)
    for code, h in ((1, "sha256"), (2, "sha512")):
        salt = os.urandom(16)
        salted = hashlib.pbkdf2_hmac(h, password.encode(), salt, 4096)
        stored_key = hashlib.new(h, hmac.new(salted, b"Client Key", h).digest()).digest()
        server_key = hmac.new(salted, b"Server Key", h).digest()
        con.execute("INSERT OR REPLACE INTO scram_credentials "
                    "(user_name, mechanism, salt, stored_key, server_key, iterations) "
                    "VALUES (?, ?, ?, ?, ?, ?)", (user, code, salt, stored_key, server_key, 4096))
    con.commit()
    con.close()


def create_scram_user(sb, user=USER, password=PASSWORD):
    """SCRAM-SHA-512 and -256 credentials through AlterUserScramCredentials
    (Kafka's API, as kafka-configs uses it), over the PLAINTEXT listener."""
    from confluent_kafka import KafkaError
    from confluent_kafka.admin import ScramCredentialInfo, ScramMechanism, UserScramCredentialUpsertion
    admin = AdminClient({"bootstrap.servers": sb.addr("PLAINTEXT")})
    ups = [UserScramCredentialUpsertion(user, ScramCredentialInfo(m, 4096), password.encode())
           for m in (ScramMechanism.SCRAM_SHA_512, ScramMechanism.SCRAM_SHA_256)]
    try:
        # One mechanism per request: Kafka answers DUPLICATE_RESOURCE when a
        # request changes the same user twice.
        for up in ups:
            for f in admin.alter_user_scram_credentials([up], request_timeout=30).values():
                f.result(timeout=30)
    except KafkaException as e:
        if e.args[0].code() != KafkaError._UNSUPPORTED_FEATURE:
            raise
        _store_credentials(str(sb.broker.data_dir / "metadata.db"), user, password)


def start_secure_broker(factory_dir, pki, **extra):
    from brokers import CarelogBroker, free_port
    ports = {name: free_port() for name in ("SSL", "SASL_SSL", "SASL_PLAINTEXT")}
    b = CarelogBroker(factory_dir)
    ports["PLAINTEXT"] = b.port
    b.overrides = secure_overrides(pki, ports, **extra)
    b.start()
    return SecureBroker(b, ports, pki)


@pytest.fixture(scope="session")
def secure_broker(pki, tmp_path_factory):
    sb = start_secure_broker(tmp_path_factory.mktemp("secure-broker"), pki)
    create_scram_user(sb)
    yield sb
    sb.broker.stop_clean()
