"""The metrics role for Prometheus's scrape token (schema version 6)."""

from __future__ import annotations

from netwatch.store.schema.steps import Migration

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
