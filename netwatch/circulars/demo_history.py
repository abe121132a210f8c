"""A month of history for ``netwatch demo``, so its first circular has something to rank.

The demo starts on an empty database, and a circular reports on the month before. This
writes what a month of watching the demo city would have recorded (all at once, at the
demo's first start, and never on a database that already holds some of that month):
when watching began, outages of every kind the circular ranks (some counties steady,
one poorly kept, a camera without video, a drifting clock), two monitoring gaps, a
declared outage with the outages inside it, and the notice items the daemon's item
duty would have opened, rectified and closed day by day. The time from the month's end
to the seeding is recorded as a gap: nothing watched it, so no rate counts it. Every
figure is fixed by the device ids (deterministic), and the circular built from it says
it is demonstration data.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from netwatch.inventory import Device, Inventory
from netwatch.monitor import (
    Actor,
    Gap,
    Refused,
    Wanted,
    declare,
    declared_mark,
    monitored_since,
    record_first_checks,
    record_gap,
)
from netwatch.notices import sync_items
from netwatch.store import FaultLog, NewEpisode, Store, first_seen_ever
from netwatch.vocab import Fault, GapReason

HOUR = 3600.0
DAY = 24 * HOUR
# per county: the share of its devices (in 1/1000) with an outage in the month, and how
# long each lasts (hours): the demo's ranking, one county kept poorly
PLAN: dict[str, tuple[int, tuple[float, ...]]] = {
    "xingan": (60, (0.5, 1.0, 2.0)),
    "linhe": (120, (1.0, 3.0, 6.0)),
    "pingchuan": (150, (2.0, 6.0, 12.0)),
    "shiqiao": (400, (48.0, 120.0, 200.0)),
}
OTHER = (100, (1.0, 4.0))  # any other county's
SEEDED = "演示数据（模拟历史）"  # the seeded episodes' detail and evidence
SAMPLED = ((Fault.NO_VIDEO, "video", 3, 40.0), (Fault.CLOCK_DRIFT, "onvif_time", 9, 230.0))


# the month's declared outage: a county's roadworks over three cameras, with their
# outages inside it (planned work: no item, out of the rate, counted apart)
DECLARING = "pingchuan"
DECLARED_CAMERAS = 3
DECLARED_DAY, DECLARED_HOURS = 14, 60.0  # from 08:00 of the 15th, made the day before
# today's: a county declares roadworks over a camera the demo's scenario breaks, so its
# fault shows ``declared`` and becomes no item
DECLARED_TODAY = ("shiqiao", "sq-cam-044", 2 * DAY)


@dataclass(frozen=True, slots=True)
class Outage:
    device: Device
    fault: str
    start: float
    hours: float
    mark: str | None = None  # what suppresses it (a declared outage), if anything


def month_before(now: float, zone: ZoneInfo) -> tuple[str, float, float]:
    """The month before ``now`` (YYYY-MM) and its start and end (Unix seconds)."""
    first = datetime.fromtimestamp(now, zone).date().replace(day=1)
    start = (first - timedelta(days=1)).replace(day=1)
    return (f"{start:%Y-%m}", datetime.combine(start, time(0), zone).timestamp(),
            datetime.combine(first, time(0), zone).timestamp())


def _spread(key: str) -> int:
    return zlib.crc32(key.encode())


def outages(inventory: Inventory, start: float, end: float) -> Iterator[Outage]:
    """The month's outages: per device by its id's hash, as its county's plan says."""
    days = int((end - start) // DAY)
    for device in inventory.devices:
        share, lengths = PLAN.get(device.county, OTHER)
        h = _spread(device.id)
        if h % 1000 < share:
            at = start + (h >> 10) % (days - 8) * DAY + (h >> 16) % 24 * HOUR
            yield Outage(device, Fault.UNREACHABLE, at, lengths[(h >> 4) % len(lengths)])
        for fault, probe, day, hours in SAMPLED:
            if any(c.probe == probe for c in device.checks) and h % 2 == 0:
                yield Outage(device, fault, start + day * DAY + (h >> 8) % 12 * HOUR, hours)


def _declared_month(store: Store, inventory: Inventory, start: float) -> list[Outage]:
    """The month's declaration, made the day before it starts, and the outages in it."""
    cameras = sorted((d for d in inventory.devices
                      if d.county == DECLARING and d.kind == "camera"),
                     key=lambda d: d.id)[:DECLARED_CAMERAS]
    if not cameras:
        return []
    begins = start + DECLARED_DAY * DAY + 8 * HOUR
    made = declare(store, inventory, Wanted(
        DECLARING, {"devices": [d.id for d in cameras]}, begins,
        begins + DECLARED_HOURS * HOUR, "roadworks", "演示数据：道路施工迁改线路"),
        Actor("demo-seed", frozenset({DECLARING})), now=begins - DAY)
    return [Outage(d, Fault.UNREACHABLE, begins + HOUR, DECLARED_HOURS - 12, declared_mark(
        made.id)) for d in cameras]


def declare_today(store: Store, inventory: Inventory, now: float) -> int | None:
    """Today's declaration (``DECLARED_TODAY``) unless the camera has one already (a restarted
    demo): its id, or None."""
    county, device, length = DECLARED_TODAY
    if device not in inventory.by_id():
        return None
    try:
        return declare(store, inventory, Wanted(
            county, {"devices": [device]}, now, now + length, "roadworks",
            "演示数据：道路施工，停机两天"), Actor("demo", frozenset({county})), now=now).id
    except Refused:
        return None


def seed_month(store: Store, inventory: Inventory, now: float) -> str | None:
    """Write the month before ``now`` (see the module docstring); its YYYY-MM, or None
    when the database already holds any of that month (then it is left as it is)."""
    zone = ZoneInfo(inventory.notices.timezone)  # the circular's calendar
    month, start, end = month_before(now, zone)
    since = monitored_since(store)
    earliest = first_seen_ever(store)
    if any(t < end for t in since.values()) or (earliest is not None and earliest < end):
        return None
    record_first_checks(store, [(d.id, start) for d in inventory.devices])
    log = FaultLog(store)
    # the month in time order, as the monitor and the item duty would have written it:
    # outages open and close, and each morning the items follow the faults
    events: list[tuple[float, int, Outage | None]] = []
    for planned in [*outages(inventory, start, end), *_declared_month(store, inventory, start)]:
        events.append((planned.start, 0, planned))
        events.append((min(planned.start + planned.hours * HOUR, end - 60), 1, planned))
    first = datetime.fromtimestamp(start, zone).date()
    for n in range(int((end - start) // DAY) + 1):
        morning = datetime.combine(first + timedelta(days=n), time(9), zone).timestamp()
        events.append((morning, 2, None))
    ids: dict[int, int] = {}
    for when, what, o in sorted(events, key=lambda e: (e[0], e[1])):
        if o is None:
            sync_items(store, inventory, when)
        elif what == 0:
            [episode] = log.apply([NewEpisode(
                device=o.device.id, county=o.device.county, kind=o.device.kind, fault=o.fault,
                first_seen=when, opened_at=when + 180, suppressed_by=o.mark, detail=SEEDED,
                evidence={"failed_checks": [SEEDED], "last_good": when - 60})], [], [])
            ids[id(o)] = episode.id
        else:
            log.apply([], [], [(ids[id(o)], when, "recovered")])
    with store.transaction() as tx:
        record_gap(tx, Gap(start + 11 * DAY + 2 * HOUR, start + 11 * DAY + 5 * HOUR,
                           GapReason.DAEMON_DOWN))
        if "linhe" in inventory.counties:
            record_gap(tx, Gap(start + 19 * DAY + 14 * HOUR, start + 19 * DAY + 15 * HOUR,
                               GapReason.NO_ACTIVE, "linhe"))
        record_gap(tx, Gap(end, now, GapReason.DAEMON_DOWN))
    return month
