"""The ``netwatch`` command: thin wrappers that load the inventory and call the parts."""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from netwatch.cli.cluster import cluster_options, cluster_settings
from netwatch.cli.lazy import LazyGroup
from netwatch.cli.support import (
    allow_list_or_exit,
    capacity_or_exit,
    db_option,
    load_or_exit,
    resolve_db_path,
)
from netwatch.cli.web_limits import daemon_limits, web_limit_options
from netwatch.daemon import DEFAULT_LISTEN
from netwatch.inventory import (
    KINDS,
    Device,
    Inventory,
    demo_inventory_path,
    resolve_inventory_path,
    use_demo_secrets,
)
from netwatch.runtime import LOG_FORMATS, run_async, setup_logging

SUBCOMMANDS = {
    "backup": "netwatch.cli.backup:backup_command",
    "circular": "netwatch.cli.circular:circular",
    "coverage": "netwatch.cli.coverage:coverage",
    "db": "netwatch.cli.db:db",
    "inventory": "netwatch.cli.inventory:inventory",
    "maps": "netwatch.cli.maps:maps",
    "notices": "netwatch.cli.notices:notices",
    "restore": "netwatch.cli.backup:restore_command",
    "survey": "netwatch.cli.survey:survey",
    "token": "netwatch.cli.token:token",
}


@click.group(cls=LazyGroup, lazy=SUBCOMMANDS,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="netwatch")
def main() -> None:
    """netwatch: network and device health monitor for a city police bureau."""


@main.command()
@click.argument("inventory", required=False)
def check(inventory: str | None) -> None:
    """Validate the inventory and print counts per county and kind (exit 0, or 2 if invalid)."""
    inv = load_or_exit(inventory)
    counts = Counter((d.county, d.kind) for d in inv.devices)
    console = Console()
    from rich.table import Table

    table = Table(title=f"{inv.path}: {inv.city}", title_justify="left")
    table.add_column("county")
    for kind in KINDS:
        table.add_column(kind, justify="right")
    table.add_column("points", justify="right")
    points = Counter(p.county for p in inv.points)
    for cid, county in inv.counties.items():
        cells = [str(counts.get((cid, k), 0)) for k in KINDS]
        table.add_row(f"{county.name} ({cid})", *cells, str(points.get(cid, 0)))
    table.add_row("total", *[str(sum(counts[(c, k)] for c in inv.counties)) for k in KINDS],
                  str(len(inv.points)))
    console.print(table)
    console.print(f"OK: {len(inv.devices)} devices, {len(inv.points)} coverage points")


def select(inv: Inventory, counties: Sequence[str], kinds: Sequence[str]) -> list[Device]:
    unknown = [c for c in counties if c not in inv.counties]
    if unknown:
        raise click.BadParameter(
            f"unknown county {', '.join(unknown)} (known: {', '.join(inv.counties)})",
            param_hint="--county",
        )
    return [
        d for d in inv.devices
        if (not counties or d.county in counties) and (not kinds or d.kind in kinds)
    ]


