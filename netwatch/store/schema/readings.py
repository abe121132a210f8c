"""The survey readings' tables, as migration steps (``netwatch.store.schema`` lists them).

``readings`` holds every accepted field reading in WGS-84 with its county fixed at
acceptance (docs/coverage.md), so token scopes and per-county figures never depend on a
later inventory. ``(tester, idem_key)`` is the idempotency key (docs/api.md): the
client's reading id, or ``sha256:`` of the canonical body when it sent none;
``body_hash`` tells a true resubmission from a conflicting one (409).
``readings_received`` counts acceptances per county for the
``netwatch_survey_readings_received_total`` counter: retention prunes readings,
never this count.
"""

from __future__ import annotations

V3_READINGS: tuple[str, ...] = (
    """CREATE TABLE readings (
        id INTEGER PRIMARY KEY,
        tester TEXT NOT NULL,
        idem_key TEXT NOT NULL,
        body_hash TEXT NOT NULL,
        county TEXT NOT NULL,
        point TEXT,
        lat REAL NOT NULL,
        lon REAL NOT NULL,
        taken_at REAL NOT NULL,
        technology TEXT NOT NULL CHECK (technology IN ('pdt', 'broadband')),
        rssi_dbm REAL,
        ber REAL,
        rsrp_dbm REAL,
        sinr_db REAL,
        no_service INTEGER NOT NULL DEFAULT 0 CHECK (no_service IN (0, 1)),
        serving_site TEXT,
        note TEXT,
        source TEXT NOT NULL CHECK (source IN ('api', 'form', 'import')),
        received_at REAL NOT NULL,
        UNIQUE (tester, idem_key)
    )""",
    "CREATE INDEX ix_readings_point ON readings (point, taken_at)",
    "CREATE INDEX ix_readings_county ON readings (county, taken_at)",
    "CREATE INDEX ix_readings_taken ON readings (taken_at)",
    """CREATE TABLE readings_received (
        county TEXT PRIMARY KEY,
        total INTEGER NOT NULL CHECK (total >= 0)
    )""",
)
