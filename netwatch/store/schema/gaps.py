"""Monitoring gaps and the watchers' heartbeats (schema version 7, the first on both engines)."""

from __future__ import annotations

from netwatch.store.schema.steps import Migration, with_id

# Time nothing watched is neither online nor offline: a notice's rates leave it out.
# ``county`` NULL: a gap of every county (the daemon was down); a county's own gap
# (no instance watching it) names it. ``reason`` is a ``netwatch.vocab.GapReason``.
# Each watcher (``netwatch run`` is "daemon") beats while it watches; ``stopped`` is
# set on a clean stop. At its next start the time since its last beat is a gap.
V7_MONITORING_GAPS: Migration = (
    with_id("""CREATE TABLE monitoring_gaps (
        {id},
        county TEXT,
        started DOUBLE PRECISION NOT NULL,
        ended DOUBLE PRECISION NOT NULL CHECK (ended >= started),
        reason TEXT NOT NULL
    )"""),
    "CREATE INDEX ix_monitoring_gaps_ended ON monitoring_gaps (ended)",
    """CREATE TABLE watch_heartbeat (
        watcher TEXT PRIMARY KEY,
        beat DOUBLE PRECISION NOT NULL,
        stopped DOUBLE PRECISION
    )""",
)
