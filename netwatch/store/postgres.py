"""PostgreSQL behind the store's ``Handle`` API, so the owners run unchanged on it.

``PgStore`` holds a small pool of connections (psycopg 3 and psycopg_pool: safe to
share between threads); a statement on the store takes one, runs in autocommit and
gives it back with its rows read; ``transaction()`` keeps one for the transaction.
What the owners write for SQLite is translated once per statement text and cached:
``?`` becomes psycopg's ``%s`` (and a literal ``%`` becomes ``%%``), outside quoted
text and comments. Rows are ``PgRow``: by position and by column name, like
``sqlite3.Row``; a ``numeric`` result (``sum()`` of a ``BIGINT`` column) comes back as
an ``int``, or a ``float`` when it has decimals, as SQLite gives it. psycopg's errors
arrive as the store's own, with PostgreSQL's first line only (its detail lines may
quote a row's values) and every password of the URL masked.

Transactions keep SQLite's ``BEGIN IMMEDIATE`` semantics, which the owners were
written for (``issue_notices`` reads, numbers and records as one writer): each
takes a transaction-level advisory lock first, so write transactions run one at a
time across every process on the database while plain reads go on beside them; a
lock not had within ``LOCK_WAIT`` fails as an ``OperationalError``, like SQLite's
busy timeout. A statement run on the store while the same thread has a transaction
open joins that transaction, as it does on SQLite's single connection.

Durability matches SQLite's too: ``synchronous_commit`` is off on
netwatch's connections (a crash may lose the last moments of fault bookkeeping,
never consistency) and ``transaction(durable=True)`` turns it on for that one
transaction (tokens, readings, acknowledgements, issued notices wait for the WAL
flush, and a synchronous standby's, before their answer).

When the server goes away (stopped, restarted, unreachable), the statement that finds
its connection broken fails with ``OperationalError`` and the pool is set aside: its
other connections are as dead, and its own reconnection would pause ever longer (up
to minutes) between attempts. From then on each statement fails at once with the
reason, except at most one a ``RECONNECT_EVERY`` that tries a fresh connection first:
once the server answers it, a new pool serves that statement and the ones after it.
So a caller learns of an outage in milliseconds, not after the pool's wait, and the
store serves again as soon as the server does.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeAlias

import psycopg
from psycopg import pq
from psycopg.abc import Buffer
from psycopg.adapt import Loader
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import RowMaker, tuple_row
from psycopg_pool import ConnectionPool, PoolTimeout

from netwatch.store import pg_schema
from netwatch.store.schema import MIGRATIONS, Migration
from netwatch.store.store import (
    Cursor,
    DatabaseError,
    IntegrityError,
    OperationalError,
    Params,
    Store,
    StoreError,
    Transaction,
)
from netwatch.store.target import PgUrl, TargetError, parse_target

log = logging.getLogger(__name__)

POOL_SIZE = 4  # connections at most: the daemon, its duties' threads, an analysis
POOL_WAIT = 10.0  # seconds a statement waits for a free (or new) connection
RECONNECT_EVERY = 1.0  # seconds between fresh connection attempts while the server is away
CONNECT_TIMEOUT = "10"  # libpq's connect_timeout, unless the URL sets one
ITERSIZE = 2000  # rows fetched at a time by ``tuples``
READ_ONLY = "25006"  # SQLSTATE read_only_sql_transaction: a standby, or a read-only setting
# SQLSTATE idle_in_transaction_session_timeout: the server ended a session left idle in a
# transaction past the idle limit (rolled back); psycopg calls it an internal error
IDLE_ENDED = "25P03"
_cursor_ids = itertools.count(1)


@lru_cache(maxsize=4096)
def translate(sql: str) -> str:
    """The owners' SQL for psycopg: ``?`` as ``%s``, ``%`` as ``%%``; quoted text (``'…'``,
    ``"…"``) and comments keep their ``?``."""
    out: list[str] = []
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if ch in "'\"":
            j = sql.find(ch, i + 1)
            while j != -1 and j + 1 < n and sql[j + 1] == ch:  # a doubled quote inside
                j = sql.find(ch, j + 2)
            end = n if j == -1 else j + 1
        elif sql.startswith("--", i):
            j = sql.find("\n", i)
            end = n if j == -1 else j
        elif sql.startswith("/*", i):
            j = sql.find("*/", i + 2)
            end = n if j == -1 else j + 2
        elif ch == "?":
            out.append("%s")
            i += 1
            continue
        else:
            end = i + 1
            while end < n and sql[end] not in "'\"-/?":
                end += 1
        out.append(sql[i:end].replace("%", "%%"))
        i = end
    return "".join(out)


class _Columns:
    """A result's column names, shared by its rows."""

    __slots__ = ("index", "names")

    def __init__(self, names: Sequence[str]) -> None:
        self.names = list(names)
        self.index: dict[str, int] = {}
        for i, name in enumerate(self.names):
            self.index.setdefault(name, i)
            self.index.setdefault(name.lower(), i)


