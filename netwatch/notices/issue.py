"""Issuing notices: one per county per issue date, numbered and recorded in one transaction.

``issue_notices`` runs inside one BEGIN IMMEDIATE transaction, so the CLI and the
daemon (or two CLIs) never issue at once: sync the items, then per county either
return the notice already issued that day (never a second number) or, when there
is something to report (new items, or open items carried from earlier notices),
allocate the next number, fix the new items' deadlines, record the immutable
notice and queue its deliveries. Files are written after the commit, and written
again (once, atomically) when missing on a later run: a crash between the commit
and the files loses nothing. A date before the last issued notice is refused.

The monitoring period runs from the county's previous notice date (else a week
back) to the issue time (the end of the issue day for a notice dated back); it
covers what the notice lists, so an item first seen after it waits for the next
notice. It starts no earlier than netwatch began watching the county's devices
(their earliest recorded first check): a notice issued minutes after a first start
reports on those minutes and says its period is shorter than usual. Time within it
that nothing watched (monitoring gaps) is in no rate, and the notice says how long. The
outages the county declared (停机报备) within the period are counted with their hours.

For its map the record keeps, as they stand at issue time, where each item is (WGS-84:
a device's or point's inventory coordinates, a blind cell's centre from its evidence)
and the county's outline (its boundary, else the padded hull of its places), so the
map drawn later from the record alone never changes.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from netwatch.inventory import Inventory, to_wgs84
from netwatch.maps import county_outline, for_storage
from netwatch.monitor import CLOCK, VIDEO, current_warnings, declared_totals, monitored_since
from netwatch.notices.calendar import day_start, deadline, iso, local_date
from netwatch.notices.files import write_notice_files
from netwatch.notices.items import set_deadlines, sync_in, to_report
from netwatch.notices.numbering import allocate, format_number
from netwatch.notices.outbox import enqueue
from netwatch.notices.record import (
    Acknowledgement,
    Candidate,
    ItemView,
    NoticeRecord,
    WarningView,
)
from netwatch.notices.register import issued_on, last_issue_date, latest, list_items, record_notice
from netwatch.notices.summary import (
    Figures,
    county_summary,
    figures,
    sampled_rates,
    unwatched_seconds,
)
from netwatch.store import Row, Store, Transaction

DEFAULT_PERIOD_DAYS = 7
SEVERITY_ORDER = {"critical": 0, "major": 1, "minor": 2}


class IssueError(Exception):
    """Issuing was refused (the message says why); nothing was issued."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """One county's result: a new or existing notice, or nothing to report (record None)."""

    county: str
    notice_id: int | None
    record: NoticeRecord | None
    created: bool
    paths: tuple[Path, ...] = ()


def issue_notices(store: Store, inventory: Inventory, *, issue_date: date | None = None,
                  counties: Sequence[str] | None = None, now: float | None = None,
                  extra: Sequence[Candidate] = (), coverage_judged: bool = False,
                  out_dir: Path | None = None,
                  langs: Sequence[str] = ("zh",)) -> list[Outcome]:
    """Issue (or find) today's notice for each county; see the module docstring."""
    now = time.time() if now is None else now
    zone = ZoneInfo(inventory.notices.timezone)
    day = issue_date or local_date(now, zone)
    wanted = sorted(inventory.counties) if counties is None else list(dict.fromkeys(counties))
    unknown = [c for c in wanted if c not in inventory.counties]
    if unknown:
        raise IssueError(f"county {', '.join(map(repr, unknown))}: not in the inventory "
                         f"(known: {', '.join(sorted(inventory.counties))})")
    outcomes: list[Outcome] = []
    with store.transaction(durable=True) as tx:
        last = latest(tx)
        if last is not None and day.isoformat() < last["issue_date"]:
            raise IssueError(f"--date {day}: before the last issued notice "
                             f"({last['number']} of {last['issue_date']}); notices are "
                             "numbered in date order")
        sync_in(tx, inventory, now, extra, coverage_judged)
        cache: dict[tuple[float, float], dict[str, dict[str, Figures]]] = {}
        began = _watching_began(inventory, monitored_since(tx))
        for county in wanted:
            found = issued_on(tx, county, day.isoformat())
            if found is not None:
                outcomes.append(Outcome(county, found[0], NoticeRecord.from_json(found[1]),
                                        False))
                continue
            made = _issue_one(tx, inventory, county, day, now, zone, cache, began.get(county))
            if made is None:
                outcomes.append(Outcome(county, None, None, False))
                continue
            notice_id, record = made
            enqueue(tx, notice_id, inventory, county, now)
            outcomes.append(Outcome(county, notice_id, record, True))
    return outcomes if out_dir is None else write_files(outcomes, out_dir, langs)


