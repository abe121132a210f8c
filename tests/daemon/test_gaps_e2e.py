"""Stop ``netwatch run`` for two hours with a device down, start it again, check the rates.

Two devices, each a TCP check on 127.68.0.x: the camera's port is closed (down) and the
switch's open (up) while the first run watches. The daemon stops cleanly; while it is
stopped the camera is repaired and the switch fails; a second run sees both. The first
run's clock is two hours back (libfaketime: the process's ``time()`` only, its monotonic
clock untouched), so two hours pass between the runs without waiting for them.

Nothing watched those two hours. The camera's fault, open through them and closed at the
second start, counts as down only while watched; the switch, up when the daemon stopped,
counts as up only while watched. On the old code the camera's rate came out near 0 %
(two hours down) and the switch's near 100 % (two hours up).
"""

from __future__ import annotations

import glob
import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from netwatch.lab.process import terminate
from tests.daemon.city import listening_url

OFFSET = 2 * 3600  # the first run's clock is this far back
HOST = "127.68.0.1"  # the daemon's listen address
CAMERA, SWITCH = "127.68.0.11", "127.68.0.12"
PORT = 18554
ENV = {**os.environ, "NETWATCH_ALLOWED_NETS": "127.68.0.0/16"}
WAIT = 90.0  # seconds for each state the daemon must reach (a loaded machine is slow)
INVENTORY = f"""\
city: {{name: 示例市, timezone: Asia/Shanghai}}
notices: {{issuing_unit: 示例市公安局, prefix: 示公科信, contact: "张警官 0000-00000000"}}
counties:
  - {{id: east, name: 东区, receiving_unit: 东区公安分局}}
defaults:
  camera: {{interval: 1s, timeout: 500ms, grace: 0s}}
  switch: {{interval: 1s, timeout: 500ms, grace: 0s}}
devices:
  - {{id: cam-a, kind: camera, county: east, address: {CAMERA},
     checks: [{{probe: tcp, port: {PORT}}}]}}
  - {{id: sw-c, kind: switch, county: east, address: {SWITCH},
     checks: [{{probe: tcp, port: {PORT}}}]}}
"""


def faketime_library() -> str:
    found = sorted(glob.glob("/usr/lib/*/faketime/libfaketimeMT.so.1"))
    return found[0] if found else ""


pytestmark = pytest.mark.skipif(not faketime_library(),
                                reason="needs libfaketime (Debian package faketime)")


class Service:
    """A TCP port that accepts and closes connections while open: a device's service."""

    def __init__(self, host: str, port: int = PORT) -> None:
        self.host, self.port = host, port
        self.server: socket.socket | None = None
        self.thread: threading.Thread | None = None

    def open(self) -> None:
        server = socket.create_server((self.host, self.port))
        server.settimeout(0.2)
        self.server = server
        self.thread = threading.Thread(target=self._accept, args=(server,), daemon=True)
        self.thread.start()

    def _accept(self, server: socket.socket) -> None:
        while self.server is server:
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.close()

    def close(self) -> None:
        server, self.server = self.server, None
        if server is not None:
            server.close()
        if self.thread is not None:
            self.thread.join(5)


