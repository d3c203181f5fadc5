"""Session-scoped pytest fixture: a throwaway Ceph RGW (scripts/s3-rgw.sh)
with a fresh bucket, plus a tiny SigV4 client (stdlib only) for setup calls
the C++ backend does not offer (bucket creation).

Import the fixture into a test module:  from s3_fixture import rgw  # noqa
"""

import datetime
import hashlib
import hmac
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SCRIPT = os.path.join(ROOT, "scripts", "s3-rgw.sh")


@dataclass
class Rgw:
    endpoint: str
    access_key: str
    secret_key: str
    region: str
    bucket: str
    start_seconds: float

    def env(self):
        """Environment for objstore_tests' S3 suites."""
        e = dict(os.environ)
        e.update(CARELOG_S3_ENDPOINT=self.endpoint, CARELOG_S3_BUCKET=self.bucket,
                 CARELOG_S3_ACCESS_KEY=self.access_key, CARELOG_S3_SECRET_KEY=self.secret_key,
                 CARELOG_S3_REGION=self.region, CARELOG_S3_PATH_STYLE="true")
        return e

    def request(self, method, path, query=None, body=b"", headers=None):
        """Signed path-style request; returns (status, body bytes)."""
        return signed_request(self.endpoint, self.access_key, self.secret_key, self.region,
                              method, path, query or {}, body, headers or {})


def _sign(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def signed_request(endpoint, access_key, secret_key, region, method, path, query, body, headers):
    u = urllib.parse.urlparse(endpoint)
    now = datetime.datetime.now(datetime.timezone.utc)
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    date = amz_date[:8]
    payload_hash = hashlib.sha256(body).hexdigest()
    canonical_uri = urllib.parse.quote(path, safe="/~")
    q = "&".join(f"{urllib.parse.quote(k, safe='~')}={urllib.parse.quote(v, safe='~')}"
                 for k, v in sorted(query.items()))
    hdrs = {"host": u.netloc, "x-amz-date": amz_date, "x-amz-content-sha256": payload_hash}
    hdrs.update({k.lower(): v for k, v in headers.items()})
    signed = ";".join(sorted(hdrs))
    canonical = "\n".join([method, canonical_uri, q,
                           "".join(f"{k}:{hdrs[k].strip()}\n" for k in sorted(hdrs)),
                           signed, payload_hash])
    scope = f"{date}/{region}/s3/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    key = _sign(_sign(_sign(_sign(("AWS4" + secret_key).encode(), date), region), "s3"), "aws4_request")
    sig = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    hdrs["authorization"] = (f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, "
                             f"SignedHeaders={signed}, Signature={sig}")
    url = endpoint + canonical_uri + ("?" + q if q else "")
    req = urllib.request.Request(url, data=body if method in ("PUT", "POST") else None,
                                 method=method, headers={k: v for k, v in hdrs.items() if k != "host"})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rgw_available():
    return all(shutil.which(t) for t in ("ceph-mon", "ceph-osd", "radosgw", "radosgw-admin"))


def skip_or_fail(reason):
    """Skips a test whose prerequisite is missing, except under `make test`
    (CARELOG_REQUIRE_S3=1), where the scripts install everything and a
    missing piece must fail instead of passing silently."""
    if os.environ.get("CARELOG_REQUIRE_S3") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def rgw():
    if not rgw_available():
        skip_or_fail("Ceph RGW not installed (apt-get install --no-install-recommends ceph-mon ceph-osd radosgw)")
    workdir = tempfile.mkdtemp(prefix="carelog-rgw-")
    port = _free_port()
    env = dict(os.environ, CARELOG_RGW_MON_PORT=str(_free_port()))
    t0 = time.monotonic()
    try:
        out = subprocess.run([SCRIPT, "start", workdir, str(port)], env=env, capture_output=True,
                             text=True, timeout=180)
        elapsed = time.monotonic() - t0
        if out.returncode != 0:
            pytest.fail(f"s3-rgw.sh start failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
        vals = dict(line.split("=", 1) for line in out.stdout.splitlines() if "=" in line)
        r = Rgw(vals["CARELOG_S3_ENDPOINT"], vals["CARELOG_S3_ACCESS_KEY"], vals["CARELOG_S3_SECRET_KEY"],
                vals["CARELOG_S3_REGION"], "carelog-test", elapsed)
        status, body = r.request("PUT", "/" + r.bucket)
        if status != 200:
            pytest.fail(f"creating bucket {r.bucket}: HTTP {status} {body[:300]!r}")
        yield r
    finally:
        subprocess.run([SCRIPT, "stop", workdir], timeout=60)
        shutil.rmtree(workdir, ignore_errors=True)
