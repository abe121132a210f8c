"""Readings retention (docs/configuration.md): readings hold testers' positions, so they expire.

The daemon runs ``prune_readings`` periodically. ``readings_received`` is a
counter of acceptances and is never pruned.
"""

from __future__ import annotations

from netwatch.inventory import Inventory
from netwatch.store import Store


def prune_readings(store: Store, inventory: Inventory, now: float) -> int:
    """Delete readings taken longer ago than the retention setting; returns how many."""
    cutoff = now - inventory.coverage.retention_seconds
    with store.transaction() as conn:
        return conn.execute("DELETE FROM readings WHERE taken_at < ?", (cutoff,)).rowcount
