"""The first schema: fault episodes and API tokens (schema version 1)."""

from __future__ import annotations

from netwatch.store.schema.steps import Migration

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
