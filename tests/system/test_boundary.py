"""`carelog boundary` (docs/boundary.md) against running brokers and from
config files: the plane map, each flagged path (a public advertised
listener, a listener on a public address, metrics on 0.0.0.0, PLAINTEXT
listeners, no authorizer, anyone allowed to alter ACLs, an S3 endpoint on a
public address without TLS, PLAINTEXT listeners on a broker with topics
classified ephi), text/JSON/Markdown and --fail-on. Brokers that
must bind or advertise non-loopback addresses run in a private network
namespace (netns_run.py), so nothing leaves this machine's loopback."""

import json

from brokers import free_port
from evidence_util import carelog, carelog_json, carelog_only, netns_carelog
from kafka_util import admin_for, create_topic
from s3_broker_util import s3_overrides
from s3_fixture import rgw  # noqa: F401  (pytest fixture)

pytestmark = carelog_only


def codes(report):
    return {f["code"]: f["severity"] for p in report["planes"] for e in p["elements"] for f in e["findings"]}


def plane(report, name):
    return next(p for p in report["planes"] if p["plane"] == name)


def test_online_loopback_broker_then_offline_from_its_file(broker_factory, tmp_path):
    admin = free_port()
    b = broker_factory({"admin.http.listener": f"127.0.0.1:{admin}"})
    r = carelog_json("-b", b.bootstrap, "boundary")
    c = codes(r)
    assert c["plaintext-listener"] == "warn" and c["no-authorizer"] == "warn"
    assert c["operator-endpoint-answered"] == "info"
    assert r["summary"]["errors"] == 0
    for name in ("data", "metadata", "control", "observability", "keys", "backup", "support access"):
        assert plane(r, name)["inside_private"] is True, name
    data = plane(r, "data")["elements"]
    assert data[0]["where"] == b.bootstrap and data[0]["exposure"] == "loopback" and data[0]["tls"] == "no"
    wal = next(e for e in data if e["element"].startswith("WAL"))
    assert wal["where"] == str(b.data_dir / "wal")
    # --fail-on: warnings only, so error passes and warn fails.
    carelog("-b", b.bootstrap, "boundary", "--fail-on", "error")
    out = carelog("-b", b.bootstrap, "boundary", "--fail-on", "warn", expect=1)
    assert "at or above 'warn'" in out.stderr
    md = carelog("-b", b.bootstrap, "boundary", "--format", "markdown").stdout
    assert md.startswith("# Boundary map: broker 1 at ") and "| data | yes |" in md and "## support access" in md

    # The same settings as a file give the same data plane, offline.
    props = tmp_path / "server.properties"
    props.write_text(f"listeners=PLAINTEXT://{b.bootstrap}\ndata.dir={b.data_dir}\n"
                     f"admin.http.listener=127.0.0.1:{admin}\n")
    off = carelog_json("boundary", "--config", props)
    assert off["source"] == str(props)
    online_rows = [(e["element"], e["where"]) for e in plane(r, "data")["elements"] if "DescribeCluster" not in e["element"]]
    assert [(e["element"], e["where"]) for e in plane(off, "data")["elements"]] == online_rows
    assert codes(off)["plaintext-listener"] == "warn"


def ephi_finding(report):
    return next((f for p in report["planes"] for e in p["elements"] for f in e["findings"]
                 if f["code"] == "ephi-plaintext-listener"), None)


def test_plaintext_listener_with_ephi_topics(broker_factory, tmp_path):
    # governance.mode=warn: nothing refuses ePHI on the PLAINTEXT listener.
    b = broker_factory({"governance.mode": "warn"})
    admin = admin_for(b)
    create_topic(admin, "ops.metrics", config={"carelog.owner": "ops", "carelog.classification": "operational"})
    assert ephi_finding(carelog_json("-b", b.bootstrap, "boundary")) is None
    for t in ("clinical.vitals", "clinical.adt"):
        create_topic(admin, t, config={"carelog.owner": "clinical", "carelog.classification": "ephi"})
    f = ephi_finding(carelog_json("-b", b.bootstrap, "boundary"))
    assert f["severity"] == "error", f
    assert "2 topic(s) classified ephi (clinical.adt, clinical.vitals)" in f["message"]
    assert "governance.mode=warn does not refuse them" in f["message"]
    carelog("-b", b.bootstrap, "boundary", "--fail-on", "error", expect=1)
    # Offline, from the broker's file and its metadata store: the same finding.
    props = tmp_path / "server.properties"
    props.write_text(f"listeners=PLAINTEXT://{b.bootstrap}\ndata.dir={b.data_dir}\ngovernance.mode=warn\n")
    off = ephi_finding(carelog_json("boundary", "--config", props))
    assert off is not None and off["message"] == f["message"]
    # enforce (the default) refuses their produce and fetch without TLS: a warning.
    b.stop_clean()
    b.overrides["governance.mode"] = "enforce"
    b.start()
    f = ephi_finding(carelog_json("-b", b.bootstrap, "boundary"))
    assert f["severity"] == "warn" and "refuses their produce and fetch here" in f["message"], f


