"""The monthly circulars and their deliveries (schema version 12).

``circulars`` holds every issued circular's immutable record, one per month, numbered
in the notices' scheme (``notice_sequences``) under its own prefix. A circular is
city-wide, so it is not a notice (a notice is one county's, one per county and day):
it has its own table rather than a notice row without a county.

``deliveries`` is generalised deliberately: a row delivers either a notice or a
circular (exactly one of ``notice_id``, ``circular_id``), so one outbox sends, retries
and counts both. SQLite cannot drop a NOT NULL, so there the table is rebuilt with
every row and id kept; PostgreSQL alters it in place. Both end in the same shape.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from netwatch.store.schema.steps import Dialects, Migration, with_id

_DELIVERY_COLUMNS = ("id, notice_id, channel, target, state, attempts, failures, "
                     "next_attempt_at, last_error, created_at, sent_at")

_SQLITE_DELIVERIES = """CREATE TABLE deliveries_v12 (
    id INTEGER PRIMARY KEY,
    notice_id INTEGER REFERENCES notices (id),
    channel TEXT NOT NULL CHECK (channel IN ('smtp', 'webhook')),
    target TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    failures INTEGER NOT NULL DEFAULT 0 CHECK (failures >= 0),
    next_attempt_at REAL NOT NULL,
    last_error TEXT,
    created_at REAL NOT NULL,
    sent_at REAL,
    circular_id BIGINT REFERENCES circulars (id),
    UNIQUE (notice_id, channel, target),
    UNIQUE (circular_id, channel, target),
    CHECK ((state = 'sent') = (sent_at IS NOT NULL)),
    CHECK ((notice_id IS NULL) <> (circular_id IS NULL))
)"""


def _rebuild_on_sqlite(conn: sqlite3.Connection) -> None:
    conn.execute(_SQLITE_DELIVERIES)
    conn.execute(f"INSERT INTO deliveries_v12 ({_DELIVERY_COLUMNS}) "
                 f"SELECT {_DELIVERY_COLUMNS} FROM deliveries")
    conn.execute("DROP TABLE deliveries")
    conn.execute("ALTER TABLE deliveries_v12 RENAME TO deliveries")
    conn.execute("CREATE INDEX ix_deliveries_due ON deliveries (state, next_attempt_at)")


def _alter_on_postgres(conn: Any) -> None:
    conn.execute("ALTER TABLE deliveries ALTER COLUMN notice_id DROP NOT NULL")
    conn.execute("ALTER TABLE deliveries ADD COLUMN circular_id BIGINT REFERENCES circulars (id)")
    conn.execute("ALTER TABLE deliveries ADD UNIQUE (circular_id, channel, target)")
    conn.execute("ALTER TABLE deliveries ADD CHECK ((notice_id IS NULL) <> (circular_id IS NULL))")


V12_CIRCULARS: Migration = (
    with_id("""CREATE TABLE circulars (
        {id},
        month TEXT NOT NULL UNIQUE,
        prefix TEXT NOT NULL,
        year BIGINT NOT NULL,
        seq BIGINT NOT NULL CHECK (seq > 0),
        number TEXT NOT NULL UNIQUE,
        issue_date TEXT NOT NULL,
        issued_at DOUBLE PRECISION NOT NULL,
        record TEXT NOT NULL,
        UNIQUE (prefix, year, seq)
    )"""),
    Dialects(_rebuild_on_sqlite, _alter_on_postgres),
    "CREATE INDEX ix_deliveries_circular ON deliveries (circular_id)",
)
