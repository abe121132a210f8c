"""deploy/nginx.conf in front of ``netwatch run --behind-proxy``: a real nginx on loopback with
a certificate made here; login, a readings POST, the body limit and /metrics through it; and
one upstream over two instances sharing a database, one of them stopped under load."""

from __future__ import annotations

import json
import re
import shutil
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from netwatch.lab.process import terminate
from tests.ops.daemon import ENV, INVENTORY, Daemon, token

DEPLOY = Path(__file__).parents[2] / "deploy"
PROXY = "127.67.0.2"
pytestmark = [pytest.mark.peer,
              pytest.mark.skipif(shutil.which("nginx") is None and not Path(
                  "/usr/sbin/nginx").exists(), reason="needs nginx")]


def free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


SERVER = "server 127.0.0.1:9810 max_fails=2 fail_timeout=10s;"


def site_config(upstream: str | list[str], tls_port: int, http_port: int, tmp: Path,
                proxy: str = PROXY) -> str:
    """The shipped file with this test's addresses (one ``server`` line per upstream, as
    the file's comment says), ports and certificate."""
    text = (DEPLOY / "nginx.conf").read_text()
    upstreams = [upstream] if isinstance(upstream, str) else upstream
    replaced = [
        (SERVER, "\n    ".join(SERVER.replace("127.0.0.1:9810", u) for u in upstreams)),
        ("listen 80;", f"listen {proxy}:{http_port};"),
        ("listen 443 ssl http2;", f"listen {proxy}:{tls_port} ssl http2;"),
        ("/etc/netwatch/tls/fullchain.pem", str(tmp / "cert.pem")),
        ("/etc/netwatch/tls/privkey.pem", str(tmp / "key.pem")),
    ]
    for old, new in replaced:
        assert old in text, f"deploy/nginx.conf no longer has {old!r}"
        text = text.replace(old, new)
    return re.sub(r"^\s*listen \[::\]:\d+.*\n", "", text, flags=re.M)  # loopback v4 only


def start_nginx(tmp: Path, site: str, port: int, proxy: str = PROXY) -> subprocess.Popen[bytes]:
    (tmp / "site.conf").write_text(site)
    (tmp / "nginx.conf").write_text(f"""\
user root;
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log {tmp}/access.log;
    log_format upstreams '$request_method $uri $status $upstream_addr $upstream_status';
    access_log {tmp}/upstream.log upstreams;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    include {tmp}/site.conf;
}}
""")
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    proc = subprocess.Popen([nginx, "-c", str(tmp / "nginx.conf"), "-p", str(tmp), "-e",
                             str(tmp / "error.log")], stderr=subprocess.PIPE)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection((proxy, port), timeout=1).close()
            return proc
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.05)
    terminate(proc, 5)
    raise RuntimeError(f"nginx did not start: {(tmp / 'error.log').read_text()}")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def call(url: str, ctx: ssl.SSLContext | None, method: str = "GET", body: bytes | None = None,
         headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    opener = urllib.request.build_opener(NoRedirect, urllib.request.HTTPSHandler(context=ctx))
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with opener.open(req, timeout=30) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def self_signed(tmp: Path, host: str) -> None:
    """An RSA certificate for ``host`` in tmp/cert.pem and its key in tmp/key.pem."""
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-keyout", str(tmp / "key.pem"), "-out", str(tmp / "cert.pem"),
                    "-subj", f"/CN={host}", "-addext", f"subjectAltName=IP:{host}"],
                   check=True, capture_output=True, timeout=60)


