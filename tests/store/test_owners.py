"""Every table has one owning module, and SQL text appears nowhere else.

The scan reads every string constant of ``netwatch/`` (f-strings with their
placeholders as ``{}``; docstrings and other bare strings left out) and looks for
SQL statements. Only the owners below may hold them, and an owner's statements
name only its own tables: a read that needs another owner's table calls that
owner. The engine's own modules (the store, its schema, backups) are the
exception: pragmas, migrations and the backup API are the database's business,
not a table's.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

from netwatch.store import Store, Target

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "netwatch"

OWNERS: dict[str, tuple[str, ...]] = {
    "netwatch/store/faultlog.py": ("fault_episodes",),
    "netwatch/store/tokens.py": ("tokens",),
    "netwatch/web/session_store.py": ("sessions",),
    "netwatch/monitor/watched.py": ("monitored_since", "monitoring_gaps", "watch_heartbeat"),
    "netwatch/monitor/leases.py": ("leases",),
    "netwatch/monitor/status.py": ("device_status",),
    "netwatch/monitor/trends.py": ("warning_baselines", "device_warnings"),
    "netwatch/monitor/declared.py": ("declared_outages", "declared_outage_devices",
                                     "declared_outage_audit"),
    "netwatch/daemon/runs.py": ("schedule_runs",),
    "netwatch/notices/numbering.py": ("notice_sequences",),
    "netwatch/notices/register.py": ("notices", "notice_item_listings"),
    "netwatch/notices/items.py": ("notice_items",),
    "netwatch/notices/outbox.py": ("deliveries",),
    "netwatch/circulars/register.py": ("circulars",),
    "netwatch/survey/readings.py": ("readings", "readings_received"),
}
# the engine's own modules: connection, backups, schema and its exact shape (catalogue reads),
# PostgreSQL's connection and migrations, and the copy from one engine to the other
ENGINE = ("netwatch/store/store.py", "netwatch/store/backup.py", "netwatch/store/shape.py",
          "netwatch/store/schema/", "netwatch/store/postgres.py", "netwatch/store/pg_schema.py",
          "netwatch/store/copy.py", "netwatch/store/versions.py")

STATEMENT = re.compile(
    r"\b(SELECT\b.+?\bFROM\b|INSERT\s+(OR\s+\w+\s+)?INTO\b|UPDATE\s+\w+\s+SET\b|DELETE\s+FROM\b"
    r"|(CREATE|DROP)\s+(UNIQUE\s+)?(TABLE|INDEX|VIEW|TRIGGER)\b|ALTER\s+TABLE\b|PRAGMA\s+\w+"
    r"|(?-i:^\s*(BEGIN(\s+\w+)?|COMMIT|ROLLBACK)\s*;?\s*$))",
    re.S | re.I)
TABLE = re.compile(r"\b(?:FROM|JOIN|INTO|UPDATE(?!\s+SET\b)|TABLE)\s+\"?([A-Za-z_]\w*)", re.I)


def strings(path: Path) -> Iterator[tuple[int, str]]:
    """(line, text) of every string constant that is not a bare expression (a docstring)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = {id(n.value) for n in ast.walk(tree)
            if isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant | ast.JoinedStr)}
    parts: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            parts.update(id(v) for v in node.values)
            if id(node) not in skip:
                yield node.lineno, "".join(str(v.value) if isinstance(v, ast.Constant) else "{}"
                                           for v in node.values)
    for node in ast.walk(tree):
        if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                and id(node) not in skip and id(node) not in parts):
            yield node.lineno, node.value


def sql_of(path: Path) -> list[tuple[int, str]]:
    return [(line, text) for line, text in strings(path) if STATEMENT.search(text)]


def modules() -> list[tuple[str, Path]]:
    return [(p.relative_to(ROOT).as_posix(), p) for p in sorted(PACKAGE.rglob("*.py"))]


def test_the_scan_sees_sql_in_every_form() -> None:
    """The detector itself: plain, f-string, lowercase and multi-line SQL are found, prose
    and docstrings are not."""
    source = '''
"""A module that says it will SELECT the rows FROM somewhere."""
A = "SELECT id FROM t WHERE x = ?"
B = f"UPDATE t SET {cols} WHERE id = ?"
C = ("delete from t "
     "where id = ?")
D = "INSERT INTO t (a) VALUES (?) RETURNING id"
E = "update the device, then delete what is stale"
F = "BEGIN IMMEDIATE"
G = "begin"
def f():
    """DELETE FROM nowhere: a docstring."""
'''
    path = Path(__file__).with_name("_scan_probe.py")
    try:
        path.write_text(source, encoding="utf-8")
        found = {line for line, _ in sql_of(path)}
    finally:
        path.unlink(missing_ok=True)
    assert found == {3, 4, 5, 7, 9}


def test_no_sql_outside_the_owners() -> None:
    """SQL text only in a table's owner or in the engine's own modules."""
    stray = [f"{name}:{line}: {text.strip()[:70]!r}"
             for name, path in modules()
             if name not in OWNERS and not name.startswith(ENGINE)
             for line, text in sql_of(path)]
    assert stray == [], "SQL outside the tables' owners:\n" + "\n".join(stray)


def test_owners_touch_only_their_own_tables() -> None:
    """A read that joins another owner's table goes through that owner's functions."""
    foreign = []
    for name, tables in OWNERS.items():
        for line, text in sql_of(ROOT / name):
            named = {t.lower() for t in TABLE.findall(text)}
            if named - set(tables):
                foreign.append(f"{name}:{line}: {sorted(named - set(tables))}")
    assert foreign == [], "owners reaching into other tables:\n" + "\n".join(foreign)


def test_owners_are_engine_neutral() -> None:
    """Owners run SQL on the store's handle: no sqlite3, no connection, no lastrowid, no
    PRAGMA (the engine's business), nothing SQLite alone accepts that was used here before."""
    unportable = re.compile(
        r"\bPRAGMA\b|\b(MIN|MAX)\s*\([^()]*,|\bsum\s*\((?!\s*CASE\b)[^()]*[=<>]", re.I)
    found = []
    for name in OWNERS:
        path = ROOT / name
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                mods = [a.name for a in node.names] if isinstance(node, ast.Import) else [
                    node.module or ""]
                if any(m.split(".")[0] == "sqlite3" for m in mods):
                    found.append(f"{name}:{node.lineno}: imports sqlite3")
            if isinstance(node, ast.Attribute) and node.attr in ("conn", "lastrowid"):
                found.append(f"{name}:{node.lineno}: .{node.attr}")
        found += [f"{name}:{line}: {text.strip()[:60]!r}" for line, text in sql_of(path)
                  if unportable.search(text)]
    assert found == [], "\n".join(found)


def test_nobody_else_reaches_the_connection() -> None:
    """Outside the engine's modules nothing uses ``store.conn``: it is the engine's own."""
    found = [f"{name}:{node.lineno}"
             for name, path in modules() if not name.startswith(ENGINE)
             for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
             if isinstance(node, ast.Attribute) and node.attr == "conn"]
    assert found == []


def test_every_table_has_exactly_one_owner(target: Target) -> None:
    """On either engine (PostgreSQL's ``schema_version`` is the engine's own, like SQLite's
    ``user_version``)."""
    owned = [t for tables in OWNERS.values() for t in tables]
    assert len(owned) == len(set(owned)), "a table listed under two owners"
    with Store.open(target) as store:
        if isinstance(target, Path):
            tables = {r[0] for r in store.conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%'")}
        else:
            tables = {r[0] for r in store.query(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                "AND tablename != 'schema_version'")}
    assert tables == set(owned)
