"""Browser sessions (schema version 5)."""

from __future__ import annotations

from netwatch.store.schema.steps import Migration

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
