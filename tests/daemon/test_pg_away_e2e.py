"""PostgreSQL stopped under a running ``netwatch run``, then started again.

The daemon (a child process, as users run it) watches four loopback devices on
127.73.0.x with one-second sweeps: a switch and a gate camera whose TCP ports are open,
a trunking site answering ICMP, and a camera whose port is closed (its fault opens and is
recorded before the outage). Its store is a PostgreSQL server of this test's own
(``own_pg_server``), so stopping it breaks nothing else. The token is made with
``netwatch token create --db URL``, on the same database.

While the server is stopped the sweeps go on: the healthy devices stay up, the closed
camera's fault stays open, the gate camera (its port closed after the stop) opens a fault
in memory on its probes' word and nothing else opens or closes; ``/readyz`` answers 503
naming the store, and a readings POST is refused with 503 and ``Retry-After``. Once the
server is back ``/readyz`` is 200 again, the gate's fault is in the database once with the
first-seen time it had in memory, nothing was stored from the refused POST, and the same
POST (the same client ids) is taken, twice with the same ids.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from prometheus_client.parser import text_string_to_metric_families

from netwatch.lab.process import terminate
from tests import pgserver
from tests.daemon.city import listening_url
from tests.daemon.test_gaps_e2e import Service
from tests.pgserver import own_pg_server  # noqa: F401 - fixture

HOST = "127.73.0.1"  # the daemon's listen address
SWITCH, CAMERA, GATE, SITE = "127.73.0.11", "127.73.0.12", "127.73.0.13", "127.73.0.14"
PORT = 18554
WAIT = 90.0  # seconds for each state the daemon must reach (a loaded machine is slow)
INVENTORY = f"""\
city: {{name: 示例市, timezone: Asia/Shanghai}}
coverage: {{retention: 30d}}
counties:
  - {{id: east, name: 东区, receiving_unit: 东区公安分局,
     boundary: [[105.8, 38.0], [106.3, 38.0], [106.3, 38.4], [105.8, 38.4]]}}
defaults:
  camera: {{interval: 1s, timeout: 500ms, grace: 0s}}
  switch: {{interval: 1s, timeout: 500ms, grace: 0s}}
  trunking_site: {{interval: 1s, timeout: 500ms, grace: 0s}}
devices:
  - {{id: sw-a, kind: switch, county: east, address: {SWITCH},
     checks: [{{probe: tcp, port: {PORT}}}]}}
  - {{id: cam-b, kind: camera, county: east, address: {CAMERA},
     checks: [{{probe: tcp, port: {PORT}}}]}}
  - {{id: cam-gate, kind: camera, county: east, address: {GATE},
     checks: [{{probe: tcp, port: {PORT}}}]}}
  - {{id: ts-d, kind: trunking_site, county: east, address: {SITE}, lat: 38.2, lon: 106.0,
     checks: [icmp]}}
coverage_points:
  - {{id: e-cp-1, name: 东镇政府, county: east, lat: 38.21, lon: 106.01, serving_site: ts-d}}
