"""A benchmark's own PostgreSQL server, and the load a run puts on it, read from the server.

``PrivateServer`` starts a cluster for one run the way the tests do (``tests/pgserver.py``:
initdb and pg_ctl as the ``postgres`` user into a temporary directory, listening on one
loopback address only, stopped and removed at the end), then sets it up as a production
server runs: ``fsync`` and ``full_page_writes`` on (the WAL figures include the page
images written after each checkpoint), PostgreSQL's default ``shared_buffers``, and
``pg_stat_statements`` loaded so that the statements the daemon sends are counted by
the server itself.

``sample()`` reads the server's own statistics, all cumulative: the statements executed
in the benchmark's database and the rows they wrote (``INSERT``, ``UPDATE``, ``DELETE``)
or returned (the rest) from ``pg_stat_statements`` (``BEGIN`` and ``COMMIT`` count as
statements), counted as each statement ends; its committed transactions and the rows
its scans read (``pg_stat_database``: sequential scans' rows and index scans' entries),
which a backend reports up to 10 s after the work; the WAL position
(``pg_current_wal_lsn()``, the whole cluster: only this database writes to it); and
the CPU of the server's processes. The difference of two samples over their wall time
is the load.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, fields
from pathlib import Path
from types import TracebackType

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ is not installed

from netwatch.store import PgUrl  # noqa: E402
from tests import pgserver  # noqa: E402

_WRITE = "query ~* '^\\s*(insert|update|delete|merge)\\M'"  # a statement that writes rows


@dataclass(frozen=True)
class Sample:
    """The server's cumulative counters at one moment (``at``: ``time.monotonic()``)."""

    at: float
    statements: int
    written: int  # rows inserted, updated or deleted by the statements
    returned: int  # rows the other statements returned
    transactions: int  # committed
    scanned: int  # rows read by sequential scans, index entries by index scans
    wal_bytes: int
    cpu: float  # seconds, every process of the server (exited ones as reaped)

    def __sub__(self, other: Sample) -> Sample:
        return Sample(**{f.name: getattr(self, f.name) - getattr(other, f.name)
                         for f in fields(self)})


@dataclass(frozen=True)
class Load:
    """What the server did per second over a window."""

    seconds: float
    statements: float
    transactions: float
    rows_written: float
    rows_returned: float
    rows_scanned: float
    wal_bytes: float
    cpu_share: float  # of one core

    @classmethod
    def between(cls, first: Sample, last: Sample) -> Load:
        d = last - first
        s = d.at
        return cls(s, d.statements / s, d.transactions / s, d.written / s, d.returned / s,
                   d.scanned / s, d.wal_bytes / s, d.cpu / s)

    def line(self) -> str:
        return (f"{self.statements:,.1f} statements/s, {self.transactions:,.1f} "
                f"transactions/s, {self.rows_written:,.1f} rows written/s, "
                f"{self.rows_returned:,.1f} rows returned/s, {self.rows_scanned:,.0f} rows "
                f"scanned/s, {self.wal_bytes / 1024:,.1f} KiB WAL/s, "
                f"server CPU {self.cpu_share:.1%} of one core")


class PrivateServer:
    """A PostgreSQL cluster of one benchmark run, on ``host`` (loopback) only."""

    def __init__(self, host: str) -> None:
        why = pgserver.missing()
        if why is not None:
            raise SystemExit(f"--engine postgresql: {why}")
        self.server = pgserver.start(host=host)
        try:
            with self.server.admin() as conn:
                for name, value in (("fsync", "on"), ("full_page_writes", "on"),
                                    ("shared_buffers", "128MB"),
                                    ("shared_preload_libraries", "pg_stat_statements")):
                    conn.execute(f"ALTER SYSTEM SET {name} = '{value}'")
            self.server.restart()
            self.dbname = self.server.database("bench")
            self.admin = self.server.admin()
            self.admin.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        except BaseException:
            self.server.stop()
            raise

    @property
    def url(self) -> PgUrl:
        """The benchmark database, as netwatch's role (its password from the environment)."""
        return PgUrl(self.server.url(self.dbname))

    def postmaster(self) -> int:
        return int((self.server.root / "data" / "postmaster.pid").read_text().split()[0])

    def cpu(self) -> float:
        """CPU seconds of the postmaster (with its reaped children) and its live children."""
        tick = os.sysconf("SC_CLK_TCK")
        parent = self.postmaster()
        total = 0
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:  # exited meanwhile: its time is in the postmaster's children's
                continue
            pid, ppid = int(entry.name), int(stat[1])
            if pid == parent:
                total += sum(int(stat[i]) for i in (11, 12, 13, 14))
            elif ppid == parent:
                total += int(stat[11]) + int(stat[12])
        return total / tick

    def sample(self, at: float) -> Sample:
        """The counters now (blocking: call it off the event loop)."""
        conn = self.admin
        statements = conn.execute(
            "SELECT coalesce(sum(calls), 0), coalesce(sum(rows) FILTER (WHERE " + _WRITE +
            "), 0), coalesce(sum(rows) FILTER (WHERE NOT " + _WRITE + "), 0) "
            "FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid "
            "WHERE d.datname = %s", (self.dbname,)).fetchone()
        stats = conn.execute(
            "SELECT xact_commit, tup_returned, "
            "pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint "
            "FROM pg_stat_database WHERE datname = %s", (self.dbname,)).fetchone()
        assert statements is not None and stats is not None
        return Sample(at, *(int(v) for v in statements), *(int(v) for v in stats),
                      cpu=self.cpu())

    def busiest(self, n: int = 8) -> list[str]:
        """The ``n`` statements run most often in the benchmark's database, one line each."""
        rows = self.admin.execute(
            "SELECT calls, rows, regexp_replace(query, '\\s+', ' ', 'g') FROM pg_stat_statements s "
            "JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = %s "
            "ORDER BY calls DESC LIMIT %s", (self.dbname, n)).fetchall()
        return [f"{calls:>9,} calls {nrows:>9,} rows  {text[:110]}" for calls, nrows, text in rows]

    def close(self) -> None:
        try:
            self.admin.close()
        except psycopg.Error:
            pass
        self.server.stop()

    def __enter__(self) -> PrivateServer:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