def write_files(outcomes: Sequence[Outcome], out_dir: Path,
                langs: Sequence[str] = ("zh",)) -> list[Outcome]:
    """Each notice's files (written once), the outcomes with their paths.

    Laying out PDFs takes seconds: the daemon calls this in a worker thread, after
    the issuing transaction, so its event loop (and the probes' timing) never waits.
    """
    return [o if o.record is None else Outcome(
        o.county, o.notice_id, o.record, o.created,
        tuple(write_notice_files(o.record, out_dir, langs))) for o in outcomes]


def _watching_began(inventory: Inventory, since: dict[str, float]) -> dict[str, float]:
    """When netwatch began watching each county: its devices' earliest settled first check
    (a county is missing when none has one: a database no daemon ran on, or nothing
    settled yet)."""
    began: dict[str, float] = {}
    for device in inventory.devices:
        first = since.get(device.id, math.inf)
        if math.isfinite(first) and first < began.get(device.county, math.inf):
            began[device.county] = first
    return began


def _issue_one(tx: Transaction, inventory: Inventory, county: str, day: date,
               now: float, zone: ZoneInfo,
               cache: dict[tuple[float, float], dict[str, dict[str, Figures]]],
               began: float | None) -> tuple[int, NoticeRecord] | None:
    """Number and record one county's notice, or None when there is nothing to report."""
    settings = inventory.notices
    rows = to_report(tx, county)
    prev = last_issue_date(tx, county)
    start_day = date.fromisoformat(prev) if prev else day - timedelta(days=DEFAULT_PERIOD_DAYS)
    usual_days = (day - start_day).days
    start = day_start(start_day, zone)
    end = max(min(day_start(day + timedelta(days=1), zone), now), start)
    short = False
    if began is not None and began > start:  # nothing watched the county before then
        short, start = True, min(began, end)
        start_day = local_date(start, zone)
    # the period covers what it lists: an item first seen after its end (a notice dated
    # back with --date) waits for the next notice
    new = _ordered(r for r in rows if r["deadline"] is None and r["first_seen"] <= end)
    carried = _ordered(r for r in rows if r["deadline"] is not None)
    if not new and not any(r["state"] == "open" for r in carried):
        return None
    if (start, end) not in cache:
        cache[(start, end)] = figures(tx, inventory, start, end, now)
    deadlines = {r["id"]: deadline(day, r["rectify_within_days"], settings).isoformat()
                 for r in new}
    set_deadlines(tx, deadlines)
    today = day.isoformat()
    where = {d.id: d.address for d in inventory.devices}
    spots, datum = _located(inventory), inventory.coverage.datum
    items = tuple(_view(r, n, deadlines[r["id"]], False, now, zone, where, spots, datum)
                  for n, r in enumerate(new, 1))
    old = tuple(_view(r, n, r["deadline"], r["state"] == "open" and r["deadline"] < today,
                      now, zone, where, spots, datum) for n, r in enumerate(carried, 1))
    outline = county_outline(inventory, county)
    sampled = sampled_rates(tx, inventory, county, start, end)
    video, clock = sampled.get(VIDEO), sampled.get(CLOCK)
    declared, declared_seconds = declared_totals(tx, county, start, end)
    seq = allocate(tx, settings.prefix, day.year)
    place = inventory.counties[county]
    record = NoticeRecord(
        number=format_number(settings.prefix, day.year, seq), prefix=settings.prefix,
        year=day.year, seq=seq, city=inventory.city, issuing_unit=settings.issuing_unit,
        county=county, county_name=place.name, receiving_unit=place.receiving_unit,
        issue_date=today, issued_at=iso(now, zone), timezone=settings.timezone,
        period_start=start_day.isoformat(),
        period_end=today,
        deadline=max(i.deadline for i in (items or old)), contact=settings.contact,
        summary=county_summary(inventory, county, cache[(start, end)]),
        items=items, carried=old, header=settings.header, cc=settings.cc,
        period_from=iso(start, zone), period_to=iso(end, zone), usual_period_days=usual_days,
        short_period=short,
        unwatched_seconds=round(unwatched_seconds(tx, county, start, end, now)),
        outline=for_storage(outline.polygons) if outline is not None else None,
        outline_hull=outline.hull if outline is not None else None,
        video_ratio=None if video is None else round(video.ratio, 6),
        video_cameras=None if video is None else video.devices,
        clock_ratio=None if clock is None else round(clock.ratio, 6),
        clock_devices=None if clock is None else clock.devices,
        warnings=_warnings(tx, inventory, county, zone),
        declared_outages=declared, declared_seconds=round(declared_seconds),
    )
    notice_id = record_notice(tx, county, today, settings.prefix, day.year, seq, record.number,
                              now, record.to_json())
    list_items(tx, notice_id, [(i.item_id, False, False) for i in items]
               + [(i.item_id, True, i.overdue) for i in old])
    return notice_id, record