def test_login_readings_and_metrics_through_nginx(tmp_path: Path) -> None:
    self_signed(tmp_path, PROXY)
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(INVENTORY, encoding="utf-8")
    db = tmp_path / "netwatch.db"
    admin = token(db, inventory, "admin")
    tester = token(db, inventory, "tester", "--county", "east")
    ctx = ssl.create_default_context(cafile=str(tmp_path / "cert.pem"))
    with Daemon(inventory, db, tmp_path / "notices", tmp_path / "daemon.log",
                "--behind-proxy") as daemon:
        upstream = urllib.parse.urlsplit(daemon.url).netloc
        tls_port, http_port = free_port(PROXY), free_port(PROXY)
        nginx = start_nginx(tmp_path, site_config(upstream, tls_port, http_port, tmp_path),
                            tls_port)
        try:
            base = f"https://{PROXY}:{tls_port}"
            status, headers, _ = call(f"http://{PROXY}:{http_port}/survey", None)
            assert status == 301 and headers["Location"] == f"https://{PROXY}/survey"

            form = urllib.parse.urlencode({"token": admin, "next": "/"}).encode()
            status, headers, _ = call(f"{base}/login", ctx, "POST", form, {
                "Origin": base, "Content-Type": "application/x-www-form-urlencoded"})
            assert status == 303, headers
            cookie = headers["Set-Cookie"]
            assert "Secure" in cookie and "HttpOnly" in cookie  # X-Forwarded-Proto arrived
            status, _, page = call(f"{base}/notices", ctx,
                                   headers={"Cookie": cookie.split(";", 1)[0]})
            assert status == 200 and b"<html" in page.lower()

            reading = {"point": "p1", "taken_at": "2026-01-01T08:00:00+08:00",
                       "technology": "pdt", "rssi_dbm": -97, "ber": 0.01, "client_id": "n1"}
            auth = {"Authorization": f"Bearer {tester}", "Content-Type": "application/json"}
            status, _, body = call(f"{base}/api/v1/readings", ctx, "POST",
                                   json.dumps(reading).encode(), auth)
            assert status == 201, body
            big = json.dumps([reading] * 9000).encode()  # 1.2 MB: over netwatch's 1 MiB
            assert len(big) > 1024 * 1024
            status, headers, body = call(f"{base}/api/v1/readings", ctx, "POST", big, auth)
            assert status == 413 and headers["Content-Type"].startswith("application/json")

            status, _, body = call(f"{base}/metrics", ctx,
                                   headers={"Authorization": f"Bearer {admin}"})
            assert status == 200 and b"netwatch_survey_readings_received_total" in body
        finally:
            terminate(nginx, 10)
    access = (tmp_path / "access.log").read_text()  # every request went through this nginx
    for seen in ('"POST /login HTTP/1.1" 303', '"POST /api/v1/readings HTTP/1.1" 201',
                 '"POST /api/v1/readings HTTP/1.1" 413', '"GET /metrics HTTP/1.1" 200'):
        assert seen in access


AUDIT_PROXY = "127.61.0.7"
FORWARD_SECRET_RSA = {"ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384",
                      "ECDHE-RSA-CHACHA20-POLY1305"}


def handshake(port: int, *args: str) -> bool:
    """Whether ``openssl s_client`` with ``args`` completes a handshake with the proxy."""
    done = subprocess.run(["openssl", "s_client", "-connect", f"{AUDIT_PROXY}:{port}",
                           "-servername", AUDIT_PROXY, *args], input=b"",
                          capture_output=True, timeout=30)
    return done.returncode == 0


def suites(selection: str) -> list[str]:
    """The TLS 1.2 suites this openssl knows in ``selection`` (security level 0: all)."""
    listed = subprocess.run(["openssl", "ciphers", "-s", "-tls1_2", f"{selection}:@SECLEVEL=0"],
                            capture_output=True, text=True, check=True, timeout=30)
    return listed.stdout.strip().split(":")


def test_tls_1_2_offers_forward_secret_suites_only(tmp_path: Path) -> None:
    """As an auditor checks it: every TLS 1.2 suite openssl knows is tried one at a time
    against the shipped nginx site; only the ECDHE ones with the RSA certificate's key
    succeed (no static-RSA suite), TLS 1.3 works and TLS 1.1 is refused."""
    self_signed(tmp_path, AUDIT_PROXY)
    tls_port, http_port = free_port(AUDIT_PROXY), free_port(AUDIT_PROXY)
    site = site_config("127.61.0.8:9", tls_port, http_port, tmp_path, AUDIT_PROXY)
    nginx = start_nginx(tmp_path, site, tls_port, AUDIT_PROXY)
    try:
        static_rsa = suites("kRSA")
        assert len(static_rsa) >= 10 and "AES128-GCM-SHA256" in static_rsa
        every = suites("ALL:COMPLEMENTOFALL")
        assert set(static_rsa) <= set(every)
        accepted = {s for s in every if handshake(tls_port, "-tls1_2", "-cipher",
                                                  f"{s}:@SECLEVEL=0")}
        assert accepted == FORWARD_SECRET_RSA
        assert handshake(tls_port, "-tls1_3")
        assert not handshake(tls_port, "-tls1_1", "-cipher", "ALL:@SECLEVEL=0")
    finally:
        terminate(nginx, 10)


CLUSTER = "127.75.3.1"  # where both instances listen
CLUSTER_PROXY = "127.75.3.2"
CLUSTER_INVENTORY = """\
city: {{name: 示例市, timezone: Asia/Shanghai}}
coverage:
  bbox: {{lat_min: 38.0, lat_max: 39.0, lon_min: 106.0, lon_max: 107.0}}
counties:
  - {{id: east, name: 东区, receiving_unit: 东区公安分局}}
  - {{id: west, name: 西区, receiving_unit: 西区公安分局}}
defaults:
  camera: {{interval: 1s, timeout: 500ms, grace: 0s}}
devices:
  - {{id: cam-e, kind: camera, county: east, address: 127.75.3.11,
     checks: [{{probe: tcp, port: {east_port}}}]}}
  - {{id: cam-w, kind: camera, county: west, address: 127.75.3.21,
     checks: [{{probe: tcp, port: {west_port}}}]}}
coverage_points:
  - {{id: p1, name: 人民广场, county: west, lat: 38.5, lon: 106.5}}
"""


