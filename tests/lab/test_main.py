"""``python -m netwatch.lab`` as a process on 127.104.14.0/24: ready line, exit codes, SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from netwatch.lab.netfilter import delete_table_now, table_exists
from netwatch.lab.process import LabProcess
from tests.lab.labkit import HEADER, SECRETS, needs_firewall, queue_number, table_name
from tests.peers import accepts, free_port

NET = "127.104.14"


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path, int]:
    port = free_port(f"{NET}.1")
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(HEADER + "".join(
        f"  - {{id: cam-{n}, kind: camera, county: north, address: {NET}.{n}, name: c{n},"
        f" ports: {{rtsp: {port}}}}}\n" for n in (1, 2)), encoding="utf-8")
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text("faults:\n  - {device: cam-2, fault: unreachable}\n", encoding="utf-8")
    return inventory, scenario, port


@pytest.fixture
def table() -> object:
    name = table_name("main")
    yield name
    delete_table_now(name)


def test_ready_line_then_sigterm_stops_cleanly(files: tuple[Path, Path, int], table: str) -> None:
    """The lab prints its LabInfo as one ready line, serves, and exits 0 on SIGTERM."""
    inventory, scenario, port = files
    lab = LabProcess(inventory, scenario, table=table, env=SECRETS,
                     extra_args=("--queue", str(queue_number(1))), ready_timeout=30)
    with lab:
        assert lab.info["devices"] == 2 and lab.info["responders"] == {"rtsp": 2}
        assert lab.info["faults"] == {"unreachable": 1}
        assert accepts(f"{NET}.1", port)
        assert lab.proc is not None
        lab.proc.send_signal(signal.SIGTERM)
        assert lab.proc.wait(15) == 0
    assert not accepts(f"{NET}.1", port)


@needs_firewall
def test_sigterm_leaves_no_table_behind(files: tuple[Path, Path, int], table: str) -> None:
    """SIGTERM to the lab process removes its nftables table before it exits."""
    inventory, scenario, _ = files
    with LabProcess(inventory, scenario, table=table, env=SECRETS,
                    extra_args=("--queue", str(queue_number(1))), ready_timeout=30) as lab:
        assert lab.info["table"] == table and table_exists(table)
        assert lab.proc is not None
        os.kill(lab.pid, signal.SIGTERM)
        assert lab.proc.wait(15) == 0
    assert not table_exists(table)


def test_invalid_scenario_exits_2_with_file_line(files: tuple[Path, Path, int],
                                                 tmp_path: Path) -> None:
    """A bad scenario is reported as FILE:LINE: message and nothing starts (exit 2)."""
    inventory, _, port = files
    bad = tmp_path / "bad.yaml"
    bad.write_text("faults:\n  - {device: cam-9, fault: unreachable}\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "netwatch.lab", str(inventory), "--scenario", str(bad),
         "--no-firewall"], capture_output=True, text=True, timeout=60,
        env={**os.environ, **SECRETS})
    assert done.returncode == 2
    assert f"{bad}:2: unknown device 'cam-9'" in done.stderr.splitlines()
    assert done.stdout == ""
