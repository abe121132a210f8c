"""One schema, both engines: a fresh SQLite database and a fresh PostgreSQL database, each
built by this netwatch's migrations, hold the same tables with the same columns (in the
same order, of the same normalised type, nullability and default), the same primary
keys, uniques, indexes (with their partial predicates), foreign keys and CHECKs.

Types are compared as SQLite's affinity sees them (``INTEGER``/``BIGINT`` → integer,
``REAL``/``DOUBLE PRECISION`` → double), with PostgreSQL's narrower ``integer`` and
``real`` named apart so a migration that uses them fails here; an id the database
assigns is "identity" on both (SQLite's ``INTEGER PRIMARY KEY``, PostgreSQL's
identity column). A CHECK is compared by the columns and the literals it names.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import psycopg
import pytest

from netwatch.store import PgUrl, Store
from netwatch.store.schema import MIGRATIONS, Dialects, with_id

Catalogue = dict[str, Any]
_STRING = re.compile(r"'(?:[^']|'')*'")


def _affinity(declared: str) -> str:
    t = declared.upper()
    if "INT" in t:
        return "integer"
    if any(k in t for k in ("CHAR", "CLOB", "TEXT")):
        return "text"
    if not t or "BLOB" in t:
        return "blob"
    if any(k in t for k in ("REAL", "FLOA", "DOUB")):
        return "double"
    return "numeric"


PG_TYPES = {"bigint": "integer", "text": "text", "double precision": "double",
            "bytea": "blob", "integer": "int4 (write BIGINT)", "smallint": "int2 (write BIGINT)",
            "real": "float4 (write DOUBLE PRECISION)"}


def _default(text: str | None) -> str | None:
    return None if text is None else re.sub(r"::[a-z ]+", "", text).strip()


def _predicate(text: str | None) -> str | None:
    if text is None:
        return None
    text = re.sub(r"::[a-z ]+", "", text).replace("<>", "!=")
    return re.sub(r"[\s()]", "", text).lower()


def _check(body: str, columns: set[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(columns named, literals named) of one CHECK expression, in any engine's spelling."""
    body = re.sub(r"::[a-z ]+", "", body)
    literals = sorted(_STRING.findall(body)) + sorted(re.findall(r"(?<![\w'])\d+(?![\w'])",
                                                                 _STRING.sub("", body)))
    names = {w.lower() for w in re.findall(r"[A-Za-z_]\w*", _STRING.sub("", body))}
    return tuple(sorted(names & columns)), tuple(literals)


def _sqlite_checks(sql: str, columns: set[str]) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    found = []
    for m in re.finditer(r"\bCHECK\s*\(", sql, re.I):
        depth, i = 1, m.end()
        while depth:
            if sql[i] == "'":
                i = sql.index("'", i + 1)
            elif sql[i] in "()":
                depth += 1 if sql[i] == "(" else -1
            i += 1
        found.append(_check(sql[m.end():i - 1], columns))
    return sorted(found)


def sqlite_catalogue(path: Path, migrations: Any = MIGRATIONS) -> Catalogue:
    with Store.open(path, migrations=migrations) as store:
        conn = store.conn
        out: Catalogue = {}
        for name, sql in conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table' "
                                      "AND name NOT LIKE 'sqlite_%' ORDER BY name"):
            cols = conn.execute(f'PRAGMA table_xinfo("{name}")').fetchall()
            pk = [c[1] for c in sorted((c for c in cols if c[5]), key=lambda c: c[5])]
            identity = {c[1] for c in cols if c[5] and len(pk) == 1 and c[2].upper() == "INTEGER"}
            columns = [(c[1], "identity" if c[1] in identity else _affinity(c[2]),
                        bool(c[3]) or c[1] in pk, None if c[1] in identity else _default(c[4]))
                       for c in cols]
            uniques, indexes = set(), {}
            for _, index, unique, origin, _ in conn.execute(f'PRAGMA index_list("{name}")'):
                keys = tuple(r[2] for r in conn.execute(f'PRAGMA index_info("{index}")'))
                if origin == "u":
                    uniques.add(keys)
                elif origin == "c":
                    text = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?",
                                        (index,)).fetchone()[0]
                    where = re.split(r"\bWHERE\b", text, flags=re.I)
                    indexes[index] = (keys, bool(unique),
                                      _predicate(where[1]) if len(where) > 1 else None)
            fks = set()
            groups: dict[int, list[Any]] = {}
            for row in conn.execute(f'PRAGMA foreign_key_list("{name}")'):
                groups.setdefault(row[0], []).append(row)
            for rows in groups.values():
                rows.sort(key=lambda r: r[1])
                fks.add((tuple(r[3] for r in rows), rows[0][2], tuple(r[4] for r in rows)))
            out[name] = {"columns": columns, "primary key": tuple(pk), "uniques": uniques,
                         "indexes": indexes, "foreign keys": fks,
                         "checks": _sqlite_checks(sql, {c[1] for c in cols})}
        return out


