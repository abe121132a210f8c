"""Schema versions for ``netwatch db migrate``: bring a database, either engine, up to date.

Opening a store migrates it anyway (``netwatch run`` does at start); this says what it
did: the schema version found (0 for a new file or an empty PostgreSQL database) and
the one it has now. SQLite copies the file aside before a migration
(``PATH.bak-vOLD-STAMP``); PostgreSQL runs each migration in one transaction (take a
``pg_dump`` first: docs/operations.md).
"""

from __future__ import annotations

import sqlite3

import psycopg

from netwatch.store.pg_schema import schema_version
from netwatch.store.store import Store, StoreError
from netwatch.store.target import PgUrl, Target, TargetError


def current_version(target: Target) -> int:
    """The schema version the database has now, read without changing anything."""
    if isinstance(target, PgUrl):
        try:
            with psycopg.connect(target.conninfo(), autocommit=True, connect_timeout=10) as conn:
                return schema_version(conn) or 0
        except TargetError as exc:
            raise StoreError(str(exc)) from None
        except psycopg.Error as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise StoreError(f"{target}: cannot connect: {target.scrub(first)}") from None
    if not target.exists():
        return 0
    try:
        lite = sqlite3.connect(f"file:{target}?mode=ro", uri=True)
        try:
            return int(lite.execute("PRAGMA user_version").fetchone()[0])
        finally:
            lite.close()
    except sqlite3.Error as exc:
        raise StoreError(f"{target}: cannot read the database: {exc}") from None


def migrate(target: Target) -> tuple[int, int]:
    """Migrate the database; (version before, version after)."""
    before = current_version(target)
    with Store.open(target) as store:
        return before, store.version
