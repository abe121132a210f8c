"""The monitoring gaps' families: how often and how long nothing watched, from the database.

Read from the shared database, so with several instances only the one running the
city-wide duties exports them (one series per reason and county, never two).

Gaps are never deleted, so both are counters (they survive restarts: they are
rows, not process state); every reason appears, 0 until its first gap.
"""

from __future__ import annotations

from collections.abc import Iterable

from netwatch.metrics.text import Family, FamilySpec, labels
from netwatch.monitor import county_gap_seconds, gap_totals
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

UNMONITORED = FamilySpec(
    "netwatch_county_unmonitored_seconds_total", "counter",
    "Seconds no instance watched the county (its own gaps and every county's, overlaps "
    "counted once); neither online nor offline in its rates.")


def gap_families(db: Handle, counties: Iterable[str] = ()) -> list[Family]:
    """Gaps and their seconds per reason, and each of ``counties``' unwatched seconds."""
    totals = gap_totals(db)
    families = [Family(GAPS), Family(GAP_SECONDS), Family(UNMONITORED)]
    for reason in GapReason:
        label = labels((("reason", reason.value),))
        count, seconds = totals.get(reason, (0, 0.0))
        families[0].add(label, count)
        families[1].add(label, seconds)
    for county, seconds in county_gap_seconds(db, counties).items():
        families[2].add(labels((("county", county),)), seconds)
    return families
