"""Two ``netwatch run`` instances over one database (a SQLite file, or a PostgreSQL database),
each started for its own county: either one answers for both counties.

Instance a (started first: it also runs the city's duties) watches east, b watches west,
both as child processes, as users run them, with one-second sweeps of loopback services on
127.75.x.y (TCP ports looked up at start). Each one's ``/api/v1/devices`` and
``/api/v1/faults`` list both counties: its own from memory, the other's from the store. When
west's camera stops answering, a (which never probes it fully: a standby probes ICMP only,
and the camera has none) lists it as a fault once b has written it. b, which does not run
the duties, answers the coverage API (analysed on demand). A notice issued for west from
the command line (its files in a directory neither instance uses) is served by a, rendered
from the stored record.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from netwatch.lab.process import terminate
from tests.daemon.city import listening_url
from tests.daemon.test_gaps_e2e import Service

BOTH_ENGINES = True
HOST = "127.75.0.1"  # where both instances listen (ports of their own)
SWITCH, CAMERA = "127.75.1.11", "127.75.1.21"
WAIT = 90.0  # seconds for each state to be reached (a loaded machine is slow)
T = TypeVar("T")


def free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def inventory(switch: Service, camera: Service) -> str:
    return f"""\
city: {{name: 示例市, timezone: Asia/Shanghai}}
notices: {{issuing_unit: 示例市公安局, prefix: 示公科信, contact: "张警官 0000-00000000"}}
coverage:
  bbox: {{lat_min: 38.0, lat_max: 39.0, lon_min: 106.0, lon_max: 107.0}}
counties:
  - {{id: east, name: 东区, receiving_unit: 东区公安分局}}
  - {{id: west, name: 西区, receiving_unit: 西区公安分局}}
defaults:
  camera: {{interval: 1s, timeout: 500ms, grace: 0s}}
  switch: {{interval: 1s, timeout: 500ms, grace: 0s}}
devices:
  - {{id: sw-e, kind: switch, county: east, address: {SWITCH},
     checks: [{{probe: tcp, port: {switch.port}}}]}}
  - {{id: cam-w, kind: camera, county: west, address: {CAMERA}, name: 西桥,
     checks: [{{probe: tcp, port: {camera.port}}}]}}
coverage_points:
  - {{id: p1, name: 人民广场, county: east, lat: 38.5, lon: 106.5}}
"""


class Instance:
    """One ``netwatch run`` for ``county`` as ``name``; stopped by PID."""

    def __init__(self, root: Path, db: str, env: dict[str, str], name: str,
                 county: str) -> None:
        self.name = name
        self.log = root / f"{name}.log"
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "netwatch", "run", str(root / "inventory.yaml"),
                 "--listen", f"{HOST}:0", "--db", db, "--notices-dir", str(root / name),
                 "--counties", county, "--instance", name], stdout=out, stderr=out, env=env)
        self.url = listening_url(self.proc, self.log, 0, WAIT).rstrip("/")
        if not self.url:
            self.stop()
            raise RuntimeError(f"netwatch run did not start: {self.tail()}")

    def tail(self) -> str:
        return f"[{self.name}] " + self.log.read_bytes()[-4000:].decode(errors="replace")

    def stop(self) -> int | None:
        return terminate(self.proc, 30.0)

    def get(self, path: str, token: str | None = None) -> tuple[int, bytes]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        req = urllib.request.Request(self.url + path, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def json(self, path: str, token: str) -> Any:
        status, body = self.get(path, token)
        assert status == 200, (status, body[:500], self.tail())
        return json.loads(body)

    def devices(self, token: str) -> dict[str, dict[str, Any]]:
        return {d["id"]: d for d in self.json("/api/v1/devices", token)["devices"]}

    def faults(self, token: str) -> set[tuple[str, str]]:
        return {(f["device"], f["county"]) for f in self.json("/api/v1/faults", token)["faults"]}


def until(what: str, check: Callable[[], T | None], *instances: Instance) -> T:
    """Poll ``check`` until it returns something other than None or False, with a deadline."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        got = check()
        if got is not None and got is not False:
            return got
        for instance in instances:
            assert instance.proc.poll() is None, instance.tail()
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {WAIT:.0f} s\n"
                         + "\n".join(i.tail() for i in instances))


