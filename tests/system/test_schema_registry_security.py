"""The schema registry's transport security and permissions
(docs/schema-registry.md): https with the broker's keystore, HTTP Basic
against SCRAM users, mTLS principals, and Kafka ACLs on the subject's topic,
driven by confluent-kafka's SchemaRegistryClient."""

import json
import os
import ssl
import subprocess
import urllib.error
import urllib.request

import pytest
from confluent_kafka.admin import (AclBinding, AclOperation, AclPermissionType, AdminClient,
                                   ResourcePatternType, ResourceType)
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError

from brokers import CarelogBroker, free_port
from evidence_util import CLI
from tls_fixture import MAPPING_RULES, pki  # noqa: F401  (session fixture)

pytestmark = pytest.mark.skipif(os.environ.get("CARELOG_TEST_TARGET", "carelog") != "carelog",
                                reason="Carelog's schema registry")

STANDARD = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
ORDER = json.dumps({"type": "record", "name": "Order", "namespace": "shop",
                    "fields": [{"name": "id", "type": "long"}]})


def start(tmp_path, pki, name, **overrides):  # noqa: F811
    """A broker with the authorizer on, SCRAM users admin/alice/bob, a
    SASL_PLAINTEXT listener for the admin and an https registry."""
    b = CarelogBroker(tmp_path / name)
    db = f"sqlite://{b.data_dir}/metadata.db"
    for user in ("admin", "alice", "bob"):
        subprocess.run([str(CLI), "user", "add", user, "--metadata", db, "--password", f"{user}-pw"],
                       check=True, capture_output=True, timeout=60)
    b.sasl_port = free_port()
    reg_port = free_port()
    b.overrides.update({
        "listeners": f"PLAINTEXT://127.0.0.1:{b.port},SASL_PLAINTEXT://127.0.0.1:{b.sasl_port}",
        "authorizer.class.name": STANDARD, "super.users": "User:admin",
        "schema.registry.listener": f"https://127.0.0.1:{reg_port}",
        "ssl.keystore.location": pki.path("server.pem"), "ssl.truststore.location": pki.path("ca.pem"),
        **overrides})
    b.start()
    b.registry_url = f"https://127.0.0.1:{reg_port}"
    b.admin = AdminClient({"bootstrap.servers": f"127.0.0.1:{b.sasl_port}", "security.protocol": "SASL_PLAINTEXT",
                           "sasl.mechanism": "SCRAM-SHA-512", "sasl.username": "admin", "sasl.password": "admin-pw"})
    return b


def allow(b, principal, rtype, name, op):
    binding = AclBinding(rtype, name, ResourcePatternType.LITERAL, principal, "*", op, AclPermissionType.ALLOW)
    for f in b.admin.create_acls([binding], request_timeout=15).values():
        f.result()


def client(b, pki, user=None, cert=None):  # noqa: F811
    conf = {"url": b.registry_url, "ssl.ca.location": pki.path("ca.pem")}
    if user:
        conf["basic.auth.user.info"] = f"{user}:{user}-pw"
    if cert:
        conf["ssl.certificate.location"] = pki.path(f"{cert}.crt")
        conf["ssl.key.location"] = pki.path(f"{cert}.key")
    return SchemaRegistryClient(conf)


def error_of(fn):
    with pytest.raises(SchemaRegistryError) as e:
        fn()
    return e.value.http_status_code, e.value.error_code


