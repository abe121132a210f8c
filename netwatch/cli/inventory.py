"""``netwatch inventory import``: a county's device ledger (设备台账) → a device CSV.

The CSV goes into the inventory through a ``device_files`` entry; rows the
ledger gets wrong beyond repair are listed as ``LEDGER.xlsx:Sheet1!R12: reason``
and left out, and the command then exits 2 so a script notices. Rows marked
removed or not connected are listed as notes and left out without that; rows
kept with a doubt (a division code of another county, a type taken from the
国标编码) are listed as warnings.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import NoReturn

import click

from netwatch.cli.support import EXIT_INVALID
from netwatch.inventory import (
    County,
    InventoryError,
    LedgerError,
    LedgerMap,
    LedgerProblem,
    load_counties,
    load_map,
    read_ledger,
    resolve_inventory_path,
    suggestion,
    write_devices,
)


@click.group("inventory")
def inventory() -> None:
    """Inventory helpers: import the device ledgers counties keep."""


@inventory.command("import")
@click.argument("ledger", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--county", required=True, help="County id the devices belong to.")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Device CSV to write (for a device_files entry); its directory must exist.")
@click.option("--map", "map_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Mapping file (YAML: columns, kinds) added to the default mapping.")
@click.option("--sheet", help="Sheet name [default: the first sheet].")
@click.option("--inventory", "inventory_arg", metavar="PATH",
              help="Inventory whose counties the county is checked against "
                   "[default: $NETWATCH_INVENTORY or ./inventory.yaml, if it exists].")
def import_ledger(ledger: Path, county: str, out: Path, map_path: Path | None,
                  sheet: str | None, inventory_arg: str | None) -> None:
    """Read LEDGER (.xlsx or .csv), write its devices to OUT; exit 2 if rows were left out."""
    if not out.parent.is_dir():
        _refuse(f"{out}: the directory {out.parent} does not exist (create it first)")
    known = _county(county, inventory_arg)
    try:
        mapping = load_map(map_path) if map_path else LedgerMap()
        result = read_ledger(ledger, county, mapping, sheet,
                             division=known.code if known else "")
    except LedgerError as exc:
        _refuse(str(exc))
    try:
        write_devices(result.devices, out)
    except OSError as exc:
        _refuse(f"{out}: cannot write: {exc.strerror or exc}")
    lines = ([(p, "") for p in result.problems] + [(p, "") for p in result.notes]
             + [(p, "warning: ") for p in result.warnings])
    for problem, label in sorted(lines, key=lambda item: _row(item[0])):
        click.echo(f"{problem.where}: {label}{problem.reason}", err=True)
    dropped = f", {result.duplicates} duplicate row(s) dropped" if result.duplicates else ""
    extra = (f", {len(result.notes)} not imported (removed or not connected)"
             if result.notes else "")
    warned = f", {len(result.warnings)} warning(s)" if result.warnings else ""
    click.echo(f"{out}: {len(result.devices)} device(s) of county {county}{dropped}; "
               f"{len(result.problems)} row(s) left out{extra}{warned}", err=True)
    if result.problems:
        sys.exit(EXIT_INVALID)


def _county(county: str, inventory_arg: str | None) -> County | None:
    """The county from the inventory (exit 2 when unknown), or None when there is none."""
    path = resolve_inventory_path(inventory_arg)
    if inventory_arg is None and not path.is_file():
        click.echo(f"county {county}: not checked (no inventory; --inventory checks it and "
                   "the division codes of the devices)", err=True)
        return None
    try:
        counties = load_counties(path)
    except InventoryError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        _refuse(f"{path}: {len(exc.problems)} problem(s) in its counties; nothing imported")
    except OSError as exc:
        _refuse(f"{path}: cannot read inventory: {exc.strerror or exc}")
    if county not in counties:
        _refuse(f'{path}: unknown county "{county}"{suggestion(county, counties)} '
                f"(counties: {', '.join(counties)})")
    return counties[county]


def _row(problem: LedgerProblem) -> int:
    found = re.search(r"R(\d+)$", problem.where)
    return int(found[1]) if found else 0


def _refuse(message: str) -> NoReturn:
    click.echo(message, err=True)
    sys.exit(EXIT_INVALID)
