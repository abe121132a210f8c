"""``netwatch circular generate`` and ``netwatch circular list``: the monthly circular.

``generate`` issues (or finds) the month's city-wide circular (月度通报) and writes its
files under ``--out/circulars/``; a month issued before is found with the same number
and files. The database is ``--db``, else ``$NETWATCH_DB``, else ``./netwatch.db``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from netwatch.circulars import CircularError, every_circular, issue_circular, write_circular_files
from netwatch.cli.support import db_option, load_or_exit, resolve_db_path
from netwatch.inventory import is_demo_inventory
from netwatch.notices import NoticeFileConflict
from netwatch.store import Store, StoreError

EXIT_FAILED = 1
inventory_option = click.option(
    "--inventory", "inventory_opt", metavar="PATH",
    help="The inventory [default: the argument, $NETWATCH_INVENTORY or ./inventory.yaml].")


@click.group()
def circular() -> None:
    """The monthly circular (月度通报): the counties ranked, praised and named."""


def _open_store(db_arg: str | None, *, create: bool) -> Store:
    try:
        return Store.open(resolve_db_path(db_arg), create=create)
    except StoreError as exc:
        click.echo(f"netwatch circular: {exc}", err=True)
        sys.exit(EXIT_FAILED)


def _inventory_arg(argument: str | None, option: str | None) -> str | None:
    if argument and option and argument != option:
        raise click.UsageError(f"two inventories given: {argument} and --inventory {option}")
    return option or argument


@circular.command()
@click.argument("inventory", required=False)
@inventory_option
@click.option("--month", required=True, metavar="YYYY-MM",
              help="The month reported on (it must be over), e.g. 2026-11.")
@click.option("--out", "out_dir", default="notices", show_default=True,
              type=click.Path(file_okay=False),
              help="Directory of the files (under circulars/ in it).")
@db_option
def generate(inventory: str | None, inventory_opt: str | None, month: str, out_dir: str,
             db_arg: str | None) -> None:
    """Issue the month's circular (idempotent: a second run finds it)."""
    path = _inventory_arg(inventory, inventory_opt)
    inv = load_or_exit(path)
    with _open_store(db_arg, create=True) as store:
        try:
            issued = issue_circular(store, inv, month, time.time(),
                                    demonstration=is_demo_inventory(Path(inv.path)))
            paths = write_circular_files(issued.record, Path(out_dir))
        except (CircularError, NoticeFileConflict) as exc:
            click.echo(f"netwatch circular: {exc}", err=True)
            sys.exit(EXIT_FAILED)
    again = "" if issued.created else " (already issued)"
    click.echo(f"{issued.record.month}: {issued.record.number}{again}")
    for p in paths:
        click.echo(f"  {p}")


@circular.command("list")
@db_option
def list_(db_arg: str | None) -> None:
    """Issued circulars, newest month first."""
    with _open_store(db_arg, create=False) as store:
        rows = every_circular(store)
    if not rows:
        click.echo("no circular issued")
    for r in rows:
        click.echo(f"{r['month']}: {r['number']} issued {r['issue_date']} (id {r['id']})")
