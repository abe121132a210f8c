"""The circulars' metrics, read from the database (exported by the leading instance only,
like the notices': the database is shared, a city's Prometheus must not sum it twice)."""

from __future__ import annotations

from netwatch.circulars.register import every_circular
from netwatch.metrics import Family, FamilySpec
from netwatch.store import Handle

ISSUED = FamilySpec("netwatch_circulars_issued_total", "counter",
                    "Monthly circulars issued (one per month, city-wide).")
LAST = FamilySpec("netwatch_circular_last_issued_timestamp_seconds", "gauge",
                  "When the latest monthly circular was issued (Unix seconds).")


def circular_families(db: Handle) -> list[Family]:
    """Issued so far, and when the latest was (absent before the first)."""
    rows = every_circular(db)
    issued, last = Family(ISSUED), Family(LAST)
    issued.add("", len(rows))
    if rows:
        last.add("", max(float(r["issued_at"]) for r in rows))
    return [issued, last]
