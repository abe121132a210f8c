"""The store: SQLite's file mode, pragmas and versioned migrations with backups; on both
engines, transactions and the handle owners run their SQL on."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest

from netwatch.store import DatabaseError, IntegrityError, OperationalError, Store, StoreError
from netwatch.store.schema import MIGRATIONS, SCHEMA_VERSION


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def tables(path: Path) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    finally:
        conn.close()


def user_version(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("PRAGMA user_version").fetchone()[0]
    finally:
        conn.close()


def backups(path: Path) -> list[Path]:
    return sorted(path.parent.glob(path.name + ".bak-*"))


def test_fresh_database_is_0600_wal_and_current(tmp_path: Path) -> None:
    """A new database file is mode 0600, in WAL mode, at the current schema, without a backup."""
    path = tmp_path / "netwatch.db"
    old_umask = os.umask(0)
    try:
        store = Store.open(path)
    finally:
        os.umask(old_umask)
    try:
        assert mode(path) == 0o600
        assert store.version == SCHEMA_VERSION
        assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert store.conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
        assert store.conn.execute("PRAGMA busy_timeout").fetchone()[0] > 0
        with store.transaction() as conn:
            conn.execute("INSERT INTO tokens (id, hash, role, counties, created_at) "
                         "VALUES ('a', 'h', 'admin', '[]', 0)")
        assert mode(Path(f"{path}-wal")) == 0o600
    finally:
        store.close()
    assert {"fault_episodes", "tokens"} <= tables(path)
    assert backups(path) == []


def test_existing_loose_mode_is_tightened(tmp_path: Path) -> None:
    """A pre-existing 0644 database (and its WAL) is set to 0600 on open."""
    path = tmp_path / "netwatch.db"
    Store.open(path).close()
    os.chmod(path, 0o644)
    Path(f"{path}-wal").touch(mode=0o644)
    os.chmod(f"{path}-wal", 0o644)
    Store.open(path).close()
    assert mode(path) == 0o600
    empty = tmp_path / "empty.db"
    empty.touch(mode=0o644)
    os.chmod(empty, 0o644)
    Store.open(empty).close()
    assert mode(empty) == 0o600
    assert user_version(empty) == SCHEMA_VERSION


def test_old_database_is_backed_up_then_migrated(tmp_path: Path) -> None:
    """A version-0 database with data is copied to PATH.bak-v0-… (0600) before migrating."""
    path = tmp_path / "netwatch.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE legacy (x INTEGER)")
    conn.execute("INSERT INTO legacy VALUES (42)")
    conn.commit()
    conn.close()
    Store.open(path).close()
    [backup] = backups(path)
    assert backup.name.startswith("netwatch.db.bak-v0-")
    assert mode(backup) == 0o600
    assert tables(backup) == {"legacy"}
    assert user_version(backup) == 0
    assert user_version(path) == SCHEMA_VERSION
    assert {"legacy", "fault_episodes", "tokens"} <= tables(path)


def test_new_migration_backs_up_uncheckpointed_wal_data(tmp_path: Path) -> None:
    """A new migration upgrades by one version; the backup holds rows still in the WAL."""
    path = tmp_path / "netwatch.db"
    Store.open(path).close()
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("PRAGMA wal_autocheckpoint = 0")
    writer.execute("INSERT INTO tokens (id, hash, role, counties, created_at) "
                   "VALUES ('w', 'h', 'admin', '[]', 0)")
    assert os.path.getsize(f"{path}-wal") > 0
    try:
        v2 = (*MIGRATIONS, ("CREATE TABLE test_extra (id INTEGER PRIMARY KEY)",))
        store = Store.open(path, migrations=v2)
        try:
            assert store.version == SCHEMA_VERSION + 1
        finally:
            store.close()
    finally:
        writer.close()
    [backup] = backups(path)
    assert backup.name.startswith(f"netwatch.db.bak-v{SCHEMA_VERSION}-")
    conn = sqlite3.connect(backup)
    try:
        assert conn.execute("SELECT id FROM tokens").fetchall() == [("w",)]
    finally:
        conn.close()
    assert "test_extra" in tables(path) and "test_extra" not in tables(backup)


def test_newer_database_is_refused(tmp_path: Path) -> None:
    """A database whose schema is newer than the code is refused with a clear error, untouched."""
    path = tmp_path / "netwatch.db"
    Store.open(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    conn.close()
    with pytest.raises(StoreError, match=r"schema version \d+ is newer than this netwatch"):
        Store.open(path)
    assert user_version(path) == SCHEMA_VERSION + 5
    assert backups(path) == []


def test_failed_migration_rolls_back(tmp_path: Path) -> None:
    """A migration that fails leaves the version and tables as they were, and names the backup."""
    path = tmp_path / "netwatch.db"
    Store.open(path).close()
    broken = (*MIGRATIONS, ("CREATE TABLE half (x)", "THIS IS NOT SQL"))
    with pytest.raises(StoreError, match=r"migration to schema version \d+ failed.*bak-v"):
        Store.open(path, migrations=broken)
    assert user_version(path) == SCHEMA_VERSION
    assert "half" not in tables(path)


def test_not_a_database_and_missing_file(tmp_path: Path) -> None:
    """A file that is not SQLite, and a missing file when creation is off, give StoreErrors."""
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database file at all" * 100)
    with pytest.raises(StoreError, match="junk.db: cannot use the database: file is not a"):
        Store.open(junk)
    missing = tmp_path / "missing.db"
    with pytest.raises(StoreError, match="missing.db: no such database"):
        Store.open(missing, create=False)
    assert not missing.exists()
    with pytest.raises(StoreError, match="cannot create database"):
        Store.open(tmp_path / "no-such-dir" / "x.db")


def test_transaction_commits_or_rolls_back(store: Store) -> None:
    """A transaction commits on success, rolls back on an exception, and does not nest; a
    durable one leaves the store's usual durability behind it."""
    insert = ("INSERT INTO tokens (id, hash, role, counties, created_at) "
              "VALUES (?, ?, 'admin', '[]', 0)")
    usual = "PRAGMA synchronous" if isinstance(store.path, Path) else "SHOW synchronous_commit"
    with store.transaction(durable=True) as conn:
        conn.execute(insert, ("a", "ha"))
    assert store.scalar(usual) in (1, "off")  # SQLite's NORMAL, PostgreSQL's off
    with pytest.raises(ZeroDivisionError), store.transaction() as conn:
        conn.execute(insert, ("b", "hb"))
        1 / 0  # noqa: B018
    with pytest.raises(RuntimeError, match="do not nest"), store.transaction():
        with store.transaction():
            pass
    assert [r[0] for r in store.query("SELECT id FROM tokens")] == ["a"]
    with pytest.raises(IntegrityError), store.transaction() as conn:
        conn.execute(insert, ("c", "hc"))
        conn.execute(insert, ("a", "hd"))
    assert [r[0] for r in store.query("SELECT id FROM tokens")] == ["a"]
    with store.transaction() as conn:  # the store is usable after each of those
        assert conn.active and conn.scalar("SELECT count(*) FROM tokens") == 1
    assert not conn.active


