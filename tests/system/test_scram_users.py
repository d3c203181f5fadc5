"""SCRAM users: Kafka's own kafka-configs (AlterUserScramCredentials,
DescribeUserScramCredentials, DescribeClientQuotas) and `carelog user`
against carelogd, the offline `carelog user add --metadata` bootstrap, and
kcat logins over SASL_PLAINTEXT (SCRAM-SHA-512, SCRAM-SHA-256, PLAIN) by
users created those ways."""

import json
import os
import subprocess
from pathlib import Path

import pytest

from brokers import ROOT, CarelogBroker, free_port
from kafka_util import unique
from reference_kafka import java_cmd

CLI = Path(os.environ.get("CARELOG_CLI", ROOT / "build" / "bin" / "carelog"))
CONFIGS = "org.apache.kafka.tools.ConfigCommand"


def kafka_configs(broker, *args, expect_ok=True):
    cmd = java_cmd(CONFIGS, "--bootstrap-server", broker.bootstrap, "--entity-type", "users", *args)
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if expect_ok:
        assert out.returncode == 0, f"kafka-configs {args} exited {out.returncode}:\n{out.stdout}\n{out.stderr}"
    return out


def carelog(*args, bootstrap=None, expect=0, stdin=None):
    if not CLI.exists():
        pytest.fail(f"{CLI} not built (run `make build`)")
    cmd = [str(CLI)] + (["--bootstrap-server", bootstrap] if bootstrap else []) + list(args)
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60, input=stdin)
    assert out.returncode == expect, (f"carelog {' '.join(args)} exited {out.returncode}, expected {expect}\n"
                                      f"stdout:\n{out.stdout}\nstderr:\n{out.stderr}")
    return out


def listed(bootstrap, *users):
    """{user: {mechanism: iterations}} from `carelog user list -o json`."""
    out = carelog("--output", "json", "user", "list", *users, bootstrap=bootstrap)
    return {u["user"]: {c["mechanism"]: c["iterations"] for c in u["credentials"]} for u in json.loads(out.stdout)}


def test_kafka_configs_manages_scram_users(broker):
    user = unique("alice")
    kafka_configs(broker, "--entity-name", user, "--alter",
                  "--add-config", "SCRAM-SHA-512=[iterations=8192,password=alice-secret]")
    # Kafka refuses two mechanisms of one user in one request; one call each.
    kafka_configs(broker, "--entity-name", user, "--alter", "--add-config", "SCRAM-SHA-256=[password=other]")
    desc = kafka_configs(broker, "--entity-name", user, "--describe").stdout
    assert (f"SCRAM credential configs for user-principal '{user}' are "
            "SCRAM-SHA-256=iterations=4096, SCRAM-SHA-512=iterations=8192") in desc
    assert listed(broker.bootstrap, user) == {user: {"SCRAM-SHA-256": 4096, "SCRAM-SHA-512": 8192}}

    # Every user when no name is given.
    assert f"user-principal '{user}'" in kafka_configs(broker, "--describe").stdout

    kafka_configs(broker, "--entity-name", user, "--alter", "--delete-config", "SCRAM-SHA-256")
    assert listed(broker.bootstrap, user) == {user: {"SCRAM-SHA-512": 8192}}

    # Kafka's bounds and errors come back to the tool.
    bad = kafka_configs(broker, "--entity-name", user, "--alter",
                        "--add-config", "SCRAM-SHA-512=[iterations=1000,password=x]", expect_ok=False)
    # (the broker's UNACCEPTABLE_CREDENTIAL "Too few iterations", unless the tool checks first)
    assert bad.returncode != 0 and "iterations" in (bad.stdout + bad.stderr).lower()
    gone = kafka_configs(broker, "--entity-name", user, "--alter", "--delete-config", "SCRAM-SHA-256",
                         expect_ok=False)
    assert gone.returncode != 0 and "does not exist" in gone.stdout + gone.stderr
    assert listed(broker.bootstrap, user) == {user: {"SCRAM-SHA-512": 8192}}


def test_carelog_user_commands(broker, tmp_path):
    b = broker.bootstrap
    user = unique("bob")
    out = carelog("user", "add", user, "--password", "pw-1", "--iterations", "4096", bootstrap=b)
    assert f"Added SCRAM-SHA-512 credential of user '{user}' (4096 iterations)." in out.stdout
    assert listed(b, user) == {user: {"SCRAM-SHA-512": 4096}}

    again = carelog("user", "add", user, "--password", "pw-2", bootstrap=b, expect=1)
    assert "already has a SCRAM-SHA-512 credential" in again.stderr

    # Password from stdin (no terminal) and from a file.
    carelog("user", "add", user, "--mechanism", "SCRAM-SHA-256", bootstrap=b, stdin="pw-from-stdin\n")
    pw_file = tmp_path / "pw"
    pw_file.write_text("pw-from-file\n")
    out = carelog("user", "passwd", user, "--password-file", str(pw_file), "--iterations", "16384", bootstrap=b)
    assert "Changed SCRAM-SHA-256" in out.stdout and "Changed SCRAM-SHA-512" in out.stdout
    assert listed(b, user) == {user: {"SCRAM-SHA-256": 16384, "SCRAM-SHA-512": 16384}}

    text = carelog("user", "list", user, bootstrap=b).stdout
    assert text.splitlines()[0].split() == ["USER", "MECHANISM", "ITERATIONS"]
    assert f"{user}  SCRAM-SHA-512  16384" in text

    carelog("user", "add", user + "x", "--iterations", "100", "--password", "p", bootstrap=b, expect=2)
    carelog("user", "add", user + "x", "--password", "", bootstrap=b, expect=2)

    carelog("user", "delete", user, "--mechanism", "SCRAM-SHA-256", bootstrap=b)
    assert listed(b, user) == {user: {"SCRAM-SHA-512": 16384}}
    carelog("user", "delete", user, bootstrap=b)
    missing = carelog("user", "delete", user, bootstrap=b, expect=1)
    assert "RESOURCE_NOT_FOUND" in missing.stderr
    assert "RESOURCE_NOT_FOUND" in carelog("user", "list", user, bootstrap=b, expect=1).stderr
    assert "RESOURCE_NOT_FOUND" in carelog("user", "passwd", user, "--password", "x", bootstrap=b, expect=1).stderr