class Run:
    """One ``netwatch run``, optionally on a clock ``offset`` seconds back; stopped by PID."""

    def __init__(self, root: Path, offset: int = 0) -> None:
        env = dict(ENV)
        if offset:
            env.update(LD_PRELOAD=faketime_library(), FAKETIME=f"-{offset}",
                       FAKETIME_DONT_FAKE_MONOTONIC="1")
        self.log = root / "daemon.log"
        start = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "netwatch", "run", str(root / "inventory.yaml"),
                 "--listen", f"{HOST}:0", "--db", str(root / "netwatch.db"),
                 "--notices-dir", str(root / "notices"), "--instance", "gaps-e2e"],
                stdout=out, stderr=out, env=env)  # one name: its restart is its own
        self.url = listening_url(self.proc, self.log, start, WAIT)
        if not self.url:
            self.stop()
            raise RuntimeError(f"netwatch run did not start: {self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        assert terminate(self.proc, 30.0) == 0, self.log.read_text()[-3000:]

    def metrics(self) -> str:
        with urllib.request.urlopen(self.url.rstrip("/") + "/metrics", timeout=30) as resp:
            return str(resp.read().decode())


def query(db: Path, sql: str, *params: object) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def until(what: str, done: Callable[[], bool], run: Run) -> float:
    """Poll until ``done``; the time it became true. Fails naming ``what`` after WAIT."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if done():
            return time.time()
        assert run.proc.poll() is None, run.log.read_text()[-3000:]
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {WAIT:.0f} s\n{run.log.read_text()[-3000:]}")


@pytest.fixture
def services() -> Iterator[tuple[Service, Service]]:
    camera, switch = Service(CAMERA), Service(SWITCH)
    try:
        yield camera, switch
    finally:
        camera.close()
        switch.close()


def test_two_hours_stopped_count_neither_online_nor_offline(
        tmp_path: Path, services: tuple[Service, Service]) -> None:
    camera, switch = services
    (tmp_path / "inventory.yaml").write_text(INVENTORY, encoding="utf-8")
    db = tmp_path / "netwatch.db"

    def open_fault(device: str) -> bool:
        return bool(query(db, "SELECT 1 FROM fault_episodes WHERE device = ? AND fault = "
                              "'unreachable' AND closed_at IS NULL", device))

    def settled(*devices: str) -> bool:
        since = dict(query(db, "SELECT device, since FROM monitored_since"))
        return all(since.get(d, float("inf")) < float("inf") for d in devices)

    # run 1, two hours ago: the camera down (its fault opens), the switch up
    switch.open()
    first = Run(tmp_path, OFFSET)
    began = time.time()
    until("the camera's fault opens, both devices count from their first check",
          lambda: open_fault("cam-a") and settled("cam-a", "sw-c"), first)
    watched_first = time.time() - began
    stopped = time.time()
    first.stop()

    # while nothing watches, the camera is repaired and the switch fails
    switch.close()
    camera.open()

    # run 2, now: the camera's fault closes, the switch's opens
    second = Run(tmp_path)
    resumed = time.time()
    closed = until("the camera's fault closes and the switch's opens",
                   lambda: not open_fault("cam-a") and open_fault("sw-c"), second)
    # up at least as long as it was watched down: a rate of one half or more once
    # unwatched time is left out (the old code counted the two hours down: under 1 %)
    down_watched = watched_first + (closed - resumed)
    until("the camera has been up as long as it was watched down",
          lambda: time.time() - closed >= down_watched, second)
    scrape = second.metrics()
    out = tmp_path / "out"
    for lang in ("zh", "en"):
        done = subprocess.run(
            [sys.executable, "-m", "netwatch", "notices", "generate",
             str(tmp_path / "inventory.yaml"), "--db", str(db), "--out", str(out),
             "--lang", lang], env=ENV, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
    issued = time.time()
    second.stop()

    [path] = (out / "east").glob("*.json")
    record = json.loads(path.read_text(encoding="utf-8"))
    rates = {s["kind"]: s["online_ratio"] for s in record["summary"]}
    assert rates["camera"] >= 0.45, rates  # old code: under 0.01
    assert rates["switch"] <= 0.5, rates  # old code: over 0.99

    [gap] = query(db, "SELECT county, started, ended, reason FROM monitoring_gaps")
    assert gap[0] == "east" and gap[3] == "daemon_down"  # its one county, taken again
    length = float(gap[2]) - float(gap[1])  # type: ignore[arg-type]
    assert OFFSET <= length <= OFFSET + (resumed - stopped) + 5
    assert 'netwatch_monitoring_gaps_total{reason="daemon_down"} 1' in scrape
    [seconds] = re.findall(
        r'^netwatch_monitoring_gap_seconds_total\{reason="daemon_down"\} (\S+)$', scrape, re.M)
    assert float(seconds) == pytest.approx(length, abs=1e-3)
    assert length - 1 <= record["unwatched_seconds"] <= length + 1
    assert record["short_period"] is True and record["usual_period_days"] == 7
    assert issued - record["unwatched_seconds"] > 0
    hours, minutes = divmod(int(record["unwatched_seconds"]) // 60, 60)
    zh_span = f"{hours}小时" + (f"{minutes}分钟" if minutes else "")
    en_span = f"{hours} h" + (f" {minutes} min" if minutes else "")
    zh = next((out / "east").glob("*.zh.md")).read_text(encoding="utf-8")
    en = next((out / "east").glob("*.en.md")).read_text(encoding="utf-8")
    assert f"其中{zh_span}未监测，不计入在线率" in zh.replace("\\", "")
    assert "本期不足7天" in zh
    assert f"{en_span} of it unwatched" in en
