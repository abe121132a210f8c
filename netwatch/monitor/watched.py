"""When monitoring of each device began: a notice's online rate counts monitored time only.

This module owns the ``monitored_since`` table. The daemon records each device's
first settled check (``record``); the earliest time wins, so a restart never moves
a device's start later, and an infinite time stands for "checked, not yet settled"
(no time counts yet). The notices' summary reads them all (``monitored_since``).
"""

from __future__ import annotations

from collections.abc import Sequence

from netwatch.store import Handle, Store


def record_first_checks(store: Store, firsts: Sequence[tuple[str, float]]) -> None:
    """Keep each (device, first check) unless the device has an earlier one; one transaction."""
    with store.transaction() as tx:
        tx.executemany(
            "INSERT INTO monitored_since (device, since) VALUES (?, ?) "
            "ON CONFLICT (device) DO UPDATE SET since = CASE "
            "WHEN excluded.since < monitored_since.since THEN excluded.since "
            "ELSE monitored_since.since END", firsts)


def monitored_since(db: Handle) -> dict[str, float]:
    """Every device's recorded start of monitoring (Unix seconds; inf: not settled yet)."""
    return {r[0]: r[1] for r in db.execute("SELECT device, since FROM monitored_since")}
