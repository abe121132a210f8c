"""``netwatch token create|list|revoke``: API tokens from the command line (docs/commands.md).

``create`` prints the token alone on stdout (scripts capture it) and everything
else on stderr. Nothing here ever prints a token's hash, nor a token after
``create``. The database is ``--db``, else ``$NETWATCH_DB``, else ``./netwatch.db``.
Counties are checked against the inventory (``--inventory``, else the usual
``$NETWATCH_INVENTORY`` / ``./inventory.yaml`` when that file exists), whose
timezone is also the one times are shown in (default Asia/Shanghai).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

import click

from netwatch.cli.support import db_option, load_or_exit, resolve_db_path
from netwatch.inventory import Inventory, resolve_inventory_path
from netwatch.store import (
    ROLES,
    UNSCOPED,
    Store,
    StoreError,
    TokenError,
    TokenRecord,
    TokenStore,
    check_scope,
)

DEFAULT_TIMEZONE = "Asia/Shanghai"
EXIT_FAILED = 1

inventory_option = click.option(
    "--inventory", "inventory_arg", metavar="PATH",
    help="Inventory for county names and timezone "
         "[default: $NETWATCH_INVENTORY or ./inventory.yaml, if it exists]")


def _inventory(arg: str | None) -> Inventory | None:
    """The named inventory (exit 2 if invalid), else the usual one if present, else None."""
    path = resolve_inventory_path(arg)
    if arg is None and not path.is_file():
        return None
    return load_or_exit(str(path))


def _open_store(db_arg: str | None, *, create: bool) -> Store:
    try:
        return Store.open(resolve_db_path(db_arg), create=create)
    except StoreError as exc:
        click.echo(f"netwatch token: {exc}", err=True)
        sys.exit(EXIT_FAILED)


def _when(ts: float | None, tz: ZoneInfo) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, tz).isoformat(timespec="seconds")


def _as_json(record: TokenRecord, tz: ZoneInfo) -> dict[str, object]:
    return {
        "id": record.id, "role": record.role, "counties": list(record.counties),
        "name": record.name, "created": _when(record.created_at, tz),
        "last_used": _when(record.last_used_at, tz), "revoked": _when(record.revoked_at, tz),
    }


def _table(rows: Sequence[dict[str, object]]) -> str:
    """Plain aligned columns: no wrapping or truncation on narrow terminals."""
    headers = ("id", "role", "counties", "name", "created", "last used", "revoked")
    keys = ("id", "role", "counties", "name", "created", "last_used", "revoked")
    cells = [list(headers)]
    for row in rows:
        values = [row[k] for k in keys]
        cells.append([",".join(v) if isinstance(v, list) else ("-" if v in (None, "") else str(v))
                      for v in values])
    widths = [max(len(line[i]) for line in cells) for i in range(len(headers))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip()
                     for line in cells)


@click.group()
def token() -> None:
    """API tokens: create (shown once), list, revoke."""


@token.command()
@click.option("--role", required=True, type=click.Choice([r.value for r in ROLES]),
              help="admin: everything; county: its counties; tester: submits readings; "
                   "metrics: scrapes /metrics (Prometheus).")
@click.option("--county", "counties", multiple=True, metavar="C",
              help="County the token may see (repeatable; required for county and tester).")
@click.option("--name", help="Who or what holds the token (shown by `token list`).")
@db_option
@inventory_option
def create(role: str, counties: tuple[str, ...], name: str | None, db_arg: str | None,
           inventory_arg: str | None) -> None:
    """Create a token and print it once on stdout; only its hash is stored."""
    inv = _inventory(inventory_arg)
    if inv is None and role not in UNSCOPED:
        click.echo("netwatch token: no inventory found; county names are not checked", err=True)
    known = None if inv is None else inv.counties.keys()
    try:
        check_scope(role, counties, known)  # before the database is created
        store = _open_store(db_arg, create=True)
        try:
            new = TokenStore(store).create(role, counties, name=name, known_counties=known)
        finally:
            store.close()
    except TokenError as exc:
        raise click.UsageError(str(exc)) from None
    info = new.info
    scope = ", ".join(sorted(info.counties)) or "all"
    click.echo(f"token {info.id} created in {store.path}: role {info.role}, counties {scope}"
               + (f", name {info.name}" if info.name else ""), err=True)
    click.echo("store it now: it is not shown again (revoke with `netwatch token revoke "
               f"{info.id}`)", err=True)
    click.echo(new.token)


@token.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON array, times in ISO 8601.")
@db_option
@inventory_option
def list_tokens(as_json: bool, db_arg: str | None, inventory_arg: str | None) -> None:
    """Show tokens by id, role, counties, name and times; never the tokens themselves."""
    inv = _inventory(inventory_arg)
    tz = ZoneInfo(inv.timezone if inv is not None else DEFAULT_TIMEZONE)
    store = _open_store(db_arg, create=False)
    try:
        rows = [_as_json(r, tz) for r in TokenStore(store).records()]
    finally:
        store.close()
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=1))
    elif rows:
        click.echo(_table(rows))
    else:
        click.echo(f"no tokens in {store.path}", err=True)


@token.command()
@click.argument("token_id", metavar="ID")
@db_option
def revoke(token_id: str, db_arg: str | None) -> None:
    """Revoke a token by its id: it stops working at once, also in a running daemon."""
    store = _open_store(db_arg, create=False)
    try:
        record, changed = TokenStore(store).revoke(token_id)
    except TokenError as exc:
        click.echo(f"netwatch token revoke: {exc} in {store.path}", err=True)
        sys.exit(EXIT_FAILED)
    finally:
        store.close()
    click.echo(f"token {record.id} ({record.role}) "
               + ("revoked" if changed else "was already revoked"))