def test_offline_users_are_served_by_the_broker(tmp_path):
    """`carelog user add --metadata` before the broker starts (the first-user
    bootstrap), then the broker serves those users; and the other way round."""
    b = CarelogBroker(tmp_path / "offline")
    db = f"sqlite://{b.data_dir}/metadata.db"
    carelog("user", "add", "admin", "--metadata", db, "--password", "admin-pw")
    carelog("user", "add", "carol", "--metadata", db, "--mechanism", "SCRAM-SHA-256", "--password", "carol-pw")
    assert "admin  SCRAM-SHA-512  8192" in carelog("user", "list", "--metadata", db).stdout
    b.start()
    try:
        assert listed(b.bootstrap) == {"admin": {"SCRAM-SHA-512": 8192}, "carol": {"SCRAM-SHA-256": 8192}}
        carelog("user", "delete", "carol", bootstrap=b.bootstrap)
        # Offline access while the broker runs (SQLite serialises the writers).
        carelog("user", "add", "dave", "--metadata", db, "--password", "dave-pw")
        assert listed(b.bootstrap) == {"admin": {"SCRAM-SHA-512": 8192}, "dave": {"SCRAM-SHA-512": 8192}}
    finally:
        b.stop_clean()
    out = carelog("--output", "json", "user", "list", "--metadata", db).stdout
    assert [u["user"] for u in json.loads(out)] == ["admin", "dave"]
    log = Path(b.log_path).read_text(errors="replace")
    for secret in ("admin-pw", "carol-pw", "dave-pw"):
        assert secret not in log


def kcat_metadata(bootstrap, mechanism, user, password):
    cmd = ["kcat", "-b", bootstrap, "-L", "-m", "5",
           "-X", "security.protocol=SASL_PLAINTEXT", "-X", f"sasl.mechanisms={mechanism}",
           "-X", f"sasl.username={user}", "-X", f"sasl.password={password}"]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


def test_users_log_in_over_sasl_with_kcat(tmp_path):
    b = CarelogBroker(tmp_path / "sasl")
    db = f"sqlite://{b.data_dir}/metadata.db"
    carelog("user", "add", "admin", "--metadata", db, "--password", "admin-pw")
    carelog("user", "add", "carol", "--metadata", db, "--mechanism", "SCRAM-SHA-256", "--password", "carol-pw")
    sasl_port = free_port()
    b.overrides["listeners"] = f"PLAINTEXT://127.0.0.1:{b.port},SASL_PLAINTEXT://127.0.0.1:{sasl_port}"
    b.start()
    try:
        sasl = f"127.0.0.1:{sasl_port}"
        for mech, user, pw in [("SCRAM-SHA-512", "admin", "admin-pw"), ("PLAIN", "admin", "admin-pw"),
                               ("SCRAM-SHA-256", "carol", "carol-pw"), ("PLAIN", "carol", "carol-pw")]:
            ok = kcat_metadata(sasl, mech, user, pw)
            assert ok.returncode == 0 and "broker" in ok.stdout, f"{mech} {user}: {ok.stdout}\n{ok.stderr}"
        for mech, user, pw in [("SCRAM-SHA-512", "admin", "wrong"), ("PLAIN", "admin", "wrong"),
                               ("SCRAM-SHA-512", "nobody", "admin-pw"), ("SCRAM-SHA-512", "carol", "carol-pw")]:
            bad = kcat_metadata(sasl, mech, user, pw)
            assert bad.returncode != 0, f"{mech} {user} with a wrong credential logged in:\n{bad.stdout}"
        # A user added over the protocol (kafka-configs) logs in; once deleted it no longer does.
        kafka_configs(b, "--entity-name", "dave", "--alter", "--add-config", "SCRAM-SHA-512=[password=dave-pw]")
        assert kcat_metadata(sasl, "SCRAM-SHA-512", "dave", "dave-pw").returncode == 0
        carelog("user", "delete", "dave", bootstrap=b.bootstrap)
        assert kcat_metadata(sasl, "SCRAM-SHA-512", "dave", "dave-pw").returncode != 0
    finally:
        b.stop_clean()
    log = Path(b.log_path).read_text(errors="replace")
    for secret in ("admin-pw", "carol-pw", "dave-pw"):
        assert secret not in log