class PgRow:
    """A row by position (``row[0]``, slices) and by column name (``row["id"]``, any case),
    iterating its values and naming its columns with ``keys()``, as ``sqlite3.Row`` does."""

    __slots__ = ("_columns", "_values")

    def __init__(self, columns: _Columns, values: tuple[Any, ...]) -> None:
        self._columns = columns
        self._values = values

    def __getitem__(self, key: int | str | slice) -> Any:
        if isinstance(key, str):
            i = self._columns.index.get(key)
            if i is None:
                i = self._columns.index.get(key.lower())
            if i is None:
                raise IndexError(f"no column named {key!r}")
            return self._values[i]
        return self._values[key]

    def keys(self) -> list[str]:
        return list(self._columns.names)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PgRow):
            return NotImplemented
        return self._columns.names == other._columns.names and self._values == other._values

    def __hash__(self) -> int:
        return hash((tuple(self._columns.names), self._values))

    def __repr__(self) -> str:
        return f"PgRow({dict(zip(self._columns.names, self._values, strict=True))!r})"


def pg_row(cursor: psycopg.Cursor[Any]) -> RowMaker[PgRow]:
    """psycopg's row factory for ``PgRow``."""
    columns = _Columns([d.name for d in cursor.description or ()])

    def make(values: Sequence[Any]) -> PgRow:
        return PgRow(columns, tuple(values))

    return make


class _NumericLoader(Loader):
    """``numeric`` as SQLite gives such figures: an int when whole, else a float."""

    def load(self, data: Buffer) -> int | float:
        text = bytes(data).decode("ascii")
        if "." in text or "e" in text or "E" in text or not text.lstrip("-").isdigit():
            return float(text)
        return int(text)


def _configure(conn: psycopg.Connection[Any], idle_limit: float | None = None) -> None:
    """Each new connection: numeric loader, SQLite's NORMAL durability and busy timeout,
    and the idle limit inside a transaction when one is given."""
    conn.adapters.register_loader("numeric", _NumericLoader)
    idle = ("" if idle_limit is None else
            f"; SET idle_in_transaction_session_timeout TO {max(1, round(idle_limit * 1000))}")
    conn.execute(f"SET synchronous_commit TO off; SET lock_timeout TO '{pg_schema.LOCK_WAIT}'"
                 + idle, prepare=False)


def _message(exc: psycopg.Error, secrets: Sequence[str]) -> str:
    primary = exc.diag.message_primary if exc.diag is not None else None
    text = primary or (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    for secret in secrets:
        text = text.replace(secret, "***")
    return text


def store_error(exc: psycopg.Error, secrets: Sequence[str]) -> DatabaseError:
    """The store's own error for one of psycopg's."""
    text = _message(exc, secrets)
    if isinstance(exc, psycopg.IntegrityError):
        return IntegrityError(text)
    if isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError) or (
            exc.sqlstate in (READ_ONLY, IDLE_ENDED)):
        return OperationalError(text)
    return DatabaseError(text)


