"""A month's figures for the circular, read from stored history only (docs/circulars.md).

The month runs from 00:00 of its first day to 00:00 of the next month's first day in
the notices' time zone. Every rate is the notices' own arithmetic
(``netwatch.notices.figures`` and ``sampled_time_rates``): time-weighted over the time
netwatch watched each device, monitoring gaps and declared outages (停机报备) left out
of both sides and the declared device-hours reported beside the rate.

- **Online rate** per county and kind (key-area cameras also on their own), against
  ``notices.online_targets``.
- **Video availability** and **clock accuracy** per county and kind, over the devices
  with a ``video`` / ``onvif_time`` check: the share of their watched time without a
  ``no_video`` / ``clock_drift`` fault open, against the circular's targets.
- **Ranks** per table: 1 is the best ratio, equal ratios (to the record's six decimals)
  share a rank, a county with the kind but no watched time has no rank and comes last.
- **Items** (``notice_items``, as they stand at issue time): opened in the month (became
  an item in it; a reopened item when its problem came back), closed as verified in it,
  open or rectified at its end, of those overdue (open, deadline before the next month's
  first day) and recurring (came back after a repair); blind spots (points and cells)
  found and fixed likewise.
- **Declared outages**: the county's declarations covering part of the month and their
  hours within it (a cancelled one until its cancellation), not device-hours.
- **Unwatched hours**: the month's hours nothing watched the county (its gaps and every
  county's).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from netwatch.circulars.record import CountyFigures, Ranking, RankRow
from netwatch.inventory import KINDS, Inventory
from netwatch.monitor import CLOCK, VIDEO, declared_totals
from netwatch.notices import (
    KEY_AREA,
    Figures,
    day_start,
    figures,
    items_of_month,
    local_date,
    sampled_time_rates,
    unwatched_seconds,
)
from netwatch.store import Handle, Row

GROUPS: tuple[str, ...] = (KEY_AREA, *KINDS)  # the tables' order within a measure
PROBES = {"video": VIDEO, "clock": CLOCK}  # measure: the sampled probe it reads
RATIO_DIGITS = 6
HOUR = 3600.0
_MONTH = re.compile(r"(\d{4})-(\d{2})")


def parse_month(text: str) -> tuple[int, int]:
    """``YYYY-MM`` as (year, month); a ValueError that says what is wrong otherwise."""
    found = _MONTH.fullmatch(text.strip()) if isinstance(text, str) else None
    if found is None or not 1 <= int(found[2]) <= 12 or int(found[1]) < 2000:
        raise ValueError(f"month {text!r}: expected YYYY-MM, e.g. 2026-11")
    return int(found[1]), int(found[2])


def month_span(year: int, month: int, zone: ZoneInfo) -> tuple[float, float]:
    """Unix seconds of 00:00 on the month's first day and on the next month's first day."""
    after = date(year + month // 12, month % 12 + 1, 1)
    return day_start(date(year, month, 1), zone), day_start(after, zone)


@dataclass(frozen=True, slots=True)
class MonthFigures:
    """What the circular reports: its ranking tables and each county's counts."""

    rankings: tuple[Ranking, ...]
    counties: tuple[CountyFigures, ...]


def month_figures(db: Handle, inventory: Inventory, start: float, end: float,
                  now: float) -> MonthFigures:
    """The figures of [start, end) (a month), read from the store as it stands at ``now``."""
    circular = inventory.notices.circular
    tables: list[Ranking] = []
    online = figures(db, inventory, start, end, now)
    targets = inventory.notices.online_targets
    for group in GROUPS:
        tables.extend(_table(inventory, "online", group, targets.get(group), online))
    sampled = sampled_time_rates(db, inventory, start, end, now)
    for measure, target in (("video", circular.video_target),
                            ("clock", circular.clock_target)):
        for group in GROUPS:
            tables.extend(_table(inventory, measure, group, target,
                                 sampled.get(PROBES[measure], {})))
    items = items_of_month(db, start, end)
    counties = tuple(_county(db, inventory, county, items, start, end, now)
                     for county in inventory.counties)
    return MonthFigures(tuple(tables), counties)


def _table(inventory: Inventory, measure: str, group: str, target: float | None,
           by_county: Mapping[str, Mapping[str, Figures]]) -> list[Ranking]:
    """The ranking of one measure and kind ([] when no county has such devices)."""
    found = {county: f[group] for county, f in by_county.items() if group in f}
    if not found:
        return []
    ratios = {county: None if math.isnan(f.ratio) else round(f.ratio, RATIO_DIGITS)
              for county, f in found.items()}
    rows = []
    for county in inventory.counties:
        if county not in found:
            continue
        mine, ratio = found[county], ratios[county]
        rank = None if ratio is None else 1 + sum(
            1 for r in ratios.values() if r is not None and r > ratio)
        rows.append(RankRow(
            county=county, county_name=inventory.counties[county].name, rank=rank,
            devices=mine.expected, ratio=ratio,
            meets_target=None if ratio is None or target is None else ratio >= target,
            monitored_hours=_hours(mine.watched), declared_hours=_hours(mine.declared)))
    rows.sort(key=lambda r: (r.rank is None, r.rank or 0))  # stable: inventory order in ties
    return [Ranking(measure=measure, kind=group, target=target, rows=tuple(rows))]


def _hours(seconds: float) -> float:
    return round(seconds / HOUR, 1)


def _in(at: float | None, start: float, end: float) -> bool:
    return at is not None and start <= at < end


def _county(db: Handle, inventory: Inventory, county: str, items: Iterable[Row],
            start: float, end: float, now: float) -> CountyFigures:
    """One county's counts of items, blind spots, declared outages and unwatched time."""
    due_by = local_date(end, ZoneInfo(inventory.notices.timezone)).isoformat()
    new = fixed = live = overdue = recurring = spots_new = spots_fixed = 0
    for r in items:
        if r["county"] != county:
            continue
        spot = r["subject_type"] != "device"
        opened = max(r["first_seen"], r["created_at"])  # a reopened item: its problem's return
        if _in(opened, start, end):
            new += 1
            spots_new += spot
        if r["close_reason"] == "verified" and _in(r["closed_at"], start, end):
            fixed += 1
            spots_fixed += spot
        if opened >= end or (r["closed_at"] is not None and r["closed_at"] < end):
            continue  # not an item yet, or closed, at the month's end
        live += 1
        recurring += r["recurrence"] > 0
        still_open = r["rectified_at"] is None or r["rectified_at"] >= end
        overdue += still_open and r["deadline"] is not None and r["deadline"] < due_by
    declared, declared_seconds = declared_totals(db, county, start, end)
    return CountyFigures(
        county=county, county_name=inventory.counties[county].name,
        items_new=new, items_fixed=fixed, items_open=live, items_overdue=overdue,
        items_recurring=recurring, blind_spots_found=spots_new, blind_spots_fixed=spots_fixed,
        declared_count=declared, declared_hours=_hours(declared_seconds),
        unwatched_hours=_hours(unwatched_seconds(db, county, start, end, now)))
