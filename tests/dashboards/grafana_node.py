"""Runs the node checks in ``dashboards/check`` (Grafana's own npm packages) from pytest."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

DASHBOARDS = Path(__file__).resolve().parents[2] / "dashboards"
CHECK = DASHBOARDS / "check"
FILES = sorted((DASHBOARDS / "grafana").glob("*.json"))
PROVINCE = "netwatch-province"  # reads what a provincial Prometheus federates, nothing else
CITY_FILES = tuple(p for p in FILES if p.stem != PROVINCE)


def node(script: str, *args: str, timeout: float = 300.0) -> subprocess.CompletedProcess[str]:
    """``node dashboards/check/<script> args``; fails (not skips) without ``npm ci`` there."""
    if shutil.which("node") is None:
        pytest.fail("node is not installed (.ci/run installs it)")
    if not (CHECK / "node_modules" / "@grafana" / "data").is_dir():
        pytest.fail(f"Grafana's npm packages are missing: run npm ci --prefix {CHECK}")
    return subprocess.run(["node", str(CHECK / script), *args], capture_output=True, text=True,
                          timeout=timeout, check=False)


def dashboards(files: tuple[Path, ...] = CITY_FILES) -> dict[str, Any]:
    """The city's dashboards by name (or those of ``files``)."""
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in files}


def panel_report(boards: dict[str, Any], answers: dict[str, dict[int, dict[str, Any]]],
                 tmp: Path) -> dict[str, Any]:
    """live.cjs's report on ``boards`` given each panel's Prometheus answers by refId."""
    source = tmp / "answers.json"
    source.write_text(json.dumps({"dashboards": boards, "answers": answers}), encoding="utf-8")
    done = node("live.cjs", str(source))
    assert done.returncode == 0, done.stderr[-3000:]
    report: dict[str, Any] = json.loads(done.stdout)
    return report
