"""A small inventory on 127.67.x.y and ``netwatch run`` as a child, for the operations tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from netwatch.lab.process import terminate
from tests.daemon.city import listening_url

ENV = {**os.environ, "NETWATCH_ALLOWED_NETS": "127.67.0.0/16"}
HOST = "127.67.0.1"
INVENTORY = """\
city: {name: 示例市, timezone: Asia/Shanghai}
notices: {issuing_unit: 示例市公安局, prefix: 示公科信, contact: "张警官 0000-00000000"}
coverage:
  bbox: {lat_min: 38.0, lat_max: 39.0, lon_min: 106.0, lon_max: 107.0}
counties:
  - {id: east, name: 东区, receiving_unit: 东区公安分局}
defaults:
  camera: {interval: 1h}
devices:
  - {id: cam-1, kind: camera, county: east, address: 127.67.20.1, name: 人民路口, checks: [icmp]}
  - {id: cam-2, kind: camera, county: east, address: 127.67.20.2, checks: [icmp]}
coverage_points:
  - {id: p1, name: 人民广场, county: east, lat: 38.5, lon: 106.5}
"""


def netwatch(*args: str | Path, env: dict[str, str] | None = None,
             cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "netwatch", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, env=env or ENV, timeout=120)


class Daemon:
    """``netwatch run`` on ``inventory``; ``url`` once it listens, stopped by PID."""

    def __init__(self, inventory: Path, db: Path, notices: Path, log: Path,
                 *extra: str, env: dict[str, str] | None = None, host: str = HOST) -> None:
        self.args = [sys.executable, "-m", "netwatch", "run", str(inventory), "--listen",
                     f"{host}:0", "--db", str(db), "--notices-dir", str(notices), *extra]
        self.log = log
        self.env = env or ENV
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = ""

    def __enter__(self) -> Daemon:
        start = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(self.args, stdout=out, stderr=out, env=self.env)
        self.url = listening_url(self.proc, self.log, start, 60.0)
        if not self.url:
            self.stop()
            raise RuntimeError(f"netwatch run did not start: {self.log.read_text()[-3000:]}")
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> int | None:
        proc, self.proc = self.proc, None
        return None if proc is None else terminate(proc, 15.0)

    def call(self, method: str, path: str, token: str, body: Any = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url.rstrip("/") + path, data=data, method=method,
                                     headers={"Authorization": f"Bearer {token}",
                                              "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                raw, status = resp.read(), resp.status
        except urllib.error.HTTPError as exc:
            raw, status = exc.read(), exc.code
        try:
            return status, json.loads(raw)
        except ValueError:
            return status, raw.decode("utf-8", "replace")


def token(db: Path, inventory: Path, role: str, *more: str) -> str:
    done = netwatch("token", "create", "--role", role, "--db", db, "--inventory", inventory,
                    *more)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()
