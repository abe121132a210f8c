"""The delivery outbox table, as migration steps (``netwatch.store.schema`` lists them).

``deliveries`` holds one row per notice, channel and target, queued inside the
transaction that issues the notice, so a crash can never issue a notice without
its deliveries. ``target`` is a label without secrets (the recipients' addresses,
or the webhook URL without credentials or query). ``attempts`` counts every send
tried (claimed before the send, so a crash mid-send counts too); ``failures``
counts the attempts that failed and feeds a counter metric that survives
restarts and never goes down.
"""

from __future__ import annotations

V4_OUTBOX: tuple[str, ...] = (
    """CREATE TABLE deliveries (
        id INTEGER PRIMARY KEY,
        notice_id INTEGER NOT NULL REFERENCES notices (id),
        channel TEXT NOT NULL CHECK (channel IN ('smtp', 'webhook')),
        target TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed')),
        attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
        failures INTEGER NOT NULL DEFAULT 0 CHECK (failures >= 0),
        next_attempt_at REAL NOT NULL,
        last_error TEXT,
        created_at REAL NOT NULL,
        sent_at REAL,
        UNIQUE (notice_id, channel, target),
        CHECK ((state = 'sent') = (sent_at IS NOT NULL))
    )""",
    "CREATE INDEX ix_deliveries_due ON deliveries (state, next_attempt_at)",
)
