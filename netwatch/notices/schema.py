"""The notices' tables, as migration steps (``netwatch.store_migrations`` lists them).

``notices`` holds every issued notice's immutable record. The database enforces
SPEC §7: one number per (prefix, year, seq), one notice per county and issue date.
"""

from __future__ import annotations

V2_NOTICES: tuple[str, ...] = (
    """CREATE TABLE notice_sequences (
        prefix TEXT NOT NULL,
        year INTEGER NOT NULL,
        last_seq INTEGER NOT NULL,
        PRIMARY KEY (prefix, year)
    )""",
    """CREATE TABLE notices (
        id INTEGER PRIMARY KEY,
        county TEXT NOT NULL,
        issue_date TEXT NOT NULL,
        prefix TEXT NOT NULL,
        year INTEGER NOT NULL,
        seq INTEGER NOT NULL CHECK (seq > 0),
        number TEXT NOT NULL UNIQUE,
        issued_at REAL NOT NULL,
        record TEXT NOT NULL,
        UNIQUE (prefix, year, seq),
        UNIQUE (county, issue_date)
    )""",
)