@main.command()
@click.argument("inventory", required=False)
@click.option("--county", "counties", multiple=True, help="Only this county (repeatable).")
@click.option("--kind", "kinds", multiple=True, type=click.Choice(KINDS), help="Only this kind.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array (docs/commands.md).")
def probe(inventory: str | None, counties: tuple[str, ...], kinds: tuple[str, ...],
          as_json: bool) -> None:
    """Run one sweep now and print every device's result."""
    from netwatch.cli.progress import sweep_progress
    from netwatch.monitor import sweep_once

    setup_logging("warning")  # e.g. ICMP falling back to datagram ping sockets
    inv = load_or_exit(inventory)
    devices = select(inv, counties, kinds)
    allow = allow_list_or_exit()
    with sweep_progress(len(devices)) as progress:
        rows = run_async(sweep_once(devices, allow, capacity=capacity_or_exit(),
                                    progress=progress))
    from netwatch.cli import report

    judged = report.judged(rows)
    if as_json:
        json.dump(report.to_json(judged), sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
    else:
        report.print_table(inv, judged, Console())


@main.command()
@click.argument("inventory", required=False)
@click.option("--scenario", type=click.Path(exists=True, dir_okay=False),
              help="Faults to play (YAML); none: every device healthy.")
@click.option("--table", default="netwatch_lab", show_default=True,
              help="Name of the lab's own nftables table.")
@click.option("--queue", default=4716, show_default=True,
              help="NFQUEUE number of the lab's latency faults.")
def simulate(inventory: str | None, scenario: str | None, table: str, queue: int) -> None:
    """Play the inventory's devices on loopback (the device lab) until Ctrl-C."""
    from netwatch.lab import serve

    inv = load_or_exit(inventory)
    sys.exit(serve(inv, scenario, table=table, queue=queue))


def _daemon_options(f: Callable[..., None]) -> Callable[..., None]:
    """Options shared by ``run`` and ``demo``."""
    f = click.option("--listen", default=DEFAULT_LISTEN, show_default=True,
                     help="HOST:PORT of the web app and /metrics.")(f)
    f = click.option("--log-level", default="info", show_default=True,
                     type=click.Choice(["debug", "info", "warning", "error"]))(f)
    f = click.option("--log-format", default="text", show_default=True,
                     type=click.Choice(LOG_FORMATS),
                     help="text for a terminal; json: one object per line (journald, Loki).")(f)
    return f


@main.command()
@click.argument("inventory", required=False)
@_daemon_options
@db_option
@click.option("--tls-cert", type=click.Path(exists=True, dir_okay=False), help="PEM certificate.")
@click.option("--tls-key", type=click.Path(exists=True, dir_okay=False), help="PEM private key.")
@click.option("--behind-proxy", is_flag=True,
              help="A TLS reverse proxy fronts netwatch (allows a non-loopback --listen).")
@click.option("--notices-dir", default="notices", show_default=True,
              type=click.Path(file_okay=False), help="Where scheduled notices are written.")
@cluster_options
@web_limit_options
def run(inventory: str | None, listen: str, log_level: str, log_format: str,
        db_arg: str | None, tls_cert: str | None, tls_key: str | None, behind_proxy: bool,
        notices_dir: str, counties: str | None, instance: str | None, lease_ttl: float,
        shadow: str, **limits: Any) -> None:
    """The daemon: scheduled probes, fault tracking, /metrics and the web app."""
    from netwatch.daemon import DaemonOptions, ListenError, check_exposure, parse_listen, run_daemon

    setup_logging(log_level, log_format)
    inv = load_or_exit(inventory)
    try:
        opts = DaemonOptions(
            inventory_path=resolve_inventory_path(inventory), db_path=resolve_db_path(db_arg),
            listen=parse_listen(listen), tls_cert=Path(tls_cert) if tls_cert else None,
            tls_key=Path(tls_key) if tls_key else None, behind_proxy=behind_proxy,
            allow=allow_list_or_exit(), notice_dir=Path(notices_dir),
            capacity=capacity_or_exit(), **daemon_limits(limits),
            **cluster_settings(inv, counties, instance, lease_ttl, shadow),
        )
        check_exposure(opts)
    except ListenError as exc:
        raise click.UsageError(str(exc)) from None
    run_async(run_daemon(opts, inv))


@main.command()
@_daemon_options
@click.option("--scenario", type=click.Path(exists=True, dir_okay=False),
              help="Scenario instead of the shipped demo scenario.")
@click.option("--state-dir", type=click.Path(file_okay=False),
              help="Where the demo keeps its database [default: ~/.local/state/netwatch-demo].")
@click.option("--once", is_flag=True, help="Probe the demo city once, print a table, and exit.")
@click.option("--inventory", "inventory_path", type=click.Path(exists=True, dir_okay=False),
              help="Another city played the same way (e.g. the demo moved to other addresses).")
@click.option("--lab-table", default="netwatch_lab", show_default=True, metavar="NAME",
              help="The lab's nftables table: give each demo running at once its own.")
def demo(listen: str, log_level: str, log_format: str, scenario: str | None,
         state_dir: str | None, once: bool, inventory_path: str | None, lab_table: str) -> None:
    """The shipped demo city: the device lab with its faults, and the daemon watching it."""
    from netwatch.cli.demo import run_demo, sweep_demo
    from netwatch.daemon import ListenError, parse_listen

    os.environ.setdefault("NETWATCH_ALLOWED_NETS", "127.0.0.0/8")
    use_demo_secrets()  # also for a demo city moved elsewhere with --inventory
    allow = allow_list_or_exit()
    scenario_path = Path(scenario) if scenario else None
    city = Path(inventory_path) if inventory_path else demo_inventory_path()
    if once:
        sys.exit(sweep_demo(city, scenario_path, allow, lab_table))
    setup_logging(log_level, log_format)
    try:
        where = parse_listen(listen)
    except ListenError as exc:
        raise click.UsageError(str(exc)) from None
    sys.exit(run_demo(city, where, Path(state_dir) if state_dir else None, scenario_path, allow,
                      lab_table))


