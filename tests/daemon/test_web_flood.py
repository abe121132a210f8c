"""A flood of idle and slowloris connections against ``netwatch run`` watching the device lab.

The daemon runs as a child with a small open-file limit (``NOFILE``), far fewer than the
connections the flood opens, so without the listener's cap the flood would take the
descriptors the probes need and every device would look down. During the flood the
lab's devices (all healthy) must stay up with no fault open, ``/metrics`` must answer
Prometheus's address, and the server must close every flood connection: excess ones at
once, idle and slow ones within the header timeout.
"""

from __future__ import annotations

import http.client
import os
import re
import resource
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from netwatch.inventory import load_inventory
from netwatch.lab.process import LabProcess, terminate
from tests.daemon.city import DEMO_DIR, ENV, FAST_DEFAULTS, _fast, move
from tests.daemon.test_daemon_e2e import by_device, open_faults, samples

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("nft"), reason="the lab needs root and nft")

NET = 163  # the city's addresses: 127.163.x.y
LISTEN = "127.163.0.1"
PROMETHEUS = "127.163.0.2"  # the scraper's source address
FLOODERS = [f"127.163.0.{n}" for n in range(100, 106)]
NOFILE = 1024  # the daemon's open-file limit (soft and hard)
CAP, PER_ADDRESS, HEADER_TIMEOUT = 96, 48, 3.0
IDLE_PER_ADDRESS, SLOW_PER_ADDRESS = 200, 40  # 1,440 connections: more than NOFILE
SETTLE = 60.0
SWEEPS = "    interval: 2s\n    timeout: 1500ms\n"  # short, with room for a loaded machine


def _limit_nofile() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (NOFILE, NOFILE))


class Daemon:
    """``netwatch run`` with small web limits and a small open-file limit."""

    def __init__(self, root: Path) -> None:
        self.log = root / "daemon.log"
        text = _fast(move((DEMO_DIR / "inventory.yaml").read_text(), NET)).replace(
            FAST_DEFAULTS, SWEEPS)
        (root / "inventory.yaml").write_text(text)
        (root / "cameras.csv").write_text(move((DEMO_DIR / "cameras.csv").read_text(), NET))
        self.inventory = root / "inventory.yaml"
        env = {**ENV, "NETWATCH_ALLOWED_NETS": f"127.{NET}.0.0/16"}
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "netwatch", "run", str(self.inventory),
                 "--listen", f"{LISTEN}:0", "--db", str(root / "netwatch.db"),
                 "--notices-dir", str(root / "notices"), "--fd-reserve", "600",
                 "--web-max-connections", str(CAP), "--web-max-per-address", str(PER_ADDRESS),
                 "--web-header-timeout", str(HEADER_TIMEOUT), "--web-keepalive-timeout", "3"],
                stdout=out, stderr=out, env=env, preexec_fn=_limit_nofile)
        self.port = self._wait_listening()

    def _wait_listening(self) -> int:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            found = re.findall(r"listening on http://[\d.]+:(\d+)", self.log.read_text())
            if found:
                return int(found[-1])
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        terminate(self.proc, 10)
        raise RuntimeError(f"netwatch run did not start: {self.log.read_text()[-2000:]}")

    def scrape(self) -> str:
        """GET /metrics from Prometheus's address on a fresh connection."""
        conn = http.client.HTTPConnection(LISTEN, self.port, timeout=10,
                                          source_address=(PROMETHEUS, 0))
        try:
            conn.request("GET", "/metrics")
            resp = conn.getresponse()
            assert resp.status == 200
            return resp.read().decode()
        finally:
            conn.close()


def all_up(text: str, devices: int) -> bool:
    up = by_device(text, "netwatch_device_up")
    return len(up) == devices and all(v == 1 for v in up.values())


def flood(port: int, address: str, count: int, head: bytes) -> list[socket.socket]:
    """``count`` connections from ``address``, each sending ``head`` and then nothing."""
    socks = []
    for _ in range(count):
        s = socket.socket()
        s.bind((address, 0))
        s.settimeout(5)
        s.connect((LISTEN, port))
        if head:
            s.sendall(head)
        s.setblocking(False)
        socks.append(s)
    return socks


def closed_by_server(s: socket.socket, trickle: bytes) -> bool:
    """Whether the server has closed ``s`` (EOF or reset); a slow client sends another byte."""
    try:
        if trickle:
            s.send(trickle)
        return s.recv(4096) == b""
    except BlockingIOError:
        return False
    except OSError:  # reset or broken pipe: closed
        return True


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = len(FLOODERS) * (IDLE_PER_ADDRESS + SLOW_PER_ADDRESS) + 256
    if hard != resource.RLIM_INFINITY and hard < needed:
        pytest.skip(f"the test needs {needed} open files, the hard limit is {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, needed), hard))
    root = tmp_path_factory.mktemp("web_flood")
    lab_dir = root / "lab"
    lab_dir.mkdir()
    (lab_dir / "inventory.yaml").write_text(move((DEMO_DIR / "inventory.yaml").read_text(), NET))
    (lab_dir / "cameras.csv").write_text(move((DEMO_DIR / "cameras.csv").read_text(), NET))
    with LabProcess(lab_dir / "inventory.yaml", None, table=f"netwatch_lab_flood{os.getpid()}",
                    env=ENV):
        running = Daemon(root)
        try:
            yield running
        finally:
            terminate(running.proc, 15)
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_flood_of_idle_and_slow_connections_leaves_every_device_up(daemon: Daemon) -> None:
    devices = len(load_inventory(daemon.inventory, env=ENV).devices)
    deadline = time.monotonic() + SETTLE
    while not all_up(daemon.scrape(), devices):
        assert time.monotonic() < deadline, "the lab's devices were not all up before the flood"
        time.sleep(0.5)

    slow_head = b"GET / HTTP/1.1\r\nHost: netwatch\r\n"
    idle: list[socket.socket] = []
    slow: list[socket.socket] = []

    def healthy() -> None:
        text = daemon.scrape()  # answers throughout the flood
        assert open_faults(text) == {}, "a fault opened during the flood"
        assert all_up(text, devices), "a device looked down during the flood"

    try:
        for address in FLOODERS:
            idle += flood(daemon.port, address, IDLE_PER_ADDRESS, b"")
            slow += flood(daemon.port, address, SLOW_PER_ADDRESS, slow_head)
            healthy()
        open_socks = [(s, b"") for s in idle] + [(s, b"X-a: b\r\n") for s in slow]
        deadline = time.monotonic() + HEADER_TIMEOUT + 20
        while open_socks:
            healthy()
            open_socks = [(s, t) for s, t in open_socks if not closed_by_server(s, t)]
            assert time.monotonic() < deadline, (
                f"{len(open_socks)} flood connections still open {HEADER_TIMEOUT + 20:g} s on")
            time.sleep(0.5)
    finally:
        for s in idle + slow:
            s.close()
    text = daemon.scrape()
    assert open_faults(text) == {} and all_up(text, devices)
    closed = {dict(labels)["reason"]: value
              for labels, value in samples(text, "netwatch_web_connections_closed_total").items()}
    assert closed["over_cap"] > 0 and closed["header_timeout"] > 0
