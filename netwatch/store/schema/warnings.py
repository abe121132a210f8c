"""Early warnings: each device's baselines and its warnings raised now (schema version 10)."""

from __future__ import annotations

from netwatch.store.schema.steps import Migration

# ``warning_baselines``: one row per device, the slow and fast exponentially weighted
# means of its ICMP RTT (seconds, NULL before a reply) and loss ratio, the cycles they
# have seen and the time of the latest, written in batches by the county's active
# instance (``holder``) so that a restart or a takeover keeps them.
# ``device_warnings``: the warnings raised now, one row per device and warning, written
# when one is raised or cleared: ``since`` when it was raised, ``figures`` a JSON object
# of the figures behind it; ``kind`` the device kind. Read by the API and the notices.
V10_WARNINGS: Migration = (
    """CREATE TABLE warning_baselines (
        device TEXT PRIMARY KEY,
        county TEXT NOT NULL,
        rtt DOUBLE PRECISION,
        loss DOUBLE PRECISION NOT NULL,
        recent_rtt DOUBLE PRECISION,
        recent_loss DOUBLE PRECISION NOT NULL,
        samples BIGINT NOT NULL,
        sampled_at DOUBLE PRECISION NOT NULL,
        holder TEXT NOT NULL
    )""",
    "CREATE INDEX ix_warning_baselines_county ON warning_baselines (county)",
    """CREATE TABLE device_warnings (
        device TEXT NOT NULL,
        warning TEXT NOT NULL,
        county TEXT NOT NULL,
        kind TEXT NOT NULL,
        since DOUBLE PRECISION NOT NULL,
        figures TEXT NOT NULL,
        holder TEXT NOT NULL,
        PRIMARY KEY (device, warning)
    )""",
    "CREATE INDEX ix_device_warnings_county ON device_warnings (county)",
)
