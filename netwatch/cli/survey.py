"""``netwatch survey import``: bulk readings from a test tool's CSV export.

The same validation as the API, all or nothing: every problem is printed as
``row N: field: reason`` (N is the spreadsheet row, the header being row 1) and
nothing is stored (exit 2); otherwise every reading is stored in one durable
transaction (exit 0). Re-importing the same file stores nothing new: each row's
idempotency key is its ``client_id`` or the hash of its content.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import NoReturn

import click

from netwatch.cli.support import EXIT_INVALID, db_option, load_or_exit, resolve_db_path
from netwatch.inventory import DATUMS
from netwatch.store import Store, StoreError
from netwatch.survey import IngestError, RowError, ingest, parse_csv

EXIT_FAILED = 1


@click.group()
def survey() -> None:
    """Field survey readings."""


def _report(problems: list[RowError], what: str) -> NoReturn:
    for p in problems:
        click.echo(f"row {p.row}: {p.field or '-'}: {p.reason}", err=True)
    click.echo(f"{what}; nothing stored", err=True)
    sys.exit(EXIT_INVALID)


@survey.command("import")
@click.argument("csv_file", metavar="FILE.csv", type=click.Path(dir_okay=False, exists=True))
@click.argument("inventory", required=False)
@click.option("--tester", required=True, help="Who took the readings (the idempotency scope).")
@click.option("--datum", default="wgs84", show_default=True, type=click.Choice(DATUMS),
              help="Datum of the file's lat/lon (a `datum` column overrides it per row).")
@db_option
def import_(csv_file: str, inventory: str | None, tester: str, datum: str,
            db_arg: str | None) -> None:
    """Import readings from FILE.csv, all or nothing.

    \b
    The header names the columns, any subset in any order, of:
      point, lat, lon, datum, taken_at, technology, rssi_dbm, ber,
      rsrp_dbm, sinr_db, no_service, serving_site, note, client_id
    taken_at is ISO 8601 with a UTC offset (2026-11-20T11:30:00+08:00).
    """
    inv = load_or_exit(inventory)
    try:
        text = Path(csv_file).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        click.echo(f"{csv_file}: cannot read: {exc}", err=True)
        sys.exit(EXIT_INVALID)
    parsed, problems = parse_csv(text)
    if problems:
        _report([RowError(p.row, p.field, p.reason) for p in problems],
                f"{csv_file}: {len(problems)} problem(s)")
    if not parsed:
        _report([], f"{csv_file}: no readings")
    try:
        with Store.open(resolve_db_path(db_arg)) as store:
            ids = ingest(store, inv, tester, [row for _, row in parsed], "import", time.time(),
                         row_numbers=[n for n, _ in parsed], default_datum=datum)
    except IngestError as exc:
        _report(exc.problems, f"{csv_file}: {exc.error}")
    except StoreError as exc:
        click.echo(f"netwatch survey: {exc}", err=True)
        sys.exit(EXIT_FAILED)
    click.echo(f"{csv_file}: {len(ids)} reading(s) stored or already present "
               f"(ids {min(ids)}..{max(ids)})")
