"""Shared by the commands: loading the inventory or exiting 2, the settings from the environment."""

from __future__ import annotations

import os
import sys

import click

from netwatch.inventory import (
    Inventory,
    InventoryError,
    load_command_inventory,
    resolve_inventory_path,
)
from netwatch.monitor import AllowList, Capacity, CapacityError
from netwatch.store import Target, parse_target

EXIT_INVALID = 2

db_option = click.option(
    "--db", "db_arg", metavar="PATH|URL",
    help="SQLite database file, or a postgresql:// URL (a password as ${NAME} from the "
         "environment, or in libpq's passfile or service file) "
         "[default: $NETWATCH_DB or ./netwatch.db]")


def load_or_exit(path_arg: str | None) -> Inventory:
    """Load the inventory; on problems print one ``FILE:LINE: message`` each and exit 2."""
    path = resolve_inventory_path(path_arg)
    try:
        return load_command_inventory(path)
    except InventoryError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        click.echo(f"{path}: {len(exc.problems)} problem(s); nothing started", err=True)
        sys.exit(EXIT_INVALID)
    except OSError as exc:
        click.echo(f"{path}: cannot read inventory: {exc.strerror or exc}", err=True)
        sys.exit(EXIT_INVALID)


def allow_list_or_exit() -> AllowList:
    try:
        return AllowList.from_env(os.environ)
    except ValueError as exc:
        click.echo(str(exc), err=True)
        sys.exit(EXIT_INVALID)


def capacity_or_exit() -> Capacity:
    """The capacity settings (``NETWATCH_*_RATE``, ``NETWATCH_SWEEP_SPREAD``) or exit 2."""
    try:
        return Capacity.from_env(os.environ)
    except CapacityError as exc:
        click.echo(str(exc), err=True)
        sys.exit(EXIT_INVALID)


def resolve_db_path(arg: str | None) -> Target:
    """The database: the option, else $NETWATCH_DB, else ./netwatch.db (docs/commands.md); a
    ``postgresql://`` URL names a PostgreSQL database, anything else a SQLite file."""
    return parse_target(arg or os.environ.get("NETWATCH_DB") or "netwatch.db")
