"""``netwatch demo``: the shipped demo city played by the lab, probed once, shown.

The daemon issue turns this into lab + ``netwatch run``; until then the demo
is one sweep of the demo city with the demo scenario's faults.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console

from netwatch import report
from netwatch.allowlist import AllowList
from netwatch.cli_support import load_or_exit, run_async
from netwatch.inventory import demo_inventory_path
from netwatch.lab_process import LabError, LabProcess
from netwatch.sweep import sweep_once


def demo_scenario_path() -> Path:
    return demo_inventory_path().parent / "scenario.yaml"


def run_demo(inventory: Path, scenario: Path | None, allow: AllowList) -> int:
    """Start the lab, sweep once, print the table; the lab is stopped on every path out."""
    inv = load_or_exit(str(inventory))
    scenario = scenario or demo_scenario_path()
    console = Console()
    console.print(f"starting the device lab for {len(inv.devices)} devices ({scenario.name}) …")
    try:
        with LabProcess(inventory, scenario) as lab:
            console.print(f"lab ready (pid {lab.pid}): {_describe(lab.info)}")
            rows = run_async(sweep_once(inv.devices, allow, show_progress=sys.stderr.isatty()))
    except LabError as exc:
        click.echo(f"netwatch demo: {exc}", err=True)
        return 1
    report.print_table(inv, report.judged(rows), console)
    return 0


def _describe(info: dict[str, object]) -> str:
    """The lab's ready report in one readable line."""
    def pairs(key: str) -> str:
        value = info.get(key) or {}
        return ", ".join(f"{k} {v}" for k, v in value.items()) if isinstance(value, dict) else ""

    text = f"responders: {pairs('responders')}; faults: {pairs('faults') or 'none'}"
    missing = pairs("unavailable")
    return text + (f"; not available: {missing}" if missing else "")