def test_https_basic_auth_and_acls(tmp_path, pki):  # noqa: F811
    b = start(tmp_path, pki, "acl", **{"schema.registry.authentication": "basic"})
    try:
        admin, alice, bob = (client(b, pki, u) for u in ("admin", "alice", "bob"))
        # The super user may do anything; alice nothing yet.
        admin.register_schema("secret-value", Schema(ORDER, "AVRO"))
        assert error_of(lambda: alice.register_schema("orders-value", Schema(ORDER, "AVRO"))) == (403, 40301)
        assert error_of(lambda: alice.get_latest_version("secret-value")) == (403, 40301)
        assert alice.get_subjects() == []  # lists only what she may read
        # WRITE on topic orders: register orders-value (and orders-key); read it back (DESCRIBE implied).
        allow(b, "User:alice", ResourceType.TOPIC, "orders", AclOperation.WRITE)
        sid = alice.register_schema("orders-value", Schema(ORDER, "AVRO"))
        assert alice.get_latest_version("orders-value").schema_id == sid
        assert alice.get_subjects() == ["orders-value"]
        assert sorted(admin.get_subjects()) == ["orders-value", "secret-value"]
        # Deleting needs DELETE, subject config ALTER_CONFIGS, global config ALTER_CONFIGS on the cluster.
        assert error_of(lambda: alice.delete_subject("orders-value")) == (403, 40301)
        assert error_of(lambda: alice.set_compatibility("orders-value", "NONE")) == (403, 40301)
        allow(b, "User:alice", ResourceType.TOPIC, "orders", AclOperation.ALTER_CONFIGS)
        alice.set_compatibility("orders-value", "NONE")
        assert error_of(lambda: alice.set_compatibility(level="NONE")) == (403, 40301)
        allow(b, "User:alice", ResourceType.BROKER, "kafka-cluster", AclOperation.ALTER_CONFIGS)
        alice.set_compatibility(level="FULL")
        allow(b, "User:alice", ResourceType.TOPIC, "orders", AclOperation.DELETE)
        assert alice.delete_subject("orders-value") == [1]
        # bob has no ACLs at all; a wrong password is 401, not 403.
        assert error_of(lambda: bob.get_schema(sid)) == (403, 40301)
        wrong = SchemaRegistryClient({"url": b.registry_url, "ssl.ca.location": pki.path("ca.pem"),
                                      "basic.auth.user.info": "bob:nope"})
        assert error_of(lambda: wrong.get_subjects())[0] == 401
        # https only: plain HTTP on the port and an untrusting client both fail.
        with pytest.raises((urllib.error.URLError, ConnectionError, OSError)):
            urllib.request.urlopen(b.registry_url.replace("https", "http") + "/subjects", timeout=10)
        with pytest.raises(urllib.error.URLError) as e:
            urllib.request.urlopen(b.registry_url + "/subjects", timeout=10, context=ssl.create_default_context())
        assert isinstance(e.value.reason, ssl.SSLCertVerificationError)
    finally:
        b.stop_clean()


def test_mtls_principal_and_acls(tmp_path, pki):  # noqa: F811
    b = start(tmp_path, pki, "mtls", **{"ssl.client.auth": "required", "ssl.principal.mapping.rules": MAPPING_RULES})
    try:
        # CN=app-client,OU=apps,O=Carelog maps to User:app-client.
        app = client(b, pki, cert="client")
        assert error_of(lambda: app.register_schema("vitals-value", Schema(ORDER, "AVRO"))) == (403, 40301)
        allow(b, "User:app-client", ResourceType.TOPIC, "vitals", AclOperation.WRITE)
        assert app.register_schema("vitals-value", Schema(ORDER, "AVRO")) > 0
        # Without a client certificate the TLS handshake is refused.
        ctx = ssl.create_default_context(cafile=pki.path("ca.pem"))
        with pytest.raises((ssl.SSLError, urllib.error.URLError, ConnectionError)):
            urllib.request.urlopen(b.registry_url + "/subjects", timeout=10, context=ctx)
        # A certificate from an untrusted CA is refused too.
        ctx.load_cert_chain(pki.path("rogue.crt"), pki.path("rogue.key"))
        with pytest.raises((ssl.SSLError, urllib.error.URLError, ConnectionError)):
            urllib.request.urlopen(b.registry_url + "/subjects", timeout=10, context=ctx)
    finally:
        b.stop_clean()
