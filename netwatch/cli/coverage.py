"""``netwatch coverage plan``: the construction plan of ranked blind spots.

Writes ``--out/COUNTY/plan.html`` and ``plan.csv`` for each county (all, or those
named) and prints one summary line per county; a county without blind spots says
so (its files say so too). The database is ``--db``, else ``$NETWATCH_DB``, else
``./netwatch.db``; it must exist (readings are in it).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from netwatch.cli.support import db_option, load_or_exit, resolve_db_path
from netwatch.coverage import analyse, cause_counts, plan_rows, write_plan
from netwatch.store import Store, StoreError

EXIT_FAILED = 1


@click.group()
def coverage() -> None:
    """Digital-trunking coverage and blind spots."""


@coverage.command()
@click.argument("inventory", required=False)
@click.option("--county", "counties", multiple=True, help="Only this county (repeatable).")
@click.option("--out", "out_dir", default="coverage-plan", show_default=True,
              type=click.Path(file_okay=False), help="Directory of the plans' files.")
@db_option
def plan(inventory: str | None, counties: tuple[str, ...], out_dir: str,
         db_arg: str | None) -> None:
    """Rank each county's blind spots and write the plan as HTML and CSV."""
    inv = load_or_exit(inventory)
    unknown = [c for c in counties if c not in inv.counties]
    if unknown:
        raise click.BadParameter(
            f"unknown county {', '.join(unknown)} (known: {', '.join(inv.counties)})",
            param_hint="--county")
    now = time.time()
    try:
        store = Store.open(resolve_db_path(db_arg), create=False)
    except StoreError as exc:
        click.echo(f"netwatch coverage: {exc}", err=True)
        sys.exit(EXIT_FAILED)
    with store:
        report = analyse(store, inv, now)
    for county in list(dict.fromkeys(counties)) or sorted(inv.counties):
        rows = plan_rows(report, inv, county)
        try:
            html_path, _ = write_plan(Path(out_dir), rows, inv, county, now)
        except OSError as exc:
            click.echo(f"netwatch coverage: {out_dir}: cannot write the plan: "
                       f"{exc.strerror or exc}", err=True)
            sys.exit(EXIT_FAILED)
        if not rows:
            click.echo(f"{county}: no blind spots ({html_path})")
            continue
        detail = ", ".join(f"{k} {n}" for k, n in cause_counts(rows).items())
        click.echo(f"{county}: {len(rows)} blind spots ({detail}) {html_path}")
