"""Moving an installation from SQLite to PostgreSQL without losing or changing a row.

``copy_to_postgres`` opens both databases at the current schema (an older SQLite
file is migrated first, with its usual backup; the PostgreSQL database gets the
baseline), reads the SQLite file in one snapshot and writes every table into
PostgreSQL in one transaction, parents before children (foreign-key order), with
``COPY``. Ids are copied as they are and each identity sequence is set past the
highest one, so the next notice or reading gets the next id. Before the commit it
reads both sides again and compares each table's row count and checksum (the
order-independent sum of each row's SHA-256 over its typed values: an integer that
became a float, a float rounded, a text changed all show); a difference rolls
everything back. A target that already holds rows is refused unless ``replace``
(then its rows are deleted in the same transaction). The copy holds the store's
write lock on PostgreSQL, so no netwatch writes there meanwhile; stop the daemon
that writes the SQLite file first, or its later writes stay behind.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from netwatch.store.postgres import PgStore, PgTransaction
from netwatch.store.store import DatabaseError, Store, StoreError
from netwatch.store.target import PgUrl

MODULUS = 1 << 256


class CopyError(Exception):
    """The copy was refused or did not verify; the target is as it was."""


@dataclass(frozen=True, slots=True)
class TableCopy:
    """One table as copied and verified: its rows and their checksum."""

    table: str
    rows: int
    checksum: str


def _value(v: Any) -> bytes:
    if v is None:
        return b"N"
    if isinstance(v, bool):
        return b"B1" if v else b"B0"
    if isinstance(v, int):
        return b"I" + str(v).encode()
    if isinstance(v, float):
        return b"F" + v.hex().encode()
    if isinstance(v, str):
        return b"S" + v.encode("utf-8", "surrogatepass")
    if isinstance(v, bytes | memoryview):
        return b"X" + bytes(v)
    raise CopyError(f"a value of type {type(v).__name__} cannot be checked")


def checksum(rows: Iterable[Iterable[Any]]) -> tuple[int, str]:
    """(rows, checksum) of a table, in any row order."""
    count, total = 0, 0
    for row in rows:
        digest = hashlib.sha256()
        for v in row:
            data = _value(v)
            digest.update(len(data).to_bytes(8, "big"))
            digest.update(data)
        total = (total + int.from_bytes(digest.digest(), "big")) % MODULUS
        count += 1
    return count, f"{total:064x}"


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def table_order(conn: sqlite3.Connection) -> list[str]:
    """The SQLite database's tables, each after the tables its foreign keys name."""
    tables = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "ORDER BY name")]
    parents = {t: {r[2] for r in conn.execute(f"PRAGMA foreign_key_list({_quoted(t)})")} - {t}
               for t in tables}
    ordered: list[str] = []
    while len(ordered) < len(tables):
        ready = [t for t in tables if t not in ordered and parents[t] <= set(ordered)]
        if not ready:
            raise CopyError(f"foreign keys form a cycle among {sorted(set(tables) - set(ordered))}")
        ordered += ready
    return ordered


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [r[1] for r in conn.execute(f"PRAGMA table_info({_quoted(table)})")]


def _pg_columns(pg: psycopg.Connection[Any], table: str) -> list[str]:
    return [r[0] for r in pg.execute(
        "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 "
        "AND NOT attisdropped ORDER BY attnum", (_quoted(table),))]


def _pg_tables(pg: psycopg.Connection[Any]) -> set[str]:
    return {r[0] for r in pg.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
        "AND tablename != 'schema_version'")}


def _pg_rows(pg: psycopg.Connection[Any], table: str, columns: str) -> Iterable[tuple[Any, ...]]:
    with pg.cursor(name=f"verify_{table}", row_factory=psycopg.rows.tuple_row) as cur:
        cur.itersize = 5000
        cur.execute(f"SELECT {columns} FROM {_quoted(table)}")
        yield from cur


def _write(tx: PgTransaction, src: sqlite3.Connection, order: list[str], url: PgUrl,
           replace: bool) -> list[TableCopy]:
    pg = tx.pg
    if _pg_tables(pg) != set(order):
        raise CopyError(f"{url}: its tables are not the SQLite database's: "
                        f"{sorted(_pg_tables(pg) ^ set(order))} differ")
    filled = [t for t in order if tx.scalar(f"SELECT EXISTS (SELECT 1 FROM {_quoted(t)})")]
    if filled and not replace:
        raise CopyError(f"{url}: already holds rows ({', '.join(filled)}); copy into an empty "
                        "database, or give --replace to delete them first")
    if filled:
        pg.execute(f"TRUNCATE {', '.join(_quoted(t) for t in order)} RESTART IDENTITY")
    for table in order:
        columns = _columns(src, table)
        if _pg_columns(pg, table) != columns:
            raise CopyError(f"{table}: columns differ between the two databases")
        names = ", ".join(_quoted(c) for c in columns)
        try:
            with pg.cursor().copy(f"COPY {_quoted(table)} ({names}) FROM STDIN") as copy:
                for row in src.execute(f"SELECT {names} FROM {_quoted(table)}"):
                    copy.write_row(tuple(row))
        except psycopg.Error as exc:
            raise CopyError(f"{table}: PostgreSQL refused a row: "
                            f"{url.scrub(str(exc).strip().splitlines()[0])}") from None
    for table, column in pg.execute(
            "SELECT c.relname, a.attname FROM pg_attribute a JOIN pg_class c "
            "ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND a.attidentity != '' AND c.relkind = 'r'"
    ).fetchall():
        pg.execute(f"SELECT setval(pg_get_serial_sequence(%s, %s), "
                   f"coalesce(max({_quoted(column)}), 0) + 1, false) FROM {_quoted(table)}",
                   (_quoted(table), column))
    copied = []
    for table in order:
        names = ", ".join(_quoted(c) for c in _columns(src, table))
        want = checksum(src.execute(f"SELECT {names} FROM {_quoted(table)}"))
        got = checksum(_pg_rows(pg, table, names))
        if got != want:
            raise CopyError(f"{table}: {want[0]} rows in SQLite, {got[0]} in PostgreSQL after "
                            f"the copy{', with different values' if got[0] == want[0] else ''}")
        copied.append(TableCopy(table, *want))
    return copied


def copy_to_postgres(source: Path, target: PgUrl, *, replace: bool = False) -> list[TableCopy]:
    """Copy every table of the SQLite file ``source`` into the PostgreSQL database ``target``
    and verify it, all in one transaction; see the module docstring."""
    if not source.is_file():
        raise CopyError(f"{source}: no such database")
    try:
        src = Store.open(source, create=False)
    except StoreError as exc:
        raise CopyError(str(exc)) from None
    try:
        try:
            dst = PgStore.open(target)
        except StoreError as exc:
            raise CopyError(str(exc)) from None
        try:
            conn = src.conn
            conn.execute("BEGIN")  # one snapshot of the file for the copy and its check
            try:
                order = table_order(conn)
                with dst.transaction(durable=True) as tx:
                    assert isinstance(tx, PgTransaction)
                    return _write(tx, conn, order, target, replace)
            except DatabaseError as exc:
                raise CopyError(f"{target}: {exc}; nothing was copied") from None
            except sqlite3.Error as exc:
                raise CopyError(f"{source}: {exc}; nothing was copied") from None
            finally:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
        finally:
            dst.close()
    finally:
        src.close()
