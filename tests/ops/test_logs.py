"""``--log-format json``: one object per line with time, level, logger, message and the fault's
fields; no secret in any line; plain text stays the default."""

from __future__ import annotations

import json
import logging
import re
import socket
import time
from pathlib import Path

from netwatch.runtime.logs import JsonFormatter
from tests.ops.daemon import ENV, INVENTORY, Daemon

SECRET = "s3cret-community-67"
BROKEN = """\
snmp_profiles:
  p: {version: 2c, community: "${NW_OPS_COMMUNITY}"}
  - {id: cam-3, kind: camera, county: east, address: 127.67.20.3, checks: [tcp],
     ports: {tcp: 9}, interval: 1s, timeout: 500ms, open_after: 1}
  - {id: sw-4, kind: switch, county: east, address: 127.67.20.4, snmp_profile: p,
     checks: [snmp], ports: {snmp: 9}, interval: 1s, timeout: 300ms, open_after: 1}
"""


def broken_inventory(tmp_path: Path) -> Path:
    profile, devices = BROKEN.split("  - ", 1)
    text = INVENTORY.replace("devices:\n", profile + "devices:\n  - " + devices, 1)
    path = tmp_path / "inventory.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_json_lines_carry_the_fault_fields_and_no_secret(tmp_path: Path) -> None:
    log = tmp_path / "daemon.log"
    inventory = broken_inventory(tmp_path)
    with Daemon(inventory, tmp_path / "n.db", tmp_path / "notices", log,
                "--log-format", "json", "--log-level", "debug",
                env={**ENV, "NW_OPS_COMMUNITY": SECRET}):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and log.read_text().count("fault ") < 2:
            time.sleep(0.1)
    lines = log.read_text(encoding="utf-8").splitlines()
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    assert all({"time", "level", "logger", "message"} <= set(e) for e in entries)
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", e["time"]) for e in entries)
    opened = {e["device"]: e for e in entries if e["message"].startswith("fault ")}
    assert set(opened) == {"cam-3", "sw-4"}
    assert opened["cam-3"]["county"] == "east" and opened["cam-3"]["fault"]
    assert opened["cam-3"]["logger"] == "netwatch.monitor.monitor"
    assert SECRET not in log.read_text(encoding="utf-8")


def test_secret_named_extras_are_left_out_and_text_is_the_default() -> None:
    record = logging.LogRecord("netwatch.x", logging.INFO, __file__, 1, "sent to %s", ("ops",),
                               None)
    record.device, record.auth_key, record.password, record.obj = "cam-1", "k", "p", object()
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "sent to ops" and entry["device"] == "cam-1"
    assert not {"auth_key", "password", "obj"} & set(entry)

    from click.testing import CliRunner

    from netwatch.cli import main

    help_text = CliRunner().invoke(main, ["run", "--help"]).output
    assert re.search(r"--log-format \[text\|json\].*\n?.*default: text", help_text)


def test_malformed_requests_leave_one_warning_line(tmp_path: Path) -> None:
    """``netwatch run`` answers thirty malformed requests with 400s and logs one warning
    line for them, without a traceback (aiohttp alone logs each at error level with one)."""
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(INVENTORY, encoding="utf-8")
    log = tmp_path / "daemon.log"
    with Daemon(inventory, tmp_path / "n.db", tmp_path / "notices", log,
                "--listen", "127.61.0.5:0") as daemon:
        host, port = daemon.url.split("//", 1)[1].rstrip("/").rsplit(":", 1)
        for i in range(30):
            with socket.create_connection((host, int(port)), timeout=30) as conn:
                conn.sendall(b"GET / HTTP/1.1\r\nHost: a\r\nBroken Header " + str(i).encode()
                             + b"\r\n\r\n")
                assert conn.recv(12) == b"HTTP/1.0 400"
    text = log.read_text(encoding="utf-8")
    malformed = [line for line in text.splitlines() if "malformed request" in line]
    assert len(malformed) == 1 and "WARNING" in malformed[0]
    assert "malformed request from 127.0.0.1 refused (BadHttpMessage)" in malformed[0]
    assert "Traceback" not in text and "Error handling request" not in text