def _execute(conn: psycopg.Connection[PgRow], sql: str, params: Params,
             secrets: Sequence[str]) -> psycopg.Cursor[PgRow]:
    try:
        return conn.execute(translate(sql), tuple(params))
    except psycopg.Error as exc:
        raise store_error(exc, secrets) from None


def _executemany(conn: psycopg.Connection[PgRow], sql: str, rows: Iterable[Params],
                 secrets: Sequence[str]) -> int:
    try:
        with conn.cursor() as cur:
            cur.executemany(translate(sql), [tuple(r) for r in rows])
            return max(cur.rowcount, 0)
    except psycopg.Error as exc:
        raise store_error(exc, secrets) from None


def _stream(conn: psycopg.Connection[PgRow], sql: str, params: Params, secrets: Sequence[str],
            done: Callable[[], None]) -> Iterator[tuple[Any, ...]]:
    """Rows of a server-side cursor (``conn`` inside a transaction), ``ITERSIZE`` at a time;
    the statement runs now (its errors are raised here), ``done`` runs when the rows end."""
    cur = conn.cursor(name=f"netwatch_{next(_cursor_ids)}", row_factory=tuple_row)
    cur.itersize = ITERSIZE
    try:
        cur.execute(translate(sql), tuple(params))
    except psycopg.Error as exc:
        cur.close()
        done()
        raise store_error(exc, secrets) from None
    except BaseException:
        done()
        raise

    def rows() -> Iterator[tuple[Any, ...]]:
        try:
            yield from cur
        except psycopg.Error as exc:
            raise store_error(exc, secrets) from None
        finally:
            try:
                cur.close()
            except psycopg.Error:
                pass
            done()

    return rows()


class _Result:
    """A statement's rows, read before its connection went back to the pool."""

    __slots__ = ("_rows", "rowcount")

    def __init__(self, rows: list[PgRow], rowcount: int) -> None:
        self._rows = iter(rows)
        self.rowcount = rowcount

    def fetchone(self) -> PgRow | None:
        return next(self._rows, None)

    def fetchall(self) -> list[PgRow]:
        return list(self._rows)

    def __iter__(self) -> Iterator[PgRow]:
        return self._rows


# the server's clock: ``clock_timestamp()`` moves within a transaction, ``now()`` does not
PG_CLOCK = "SELECT extract(epoch FROM clock_timestamp())::float8"


class PgTransaction(Transaction):
    """The handle ``PgStore.transaction()`` yields, on the connection it holds."""

    __slots__ = ("_open", "_secrets", "pg")
    CLOCK_SQL = PG_CLOCK

    def __init__(self, pg: psycopg.Connection[PgRow], secrets: Sequence[str]) -> None:
        # no sqlite3 connection: ``conn`` stays unset; the queries below use ``pg``
        self.pg = pg
        self._secrets = secrets
        self._open = True

    @property
    def active(self) -> bool:
        return self._open

    def execute(self, sql: str, params: Params = ()) -> Cursor:
        return _execute(self.pg, sql, params, self._secrets)

    def executemany(self, sql: str, rows: Iterable[Params]) -> int:
        return _executemany(self.pg, sql, rows, self._secrets)

    def tuples(self, sql: str, params: Params = ()) -> Iterator[tuple[Any, ...]]:
        return _stream(self.pg, sql, params, self._secrets, lambda: None)


Pool: TypeAlias = ConnectionPool[psycopg.Connection[PgRow]]


def _pool(conninfo: str, kwargs: dict[str, Any], idle_limit: float | None) -> Pool:
    """netwatch's pool of connections to one database, not yet open."""
    return ConnectionPool(conninfo, min_size=1, max_size=POOL_SIZE, kwargs=kwargs,
                          configure=lambda conn: _configure(conn, idle_limit),
                          timeout=POOL_WAIT, name="netwatch", open=False)


