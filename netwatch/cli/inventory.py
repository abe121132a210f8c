"""``netwatch inventory import``: a county's device ledger (设备台账) → a device CSV.

The CSV goes into the inventory through a ``device_files`` entry; rows the
ledger gets wrong beyond repair are listed as ``LEDGER.xlsx:Sheet1!R12: reason``
and left out, and the command then exits 2 so a script notices.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from netwatch.cli.support import EXIT_INVALID
from netwatch.inventory.ledger import LedgerError, LedgerMap, load_map, read_ledger, write_devices


@click.group("inventory")
def inventory() -> None:
    """Inventory helpers: import the device ledgers counties keep."""


@inventory.command("import")
@click.argument("ledger", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--county", required=True, help="County id the devices belong to.")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Device CSV to write (for a device_files entry).")
@click.option("--map", "map_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Mapping file (YAML: columns, kinds) added to the default mapping.")
@click.option("--sheet", help="Sheet name [default: the first sheet].")
def import_ledger(ledger: Path, county: str, out: Path, map_path: Path | None,
                  sheet: str | None) -> None:
    """Read LEDGER (.xlsx or .csv), write its devices to OUT; exit 2 if rows were left out."""
    try:
        mapping = load_map(map_path) if map_path else LedgerMap()
        result = read_ledger(ledger, county, mapping, sheet)
    except LedgerError as exc:
        click.echo(str(exc), err=True)
        sys.exit(EXIT_INVALID)
    write_devices(result.devices, out)
    for problem in result.problems:
        click.echo(str(problem), err=True)
    dropped = f", {result.duplicates} duplicate row(s) dropped" if result.duplicates else ""
    click.echo(f"{out}: {len(result.devices)} device(s) of county {county}{dropped}; "
               f"{len(result.problems)} row(s) left out", err=True)
    if result.problems:
        sys.exit(EXIT_INVALID)
