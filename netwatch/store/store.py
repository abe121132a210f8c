"""The SQLite store: the database file, its pragmas, transactions and schema migrations.

One ``Store`` holds one connection, used from one thread (the daemon's event
loop; sqlite3 refuses other threads). Calls are synchronous: every write is a
few rows in one short transaction, well under a millisecond on a local disk, so
they run inline rather than in a thread pool. Reads use ``store.conn`` directly
(autocommit: each statement sees the latest commit, WAL lets readers run beside
the writer); writes go through ``store.transaction()``.

Durability: ``synchronous=NORMAL`` in WAL mode keeps the file consistent on power
loss but may lose the last commits; ``transaction(durable=True)`` switches that
one transaction to ``FULL`` — use it before acknowledging user data (tokens,
readings, acknowledgements), not for the monitor's own fault bookkeeping.

The file is created mode 0600 before SQLite touches it (SQLite gives its -wal and
-shm files the database's mode), and an existing file with a looser mode is
tightened. Before migrating an existing database, it is copied to
``PATH.bak-v{old}-{UTC timestamp}`` with SQLite's backup API (consistent under WAL).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

from netwatch.store.schema import MIGRATIONS, Migration

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000
FILE_MODE = 0o600


class StoreError(Exception):
    """The database cannot be opened, is not ours, or has an unknown schema version."""


def _secure_file(path: Path, create: bool) -> None:
    """Create the file 0600 ourselves, or tighten the mode of an existing one."""
    if not create and not path.exists():
        raise StoreError(f"{path}: no such database")
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, FILE_MODE)
    except FileExistsError:
        fd = -1
    except OSError as exc:
        raise StoreError(f"{path}: cannot create database: {exc.strerror}") from None
    if fd >= 0:
        os.fchmod(fd, FILE_MODE)  # in case the umask took bits away from the owner
        os.close(fd)
        return
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        try:
            mode = stat.S_IMODE(os.stat(p).st_mode)
            if mode != FILE_MODE:
                os.chmod(p, FILE_MODE)
                log.warning("%s: mode was %o, set to %o", p, mode, FILE_MODE)
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise StoreError(f"{p}: cannot set mode {FILE_MODE:o}: {exc.strerror}") from None


def _user_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def _backup(conn: sqlite3.Connection, path: Path, version: int) -> Path:
    """Copy the database aside before changing its schema, so a failed upgrade loses nothing."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    dest = path.with_name(f"{path.name}.bak-v{version}-{stamp}")
    try:
        os.close(os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, FILE_MODE))
    except OSError as exc:
        raise StoreError(f"{dest}: cannot create the backup before migrating: "
                         f"{exc.strerror}") from None
    try:
        target = sqlite3.connect(dest)
        try:
            conn.backup(target)
        finally:
            target.close()
    except sqlite3.Error as exc:
        dest.unlink(missing_ok=True)
        raise StoreError(f"{dest}: backup before migrating failed: {exc}") from None
    log.info("%s: backed up schema version %d to %s", path, version, dest)
    return dest


def _migrate(conn: sqlite3.Connection, path: Path, migrations: Sequence[Migration]) -> None:
    """Bring the schema to the newest version, one transaction per migration."""
    version = _user_version(conn)
    target = len(migrations)
    if version > target:
        raise StoreError(
            f"{path}: schema version {version} is newer than this netwatch knows "
            f"({target}); run a newer netwatch or restore a backup"
        )
    if version == target:
        return
    has_tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] > 0
    backup = _backup(conn, path, version) if version > 0 or has_tables else None
    for n in range(version + 1, target + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            if _user_version(conn) < n:  # another process may have migrated meanwhile
                for step in migrations[n - 1]:
                    if callable(step):
                        step(conn)
                    else:
                        conn.execute(step)
                conn.execute(f"PRAGMA user_version = {n}")
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            kept = f"; a copy of the original is at {backup}" if backup else ""
            raise StoreError(f"{path}: migration to schema version {n} failed: {exc}; "
                             f"the database stays at version {n - 1}{kept}") from None
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        log.info("%s: migrated to schema version %d", path, n)


class Store:
    """An open netwatch database; use ``Store.open``."""

    __slots__ = ("conn", "path")

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path

    @classmethod
    def open(cls, path: Path | str, *, create: bool = True,
             migrations: Sequence[Migration] = MIGRATIONS) -> Store:
        """Open (or, with ``create``, create) the database and migrate it to the current schema."""
        path = Path(path)
        _secure_file(path, create)
        try:
            conn = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
        except sqlite3.Error as exc:
            raise StoreError(f"{path}: cannot open database: {exc}") from None
        try:
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode != "wal":
                raise StoreError(f"{path}: cannot use WAL journaling (got {mode!r}); "
                                 "put the database on a local file system")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            _migrate(conn, path, migrations)
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise StoreError(f"{path}: cannot use the database: {exc}") from None
        except BaseException:
            conn.close()
            raise
        return cls(conn, path)

    @property
    def version(self) -> int:
        return _user_version(self.conn)

    @contextmanager
    def transaction(self, *, durable: bool = False) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE … COMMIT, or ROLLBACK on any exception; ``durable`` syncs the commit."""
        if self.conn.in_transaction:
            raise RuntimeError(f"{self.path}: transactions do not nest")
        if durable:
            self.conn.execute("PRAGMA synchronous = FULL")
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
                self.conn.execute("COMMIT")
            except BaseException:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise
        finally:
            if durable:
                self.conn.execute("PRAGMA synchronous = NORMAL")

    def close(self) -> None:
        """Let SQLite refresh its planner statistics, then close (checkpointing the WAL).

        The statistics are a nicety: while another connection writes, ``optimize`` may find
        the database locked (its ANALYZE cannot wait like a transaction), and then the
        connection simply closes without them.
        """
        try:
            self.conn.execute("PRAGMA optimize")
        except sqlite3.OperationalError as exc:
            log.debug("%s: planner statistics not refreshed at close: %s", self.path, exc)
        finally:
            self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"
