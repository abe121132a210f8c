"""``netwatch demo``: the shipped demo city played by the lab and watched by the daemon.

The lab runs as a child process with the demo scenario; the daemon runs here on
the same inventory with every interval shortened to a few seconds, so faults
open within a minute. State lives in a directory of its own, never in
``./netwatch.db``. Ctrl-C stops the daemon, then the lab (which removes its
firewall rules). ``--once`` probes the city once and prints a table instead.
"""

from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from rich.console import Console

from netwatch.circulars import (
    CircularError,
    declare_today,
    issue_circular,
    month_before,
    seed_month,
    write_circular_files,
)
from netwatch.cli import report
from netwatch.cli.progress import sweep_progress
from netwatch.cli.support import capacity_or_exit, load_or_exit
from netwatch.daemon import DaemonOptions, Listen, run_daemon
from netwatch.inventory import Device, Inventory, demo_inventory_path
from netwatch.lab import LabError, LabProcess
from netwatch.monitor import AllowList, sweep_once
from netwatch.runtime import run_async
from netwatch.store import Store, TokenStore
from netwatch.survey import seed_demo_readings
from netwatch.vocab import Role

LAB_TABLE = "netwatch_lab"  # the lab's nftables table unless --lab-table says otherwise
DEMO_INTERVAL = 5.0  # seconds between sweeps of every group in the demo
DEMO_GRACE = 15.0  # seconds a fault stays open before it is a notice item
DEMO_VERIFICATION = 120.0  # seconds healthy before an item counts as rectified
DEMO_NOTICES = "* * * * *"  # notices issued (idempotently: once a day per county) every minute
DEMO_SAMPLE_EVERY = 20.0  # seconds between a camera's video samples, or clock reads
DEMO_RESAMPLE = 10.0  # seconds before a sample that found its problem is taken again


def demo_scenario_path() -> Path:
    return demo_inventory_path().with_name("scenario.yaml")


def default_state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "netwatch-demo"


def fast(inventory: Inventory) -> Inventory:
    """The demo's inventory sped up: short intervals and grace, samples every few sweeps,
    notices every minute.

    So faults (a camera without video and a drifting clock too), notice items and the
    day's notices all show within a minute or two.
    """
    def sped(d: Device) -> Device:
        limits = dataclasses.replace(d.thresholds, video_every_seconds=DEMO_SAMPLE_EVERY,
                                     clock_every_seconds=DEMO_SAMPLE_EVERY,
                                     resample_seconds=DEMO_RESAMPLE)
        return dataclasses.replace(d, interval=DEMO_INTERVAL, thresholds=limits,
                                   grace_seconds=min(d.grace_seconds, DEMO_GRACE))

    devices = tuple(sped(d) for d in inventory.devices)
    notices = dataclasses.replace(inventory.notices, schedule=DEMO_NOTICES,
                                  verification_window_seconds=DEMO_VERIFICATION)
    return dataclasses.replace(inventory, devices=devices, notices=notices)


def _describe(info: dict[str, object]) -> str:
    """The lab's ready report in one readable line."""

    def pairs(key: str) -> str:
        value = info.get(key) or {}
        return ", ".join(f"{k} {v}" for k, v in value.items()) if isinstance(value, dict) else ""

    text = f"responders: {pairs('responders')}; faults: {pairs('faults') or 'none'}"
    missing = pairs("unavailable")
    return text + (f"; not available: {missing}" if missing else "")


def sweep_demo(path: Path, scenario: Path | None, allow: AllowList,
               lab_table: str = LAB_TABLE) -> int:
    """Start the lab, sweep once, print the table; the lab is stopped on every path out."""
    inv = load_or_exit(str(path))
    capacity = capacity_or_exit()
    scenario = scenario or demo_scenario_path()
    console = Console()
    console.print(f"starting the device lab for {len(inv.devices)} devices ({scenario.name}) …")
    try:
        with LabProcess(path, scenario, table=lab_table) as lab:
            console.print(f"lab ready (pid {lab.pid}): {_describe(lab.info)}")
            with sweep_progress(len(inv.devices)) as progress:
                rows = run_async(sweep_once(inv.devices, allow, capacity=capacity,
                                            progress=progress))
    except LabError as exc:
        click.echo(f"netwatch demo: {exc}", err=True)
        return 1
    report.print_table(inv, report.judged(rows), console)
    return 0


