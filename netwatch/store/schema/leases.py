"""Leases: which instance writes for which county, and which runs the city's duties (8)."""

from __future__ import annotations

from netwatch.store.schema.steps import Migration

# One row per scope (a county id, or ``*duties`` for the city-wide duties). ``holder`` is
# the instance's name; ``generation`` grows at every acquisition and every write of the
# holder carries it (fencing). Times are the database's clock, never a host's:
# ``renewed`` is the holder's last word that it watches, ``expires`` when another
# instance may take over, ``released`` set by a clean stop (the scope is free at once).
V8_LEASES: Migration = (
    """CREATE TABLE leases (
        scope TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        generation BIGINT NOT NULL CHECK (generation >= 1),
        acquired DOUBLE PRECISION NOT NULL,
        renewed DOUBLE PRECISION NOT NULL,
        expires DOUBLE PRECISION NOT NULL,
        released DOUBLE PRECISION
    )""",
)
