"""The database schema as an ordered list of migrations; migration N brings user_version to N.

Adding a table is a two-line change: define its statements and append them to
``MIGRATIONS``. Never edit a migration that has shipped; write a new one. Each
step is one SQL statement or a function of the connection (for data changes);
all steps of one migration run in one transaction with the version bump.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from netwatch.notices.outbox_schema import V4_OUTBOX
from netwatch.notices.schema import V2_NOTICES
from netwatch.survey.schema import V3_READINGS

Step = str | Callable[[sqlite3.Connection], None]
Migration = tuple[Step, ...]

V1_FAULTS_AND_TOKENS: Migration = (
    """CREATE TABLE fault_episodes (
        id INTEGER PRIMARY KEY,
        device TEXT NOT NULL,
        county TEXT NOT NULL,
        kind TEXT NOT NULL,
        fault TEXT NOT NULL,
        first_seen REAL NOT NULL,
        opened_at REAL NOT NULL,
        closed_at REAL,
        close_reason TEXT,
        suppressed_by TEXT,
        detail TEXT NOT NULL DEFAULT ''
    )""",
    # at most one open episode per device and fault
    """CREATE UNIQUE INDEX ux_fault_episodes_open
        ON fault_episodes (device, fault) WHERE closed_at IS NULL""",
    "CREATE INDEX ix_fault_episodes_county ON fault_episodes (county, opened_at)",
    "CREATE INDEX ix_fault_episodes_opened ON fault_episodes (opened_at)",
    """CREATE TABLE tokens (
        id TEXT PRIMARY KEY,
        hash TEXT UNIQUE NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('admin', 'county', 'tester')),
        counties TEXT NOT NULL,
        name TEXT,
        created_at REAL NOT NULL,
        last_used_at REAL,
        revoked_at REAL
    )""",
)

# Browser sessions outlive a restart (a field tester is not sent back to paste a token
# mid-survey); rows hold the SHA-256 of the cookie, never the cookie.
V5_SESSIONS: Migration = (
    """CREATE TABLE sessions (
        id_hash TEXT PRIMARY KEY,
        token_id TEXT NOT NULL,
        csrf TEXT NOT NULL,
        created REAL NOT NULL,
        used REAL NOT NULL
    )""",
    "CREATE INDEX ix_sessions_used ON sessions (used)",
)

# The metrics role (Prometheus's scrape token): SQLite cannot change a CHECK in place,
# so the table is rebuilt with its rows.
V6_METRICS_ROLE: Migration = (
    """CREATE TABLE tokens_v6 (
        id TEXT PRIMARY KEY,
        hash TEXT UNIQUE NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('admin', 'county', 'tester', 'metrics')),
        counties TEXT NOT NULL,
        name TEXT,
        created_at REAL NOT NULL,
        last_used_at REAL,
        revoked_at REAL
    )""",
    """INSERT INTO tokens_v6 (id, hash, role, counties, name, created_at, last_used_at,
        revoked_at) SELECT id, hash, role, counties, name, created_at, last_used_at, revoked_at
        FROM tokens""",
    "DROP TABLE tokens",
    "ALTER TABLE tokens_v6 RENAME TO tokens",
)


MIGRATIONS: tuple[Migration, ...] = (
    V1_FAULTS_AND_TOKENS,
    V2_NOTICES,
    V3_READINGS,
    V4_OUTBOX,
    V5_SESSIONS,
    V6_METRICS_ROLE,
)

SCHEMA_VERSION = len(MIGRATIONS)
