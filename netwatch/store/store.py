"""The store: the database file, its pragmas, transactions and schema migrations.

Two engines sit behind one API: a SQLite file (this module: ``netwatch demo``, the
tests, single-host installs) and PostgreSQL (``postgres``: a shared database).
``Store.open`` takes either a path or a ``postgresql://`` URL (``target``); what
follows says how SQLite does it, and what owners may rely on on both.

One ``Store`` holds one connection, used from one thread (sqlite3 refuses others).
Its calls are synchronous, and they never run on the daemon's event loop: there a
network round trip or a stalled database would hold up every probe's deadline. The
daemon opens its store on a thread of its own (``netwatch.store.worker``), and async
code hands that thread owner functions to run; commands run by hand call the store
directly. A statement run on the ``Store`` itself commits on its own (autocommit: each
read sees the latest commit, WAL lets readers run beside the writer); several writes
that belong together go through ``store.transaction()``.

What a table's owner may rely on (and nothing more, so that another engine can
take SQLite's place without rewriting the owners): each table has one owning
module, and only owners write SQL; they run it on a ``Handle``, which is either
the ``Store`` or the ``Transaction`` that ``store.transaction()`` yields, with

- ``execute(sql, params)`` → a cursor: ``fetchone()``, ``fetchall()``, iteration,
  ``rowcount`` (never ``lastrowid``: write ``INSERT … RETURNING id``);
- ``executemany(sql, rows)`` → the rows changed; ``query`` → all rows; ``one`` →
  the first row or None; ``scalar`` → the first column of the first row or None;
  ``tuples`` → plain tuples, streamed, for scans too large for ``Row``;
- rows that read by column name and by position (``row["id"]``, ``row[0]``);
- ``?`` placeholders, and SQL both SQLite and PostgreSQL accept: ``RETURNING``,
  ``ON CONFLICT … DO UPDATE`` (qualify the table's own columns there), aggregates
  such as ``min()``/``sum()`` over rows but no scalar ``MIN(a, b)`` (use CASE), no
  sums of comparisons (``sum(CASE WHEN … THEN 1 ELSE 0 END)``), no PRAGMA;
- the store's own errors, never the engine's: ``IntegrityError`` (a constraint
  refused the change) and ``OperationalError`` (busy, locked, read-only, the server
  unreachable); any other failure is a ``DatabaseError``;
- a statement that fails inside a transaction ends it: let the error leave the
  ``with`` (PostgreSQL refuses every later statement of that transaction).

An owner function that must join its caller's transaction takes the
``Transaction`` (and reads through it, to see the transaction's own writes);
one that is a unit of work by itself takes the ``Store`` and opens its own.
The schema and its migrations (``netwatch.store.schema``), the pragmas here and the
backups (``backup``) are the engine's own business and use ``store.conn``.

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
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, overload

from netwatch.store.schema import MIGRATIONS, Dialects, Migration
from netwatch.store.target import PgUrl, Target, parse_target

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000
FILE_MODE = 0o600


Params = Sequence[Any]


class Row(Protocol):
    """A row by column name and by position (``sqlite3.Row``, or PostgreSQL's ``PgRow``);
    ``keys()`` names the columns, iteration gives the values."""

    @overload
    def __getitem__(self, key: int | str, /) -> Any: ...

    @overload
    def __getitem__(self, key: slice, /) -> tuple[Any, ...]: ...

    def keys(self) -> list[str]: ...

    def __iter__(self) -> Iterator[Any]: ...

    def __len__(self) -> int: ...


class StoreError(Exception):
    """The database cannot be opened, is not ours, or has an unknown schema version."""


class DatabaseError(Exception):
    """A statement failed in the database engine; the message is the engine's."""


class IntegrityError(DatabaseError):
    """A constraint refused the change (unique, foreign key, check)."""


class OperationalError(DatabaseError):
    """The database could not run the statement now (busy, locked, read-only, full)."""


class Cursor(Protocol):
    """What ``Handle.execute`` returns: the rows of a query, or the count of a change."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


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
                    if isinstance(step, Dialects):
                        step = step.sqlite
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


class Handle:
    """Where owners run their SQL: the ``Store`` (autocommit) or a ``Transaction``."""

    __slots__ = ("conn",)
    # the database's own clock, in Unix seconds: what leases expire by, never a host's
    CLOCK_SQL = "SELECT (julianday('now') - 2440587.5) * 86400.0"

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def execute(self, sql: str, params: Params = ()) -> Cursor:
        """Run one statement; a query's rows are read from the cursor returned."""
        try:
            return self.conn.execute(sql, params)
        except sqlite3.IntegrityError as exc:
            raise IntegrityError(str(exc)) from exc
        except sqlite3.OperationalError as exc:
            raise OperationalError(str(exc)) from exc

    def executemany(self, sql: str, rows: Iterable[Params]) -> int:
        """Run one statement per row of parameters; returns the rows changed in all."""
        try:
            return self.conn.executemany(sql, rows).rowcount
        except sqlite3.IntegrityError as exc:
            raise IntegrityError(str(exc)) from exc
        except sqlite3.OperationalError as exc:
            raise OperationalError(str(exc)) from exc

    def query(self, sql: str, params: Params = ()) -> list[Row]:
        """Every row of a query."""
        rows: list[Row] = self.execute(sql, params).fetchall()
        return rows

    def one(self, sql: str, params: Params = ()) -> Row | None:
        """The first row of a query, None when it has none."""
        row: Row | None = self.execute(sql, params).fetchone()
        return row

    def scalar(self, sql: str, params: Params = ()) -> Any:
        """The first column of the first row, None when there is no row."""
        row = self.execute(sql, params).fetchone()
        return None if row is None else row[0]

    def clock(self) -> float:
        """The database's time now (Unix seconds), the same for every host that asks."""
        return float(self.scalar(self.CLOCK_SQL))

    def tuples(self, sql: str, params: Params = ()) -> Iterator[tuple[Any, ...]]:
        """A query's rows as plain tuples, read as they are iterated: for large scans."""
        cursor = self.conn.cursor()
        cursor.row_factory = None
        try:
            cursor.execute(sql, params)
        except sqlite3.OperationalError as exc:
            raise OperationalError(str(exc)) from exc
        return iter(cursor)


class Transaction(Handle):
    """The handle ``Store.transaction()`` yields: its statements commit together or not at all."""

    __slots__ = ()

    @property
    def active(self) -> bool:
        """True until the transaction ends (owners that must join one check it)."""
        return self.conn.in_transaction


Guard = Callable[[Transaction], None]


class Store(Handle):
    """An open netwatch database; use ``Store.open``."""

    __slots__ = ("guard", "path")
    path: Target  # the SQLite file, or the PostgreSQL URL (printed with its password masked)
    # run first in every transaction while set (the database thread sets it per call):
    # fencing, which refuses the whole transaction when this instance's lease moved on
    guard: Guard | None

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        super().__init__(conn)
        self.path = path
        self.guard = None

    @classmethod
    def open(cls, path: Path | str | PgUrl, *, create: bool = True,
             migrations: Sequence[Migration] = MIGRATIONS,
             idle_limit: float | None = None) -> Store:
        """Open (or, with ``create``, create) the database and migrate it to the current schema.

        A ``postgresql://`` URL opens PostgreSQL (``postgres``); anything else is a file path.
        ``idle_limit`` (PostgreSQL only) is how long the server lets one of the store's
        sessions sit idle inside a transaction before it ends the session: a process
        stopped mid-transaction (paused, frozen, cut off) then keeps the write lock, which
        every process on the database needs, no longer than that.
        """
        target = parse_target(path)
        if isinstance(target, PgUrl):
            from netwatch.store.postgres import PgStore  # psycopg only when asked for

            return PgStore.open(target, create=create, migrations=migrations,
                                idle_limit=idle_limit)
        path = target
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
    def transaction(self, *, durable: bool = False) -> Iterator[Transaction]:
        """BEGIN IMMEDIATE … COMMIT, or ROLLBACK on any exception; ``durable`` syncs the commit."""
        if self.conn.in_transaction:
            raise RuntimeError(f"{self.path}: transactions do not nest")
        tx = Transaction(self.conn)
        if durable:
            self.conn.execute("PRAGMA synchronous = FULL")
        try:
            tx.execute("BEGIN IMMEDIATE")
            try:
                if self.guard is not None:
                    self.guard(tx)
                yield tx
                tx.execute("COMMIT")
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
