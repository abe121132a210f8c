"""The notices' metrics provider (names fixed in the session plan), read from the database."""

from __future__ import annotations

import time
from zoneinfo import ZoneInfo

from netwatch.inventory import Inventory
from netwatch.metrics import Family, FamilySpec, labels
from netwatch.notices.calendar import local_date
from netwatch.notices.items import open_per_county
from netwatch.notices.register import issued_per_county
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
    issued = issued_per_county(store)
    items = open_per_county(store, today)
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