def _warnings(tx: Transaction, inventory: Inventory, county: str,
              zone: ZoneInfo) -> tuple[WarningView, ...]:
    """The county's early warnings raised now (as its active instance wrote them)."""
    names = {d.id: d.name for d in inventory.devices}
    return tuple(WarningView(w.device, names.get(w.device, w.device), w.kind, w.warning,
                             iso(w.since, zone), w.figures)
                 for w in current_warnings(tx, [county]))


def _ordered(rows: Any) -> list[Row]:
    """Most severe first, then oldest, then by subject: a stable table order."""
    return sorted(rows, key=lambda r: (SEVERITY_ORDER[r["severity"]], r["first_seen"],
                                       r["subject"], r["problem"]))


COORD_DIGITS = 6  # ≈ 0.1 m


Places = dict[tuple[str, str], tuple[float, float]]


def _located(inventory: Inventory) -> Places:
    """(subject type, id) → (lat, lon) of the inventory's devices and points, in its datum."""
    found = {("device", d.id): (d.lat, d.lon) for d in inventory.devices
             if d.lat is not None and d.lon is not None}
    found.update({("point", p.id): (p.lat, p.lon) for p in inventory.points})
    return found  # type: ignore[return-value]


def _position(r: Row, evidence: dict[str, Any], spots: Places,
              datum: str) -> tuple[float, float] | None:
    """Where the item is in WGS-84: the inventory's place of its device or point (converted
    from the inventory's datum), else the position its evidence gives (a blind cell's
    centre, already WGS-84); None when nothing says."""
    found = spots.get((r["subject_type"], r["subject"]))
    if found is not None:
        found = to_wgs84(datum, *found)
    elif isinstance(evidence.get("lat"), int | float) \
            and isinstance(evidence.get("lon"), int | float):
        found = (float(evidence["lat"]), float(evidence["lon"]))
    if found is None:
        return None
    return round(found[0], COORD_DIGITS), round(found[1], COORD_DIGITS)


def _view(r: Row, n: int, due: str, overdue: bool, now: float,
          zone: ZoneInfo, addresses: dict[str, str], spots: Places, datum: str) -> ItemView:
    evidence = json.loads(r["evidence"])
    at = _position(r, evidence, spots, datum)
    if isinstance(evidence.get("last_good"), int | float):
        evidence["last_good"] = iso(evidence["last_good"], zone)
    ack = None
    if r["ack_at"] is not None:
        ack = Acknowledgement(r["ack_note"], r["ack_promised"], iso(r["ack_at"], zone),
                              r["ack_by"])
    return ItemView(
        item_id=r["id"], row=n, subject_type=r["subject_type"], subject=r["subject"],
        name=r["name"], kind=r["kind"], location=r["location"], problem=r["problem"],
        severity=r["severity"], first_seen=iso(r["first_seen"], zone),
        duration_seconds=max(0.0, now - r["first_seen"]), deadline=due, state=r["state"],
        overdue=overdue, recurrence=r["recurrence"],
        suppressed_children=r["suppressed_children"], evidence=evidence,
        refers_to=r["refers_to"], acknowledgement=ack,
        address=addresses.get(r["subject"], "") if r["subject_type"] == "device" else "",
        lat=at[0] if at else None, lon=at[1] if at else None,
    )