def test_one_upstream_over_two_instances_keeps_answering_when_one_stops(tmp_path: Path) -> None:
    """Instance a watches east, b west, over one SQLite file; both cameras' ports are closed,
    so each county has a fault. Through nginx both counties' faults are listed whichever
    instance answers (both do); once b is stopped every request is still answered (by a, west
    from the database), and a readings POST too."""
    self_signed(tmp_path, CLUSTER_PROXY)
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(CLUSTER_INVENTORY.format(  # nothing listens there: refused
        east_port=free_port("127.75.3.11"), west_port=free_port("127.75.3.21")),
        encoding="utf-8")
    db = tmp_path / "netwatch.db"
    env = {**ENV, "NETWATCH_ALLOWED_NETS": "127.75.0.0/16"}
    admin = token(db, inventory, "admin")
    tester = token(db, inventory, "tester", "--county", "west")
    ctx = ssl.create_default_context(cafile=str(tmp_path / "cert.pem"))
    auth = {"Authorization": f"Bearer {admin}"}

    with Daemon(inventory, db, tmp_path / "a", tmp_path / "a.log", "--behind-proxy",
                "--counties", "east", "--instance", "a", env=env, host=CLUSTER) as a, \
            Daemon(inventory, db, tmp_path / "b", tmp_path / "b.log", "--behind-proxy",
                   "--counties", "west", "--instance", "b", env=env, host=CLUSTER) as b:
        upstreams = [urllib.parse.urlsplit(d.url).netloc for d in (a, b)]
        tls_port, http_port = free_port(CLUSTER_PROXY), free_port(CLUSTER_PROXY)
        nginx = start_nginx(tmp_path, site_config(upstreams, tls_port, http_port, tmp_path,
                                                  CLUSTER_PROXY), tls_port, CLUSTER_PROXY)
        base = f"https://{CLUSTER_PROXY}:{tls_port}"

        def faults(county: str) -> tuple[int, set[str]]:
            status, _, body = call(f"{base}/api/v1/faults?county={county}", ctx, headers=auth)
            return status, ({f["device"] for f in json.loads(body)["faults"]}
                            if status == 200 else set())

        try:
            deadline = time.monotonic() + 90
            while (faults("east"), faults("west")) != ((200, {"cam-e"}), (200, {"cam-w"})):
                assert time.monotonic() < deadline, (a.log.read_text()[-3000:],
                                                     b.log.read_text()[-3000:])
                time.sleep(0.2)
            for _ in range(10):  # round robin: each instance answers for both counties
                assert faults("east") == (200, {"cam-e"}) and faults("west") == (200, {"cam-w"})
            answered = (tmp_path / "upstream.log").read_text()
            for upstream in upstreams:
                assert f"GET /api/v1/faults 200 {upstream} 200" in answered

            assert b.stop() == 0  # a clean stop: b's lease of west is released
            for _ in range(20):  # every request answered; west's faults from the database
                assert faults("west") == (200, {"cam-w"}) and faults("east") == (200, {"cam-e"})
            status, _, body = call(f"{base}/api/v1/devices?county=west", ctx, headers=auth)
            (cam,) = json.loads(body)["devices"]
            assert status == 200 and (cam["state"], cam["source"]) == ("fault", "store")
            reading = {"point": "p1", "taken_at": "2026-01-01T08:00:00+08:00",
                       "technology": "pdt", "rssi_dbm": -97, "ber": 0.01, "client_id": "n1"}
            status, _, body = call(f"{base}/api/v1/readings", ctx, "POST",
                                   json.dumps(reading).encode(),
                                   {"Authorization": f"Bearer {tester}",
                                    "Content-Type": "application/json"})
            assert status == 201, body
        finally:
            terminate(nginx, 10)
    # requests that nginx sent to the stopped b (refused) were passed on to a, not failed
    lines = (tmp_path / "upstream.log").read_text().splitlines()
    retried = [i for i, line in enumerate(lines)
               if line.endswith(f" {upstreams[1]}, {upstreams[0]} 502, 200")]
    assert retried, lines
    assert all(line.endswith(f" {upstreams[0]} 200") or line.endswith(f" {upstreams[0]} 201")
               or i in retried for i, line in enumerate(lines) if i > retried[0])
