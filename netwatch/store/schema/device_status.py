"""Each device's latest state as its county's active instance sees it (schema version 9)."""

from __future__ import annotations

from netwatch.store.schema.steps import Migration

# One row per device, written by the county's active instance when the device's state
# changes (never at every result), so any instance answers for every county. ``state`` is
# the latest cycle's word (a fault is an open episode, read from ``fault_episodes``);
# ``up`` 1/0, NULL before any verdict; ``fault`` the verdict's fault kind. ``reasons``
# and ``findings`` are JSON lists, ``checks`` a JSON object (check name → probe,
# success, reason, detail: never a measurement or a check's parameters). ``checked_at``
# is the cycle that wrote the row, ``changed_at`` when ``state`` took its value,
# ``holder`` the instance that wrote it.
V9_DEVICE_STATUS: Migration = (
    """CREATE TABLE device_status (
        device TEXT PRIMARY KEY,
        county TEXT NOT NULL,
        kind TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('up', 'down', 'unknown')),
        up BIGINT CHECK (up IN (0, 1)),
        fault TEXT,
        reasons TEXT NOT NULL,
        findings TEXT NOT NULL,
        checks TEXT NOT NULL,
        checked_at DOUBLE PRECISION,
        last_up_at DOUBLE PRECISION,
        changed_at DOUBLE PRECISION NOT NULL,
        holder TEXT NOT NULL
    )""",
    "CREATE INDEX ix_device_status_county ON device_status (county)",
)
