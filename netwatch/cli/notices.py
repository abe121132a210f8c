"""``netwatch notices generate`` and ``netwatch notices list``.

``generate`` issues (or finds) each county's notice for the date and writes its
files under ``--out/COUNTY/``; a county with nothing to report gets no notice and
says so. Blind spots from the survey readings join the items.
The database is ``--db``, else ``$NETWATCH_DB``, else ``./netwatch.db``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import click

from netwatch.cli.support import db_option, load_or_exit, resolve_db_path
from netwatch.coverage import blind_spot_candidates
from netwatch.inventory import Inventory
from netwatch.notices import (
    IssueError,
    NoticeFileConflict,
    county_notices,
    current_items,
    deliveries_of,
    issue_notices,
    listings,
)
from netwatch.store import Store, StoreError

EXIT_FAILED = 1
county_option = click.option("--county", "counties", multiple=True,
                             help="Only this county (repeatable).")


@click.group()
def notices() -> None:
    """Rectification notices (整改通知) per county."""


def _open_store(db_arg: str | None, *, create: bool) -> Store:
    try:
        return Store.open(resolve_db_path(db_arg), create=create)
    except StoreError as exc:
        click.echo(f"netwatch notices: {exc}", err=True)
        sys.exit(EXIT_FAILED)


def _check_counties(inv: Inventory, counties: Sequence[str]) -> None:
    unknown = [c for c in counties if c not in inv.counties]
    if unknown:
        raise click.BadParameter(
            f"unknown county {', '.join(unknown)} (known: {', '.join(inv.counties)})",
            param_hint="--county")


@notices.command()
@click.argument("inventory", required=False)
@county_option
@click.option("--date", "issue_date", type=click.DateTime(["%Y-%m-%d"]),
              help="Issue date (YYYY-MM-DD) [default: today in the notice time zone].")
@click.option("--out", "out_dir", default="notices", show_default=True,
              type=click.Path(file_okay=False), help="Directory of the notices' files.")
@click.option("--lang", default="zh", show_default=True, type=click.Choice(["zh", "en"]),
              help="Language of the files (HTML, Markdown, PDF, Word, Excel).")
@db_option
def generate(inventory: str | None, counties: tuple[str, ...], issue_date: datetime | None,
             out_dir: str, lang: str, db_arg: str | None) -> None:
    """Issue each county's notice for the date (idempotent: a second run finds it)."""
    inv = load_or_exit(inventory)
    _check_counties(inv, counties)
    now = time.time()
    with _open_store(db_arg, create=True) as store:
        extra = blind_spot_candidates(store, inv, now)
        try:
            outcomes = issue_notices(
                store, inv, issue_date=issue_date.date() if issue_date else None,
                counties=counties or None, now=now, extra=extra,
                coverage_judged=True, out_dir=Path(out_dir), langs=(lang,))
        except (IssueError, NoticeFileConflict) as exc:
            click.echo(f"netwatch notices: {exc}", err=True)
            sys.exit(EXIT_FAILED)
    for o in outcomes:
        if o.record is None:
            click.echo(f"{o.county}: no notice: nothing to report")
            continue
        page = next((p for p in o.paths if p.name.endswith(f".{lang}.html")), Path(out_dir))
        again = "" if o.created else " (already issued)"
        click.echo(f"{o.county}: {o.record.number} {page}{again}")


@notices.command("list")
@click.argument("inventory", required=False)
@county_option
@db_option
def list_(inventory: str | None, counties: tuple[str, ...], db_arg: str | None) -> None:
    """Issued notices, newest first, with their items' states and deliveries now."""
    inv = load_or_exit(inventory)
    _check_counties(inv, counties)
    wanted = list(counties) or sorted(inv.counties)
    with _open_store(db_arg, create=False) as store:
        for county in wanted:
            rows = county_notices(store, county)
            if not rows:
                click.echo(f"{county}: no notice")
                continue
            for n in rows:
                listed = listings(store, n["id"])
                live = current_items(store, [entry["item_id"] for entry in listed])
                items = [(live[entry["item_id"]], entry) for entry in listed
                         if entry["item_id"] in live]
                click.echo(f"{county}: {n['number']} {n['issue_date']} ({len(items)} items)")
                for i, entry in items:
                    state = i["state"] + (f" ({i['close_reason']})" if i["close_reason"] else "")
                    marks = "".join([" carried" if entry["carried"] else "",
                                     " overdue" if entry["overdue"] else "",
                                     f" recurrence {i['recurrence']}" if i["recurrence"] else ""])
                    click.echo(f"  item {i['id']} {i['subject']} {i['problem']}: "
                               f"{state}{marks}")
                for d in deliveries_of(store, n["id"]):
                    note = f" ({d['last_error']})" if d["last_error"] else ""
                    click.echo(f"  delivery {d['channel']} to {d['target']}: {d['state']} "
                               f"after {d['attempts']} attempts{note}")
