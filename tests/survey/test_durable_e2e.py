"""Against ``netwatch run``: a reading answered 201 survives a kill -9 of the daemon at once."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.survey.city import write_city

LISTEN_HOST = "127.110.0.1"
ENV = {**os.environ, "NETWATCH_ALLOWED_NETS": "127.110.0.0/16"}
START_TIMEOUT = 30.0


def netwatch(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "netwatch", *args], env=ENV,
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], str, Path, Path]]:
    """``netwatch run`` on the survey city (loopback 127.110.0.1, a free port, its own db)."""
    inventory, db, log = write_city(tmp_path), tmp_path / "nw.db", tmp_path / "run.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "netwatch", "run", str(inventory), "--listen",
             f"{LISTEN_HOST}:0", "--db", str(db), "--notices-dir", str(tmp_path / "notices")],
            stdout=out, stderr=out, env=ENV)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        url = None
        while url is None and time.monotonic() < deadline and proc.poll() is None:
            found = re.search(r"listening on (http://\S+)", log.read_text(errors="replace"))
            url = found.group(1) if found else None
            if url is None:
                time.sleep(0.05)
        assert url is not None, log.read_text()[-2000:]
        yield proc, url, db, inventory
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def test_reading_is_on_disk_when_answered(
        daemon: tuple[subprocess.Popen[bytes], str, Path, Path]) -> None:
    """POST a reading, SIGKILL the daemon on the 201, reopen the database: it is there."""
    proc, url, db, inventory = daemon
    made = netwatch("token", "create", "--role", "tester", "--county", "north", "--name",
                    "tester-e2e", "--db", str(db), "--inventory", str(inventory))
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    taken = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    body = json.dumps({"point": "n-cp-1", "taken_at": taken, "rssi_dbm": -101,
                       "client_id": "e2e-1"}).encode()
    request = urllib.request.Request(
        f"{url}/api/v1/readings", data=body, method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as resp:
        status, answer = resp.status, resp.read()
        proc.kill()  # SIGKILL the moment the answer is in
    proc.wait()
    assert status == 201
    (reading_id,) = json.loads(answer)["ids"]
    conn = sqlite3.connect(db)
    try:
        row = conn.execute("SELECT tester, county, point, rssi_dbm, source FROM readings "
                           "WHERE id = ?", (reading_id,)).fetchone()
    finally:
        conn.close()
    assert row == ("tester-e2e", "north", "n-cp-1", -101.0, "api")
