"""The notices' metrics provider (names fixed in the session plan), read from the database."""

from __future__ import annotations

import time
from zoneinfo import ZoneInfo

from netwatch.inventory import Inventory
from netwatch.metrics.text import Family, FamilySpec, labels
from netwatch.notices.calendar import local_date
from netwatch.store import Store

ISSUED = FamilySpec("netwatch_notices_issued_total", "counter",
                    "Rectification notices issued, per county.")
OPEN = FamilySpec("netwatch_notice_items_open", "gauge",
                  "Notice items open (not yet rectified), per county.")
OVERDUE = FamilySpec("netwatch_notice_items_overdue", "gauge",
                     "Open notice items past their deadline, per county.")
LAST = FamilySpec("netwatch_notice_last_issued_timestamp_seconds", "gauge",
                  "When the county's latest notice was issued (Unix seconds).")


def notice_families(store: Store, inventory: Inventory,
                    now: float | None = None) -> list[Family]:
    """Issued, open, overdue and last-issued per county; every inventory county appears."""
    today = local_date(time.time() if now is None else now,
                       ZoneInfo(inventory.notices.timezone)).isoformat()
    conn = store.conn
    issued = {r[0]: (r[1], r[2]) for r in conn.execute(
        "SELECT county, count(*), max(issued_at) FROM notices GROUP BY county")}
    items = {r[0]: (r[1], r[2]) for r in conn.execute(
        "SELECT county, count(*), sum(deadline IS NOT NULL AND deadline < ?) FROM notice_items "
        "WHERE state = 'open' GROUP BY county", (today,))}
    families = [Family(ISSUED), Family(OPEN), Family(OVERDUE), Family(LAST)]
    for county in sorted(inventory.counties):
        label = labels((("county", county),))
        count, last = issued.get(county, (0, None))
        open_, overdue = items.get(county, (0, 0))
        families[0].add(label, count)
        families[1].add(label, open_)
        families[2].add(label, overdue or 0)
        if last is not None:
            families[3].add(label, last)
    return families