class PgStore(Store):
    """An open netwatch database on PostgreSQL; ``Store.open(URL)`` makes one."""

    __slots__ = ("_conninfo", "_down", "_idle_limit", "_kwargs", "_lock", "_local",
                 "_retry_at", "pool", "secrets")
    CLOCK_SQL = PG_CLOCK

    def __init__(self, pool: Pool, url: PgUrl, secrets: Sequence[str], conninfo: str,
                 kwargs: dict[str, Any], idle_limit: float | None = None) -> None:
        # no sqlite3 connection: ``conn`` stays unset
        self.pool = pool
        self.path = url
        self.secrets = tuple(secrets)
        self._conninfo = conninfo  # resolved: for libpq only, never shown
        self._kwargs = kwargs
        self._idle_limit = idle_limit  # seconds a session may idle inside a transaction
        self._local = threading.local()  # the transaction this thread has open, if any
        self._lock = threading.Lock()  # guards the three below
        self._down: str | None = None  # why the server is away; None while the pool serves
        self._retry_at = 0.0  # monotonic time of the next fresh connection attempt
        self.guard = None

    @classmethod
    def open(cls, path: Path | str | PgUrl, *, create: bool = True,
             migrations: Sequence[Migration] = MIGRATIONS,
             idle_limit: float | None = None) -> PgStore:
        """Connect, check the database, migrate it, then open the pool. With ``idle_limit``
        the server ends a session of the pool left idle inside a transaction that long."""
        url = parse_target(path)
        if not isinstance(url, PgUrl):
            raise StoreError(f"{url}: not a postgresql:// URL")
        try:
            conninfo = url.conninfo()
            options = conninfo_to_dict(conninfo)
        except TargetError as exc:
            raise StoreError(str(exc)) from None
        except psycopg.Error as exc:
            raise StoreError(f"{url}: not a usable URL: {url.scrub(_message(exc, ()))}") from None
        secrets = url.secrets()
        kwargs: dict[str, Any] = {"autocommit": True, "row_factory": pg_row}
        if "connect_timeout" not in options:
            kwargs["connect_timeout"] = CONNECT_TIMEOUT
        if "application_name" not in options:
            kwargs["application_name"] = "netwatch"
        try:
            first = psycopg.connect(conninfo, **kwargs)
        except psycopg.Error as exc:
            raise StoreError(f"{url}: cannot connect: {_message(exc, secrets)}") from None
        try:
            _configure(first)
            pg_schema.check_database(first, url)
            pg_schema.migrate(first, url, migrations, create=create)
        except psycopg.Error as exc:
            raise StoreError(f"{url}: cannot use the database: {_message(exc, secrets)}") from None
        finally:
            first.close()
        pool = _pool(conninfo, kwargs, idle_limit)
        try:
            pool.open(wait=True, timeout=POOL_WAIT)
        except psycopg.Error as exc:
            pool.close()
            raise StoreError(f"{url}: cannot open connections: {_message(exc, secrets)}") from None
        return cls(pool, url, secrets, conninfo, kwargs, idle_limit)

    def _get(self) -> tuple[Pool, psycopg.Connection[PgRow]]:
        """A connection and the pool to give it back to."""
        pool = self._serving()
        try:
            return pool, pool.getconn()
        except psycopg.Error as exc:
            if isinstance(exc, PoolTimeout):  # nothing connected in POOL_WAIT: likely away
                self._lost(pool)
            raise store_error(exc, self.secrets) from None

    def _put(self, pool: Pool, conn: psycopg.Connection[PgRow]) -> None:
        broken = conn.broken or conn.closed
        pool.putconn(conn)
        if broken:
            self._lost(pool)

    def _serving(self) -> Pool:
        """The pool, or (while the server is away) the reason at once, or a new pool when a
        fresh connection attempt, at most one a ``RECONNECT_EVERY``, finds the server back."""
        with self._lock:
            if self._down is None:
                return self.pool
            now = time.monotonic()
            if now < self._retry_at:
                raise OperationalError(self._down)
            self._retry_at = now + RECONNECT_EVERY
            try:  # fails at once with libpq's reason, where a pool would wait and retry
                psycopg.connect(self._conninfo, **self._kwargs).close()
            except psycopg.Error as exc:
                self._down = f"cannot connect: {_message(exc, self.secrets)}"
                raise OperationalError(self._down) from None
            pool = _pool(self._conninfo, self._kwargs, self._idle_limit)
            pool.open(wait=False)  # its first connection comes at once: the server answers
            self.pool, self._down = pool, None
        log.warning("%s: connected again", self.path)
        return pool

    def _lost(self, pool: Pool) -> None:
        """A connection broke: the server went away or restarted. Its pool is closed (its
        connections out are closed as they come back) and the next statement reconnects."""
        with self._lock:
            if pool is not self.pool or self._down is not None:
                return  # already set aside
            self._down = "the connection to the server was lost"
            self._retry_at = 0.0
        log.warning("%s: the connection to the server was lost", self.path)
        pool.close(timeout=1.0)

    def _joined(self) -> PgTransaction | None:
        """This thread's open transaction: a statement on the store while it is open belongs
        to it, as on SQLite's one connection (not to a second connection it would wait on)."""
        tx: PgTransaction | None = getattr(self._local, "tx", None)
        return tx

    def execute(self, sql: str, params: Params = ()) -> Cursor:
        tx = self._joined()
        if tx is not None:
            return tx.execute(sql, params)
        pool, conn = self._get()
        try:
            cur = _execute(conn, sql, params, self.secrets)
            rows = cur.fetchall() if cur.description is not None else []
            return _Result(rows, cur.rowcount)
        finally:
            self._put(pool, conn)

    def executemany(self, sql: str, rows: Iterable[Params]) -> int:
        tx = self._joined()
        if tx is not None:
            return tx.executemany(sql, rows)
        pool, conn = self._get()
        try:
            return _executemany(conn, sql, rows, self.secrets)
        finally:
            self._put(pool, conn)

    def tuples(self, sql: str, params: Params = ()) -> Iterator[tuple[Any, ...]]:
        tx = self._joined()
        if tx is not None:
            return tx.tuples(sql, params)
        pool, conn = self._get()
        try:
            conn.execute("BEGIN")  # a server-side cursor lives in a transaction
        except psycopg.Error as exc:
            self._put(pool, conn)
            raise store_error(exc, self.secrets) from None

        def done() -> None:
            _finish(conn, "COMMIT")
            self._put(pool, conn)

        return _stream(conn, sql, params, self.secrets, done)

    @property
    def version(self) -> int:
        pool, conn = self._get()
        try:
            return pg_schema.schema_version(conn) or 0
        except psycopg.Error as exc:
            raise store_error(exc, self.secrets) from None
        finally:
            self._put(pool, conn)

    @contextmanager
    def transaction(self, *, durable: bool = False) -> Iterator[Transaction]:
        """One writer at a time (the advisory lock), COMMIT or ROLLBACK on any exception;
        ``durable`` waits for the WAL flush at commit."""
        if getattr(self._local, "tx", None) is not None:
            raise RuntimeError(f"{self.path}: transactions do not nest")
        pool, conn = self._get()
        tx = PgTransaction(conn, self.secrets)
        self._local.tx = tx
        try:
            begin = pg_schema.BEGIN + ("; SET LOCAL synchronous_commit TO on" if durable else "")
            try:
                conn.execute(begin, prepare=False)
            except psycopg.Error as exc:
                _finish(conn, "ROLLBACK")
                raise store_error(exc, self.secrets) from None
            try:
                if self.guard is not None:
                    self.guard(tx)
                yield tx
                conn.execute("COMMIT")
            except psycopg.Error as exc:
                _finish(conn, "ROLLBACK")
                raise store_error(exc, self.secrets) from None
            except BaseException:
                _finish(conn, "ROLLBACK")
                raise
        finally:
            tx._open = False
            self._local.tx = None
            self._put(pool, conn)

    def close(self) -> None:
        """Close every connection of the pool."""
        self.pool.close()


def _finish(conn: psycopg.Connection[Any], how: str) -> None:
    """End the connection's transaction, if it still has one and can."""
    if conn.broken or conn.closed:
        return
    if conn.info.transaction_status == pq.TransactionStatus.IDLE:
        return
    try:
        conn.execute(how)
    except psycopg.Error as exc:
        log.debug("%s failed: %s", how, exc)
