"""Outages the counties declare (停机报备) and their audit trail (schema version 11).

``declared_outages``: one row per declaration. ``selector`` is what the county asked
for, as JSON (``{"devices": [...]}``, ``{"under": "sw-1"}``, ``{"site": "..."}``); the
devices it resolved to when made are the rows of ``declared_outage_devices``, so a
later inventory change never widens or narrows a declaration. ``reason`` is a code
(power, roadworks, relocation, other) with ``note`` the free text. ``starts`` is never
before ``made_at``: no declaration excuses the past. ``ends`` only moves earlier (a
county shortens or ends its own); ``cancelled_at`` is an admin's cancellation.
``declared_outage_audit`` is append-only: every declaration, change and cancellation
with who made it (a token id or a session's user, never a secret) and when.
"""

from __future__ import annotations

from netwatch.store.schema.steps import Migration, with_id

V11_DECLARED_OUTAGES: Migration = (
    with_id("""CREATE TABLE declared_outages (
        {id},
        county TEXT NOT NULL,
        selector TEXT NOT NULL,
        starts DOUBLE PRECISION NOT NULL,
        ends DOUBLE PRECISION NOT NULL,
        reason TEXT NOT NULL CHECK (reason IN ('power', 'roadworks', 'relocation', 'other')),
        note TEXT NOT NULL DEFAULT '',
        made_at DOUBLE PRECISION NOT NULL,
        made_by TEXT NOT NULL,
        cancelled_at DOUBLE PRECISION,
        cancelled_by TEXT,
        CHECK (starts >= made_at),
        CHECK (ends > starts),
        CHECK ((cancelled_at IS NULL) = (cancelled_by IS NULL))
    )"""),
    "CREATE INDEX ix_declared_outages_county ON declared_outages (county, ends)",
    """CREATE TABLE declared_outage_devices (
        outage_id BIGINT NOT NULL REFERENCES declared_outages (id),
        device TEXT NOT NULL,
        PRIMARY KEY (outage_id, device)
    )""",
    "CREATE INDEX ix_declared_outage_devices_device ON declared_outage_devices (device)",
    with_id("""CREATE TABLE declared_outage_audit (
        {id},
        outage_id BIGINT NOT NULL REFERENCES declared_outages (id),
        action TEXT NOT NULL CHECK (action IN ('declare', 'shorten', 'end', 'cancel')),
        at DOUBLE PRECISION NOT NULL,
        actor TEXT NOT NULL,
        ends_before DOUBLE PRECISION,
        ends_after DOUBLE PRECISION,
        detail TEXT NOT NULL DEFAULT '{}'
    )"""),
    "CREATE INDEX ix_declared_outage_audit_outage ON declared_outage_audit (outage_id)",
)
