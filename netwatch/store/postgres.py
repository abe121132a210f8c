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

When the server goes away, a statement fails with ``OperationalError``; a broken
connection makes the pool check the others, and new ones are made once the server
is back.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

import psycopg
from psycopg import pq
from psycopg.abc import Buffer
from psycopg.adapt import Loader
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import RowMaker, tuple_row
from psycopg_pool import ConnectionPool

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
CONNECT_TIMEOUT = "10"  # libpq's connect_timeout, unless the URL sets one
ITERSIZE = 2000  # rows fetched at a time by ``tuples``
READ_ONLY = "25006"  # SQLSTATE read_only_sql_transaction: a standby, or a read-only setting
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


def _configure(conn: psycopg.Connection[Any]) -> None:
    """Each new connection: numeric loader, SQLite's NORMAL durability and busy timeout."""
    conn.adapters.register_loader("numeric", _NumericLoader)
    conn.execute(f"SET synchronous_commit TO off; SET lock_timeout TO '{pg_schema.LOCK_WAIT}'",
                 prepare=False)


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
            exc.sqlstate == READ_ONLY):
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


class PgTransaction(Transaction):
    """The handle ``PgStore.transaction()`` yields, on the connection it holds."""

    __slots__ = ("_open", "_secrets", "pg")

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


class PgStore(Store):
    """An open netwatch database on PostgreSQL; ``Store.open(URL)`` makes one."""

    __slots__ = ("_local", "pool", "secrets")

    def __init__(self, pool: ConnectionPool[psycopg.Connection[PgRow]], url: PgUrl,
                 secrets: Sequence[str]) -> None:
        # no sqlite3 connection: ``conn`` stays unset
        self.pool = pool
        self.path = url
        self.secrets = tuple(secrets)
        self._local = threading.local()  # the transaction this thread has open, if any

    @classmethod
    def open(cls, path: Path | str | PgUrl, *, create: bool = True,
             migrations: Sequence[Migration] = MIGRATIONS) -> PgStore:
        """Connect, check the database, migrate it, then open the pool."""
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
        pool: ConnectionPool[psycopg.Connection[PgRow]] = ConnectionPool(
            conninfo, min_size=1, max_size=POOL_SIZE, kwargs=kwargs, configure=_configure,
            timeout=POOL_WAIT, name="netwatch", open=False)
        try:
            pool.open(wait=True, timeout=POOL_WAIT)
        except psycopg.Error as exc:
            pool.close()
            raise StoreError(f"{url}: cannot open connections: {_message(exc, secrets)}") from None
        return cls(pool, url, secrets)

    def _get(self) -> psycopg.Connection[PgRow]:
        try:
            return self.pool.getconn()
        except psycopg.Error as exc:
            raise store_error(exc, self.secrets) from None

    def _put(self, conn: psycopg.Connection[PgRow]) -> None:
        broken = conn.broken or conn.closed
        self.pool.putconn(conn)
        if broken:  # the server went away: drop the other idle connections too
            try:
                self.pool.check()
            except psycopg.Error as exc:
                log.debug("%s: pool check after a broken connection: %s", self.path, exc)

    def _joined(self) -> PgTransaction | None:
        """This thread's open transaction: a statement on the store while it is open belongs
        to it, as on SQLite's one connection (not to a second connection it would wait on)."""
        tx: PgTransaction | None = getattr(self._local, "tx", None)
        return tx

    def execute(self, sql: str, params: Params = ()) -> Cursor:
        tx = self._joined()
        if tx is not None:
            return tx.execute(sql, params)
        conn = self._get()
        try:
            cur = _execute(conn, sql, params, self.secrets)
            rows = cur.fetchall() if cur.description is not None else []
            return _Result(rows, cur.rowcount)
        finally:
            self._put(conn)

    def executemany(self, sql: str, rows: Iterable[Params]) -> int:
        tx = self._joined()
        if tx is not None:
            return tx.executemany(sql, rows)
        conn = self._get()
        try:
            return _executemany(conn, sql, rows, self.secrets)
        finally:
            self._put(conn)

    def tuples(self, sql: str, params: Params = ()) -> Iterator[tuple[Any, ...]]:
        tx = self._joined()
        if tx is not None:
            return tx.tuples(sql, params)
        conn = self._get()
        try:
            conn.execute("BEGIN")  # a server-side cursor lives in a transaction
        except psycopg.Error as exc:
            self._put(conn)
            raise store_error(exc, self.secrets) from None

        def done() -> None:
            _finish(conn, "COMMIT")
            self._put(conn)

        return _stream(conn, sql, params, self.secrets, done)

    @property
    def version(self) -> int:
        conn = self._get()
        try:
            return pg_schema.schema_version(conn) or 0
        except psycopg.Error as exc:
            raise store_error(exc, self.secrets) from None
        finally:
            self._put(conn)

    @contextmanager
    def transaction(self, *, durable: bool = False) -> Iterator[Transaction]:
        """One writer at a time (the advisory lock), COMMIT or ROLLBACK on any exception;
        ``durable`` waits for the WAL flush at commit."""
        if getattr(self._local, "tx", None) is not None:
            raise RuntimeError(f"{self.path}: transactions do not nest")
        conn = self._get()
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
            self._put(conn)

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