def test_anyone_may_alter_acls_is_an_error(broker_factory):
    b = broker_factory({"authorizer.class.name": "carelog", "super.users": "User:ANONYMOUS"})
    r = carelog_json("-b", b.bootstrap, "boundary")
    assert "no-authorizer" not in codes(r)
    who = next(e for e in plane(r, "support access")["elements"] if e["element"] == "who can alter ACLs")
    assert "super users User:ANONYMOUS" in who["where"]
    carelog("-b", b.bootstrap, "acl", "add", "--allow-principal", "User:*", "--operation", "Alter", "--cluster")
    r = carelog_json("-b", b.bootstrap, "boundary")
    assert codes(r)["anyone-can-alter-acls"] == "error"
    carelog("-b", b.bootstrap, "boundary", "--fail-on", "error", expect=1)


def test_public_advertised_listener_in_a_private_netns(tmp_path):
    port = free_port()
    rc, out, err = netns_carelog(
        tmp_path, {"listeners": f"PLAINTEXT://127.0.0.1:{port}", "data.dir": tmp_path / "data",
                   "advertised.listeners": f"PLAINTEXT://203.0.113.7:{port}"},
        ["-b", f"127.0.0.1:{port}", "-o", "json", "boundary", "--fail-on", "error"], ("127.0.0.1", port))
    assert rc == 1, err
    r = json.loads(out)
    flagged = [e["element"] for p in r["planes"] for e in p["elements"]
               for f in e["findings"] if f["code"] == "public-advertised-listener"]
    assert flagged == ["advertised PLAINTEXT", "cluster broker 1 (DescribeCluster)"]
    assert plane(r, "data")["inside_private"] is False


def test_listener_on_public_address_and_metrics_on_all_interfaces_in_a_private_netns(tmp_path):
    port, admin = free_port(), free_port()
    rc, out, err = netns_carelog(
        tmp_path, {"listeners": f"PLAINTEXT://198.51.100.20:{port}", "data.dir": tmp_path / "data",
                   "admin.http.listener": f"0.0.0.0:{admin}"},
        ["-b", f"198.51.100.20:{port}", "-o", "json", "boundary"], ("198.51.100.20", port),
        aliases=["198.51.100.20"])
    assert rc == 0, err
    r = json.loads(out)
    c = codes(r)
    assert c["public-listener"] == "error" and c["plaintext-listener"] == "error"
    assert c["no-authorizer"] == "error"  # admin APIs open on a public address
    assert c["metrics-all-interfaces"] == "error"
    assert c["operator-endpoint-answered"] == "info"  # probed on loopback, the wildcard's local address
    assert plane(r, "observability")["inside_private"] is None  # 0.0.0.0: cannot tell
    text = carelog("boundary", "--config", tmp_path / "none.properties", expect=2).stderr
    assert "none.properties" in text


def test_s3_endpoint_exposure_from_config_files(tmp_path):
    def run(endpoint):
        f = tmp_path / "s.properties"
        f.write_text(f"data.dir={tmp_path}/d\nobject.store=s3://phi/carelog\ns3.endpoint={endpoint}\n"
                     "s3.access.key.id=AKIAEXAMPLE\ns3.secret.access.key=secret-never-printed\n")
        out = carelog("-o", "json", "boundary", "--config", f)
        assert "secret-never-printed" not in out.stdout and "AKIAEXAMPLE" not in out.stdout
        return json.loads(out.stdout)

    r = run("http://198.51.100.20:9000")
    assert codes(r)["s3-public-no-tls"] == "error" and codes(r)["s3-static-keys"] == "warn"
    assert plane(r, "data")["inside_private"] is False
    r = run("https://s3.eu-west-1.amazonaws.com")
    assert codes(r)["s3-public-endpoint"] == "warn" and "s3-public-no-tls" not in codes(r)
    r = run("http://10.20.0.5:7480")
    assert codes(r)["s3-no-tls"] == "warn" and plane(r, "data")["inside_private"] is True


def test_online_broker_on_rgw(broker_factory, rgw):  # noqa: F811
    b = broker_factory(s3_overrides(rgw, rgw.bucket, "boundary"))
    r = carelog_json("-b", b.bootstrap, "boundary")
    store = next(e for e in plane(r, "data")["elements"] if e["element"] == "object store")
    assert store["where"].startswith(f"s3://{rgw.bucket}/boundary at {rgw.endpoint}")
    assert store["exposure"] == "loopback" and store["tls"] == "no"
    c = codes(r)
    assert c["s3-no-tls-loopback"] == "info"
    # The keys came from --override; DescribeConfigs hides them but says they are set.
    assert c["s3-static-keys"] == "warn"
    assert plane(r, "data")["inside_private"] is True
    assert rgw.secret_key not in json.dumps(r)
