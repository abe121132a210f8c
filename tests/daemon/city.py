"""The demo city moved to 127.106.x.y for the daemon end-to-end test, and the daemon as a child.

``write_city`` writes two inventories: the lab's (the whole demo city, moved) and the
daemon's (the same city with one-second sweeps, one camera left out so a reload can add it,
and a maintenance window over one broken device), plus a scenario copy whose flapping
camera toggles fast enough to be judged within seconds. ``DaemonProcess`` runs
``netwatch run`` on them and stops it by PID.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from netwatch.inventory import DEMO_SECRETS, demo_inventory_path
from netwatch.lab.process import terminate

ENV = {**os.environ, **DEMO_SECRETS, "NETWATCH_ALLOWED_NETS": "127.106.0.0/16"}
DEMO_DIR = demo_inventory_path().parent
LISTEN_HOST = "127.106.0.1"
LEFT_OUT = "xa-cam-020"  # healthy camera the daemon starts without; a reload adds it
IN_MAINTENANCE = "pc-cam-040"  # unreachable camera inside the maintenance window
FLAP_PERIOD = "1500ms"  # not a multiple of the 1 s sweep, so the sweeps see it change
FAST_DEFAULTS = "    interval: 1s\n    timeout: 600ms\n"


@dataclass(frozen=True, slots=True)
class CityFiles:
    lab_inventory: Path
    inventory: Path
    scenario: Path
    db: Path


def move(text: str, net: int = 106) -> str:
    """127.20–23.x.y (the demo's addresses) → 127.{net}.(16·c + x).y."""
    return re.sub(
        r"127\.(2[0-3])\.(\d+)\.(\d+)",
        lambda m: f"127.{net}.{(int(m[1]) - 20) * 16 + int(m[2])}.{m[3]}",
        text,
    )


def _fast(text: str) -> str:
    """Every kind's defaults with one-second sweeps and a short timeout."""
    text = re.sub(r"^    interval: \S+\n    timeout: \S+\n", FAST_DEFAULTS, text, flags=re.M)
    assert text.count(FAST_DEFAULTS) == 4, "the demo's defaults changed shape"
    return text


def _maintenance(text: str) -> str:
    """A one-off window from an hour ago to an hour ahead over ``IN_MAINTENANCE``."""
    now = datetime.now(UTC).replace(microsecond=0)
    start, end = (now - timedelta(hours=1)).isoformat(), (now + timedelta(hours=1)).isoformat()
    window = (f'  - {{devices: [{IN_MAINTENANCE}], start: "{start}", end: "{end}", '
              "reason: e2e test}\n")
    return text.replace("maintenance:\n", "maintenance:\n" + window, 1)


def without_device(text: str, device_id: str) -> str:
    """The inventory text without the line defining ``device_id``."""
    lines = text.splitlines(keepends=True)
    kept = [ln for ln in lines if f"{{id: {device_id}," not in ln]
    assert len(kept) == len(lines) - 1, device_id
    return "".join(kept)


def write_city(root: Path) -> CityFiles:
    """The lab's and the daemon's inventories and the scenario, under ``root``."""
    lab, daemon = root / "lab", root / "daemon"
    for where in (lab, daemon):
        where.mkdir()
        (where / "cameras.csv").write_text(move((DEMO_DIR / "cameras.csv").read_text()))
    city = move((DEMO_DIR / "inventory.yaml").read_text())
    (lab / "inventory.yaml").write_text(city)
    (daemon / "inventory.yaml").write_text(
        without_device(_maintenance(_fast(city)), LEFT_OUT))
    scenario = (DEMO_DIR / "scenario.yaml").read_text()
    flap = "{device: lh-cam-010, fault: flapping, period: 10s}"
    assert flap in scenario, "the demo scenario changed shape"
    (root / "scenario.yaml").write_text(
        scenario.replace(flap, flap.replace("10s", FLAP_PERIOD)))
    return CityFiles(lab / "inventory.yaml", daemon / "inventory.yaml", root / "scenario.yaml",
                     root / "netwatch.db")


def listening_url(proc: subprocess.Popen[bytes], log: Path, start: int, timeout: float) -> str:
    """The URL ``netwatch run`` logged after byte ``start`` of its log; "" if it exited or
    did not listen within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    pattern = re.compile(r"listening on (http://[^\s\"]+)")
    while time.monotonic() < deadline:
        found = pattern.findall(log.read_bytes()[start:].decode(errors="replace"))
        if found:
            return str(found[-1])
        if proc.poll() is not None:
            return ""
        time.sleep(0.05)
    return ""


class DaemonProcess:
    """``netwatch run`` on the city's daemon inventory; ``url`` once it listens."""

    def __init__(self, files: CityFiles, log: Path, ready_timeout: float = 30.0) -> None:
        self.files = files
        self.log = log
        self.ready_timeout = ready_timeout
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = ""

    def start(self) -> DaemonProcess:
        start = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "netwatch", "run", str(self.files.inventory),
                 "--listen", f"{LISTEN_HOST}:0", "--db", str(self.files.db),
                 "--notices-dir", str(self.files.db.parent / "notices")],
                stdout=out, stderr=out, env=ENV,
            )
        self.url = listening_url(self.proc, self.log, start, self.ready_timeout)
        if not self.url:
            self.stop()
            raise RuntimeError(f"netwatch run did not start: {self.log.read_text()[-3000:]}")
        return self

    def stop(self, timeout: float = 15.0) -> int | None:
        """SIGTERM, then SIGKILL if it hangs; returns the exit status."""
        proc, self.proc = self.proc, None
        return None if proc is None else terminate(proc, timeout)

    def get(self, path: str, token: str | None = None) -> tuple[int, bytes]:
        return self.request("GET", path, token)

    def request(self, method: str, path: str, token: str | None = None) -> tuple[int, bytes]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        req = urllib.request.Request(self.url + path, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()
