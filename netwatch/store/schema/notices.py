"""The notices' tables, as migration steps (``netwatch.store.schema`` lists them).

``notices`` holds every issued notice's immutable record. The database enforces
docs/notices.md's rules: one number per (prefix, year, seq), one notice per county and issue date.
``notice_items`` is the closed-loop lifecycle (open → rectified → closed, reopened
with a recurrence count); at most one live (open or rectified) item per subject and
problem. ``notice_item_listings`` says which notices listed which items.
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
    """CREATE TABLE notice_items (
        id INTEGER PRIMARY KEY,
        subject_type TEXT NOT NULL CHECK (subject_type IN ('device', 'point', 'cell')),
        subject TEXT NOT NULL,
        county TEXT NOT NULL,
        problem TEXT NOT NULL,
        name TEXT NOT NULL,
        kind TEXT NOT NULL,
        location TEXT NOT NULL,
        severity TEXT NOT NULL CHECK (severity IN ('critical', 'major', 'minor')),
        state TEXT NOT NULL CHECK (state IN ('open', 'rectified', 'closed')),
        close_reason TEXT CHECK (close_reason IN ('verified', 'removed')),
        recurrence INTEGER NOT NULL DEFAULT 0 CHECK (recurrence >= 0),
        first_seen REAL NOT NULL,
        created_at REAL NOT NULL,
        rectified_at REAL,
        closed_at REAL,
        rectify_within_days INTEGER NOT NULL CHECK (rectify_within_days > 0),
        deadline TEXT,
        evidence TEXT NOT NULL DEFAULT '{}',
        episode_id INTEGER REFERENCES fault_episodes (id),
        suppressed_children INTEGER NOT NULL DEFAULT 0,
        refers_to TEXT,
        ack_note TEXT,
        ack_promised TEXT,
        ack_at REAL,
        ack_by TEXT,
        CHECK ((state = 'closed') = (close_reason IS NOT NULL))
    )""",
    # one live item per subject and problem
    """CREATE UNIQUE INDEX ux_notice_items_live
        ON notice_items (subject_type, subject, problem) WHERE state != 'closed'""",
    "CREATE INDEX ix_notice_items_county ON notice_items (county, state)",
    """CREATE TABLE notice_item_listings (
        notice_id INTEGER NOT NULL REFERENCES notices (id),
        item_id INTEGER NOT NULL REFERENCES notice_items (id),
        carried INTEGER NOT NULL CHECK (carried IN (0, 1)),
        overdue INTEGER NOT NULL CHECK (overdue IN (0, 1)),
        PRIMARY KEY (notice_id, item_id)
    )""",
    "CREATE INDEX ix_notice_item_listings_item ON notice_item_listings (item_id)",
    # when netwatch first checked each device: a notice's online rate counts monitored time only
    """CREATE TABLE monitored_since (
        device TEXT PRIMARY KEY,
        since REAL NOT NULL
    )""",
    # when the daemon last ran the scheduled issue: a run missed while it was down is caught up
    """CREATE TABLE schedule_runs (
        job TEXT PRIMARY KEY,
        ran_at REAL NOT NULL
    )""",
    # what the monitor saw when the fault opened: failed checks, last good time, figures
    "ALTER TABLE fault_episodes ADD COLUMN evidence TEXT NOT NULL DEFAULT '{}'",
    "CREATE INDEX ix_fault_episodes_device ON fault_episodes (device, fault, closed_at)",
)