def test_close_while_another_connection_writes(tmp_path: Path) -> None:
    """Closing never fails because another connection holds the write lock: the planner
    statistics (``PRAGMA optimize``) are skipped, not fatal (a reader thread's close)."""
    writer = Store.open(tmp_path / "netwatch.db")
    with writer.transaction() as conn:
        conn.executemany(
            "INSERT INTO fault_episodes (device, county, kind, fault, first_seen, opened_at) "
            "VALUES (?, 'east', 'camera', 'unreachable', 0, 0)", [(f"d{i}",) for i in range(500)])
    reader = Store.open(tmp_path / "netwatch.db")
    reader.conn.execute("SELECT * FROM fault_episodes WHERE county = 'east' AND opened_at > 0")
    writer.conn.execute("BEGIN IMMEDIATE")
    try:
        reader.close()
    finally:
        writer.conn.execute("ROLLBACK")
        writer.close()
    with pytest.raises(sqlite3.ProgrammingError):
        reader.conn.execute("SELECT 1")  # closed all the same


def test_owners_run_sql_on_a_handle_with_the_stores_own_errors(store: Store) -> None:
    """The handle's calls (what a table's owner may rely on), on the store and in a
    transaction; the engine's errors arrive as the store's own."""
    lite = isinstance(store.path, Path)
    missing = (OperationalError, "no such table") if lite else (DatabaseError, "does not exist")
    insert = "INSERT INTO schedule_runs (job, ran_at) VALUES (?, ?)"
    with store.transaction() as tx:
        assert tx.active
        assert tx.scalar(insert + " RETURNING ran_at", ("a", 1.5)) == 1.5
        assert tx.executemany(insert, [("b", 2.0), ("c", 3.0)]) == 2
    assert not tx.active
    rows = store.query("SELECT job, ran_at FROM schedule_runs ORDER BY job")
    assert [r["job"] for r in rows] == ["a", "b", "c"] and rows[0][1] == 1.5
    assert store.one("SELECT job FROM schedule_runs WHERE job = ?", ("z",)) is None
    assert store.scalar("SELECT job FROM schedule_runs WHERE job = ?", ("z",)) is None
    assert store.scalar("SELECT max(ran_at) FROM schedule_runs") == 3.0
    assert list(store.tuples("SELECT job FROM schedule_runs ORDER BY job")) == [
        ("a",), ("b",), ("c",)]
    assert store.execute("UPDATE schedule_runs SET ran_at = 0 WHERE job != 'a'").rowcount == 2
    with pytest.raises(IntegrityError, match="UNIQUE" if lite else "duplicate key"):
        store.execute(insert, ("a", 0.0))
    with pytest.raises(IntegrityError), store.transaction() as tx:
        tx.executemany(insert, [("d", 0.0), ("a", 0.0)])
    assert store.one("SELECT 1 FROM schedule_runs WHERE job = 'd'") is None  # rolled back
    with pytest.raises(missing[0], match=missing[1]):
        store.one("SELECT * FROM nowhere")
    with pytest.raises(missing[0], match=missing[1]):
        store.tuples("SELECT * FROM nowhere")
    row = store.one("SELECT job, ran_at FROM schedule_runs WHERE job = 'a'")
    assert row is not None and row.keys() == ["job", "ran_at"]
    assert (row[0], row["job"], row["JOB"], tuple(row), row[:1]) == ("a", "a", "a",
                                                                     ("a", 1.5), ("a",))
    assert not issubclass(IntegrityError, sqlite3.Error)
    assert not issubclass(OperationalError, sqlite3.Error)
