"""A notice's summary figures: per-kind online ratio over the period, target, and rank.

The ratio is time-weighted from the recorded outage episodes (the faults that
count a device offline, ``netwatch.vocab.OFFLINE_FAULTS``: ``unreachable``,
``service_down``), so it needs no live monitor: 1 − (outage seconds of the kind's
devices within the period) / (devices × period seconds). An outage runs from its
first-seen time to its close (or the period's end); overlapping outages of one
device count once. Outages suppressed by a maintenance window are planned work
and do not count. ``online`` is the devices without an outage at the period's end.
Cameras in key areas are also summarised on their own as ``camera_key_area``.
Ranks compare every county over the same period (1 = best; ties share a rank).

Only monitored time counts: a device netwatch first checked on Thursday adds
Thursday to Sunday to the denominator, not the whole week, so a new installation
or a newly added camera does not inflate the rate (``netwatch.monitor.watched``,
recorded by the daemon); a kind with no monitored time in the period has no rate (NaN) and
is left out of the summary. Without any such record (notices issued from a
database no daemon ran on) the whole period counts.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

from netwatch.inventory import KINDS, Device, Inventory
from netwatch.monitor import MAINTENANCE, monitored_since
from netwatch.notices.record import KindSummary
from netwatch.store import Handle, outages
from netwatch.vocab import OFFLINE_FAULTS

KEY_AREA = "camera_key_area"


@dataclass(frozen=True, slots=True)
class Figures:
    expected: int
    online: int
    ratio: float


def _groups(device: Device) -> tuple[str, ...]:
    """The summary rows a device counts in."""
    if device.kind == "camera" and device.key_area:
        return (KEY_AREA, "camera")
    return (device.kind,)


def downtime(db: Handle, start: float, end: float) -> tuple[dict[str, float], set[str]]:
    """Outage seconds per device within [start, end], and the devices down at ``end``."""
    rows = outages(db, OFFLINE_FAULTS, start, end, planned=MAINTENANCE)
    spans: dict[str, list[tuple[float, float]]] = defaultdict(list)
    down_at_end: set[str] = set()
    for device, first_seen, closed_at in rows:
        if closed_at is None or closed_at > end:
            down_at_end.add(device)
        spans[device].append((max(first_seen, start), min(closed_at or end, end)))
    seconds: dict[str, float] = {}
    for device, intervals in spans.items():
        total, reach = 0.0, start
        for lo, hi in intervals:  # sorted by start: merge overlaps
            lo = max(lo, reach)
            if hi > lo:
                total += hi - lo
                reach = hi
        seconds[device] = total
    return seconds, down_at_end


def figures(db: Handle, inventory: Inventory, start: float,
            end: float) -> dict[str, dict[str, Figures]]:
    """Per county, per summary kind: expected, online at the end, time-weighted ratio."""
    seconds, down = downtime(db, start, end)
    since = monitored_since(db)
    acc: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0, 0, 0.0, 0.0])
    for device in inventory.devices:
        watched = max(end - max(start, since.get(device.id, end if since else start)), 0.0)
        for group in _groups(device):
            a = acc[(device.county, group)]
            a[0] += 1
            a[1] += device.id not in down
            a[2] += min(seconds.get(device.id, 0.0), watched)
            a[3] += watched
    out: dict[str, dict[str, Figures]] = defaultdict(dict)
    for (county, group), (expected, online, lost, watched) in acc.items():
        out[county][group] = Figures(int(expected), int(online),
                                     1.0 - lost / watched if watched > 0 else math.nan)
    return out


def county_summary(inventory: Inventory, county: str,
                   by_county: dict[str, dict[str, Figures]]) -> tuple[KindSummary, ...]:
    """The county's rows, in a fixed kind order, with its rank among the counties."""
    targets = inventory.notices.online_targets
    rows: list[KindSummary] = []
    for group in (KEY_AREA, *KINDS):
        mine = by_county.get(county, {}).get(group)
        if mine is None or math.isnan(mine.ratio):
            continue
        ratios = [f[group].ratio for f in by_county.values()
                  if group in f and not math.isnan(f[group].ratio)]
        rank = 1 + sum(1 for r in ratios if r > mine.ratio)
        rows.append(KindSummary(kind=group, expected=mine.expected, online=mine.online,
                                online_ratio=round(mine.ratio, 6),
                                target_ratio=targets.get(group, 0.0), rank=rank, of=len(ratios)))
    return tuple(rows)