def prepare_state(db_path: Path, inventory: Inventory, notice_dir: Path) -> str:
    """Seed the demo's state and return a fresh admin token for this run.

    Once per database: survey readings (the coverage panels and blind-spot items), and a
    month of history before this one (``seed_month``). At every start: a county's outage
    declared from now (unless still declared from an earlier start) and the previous
    month's circular, issued once and marked as demonstration data, with its files.
    Earlier demo tokens stay valid until revoked.
    """
    store = Store.open(db_path)
    try:
        now = time.time()
        seed_demo_readings(store, inventory, now)
        seed_month(store, inventory, now)
        declare_today(store, inventory, now)
        month = month_before(now, ZoneInfo(inventory.notices.timezone))[0]
        try:
            circular = issue_circular(store, inventory, month, now, demonstration=True)
        except CircularError as exc:  # an inventory without the circular's prefix
            click.echo(f"netwatch demo: no circular of {month}: {exc}", err=True)
            circular = None
        token = TokenStore(store).create(Role.ADMIN, (), name="netwatch demo").token
    finally:
        store.close()
    if circular is not None:
        write_circular_files(circular.record, notice_dir)
    return token


def run_demo(path: Path, listen: Listen, state_dir: Path | None, scenario: Path | None,
             allow: AllowList, lab_table: str = LAB_TABLE) -> int:
    """Lab + daemon on the city at ``path`` until Ctrl-C."""
    inv = fast(load_or_exit(str(path)))
    state = state_dir or default_state_dir()
    state.mkdir(parents=True, exist_ok=True, mode=0o700)
    db_path = state / "netwatch.db"
    token = prepare_state(db_path, inv, state / "notices")
    scenario = scenario or demo_scenario_path()
    console = Console(stderr=True)
    console.print(f"starting the device lab for {len(inv.devices)} devices ({scenario.name}) …")

    def ready(base: str) -> None:
        console.print(
            f"netwatch demo is running (state in {state}); Ctrl-C stops it.\n"
            f"  landing page   {base}/\n"
            f"  metrics        {base}/metrics\n"
            f"  devices (API)  {base}/api/v1/devices\n"
            f"  faults (API)   {base}/api/v1/faults\n"
            f"  notices        {base}/notices (log in with the admin token)\n"
            f"  circulars      {base}/circulars (last month's, from demonstration history)\n"
            f"  outages        {base}/outages (the counties' declared outages)\n"
            f"  survey form    {base}/survey\n"
            f"  admin token    {token}\n"
            f"  e.g. curl -H 'Authorization: Bearer {token}' {base}/api/v1/faults\n"
            f"faults open after {inv.devices[0].open_after} failed cycles of "
            f"{DEMO_INTERVAL:g} s: give it about 20 s."
        )

    opts = DaemonOptions(
        inventory_path=path, db_path=db_path, listen=listen, allow=allow,
        inventory_transform=fast, on_ready=ready, notice_dir=state / "notices",
        # the lab plays the cameras' clocks from this host's own: their offsets are exact
        # whether or not NTP disciplines it
        trust_own_clock=True,
    )
    try:
        with LabProcess(path, scenario, table=lab_table) as lab:
            console.print(f"lab ready (pid {lab.pid}): {_describe(lab.info)}")
            run_async(run_daemon(opts, inv))
    except LabError as exc:
        click.echo(f"netwatch demo: {exc}", err=True)
        return 1
    except OSError as exc:
        click.echo(f"netwatch demo: cannot listen on {listen.url}: {exc.strerror}", err=True)
        return 1
    console.print("netwatch demo stopped; the lab removed its rules.")
    return 0
