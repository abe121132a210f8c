"""``netwatch backup DEST`` and ``netwatch restore SRC``: the database and the notices.

``backup`` runs beside the daemon (SQLite's online backup API); ``restore`` wants
the daemon stopped, checks the backup whole before it replaces anything, and moves
what it replaces aside instead of deleting it. The restored database's leases are
freed: they name the instances of the database the backup was taken from, and the
next ``netwatch run`` takes every county at once (the time since, a monitoring gap).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from netwatch.cli.support import EXIT_INVALID, db_option, resolve_db_path
from netwatch.monitor import lapse_all
from netwatch.store import BackupError, Store, backup, restore

notices_option = click.option("--notices-dir", default="notices", show_default=True,
                              type=click.Path(file_okay=False, path_type=Path),
                              help="The daemon's notices directory.")


@click.command("backup")
@click.argument("dest", type=click.Path(path_type=Path))
@db_option
@notices_option
def backup_command(dest: Path, db_arg: str | None, notices_dir: Path) -> None:
    """Copy the database (safe while the daemon runs) and the notices into the new dir DEST."""
    try:
        info = backup(resolve_db_path(db_arg), notices_dir, dest)
    except BackupError as exc:
        click.echo(str(exc), err=True)
        sys.exit(EXIT_INVALID)
    click.echo(f"{info.path}: schema version {info.schema_version}, {info.notices} notice "
               f"file(s), taken {info.taken_at}")


@click.command("restore")
@click.argument("src", type=click.Path(exists=True, file_okay=False, path_type=Path))
@db_option
@notices_option
def restore_command(src: Path, db_arg: str | None, notices_dir: Path) -> None:
    """Check the backup SRC, then put it in place (stop the daemon first)."""
    db = resolve_db_path(db_arg)
    try:
        info, moved = restore(src, db, notices_dir)
    except BackupError as exc:
        click.echo(f"{exc}; nothing replaced", err=True)
        sys.exit(EXIT_INVALID)
    with Store.open(db, create=False) as store:
        lapse_all(store)
    for path in moved:
        click.echo(f"moved aside: {path}", err=True)
    click.echo(f"restored {src} (schema version {info.schema_version}, taken {info.taken_at}, "
               f"{info.notices} notice file(s))")