"""
HEALTHY = ("sw-a", "ts-d")
T = TypeVar("T")

class Daemon:
    """One ``netwatch run`` on ``root/inventory.yaml`` and the database ``url``; stopped by
    PID."""

    def __init__(self, root: Path, url: str, env: dict[str, str]) -> None:
        self.log = root / "daemon.log"
        self.start = self.log.stat().st_size if self.log.exists() else 0  # a restart appends
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "netwatch", "run", str(root / "inventory.yaml"),
                 "--listen", f"{HOST}:0", "--db", url,
                 "--notices-dir", str(root / "notices")], stdout=out, stderr=out, env=env)
        self.url = listening_url(self.proc, self.log, self.start, WAIT).rstrip("/")
        if not self.url:
            self.stop()
            raise RuntimeError(f"netwatch run did not start: {self.tail()}")

    def tail(self) -> str:
        return self.text()[-4000:]

    def text(self) -> str:
        """What this run logged."""
        return self.log.read_bytes()[self.start:].decode(errors="replace")

    def stop(self) -> int | None:
        return terminate(self.proc, 30.0)

    def request(self, method: str, path: str, token: str | None = None,
                body: Any = None) -> tuple[int, dict[str, str], bytes]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, dict(resp.headers), resp.read()
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers), exc.read()

    def readyz(self) -> tuple[int, dict[str, Any]]:
        status, _, body = self.request("GET", "/readyz")
        return status, json.loads(body)

    def metrics(self) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
        """Every sample, by family member name and sorted labels."""
        status, _, body = self.request("GET", "/metrics")
        assert status == 200
        out: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
        for family in text_string_to_metric_families(body.decode()):
            for s in family.samples:
                out.setdefault(s.name, {})[tuple(sorted(s.labels.items()))] = s.value
        return out


def by_device(samples: dict[tuple[tuple[str, str], ...], float]) -> dict[str, float]:
    return {dict(labels)["device"]: value for labels, value in samples.items()}


def open_faults(m: dict[str, dict[tuple[tuple[str, str], ...], float]]) -> dict[str, float]:
    """Device → first-seen time of its open fault, as the daemon holds them in memory."""
    opened = {labels for labels, v in m.get("netwatch_fault_open", {}).items() if v == 1}
    return {dict(labels)["device"]: value
            for labels, value in m.get("netwatch_fault_since_timestamp_seconds", {}).items()
            if labels in opened}


def sweeps(m: dict[str, dict[tuple[tuple[str, str], ...], float]]) -> dict[str, float]:
    """Completed sweeps per group."""
    return {dict(labels)["group"]: v
            for labels, v in m.get("netwatch_sweep_runs_total", {}).items()}


def until(what: str, check: Callable[[], T | None], daemon: Daemon) -> T:
    """Poll ``check`` until it returns something other than None (or False); fail naming
    ``what`` after ``WAIT`` seconds."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        got = check()
        if got is not None and got is not False:
            return got
        assert daemon.proc.poll() is None, daemon.tail()
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {WAIT:.0f} s\n{daemon.tail()}")


@pytest.fixture
def services() -> Iterator[tuple[Service, Service]]:
    switch, gate = Service(SWITCH), Service(GATE)
    try:
        yield switch, gate
    finally:
        switch.close()
        gate.close()


def episodes(server: pgserver.Server, dbname: str,
             device: str) -> list[tuple[int, float, float | None]]:
    with server.admin(dbname) as conn:
        rows = conn.execute("SELECT id, first_seen, closed_at FROM fault_episodes "
                            "WHERE device = %s ORDER BY id", (device,)).fetchall()
    return [(int(r[0]), float(r[1]), None if r[2] is None else float(r[2])) for r in rows]


def stored_readings(server: pgserver.Server, dbname: str) -> list[int]:
    with server.admin(dbname) as conn:
        return [int(r[0]) for r in conn.execute("SELECT id FROM readings ORDER BY id")]


