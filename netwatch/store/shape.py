"""The shape of a database (tables, columns, indexes, views, triggers), to check a backup with.

A file with the right ``user_version`` is not yet a netwatch database: it may hold no
tables at all, or a trigger that fires on every write once restored. ``expected``
builds the shape to compare with from a fresh database that this netwatch's own
migrations create (up to the backup's version) in a temporary directory, so the check
follows every new migration by itself; ``differences`` says what does not match.
"""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path
from typing import Any

from netwatch.store.schema import MIGRATIONS
from netwatch.store.store import Store

Shape = dict[tuple[str, str], tuple[Any, ...]]  # (type, name) -> what defines it
_INTERNAL = ("sqlite_stat", "sqlite_sequence")  # SQLite's own bookkeeping, filled by use
SHOWN = 8  # differences named in one message


def shape_of(conn: sqlite3.Connection) -> Shape:
    """Each schema object with the facts that define it (columns, index keys, uniqueness)."""
    found: Shape = {}
    rows = conn.execute("SELECT type, name, tbl_name FROM sqlite_master").fetchall()
    for kind, name, table in rows:
        if str(name).startswith(_INTERNAL):
            continue
        facts: tuple[Any, ...] = (table,)
        if kind == "table":
            facts += (tuple(tuple(r) for r in conn.execute(
                          "SELECT cid, name, type, \"notnull\", dflt_value, pk, hidden "
                          "FROM pragma_table_xinfo(?)", (name,))),
                      tuple(tuple(r) for r in conn.execute(
                          "SELECT \"table\", \"from\", \"to\" FROM pragma_foreign_key_list(?)",
                          (name,))))
        elif kind == "index":
            facts += (tuple(tuple(r) for r in conn.execute(
                          "SELECT seqno, name, \"desc\", key FROM pragma_index_xinfo(?)",
                          (name,))),
                      tuple(tuple(r) for r in conn.execute(
                          "SELECT \"unique\", origin, partial FROM pragma_index_list(?) "
                          "WHERE name = ?", (table, name))))
        found[(str(kind), str(name))] = facts
    return found


def expected(version: int) -> Shape:
    """The shape this netwatch's migrations 1..``version`` give a new database."""
    with tempfile.TemporaryDirectory(prefix="netwatch-shape-") as tmp:
        with Store.open(Path(tmp) / "reference.db", migrations=MIGRATIONS[:version]) as store:
            return shape_of(store.conn)


def _tables_first(key: tuple[str, str]) -> tuple[bool, str, str]:
    return (key[0] != "table", key[0], key[1])


def differences(found: Shape, wanted: Shape) -> list[str]:
    """What makes ``found`` differ from ``wanted``, in words: missing objects first, tables
    before the rest, then extra objects, then those defined differently."""
    missing = [f"no {kind} {name}"
               for kind, name in sorted(wanted.keys() - found.keys(), key=_tables_first)]
    extra = [f"an extra {kind} {name}"
             for kind, name in sorted(found.keys() - wanted.keys(), key=_tables_first)]
    changed = [f"{kind} {name} is defined differently"
               for kind, name in sorted(found.keys() & wanted.keys(), key=_tables_first)
               if found[(kind, name)] != wanted[(kind, name)]]
    return missing + extra + changed
