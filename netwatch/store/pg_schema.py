"""PostgreSQL's side of the schema: the database's fitness, its version, its migrations.

A new database gets ``POSTGRES_BASELINE`` (SQLite's schema version 6 in PostgreSQL's
DDL) and then every migration after 6, each in one transaction with its row in
``schema_version`` (version, when, how), under the same advisory lock the store's
write transactions take, so two processes never migrate at once and a migration
never runs beside a writer. PostgreSQL's DDL is transactional: a migration that
fails leaves nothing behind. There is no copy taken first (take a ``pg_dump``,
docs/operations.md); a database with tables but no ``schema_version`` is not
netwatch's and is refused untouched, as is one whose version is newer than this
netwatch knows.

The database must keep text as SQLite does: UTF-8, compared byte by byte (the C
collation), or ``ORDER BY`` and ``<`` on names would answer differently from SQLite.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

import psycopg

from netwatch.store.schema import BASELINE_VERSION, POSTGRES_BASELINE, Dialects, Migration
from netwatch.store.store import StoreError
from netwatch.store.target import PgUrl

log = logging.getLogger(__name__)

# pg_advisory_xact_lock key ("netwatch" in ASCII): held by every write transaction
WRITE_LOCK = int.from_bytes(b"netwatch", "big")
LOCK_WAIT = "5s"  # how long a transaction waits for a lock before failing (SQLite's busy timeout)
BEGIN = f"BEGIN; SET LOCAL lock_timeout = '{LOCK_WAIT}'; SELECT pg_advisory_xact_lock({WRITE_LOCK})"
BEGIN_MIGRATION = (f"BEGIN; SET LOCAL lock_timeout TO 0; "  # a migration waits for writers
                   f"SELECT pg_advisory_xact_lock({WRITE_LOCK})")
COLLATIONS = frozenset({"C", "POSIX", "C.UTF-8", "C.utf8"})
CREATE_HINT = ("create it with: CREATE DATABASE netwatch OWNER netwatch ENCODING 'UTF8' "
               "LOCALE 'C' TEMPLATE template0")
VERSION_TABLE = """CREATE TABLE schema_version (
    version BIGINT PRIMARY KEY,
    applied_at DOUBLE PRECISION NOT NULL,
    how TEXT NOT NULL
)"""


def check_database(conn: psycopg.Connection[Any], url: PgUrl) -> None:
    """Refuse a database that would compare or store text differently from SQLite."""
    row = conn.execute(
        "SELECT pg_encoding_to_char(encoding), datcollate FROM pg_database "
        "WHERE datname = current_database()").fetchone()
    assert row is not None  # the database we are connected to
    encoding, collation = (v.decode("ascii", "replace") if isinstance(v, bytes) else str(v)
                           for v in row[:2])  # text is bytes on a SQL_ASCII database
    if encoding != "UTF8":
        raise StoreError(f"{url}: the database's encoding is {encoding}, netwatch needs UTF8; "
                         f"{CREATE_HINT}")
    provider = "c"
    if conn.info.server_version >= 150000:
        found = conn.execute("SELECT datlocprovider FROM pg_database "
                             "WHERE datname = current_database()").fetchone()
        provider = str(found[0]) if found else "c"
    if collation not in COLLATIONS or provider != "c":
        raise StoreError(f"{url}: the database sorts text by {collation!r}; netwatch needs "
                         f"the C collation (byte order, as SQLite compares); {CREATE_HINT}")


def schema_version(conn: psycopg.Connection[Any]) -> int | None:
    """The database's schema version, None when it has no ``schema_version`` table."""
    row = conn.execute("SELECT to_regclass('schema_version') IS NOT NULL").fetchone()
    if row is None or not row[0]:
        return None
    found = conn.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()
    return int(found[0]) if found is not None else 0


def _has_tables(conn: psycopg.Connection[Any]) -> bool:
    row = conn.execute("SELECT count(*) FROM pg_tables "
                       "WHERE schemaname = current_schema()").fetchone()
    return row is not None and int(row[0]) > 0


def _run(conn: psycopg.Connection[Any], n: int, steps: Migration) -> None:
    for k, step in enumerate(steps, 1):
        if isinstance(step, Dialects):
            step = step.postgres
        elif callable(step):
            raise StoreError(f"migration {n}, step {k}: a function of a SQLite connection; "
                             "give it as Dialects(sqlite=..., postgres=...)")
        if callable(step):
            step(conn)
        else:
            conn.execute(step, prepare=False)


def _record(conn: psycopg.Connection[Any], n: int, how: str) -> None:
    conn.execute("INSERT INTO schema_version (version, applied_at, how) VALUES (%s, %s, %s)",
                 (n, time.time(), how))


def migrate(conn: psycopg.Connection[Any], url: PgUrl, migrations: Sequence[Migration],
            *, create: bool) -> tuple[int, int]:
    """Bring the database to ``len(migrations)``; returns (version before, version after).

    ``conn`` is in autocommit mode; each migration is its own transaction.
    """
    target = len(migrations)
    if target < BASELINE_VERSION:
        raise StoreError(f"{url}: PostgreSQL starts at schema version {BASELINE_VERSION}; "
                         f"it cannot be built at version {target}")
    before: int | None = None
    while True:
        conn.execute(BEGIN_MIGRATION, prepare=False)
        current: int | None = None
        try:
            current = schema_version(conn)
            before = (current or 0) if before is None else before
            if current is None:
                if _has_tables(conn):
                    raise StoreError(f"{url}: the database has tables but no schema_version: "
                                     "not a netwatch database (give netwatch an empty one)")
                if not create:
                    raise StoreError(f"{url}: no netwatch schema in the database (run "
                                     "netwatch db migrate first)")
                n, how = BASELINE_VERSION, "baseline"
                conn.execute(VERSION_TABLE, prepare=False)
                _run(conn, n, POSTGRES_BASELINE)
            elif current > target:
                raise StoreError(f"{url}: schema version {current} is newer than this netwatch "
                                 f"knows ({target}); run a newer netwatch or restore a backup")
            elif current == target:
                conn.execute("COMMIT")
                return before, current
            else:
                n, how = current + 1, "migration"
                _run(conn, n, migrations[n - 1])
            _record(conn, n, how)
            conn.execute("COMMIT")
        except psycopg.Error as exc:
            _rollback(conn)
            failed = current + 1 if current else BASELINE_VERSION
            raise StoreError(f"{url}: migration to schema version {failed} failed: "
                             f"{url.scrub(_message(exc))}; the database stays at version "
                             f"{current or 0}") from None
        except BaseException:
            _rollback(conn)
            raise
        log.info("%s: migrated to schema version %d (%s)", url, n, how)


def _rollback(conn: psycopg.Connection[Any]) -> None:
    if not conn.broken and conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        try:
            conn.execute("ROLLBACK")
        except psycopg.Error:
            pass


def _message(exc: psycopg.Error) -> str:
    """The error's first line (PostgreSQL's detail lines may quote the row's values)."""
    primary = exc.diag.message_primary if exc.diag is not None else None
    return primary or (str(exc).strip().splitlines() or [type(exc).__name__])[0]