def postgres_catalogue(url: PgUrl, migrations: Any = MIGRATIONS) -> Catalogue:
    Store.open(url, migrations=migrations).close()  # built by the store, read plainly
    out: Catalogue = {}
    with psycopg.connect(url.conninfo(), autocommit=True) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
            "AND tablename != 'schema_version' ORDER BY tablename")]
        for name in tables:
            oid = conn.execute("SELECT %s::regclass::oid", (name,)).fetchone()[0]
            attrs = conn.execute(
                "SELECT a.attnum, a.attname, format_type(a.atttypid, a.atttypmod), "
                "a.attnotnull, pg_get_expr(d.adbin, d.adrelid), a.attidentity "
                "FROM pg_attribute a LEFT JOIN pg_attrdef d "
                "ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
                "WHERE a.attrelid = %s AND a.attnum > 0 AND NOT a.attisdropped "
                "ORDER BY a.attnum", (oid,)).fetchall()
            by_num = {a[0]: a[1] for a in attrs}
            columns = [(a[1], "identity" if a[5] else PG_TYPES.get(a[2], a[2]), a[3],
                        _default(a[4])) for a in attrs]
            cons = conn.execute(
                "SELECT contype, conkey, confrelid::regclass::text, confkey, "
                "pg_get_constraintdef(oid), conindid FROM pg_constraint WHERE conrelid = %s",
                (oid,)).fetchall()
            pk: tuple[str, ...] = ()
            uniques, fks, checks = set(), set(), []
            for kind, key, ref, refkey, definition, _ in cons:
                names = tuple(by_num[k] for k in key)
                if kind == "p":
                    pk = names
                elif kind == "u":
                    uniques.add(names)
                elif kind == "f":
                    ref_cols = conn.execute(
                        "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass "
                        "AND attnum = ANY(%s)", (ref, refkey)).fetchall()
                    fks.add((names, ref, tuple(r[0] for r in ref_cols)))
                elif kind == "c":
                    checks.append(_check(definition, set(by_num.values())))
            constraint_indexes = {c[5] for c in cons if c[5]}
            indexes = {}
            for index_oid, index, unique, keys, predicate in conn.execute(
                    "SELECT i.indexrelid, c.relname, i.indisunique, i.indkey::int[], "
                    "pg_get_expr(i.indpred, i.indrelid) FROM pg_index i "
                    "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = %s", (oid,)):
                if index_oid not in constraint_indexes:
                    indexes[index] = (tuple(by_num[k] for k in keys), unique,
                                      _predicate(predicate))
            out[name] = {"columns": columns, "primary key": pk, "uniques": uniques,
                         "indexes": indexes, "foreign keys": fks, "checks": sorted(checks)}
    return out


def differences(sqlite: Catalogue, postgres: Catalogue) -> list[str]:
    found = [f"table {t}: only in SQLite" for t in sorted(sqlite.keys() - postgres.keys())]
    found += [f"table {t}: only in PostgreSQL" for t in sorted(postgres.keys() - sqlite.keys())]
    for table in sorted(sqlite.keys() & postgres.keys()):
        for fact, value in sqlite[table].items():
            if postgres[table][fact] != value:
                found.append(f"{table} {fact}: SQLite {value!r}, PostgreSQL "
                             f"{postgres[table][fact]!r}")
    return found


def test_the_engines_build_the_same_schema(tmp_path: Path, pg_url: PgUrl) -> None:
    sqlite, postgres = sqlite_catalogue(tmp_path / "netwatch.db"), postgres_catalogue(pg_url)
    assert len(sqlite) == 22 and sqlite["notice_items"]["checks"]  # the reader reads
    assert differences(sqlite, postgres) == []


@pytest.mark.parametrize("step, drift", [
    ("CREATE TABLE drift (id BIGINT PRIMARY KEY, x REAL)", "float4 (write DOUBLE PRECISION)"),
    ("CREATE TABLE drift (id BIGINT PRIMARY KEY, x INTEGER)", "int4 (write BIGINT)"),
    (Dialects("CREATE TABLE drift (id BIGINT PRIMARY KEY, x TEXT CHECK (x IN ('a', 'b')))",
              "CREATE TABLE drift (id BIGINT PRIMARY KEY, x TEXT CHECK (x IN ('a', 'c')))"),
     "'c'"),
    (Dialects("CREATE INDEX ix_drift ON tokens (name) WHERE revoked_at IS NULL",
              "CREATE INDEX ix_drift ON tokens (name)"), "ix_drift"),
])
def test_a_migration_that_drifts_is_caught(tmp_path: Path, pg_server: Any, step: Any,
                                           drift: str) -> None:
    """A migration after the baseline written in SQL that means different things on the two
    engines (a narrower type, another CHECK, a lost predicate) shows as a difference."""
    migrations = (*MIGRATIONS, (step,))
    name = pg_server.database()
    try:
        url = PgUrl(pg_server.url(name))
        found = differences(sqlite_catalogue(tmp_path / "netwatch.db", migrations),
                            postgres_catalogue(url, migrations))
    finally:
        pg_server.drop(name)
    assert len(found) == 1 and drift in found[0]


def test_the_recipe_for_a_new_migration_gives_both_engines_one_table(tmp_path: Path,
                                                                      pg_url: PgUrl) -> None:
    """The way ``netwatch.store.schema`` says to write a new migration (``with_id`` for the
    id, BIGINT and DOUBLE PRECISION otherwise) builds the same table on both, and ids come
    back from ``INSERT … RETURNING id`` on both."""
    v7 = (with_id("CREATE TABLE example_spans ({id}, started_at DOUBLE PRECISION NOT NULL, "
                  "ended_at DOUBLE PRECISION, devices BIGINT NOT NULL DEFAULT 0)"),
          "CREATE INDEX ix_example_spans_started ON example_spans (started_at)")
    migrations = (*MIGRATIONS, v7)
    for target in (tmp_path / "netwatch.db", pg_url):
        with Store.open(target, migrations=migrations) as store:
            assert store.version == len(MIGRATIONS) + 1
            with store.transaction() as tx:
                ids = [tx.scalar("INSERT INTO example_spans (started_at) VALUES (?) "
                                 "RETURNING id", (t,)) for t in (1.5, 2.5)]
            assert ids == [1, 2]
    sqlite = sqlite_catalogue(tmp_path / "netwatch.db", migrations)
    postgres = postgres_catalogue(pg_url, migrations)
    assert "example_spans" in sqlite and differences(sqlite, postgres) == []
