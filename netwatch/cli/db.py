"""``netwatch db migrate`` and ``netwatch db copy``: the database's schema, and moving an
installation from SQLite to PostgreSQL (docs/operations.md).

``migrate`` brings the ``--db`` database (either engine) to this netwatch's schema and
says from which version to which. ``copy`` copies every row of a SQLite file into a
PostgreSQL database in one transaction and checks every table before committing; it
refuses a database that already holds rows unless ``--replace``. Messages name a
PostgreSQL database by its URL with the password masked.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from netwatch.cli.support import EXIT_INVALID, db_option, resolve_db_path
from netwatch.store import CopyError, PgUrl, StoreError, copy_to_postgres, is_url, migrate

EXIT_FAILED = 1


@click.group("db")
def db() -> None:
    """The database: bring it to the current schema, or move it from SQLite to PostgreSQL."""


@db.command("migrate")
@db_option
def migrate_command(db_arg: str | None) -> None:
    """Bring the database (a SQLite file or a PostgreSQL URL) to this netwatch's schema."""
    target = resolve_db_path(db_arg)
    try:
        before, after = migrate(target)
    except StoreError as exc:
        click.echo(f"netwatch db migrate: {exc}", err=True)
        sys.exit(EXIT_FAILED)
    if before == after:
        click.echo(f"{target}: schema version {after}, already current")
    else:
        click.echo(f"{target}: schema version {before} -> {after}")


@db.command("copy")
@click.argument("sqlite_path", metavar="SQLITE_PATH")
@click.argument("postgres_url", metavar="POSTGRES_URL")
@click.option("--replace", is_flag=True,
              help="Delete the rows the PostgreSQL database already holds first.")
def copy_command(sqlite_path: str, postgres_url: str, replace: bool) -> None:
    """Copy every table of the SQLite database into the PostgreSQL one, verified (stop the
    daemon first). Give the URL's password as ${NAME}, in single quotes, or leave it to
    libpq's passfile or service file."""
    if is_url(sqlite_path):
        click.echo(f"netwatch db copy: SQLITE_PATH {PgUrl(sqlite_path)} is a URL; the source "
                   "is a SQLite file", err=True)
        sys.exit(EXIT_INVALID)
    if not is_url(postgres_url):
        click.echo(f"netwatch db copy: POSTGRES_URL {postgres_url!r} is not a postgresql:// URL",
                   err=True)
        sys.exit(EXIT_INVALID)
    target = PgUrl(postgres_url)
    try:
        copied = copy_to_postgres(Path(sqlite_path), target, replace=replace)
    except CopyError as exc:
        click.echo(f"netwatch db copy: {exc}", err=True)
        sys.exit(EXIT_FAILED)
    for table in copied:
        click.echo(f"{table.table}: {table.rows} rows, checksum {table.checksum[:16]}")
    click.echo(f"copied {Path(sqlite_path)} to {target}: {sum(t.rows for t in copied)} rows in "
               f"{len(copied)} tables, every table verified")