@pytest.fixture
def services() -> Iterator[tuple[Service, Service]]:
    switch, camera = Service(SWITCH, free_port(SWITCH)), Service(CAMERA, free_port(CAMERA))
    switch.open()
    camera.open()
    try:
        yield switch, camera
    finally:
        switch.close()
        camera.close()


def netwatch(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "netwatch", *args], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_each_instance_answers_for_both_counties(
        tmp_path: Path, db_arg: str, services: tuple[Service, Service]) -> None:
    switch, camera = services
    (tmp_path / "inventory.yaml").write_text(inventory(switch, camera), encoding="utf-8")
    env = {**os.environ, "NETWATCH_ALLOWED_NETS": "127.75.0.0/16"}
    admin = netwatch(env, "token", "create", "--role", "admin", "--db", db_arg,
                     "--inventory", str(tmp_path / "inventory.yaml")).strip().splitlines()[-1]
    a = Instance(tmp_path, db_arg, env, "a", "east")
    try:
        b = Instance(tmp_path, db_arg, env, "b", "west")
        try:
            both = (a, b)
            until("both ready, a running the duties", lambda: all(
                i.get("/readyz")[0] == 200 for i in both) and json.loads(
                a.get("/readyz")[1])["duties"] == "active", *both)
            assert json.loads(a.get("/readyz")[1])["counties"] == {"east": "active"}
            assert json.loads(b.get("/readyz")[1])["counties"] == {"west": "active"}

            def states(i: Instance) -> dict[str, str]:
                return {d: v["state"] for d, v in i.devices(admin).items()}

            for i in both:  # each lists both counties' devices, the other's from the store
                until(f"{i.name}: both devices up", lambda i=i: states(i) == {  # type: ignore[misc]
                    "sw-e": "up", "cam-w": "up"}, *both)
            assert a.devices(admin)["cam-w"]["source"] == "store"
            assert a.devices(admin)["cam-w"]["written_by"] == "b"
            assert b.devices(admin)["sw-e"]["source"] == "store"
            assert "source" not in a.devices(admin)["sw-e"]

            camera.close()  # west's camera stops answering: b sees it, writes it; a answers
            until("a lists west's camera as a fault", lambda: a.devices(admin)["cam-w"][
                "state"] == "fault" and ("cam-w", "west") in a.faults(admin), *both)
            assert a.faults(admin) == b.faults(admin) == {("cam-w", "west")}
            cam = a.devices(admin)["cam-w"]
            assert (cam["up"], cam["fault"], cam["checks"]["tcp"]["success"]) == (
                False, "unreachable", False)
            assert [f["fault"] for f in cam["open_faults"]] == ["unreachable"]

            # b does not run the duties; its coverage answer is analysed on demand
            status, body = b.get("/api/v1/blind-spots?class=unsurveyed", admin)
            assert status == 200, body
            assert [s["id"] for s in json.loads(body)["blind_spots"]] == ["p1"]

            # a notice of west, issued from the command line into the shared database
            out = netwatch(env, "notices", "generate", str(tmp_path / "inventory.yaml"),
                           "--county", "west", "--db", db_arg, "--out",
                           str(tmp_path / "cli-notices"))
            number = out.split(": ", 1)[1].split()[0]
            (notice,) = a.json("/api/v1/notices?county=west", admin)["notices"]
            assert notice["number"] == number
            status, text = a.get(f"/notices/{notice['id']}.md", admin)
            assert status == 200 and number in text.decode()
            assert not (tmp_path / "a").exists() or not any((tmp_path / "a").rglob("*.md"))
        finally:
            assert b.stop() == 0, b.tail()
    finally:
        assert a.stop() == 0, a.tail()
