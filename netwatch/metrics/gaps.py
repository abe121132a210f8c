"""The monitoring gaps' families: how often and how long nothing watched, from the database.

Gaps are never deleted, so both are counters (they survive restarts: they are
rows, not process state); every reason appears, 0 until its first gap.
"""

from __future__ import annotations

from netwatch.metrics.text import Family, FamilySpec, labels
from netwatch.monitor import gap_totals
from netwatch.store import Handle
from netwatch.vocab import GapReason

GAPS = FamilySpec(
    "netwatch_monitoring_gaps_total", "counter",
    "Monitoring gaps recorded (spans of time nothing watched, e.g. the daemon was down), "
    "per reason.")
GAP_SECONDS = FamilySpec(
    "netwatch_monitoring_gap_seconds_total", "counter",
    "Seconds nothing watched, summed over the recorded gaps, per reason; left out of the "
    "notices' online rates.")


def gap_families(db: Handle) -> list[Family]:
    """Gaps and their seconds per reason."""
    totals = gap_totals(db)
    families = [Family(GAPS), Family(GAP_SECONDS)]
    for reason in GapReason:
        label = labels((("reason", reason.value),))
        count, seconds = totals.get(reason, (0, 0.0))
        families[0].add(label, count)
        families[1].add(label, seconds)
    return families
