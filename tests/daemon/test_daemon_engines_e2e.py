"""``netwatch run`` on either engine: a SQLite file, or a PostgreSQL URL.

The daemon (a child process, as users run it) watches two loopback devices on 127.73.1.x
with one-second sweeps: a switch whose TCP port is open and a camera whose port is closed.
The camera's fault opens and is recorded in the database; a restart (SIGTERM, a new
process on the same database) restores it with its episode id and first-seen time and
records no second one. The token is made by ``netwatch token create --db`` on the same
database and checked by the daemon there.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from netwatch.store import Episode, FaultLog, Store, parse_target
from tests.daemon.test_gaps_e2e import Service
from tests.daemon.test_pg_away_e2e import Daemon, by_device, until

BOTH_ENGINES = True
SWITCH, CAMERA = "127.73.1.11", "127.73.1.12"
PORT = 18554
INVENTORY = f"""\
city: {{name: 示例市, timezone: Asia/Shanghai}}
counties:
  - {{id: east, name: 东区, receiving_unit: 东区公安分局}}
defaults:
  camera: {{interval: 1s, timeout: 500ms, grace: 0s}}
  switch: {{interval: 1s, timeout: 500ms, grace: 0s}}
devices:
  - {{id: sw-a, kind: switch, county: east, address: {SWITCH},
     checks: [{{probe: tcp, port: {PORT}}}]}}
  - {{id: cam-b, kind: camera, county: east, address: {CAMERA},
     checks: [{{probe: tcp, port: {PORT}}}]}}
"""


@pytest.fixture
def switch() -> Iterator[Service]:
    service = Service(SWITCH)
    service.open()
    try:
        yield service
    finally:
        service.close()


def faults(daemon: Daemon, token: str) -> dict[str, tuple[int, float]]:
    """Open faults by device: episode id and first-seen time, from the API."""
    status, _, raw = daemon.request("GET", "/api/v1/faults?state=open", token)
    assert status == 200, raw
    return {f["device"]: (f["id"], f["first_seen_unix"]) for f in json.loads(raw)["faults"]}


def recorded(store: Store) -> list[Episode]:
    return FaultLog(store).query(state="all")


def test_a_fault_is_recorded_and_a_restart_restores_it(
        tmp_path: Path, db_arg: str, switch: Service) -> None:
    (tmp_path / "inventory.yaml").write_text(INVENTORY, encoding="utf-8")
    env = {**os.environ, "NETWATCH_ALLOWED_NETS": "127.73.0.0/16"}  # with the server's password
    made = subprocess.run(
        [sys.executable, "-m", "netwatch", "token", "create", "--role", "county", "--county",
         "east", "--name", "east duty desk", "--db", db_arg,
         "--inventory", str(tmp_path / "inventory.yaml")],
        env=env, capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip().splitlines()[-1]
    store = Store.open(parse_target(db_arg), create=False)
    try:
        first = Daemon(tmp_path, db_arg, env)
        try:
            until("ready, the camera's fault recorded, the switch up", lambda: (
                first.readyz()[0] == 200 and [e.device for e in recorded(store)] == ["cam-b"]
                and by_device(first.metrics()["netwatch_device_up"]).get("sw-a") == 1), first)
            [episode] = recorded(store)
            assert episode.closed_at is None
            assert faults(first, token) == {"cam-b": (episode.id, episode.first_seen)}
        finally:
            assert first.stop() == 0, first.tail()

        second = Daemon(tmp_path, db_arg, env)
        try:
            assert "1 open fault(s) adopted" in second.text(), second.tail()
            assert faults(second, token) == {"cam-b": (episode.id, episode.first_seen)}
            until("ready again, every group swept", lambda: second.readyz()[0] == 200, second)
            assert faults(second, token) == {"cam-b": (episode.id, episode.first_seen)}
            assert recorded(store) == [episode]  # still open, no second episode
        finally:
            assert second.stop() == 0, second.tail()
    finally:
        store.close()