def test_postgresql_stopped_mid_sweep_and_started_again(
        tmp_path: Path, own_pg_server: pgserver.Server,  # noqa: F811
        services: tuple[Service, Service]) -> None:
    server, (switch, gate) = own_pg_server, services
    (tmp_path / "inventory.yaml").write_text(INVENTORY, encoding="utf-8")
    dbname = server.database()
    url = server.url(dbname)  # the password as ${NETWATCH_TEST_OWN_PGPASSWORD}
    env = {**os.environ, "NETWATCH_ALLOWED_NETS": "127.73.0.0/16"}
    made = subprocess.run(
        [sys.executable, "-m", "netwatch", "token", "create", "--role", "admin", "--name",
         "field lead", "--db", url, "--inventory", str(tmp_path / "inventory.yaml")],
        env=env, capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip().splitlines()[-1]
    assert server.password not in made.stdout + made.stderr

    switch.open()
    gate.open()
    daemon = Daemon(tmp_path, url, env)
    try:
        _run(daemon, server, dbname, token, gate)
    finally:
        code = daemon.stop()
    assert code == 0, daemon.tail()
    assert server.password not in daemon.log.read_text(errors="replace")


def _run(daemon: Daemon, server: pgserver.Server, dbname: str, token: str,
         gate: Service) -> None:
    # steady state, the store up: the closed camera's fault is open and recorded
    until("ready, the closed camera's fault recorded, the others up", lambda: (
        daemon.readyz()[0] == 200 and len(episodes(server, dbname, "cam-b")) == 1
        and by_device(daemon.metrics().get("netwatch_device_up", {})).get("cam-gate") == 1),
        daemon)
    [(camera_episode, camera_first_seen, still_open)] = episodes(server, dbname, "cam-b")
    assert still_open is None
    taken = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    batch = [{"point": "e-cp-1", "taken_at": taken, "rssi_dbm": -95, "client_id": "phone-1"},
             {"point": "e-cp-1", "taken_at": taken, "rssi_dbm": -90, "client_id": "phone-2"}]

    # the server stops mid-sweep; then the gate camera's port closes
    server.halt()
    gate.close()
    status, body = until("/readyz 503 naming the store", lambda: (
        r if (r := daemon.readyz())[0] == 503 else None), daemon)
    assert body["ready"] is False and body["problems"][0].startswith("store: "), body
    first = daemon.metrics()

    def gate_kept() -> float | None:
        m = daemon.metrics()
        seen = open_faults(m).get("cam-gate")
        return seen if m["netwatch_fault_changes_unrecorded"][()] >= 1 else None

    gate_first_seen = until("the gate camera's fault open in memory, unrecorded", gate_kept,
                            daemon)
    before = sweeps(first)

    def swept_thrice() -> Any:
        m = daemon.metrics()
        now = sweeps(m)
        return m if all(now[g] >= n + 3 for g, n in before.items()) else None

    m = until("three more sweeps of every group", swept_thrice, daemon)
    assert m["netwatch_store_up"][()] == 0
    up = by_device(m["netwatch_device_up"])
    assert [up[d] for d in HEALTHY] == [1, 1], up  # probing goes on: the healthy stay up
    assert open_faults(m) == {"cam-b": camera_first_seen, "cam-gate": gate_first_seen}
    assert m["netwatch_fault_changes_unrecorded"][()] == 1  # the gate's opening, nothing else
    status, headers, raw = daemon.request("POST", "/api/v1/readings", token, batch)
    assert (status, json.loads(raw)["error"]) == (503, "store unavailable"), raw
    assert headers["Retry-After"] == "5"
    status, _, raw = daemon.request("GET", "/api/v1/faults", token)  # no token can be checked
    assert (status, json.loads(raw)["error"]) == (503, "store unavailable"), raw
    status, body = daemon.readyz()
    assert status == 503 and body["problems"][0].startswith("store: "), body

    # the server is back: ready again, the kept change written once, the readings taken
    server.resume()
    until("/readyz 200 again", lambda: daemon.readyz()[0] == 200, daemon)
    until("the kept fault change recorded", lambda: (
        daemon.metrics()["netwatch_fault_changes_unrecorded"][()] == 0), daemon)
    [(gate_episode, first_seen, closed)] = episodes(server, dbname, "cam-gate")
    assert (first_seen, closed) == (gate_first_seen, None) and gate_episode > camera_episode
    assert episodes(server, dbname, "cam-b") == [(camera_episode, camera_first_seen, None)]
    for device in HEALTHY:
        assert episodes(server, dbname, device) == []
    assert stored_readings(server, dbname) == []  # nothing from the refused POST
    status, _, raw = daemon.request("POST", "/api/v1/readings", token, batch)
    assert status == 201, raw
    ids = json.loads(raw)["ids"]
    status, _, raw = daemon.request("POST", "/api/v1/readings", token, batch)
    assert (status, json.loads(raw)["ids"]) == (201, ids)
    assert stored_readings(server, dbname) == sorted(ids) and len(ids) == 2
    status, _, raw = daemon.request("GET", "/api/v1/faults?state=open", token)
    assert status == 200, raw
    listed = {f["device"]: (f["id"], f["first_seen_unix"]) for f in json.loads(raw)["faults"]}
    assert listed == {"cam-b": (camera_episode, camera_first_seen),
                      "cam-gate": (gate_episode, gate_first_seen)}
