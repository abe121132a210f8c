"""Readings retention (docs/configuration.md): readings hold testers' positions, so they expire.

The daemon runs ``prune_readings`` periodically. ``readings_received`` is a
counter of acceptances and is never pruned.
"""

from __future__ import annotations

from netwatch.inventory import Inventory
from netwatch.store import Store
from netwatch.survey.readings import prune


def prune_readings(store: Store, inventory: Inventory, now: float) -> int:
    """Delete readings taken longer ago than the retention setting; returns how many."""
    return prune(store, now - inventory.coverage.retention_seconds)
