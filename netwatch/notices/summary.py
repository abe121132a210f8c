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

Time nothing watched (a monitoring gap: the daemon was down, and any gap of the
device's county) counts neither way: it leaves the device's watched time, and an
outage running through it (a fault open when the daemon stopped, closed at its
next start) loses that part too. Every second in a rate was measured.

Time a county declared for a device (停机报备, ``netwatch.monitor.declared``) is taken out
the same way, and counted apart (``Figures.declared``) so that it is reported, never
hidden; except that a declaration excuses no outage first seen before it started: such
an outage counts in full, declared or not (no retroactive excuse).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from netwatch.inventory import KINDS, Device, Inventory
from netwatch.monitor import (
    MAINTENANCE,
    SAMPLED_FAULTS,
    VIDEO,
    Declaration,
    declarations_within,
    gaps_within,
    monitored_since,
)
from netwatch.notices.record import KindSummary
from netwatch.store import Handle, outages
from netwatch.vocab import OFFLINE_FAULTS

KEY_AREA = "camera_key_area"


@dataclass(frozen=True, slots=True)
class Figures:
    expected: int
    online: int
    ratio: float
    watched: float = 0.0  # device-seconds the ratio is over (gaps and declared time out)
    declared: float = 0.0  # device-seconds taken out as declared outages


def _groups(device: Device) -> tuple[str, ...]:
    """The summary rows a device counts in."""
    if device.kind == "camera" and device.key_area:
        return (KEY_AREA, "camera")
    return (device.kind,)


Spans = list[tuple[float, float]]  # sorted by start, disjoint


def _merged(spans: Iterable[tuple[float, float]]) -> Spans:
    """The union of the spans, sorted and disjoint; empty ones dropped."""
    out: Spans = []
    for lo, hi in sorted(spans):
        if hi <= lo:
            continue
        if out and lo <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def _length(spans: Spans) -> float:
    return sum(hi - lo for lo, hi in spans)


def _overlap(a: Spans, b: Spans) -> float:
    """Seconds two sorted, disjoint span lists share."""
    total, i, j = 0.0, 0, 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if hi > lo:
            total += hi - lo
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return total


Episodes = dict[str, list[tuple[float, float]]]  # device: (first seen, end within the period)


def _outage_episodes(db: Handle, start: float, end: float,
                     faults: Collection[str] = OFFLINE_FAULTS) -> tuple[Episodes, set[str]]:
    """Each device's episodes of ``faults`` (first seen, closed or ``end``; the outages by
    default), and the devices with one open at ``end``."""
    episodes: Episodes = defaultdict(list)
    down_at_end: set[str] = set()
    for device, first_seen, closed_at in outages(db, faults, start, end, planned=MAINTENANCE):
        if closed_at is None or closed_at > end:
            down_at_end.add(device)
        episodes[device].append((first_seen, min(closed_at or end, end)))
    return episodes, down_at_end


def _spans(episodes: Iterable[tuple[float, float]], start: float) -> Spans:
    return _merged((max(first_seen, start), until) for first_seen, until in episodes)


def outage_spans(db: Handle, start: float, end: float) -> tuple[dict[str, Spans], set[str]]:
    """Each device's outage spans within [start, end], and the devices down at ``end``."""
    episodes, down_at_end = _outage_episodes(db, start, end)
    return {device: _spans(e, start) for device, e in episodes.items()}, down_at_end


def _minus(spans: Spans, cut: Spans) -> Spans:
    """The parts of sorted, disjoint ``spans`` outside sorted, disjoint ``cut``."""
    out: Spans = []
    for lo, hi in spans:
        for c_lo, c_hi in cut:
            if c_hi <= lo or c_lo >= hi:
                continue
            if c_lo > lo:
                out.append((lo, c_lo))
            lo = max(lo, c_hi)
        if hi > lo:
            out.append((lo, hi))
    return out


def declared_spans(declarations: Iterable[Declaration], episodes: Episodes, start: float,
                   end: float) -> dict[str, Spans]:
    """Per device, the time its county's declarations excuse within [start, end]: each
    declaration's span, less the outages first seen before it started (those count)."""
    by: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for d in declarations:
        lo, hi = max(d.starts, start), min(d.until, end)
        if hi <= lo:
            continue
        for device in d.devices:
            older = [(first, until) for first, until in episodes.get(device, ())
                     if first < d.starts]
            by[device] += _minus([(lo, hi)], _spans(older, start))
    return {device: _merged(s) for device, s in by.items()}


def downtime(db: Handle, start: float, end: float) -> tuple[dict[str, float], set[str]]:
    """Outage seconds per device within [start, end], and the devices down at ``end``."""
    spans, down_at_end = outage_spans(db, start, end)
    return {device: _length(s) for device, s in spans.items()}, down_at_end


def unwatched(db: Handle, start: float, end: float, now: float) -> dict[str | None, Spans]:
    """The monitoring gaps within [start, end] by county (None: every county), merged."""
    by: dict[str | None, list[tuple[float, float]]] = defaultdict(list)
    for gap in gaps_within(db, start, end, now):
        by[gap.county].append((max(gap.started, start), min(gap.ended, end)))
    return {county: _merged(s) for county, s in by.items()}


def _holes(gaps: dict[str | None, Spans], county: str) -> Spans:
    """What nothing watched of the county: its own gaps and every county's."""
    if county not in gaps:
        return gaps.get(None, [])
    return _merged([*gaps.get(None, []), *gaps[county]])


def unwatched_seconds(db: Handle, county: str, start: float, end: float, now: float) -> float:
    """Seconds of [start, end] nothing watched the county's devices (a notice says it)."""
    return _length(_holes(unwatched(db, start, end, now), county))


@dataclass(frozen=True, slots=True)
class DeviceTime:
    """One device's seconds within a period: watched (gaps and declared time out), lost to
    the faults counted (within the watched time) and declared."""

    watched: float = 0.0
    lost: float = 0.0
    declared: float = 0.0


def device_time(db: Handle, devices: Iterable[Device], start: float, end: float,
                now: float | None = None,
                faults: Collection[str] = OFFLINE_FAULTS) -> tuple[dict[str, DeviceTime],
                                                                     set[str]]:
    """Per device, its ``DeviceTime`` for ``faults`` within [start, end] (the outages by
    default), and the devices with one of them open at ``end``: the arithmetic of every
    time-weighted rate. ``now`` (default ``end``) decides whether a gap is still open."""
    episodes, down = _outage_episodes(db, start, end, faults)
    spans = {device: _spans(e, start) for device, e in episodes.items()}
    excused = declared_spans(declarations_within(db, start, end), episodes, start, end)
    since = monitored_since(db)
    gaps = unwatched(db, start, end, end if now is None else now)
    holes: dict[str, Spans] = {}
    out: dict[str, DeviceTime] = {}
    for device in devices:
        lo = max(start, since.get(device.id, end if since else start))
        if lo >= end:
            out[device.id] = DeviceTime()
            continue
        if device.county not in holes:
            holes[device.county] = _holes(gaps, device.county)
        hole, declared, lost = holes[device.county], 0.0, 0.0
        mine_excused = _minus([(a, b) for a, b in excused.get(device.id, ()) if b > lo],
                              [(start, lo)])
        if mine_excused:
            declared = _length(mine_excused) - (_overlap(mine_excused, hole) if hole else 0.0)
            hole = _merged([*hole, *mine_excused])
        watched = end - lo - (_overlap([(lo, end)], hole) if hole else 0.0)
        mine = spans.get(device.id)
        if mine:
            mine = [(max(a, lo), min(b, end)) for a, b in mine if b > lo]
            lost = _length(mine) - (_overlap(mine, hole) if hole else 0.0)
        out[device.id] = DeviceTime(watched, lost, declared)
    return out, down


def figures(db: Handle, inventory: Inventory, start: float, end: float,
            now: float | None = None) -> dict[str, dict[str, Figures]]:
    """Per county, per summary kind: expected, online at the end, time-weighted ratio.

    ``now`` (default ``end``) decides whether a gap is still open (no watcher now).
    """
    times, down = device_time(db, inventory.devices, start, end, now)
    return _by_group(inventory.devices, times, down)


def _by_group(devices: Iterable[Device], times: dict[str, DeviceTime],
              down: set[str]) -> dict[str, dict[str, Figures]]:
    """Per county, per summary kind: the devices' times summed into ``Figures``."""
    acc: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0, 0, 0.0, 0.0, 0.0])
    for device in devices:
        t = times[device.id]
        for group in _groups(device):
            a = acc[(device.county, group)]
            a[0] += 1
            a[1] += device.id not in down
            a[2] += t.lost
            a[3] += t.watched
            a[4] += t.declared
    out: dict[str, dict[str, Figures]] = defaultdict(dict)
    for (county, group), (expected, online, lost, watched, declared) in acc.items():
        out[county][group] = Figures(int(expected), int(online),
                                     1.0 - lost / watched if watched > 0 else math.nan,
                                     watched, declared)
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


def unavailable(probe: str) -> tuple[str, ...]:
    """The faults a sampled probe's rate counts against a device: its own (``no_video``,
    ``clock_drift``) and, for video, an outage too: a camera that is down shows no picture
    (视频可用 means online and showing video). An outage does not count against a clock:
    it counts in the online rate."""
    fault = SAMPLED_FAULTS[probe]
    return (fault, *OFFLINE_FAULTS) if probe == VIDEO else (fault,)


@dataclass(frozen=True, slots=True)
class SampledRate:
    """A county's video availability or clock accuracy at the period's end."""

    ratio: float
    devices: int  # the devices with the check, watched in the period


def sampled_rates(db: Handle, inventory: Inventory, county: str, start: float,
                  end: float) -> dict[str, SampledRate]:
    """Per sampled probe (``video``, ``onvif_time``) the county has devices for: the share
    of them without a fault it counts (``unavailable``) open at the period's end, of those
    watched in the period. The fault is the monitor's judgement of the samples (a problem
    confirmed by a resample), so one odd sample moves no rate."""
    since = monitored_since(db)
    out: dict[str, SampledRate] = {}
    for probe in SAMPLED_FAULTS:
        devices = {d.id for d in inventory.devices if d.county == county
                   and any(c.probe == probe for c in d.checks)
                   and since.get(d.id, start if not since else math.inf) < end}
        if not devices:
            continue
        faulty = {dev for dev, _, closed in outages(db, unavailable(probe), start, end,
                                                    MAINTENANCE)
                  if dev in devices and (closed is None or closed > end)}
        out[probe] = SampledRate(1 - len(faulty) / len(devices), len(devices))
    return out


def sampled_time_rates(db: Handle, inventory: Inventory, start: float, end: float,
                       now: float | None = None) -> dict[str, dict[str, dict[str, Figures]]]:
    """Per sampled probe (``video``, ``onvif_time``), per county, per summary kind: the
    share of the watched device-time of the devices with that check without a fault it
    counts (``unavailable``) open, time-weighted like the online rate (gaps and declared
    time out, a maintenance window's faults not counted). ``expected`` is the devices
    with the check, ``online`` those without such a fault open at ``end``. The monthly
    circular's rates; a notice says how things stand at its end (``sampled_rates``).
    """
    out: dict[str, dict[str, dict[str, Figures]]] = {}
    for probe in SAMPLED_FAULTS:
        checked = [d for d in inventory.devices if any(c.probe == probe for c in d.checks)]
        if not checked:
            continue
        times, faulty = device_time(db, checked, start, end, now, unavailable(probe))
        by = _by_group(checked, times, faulty)
        out[probe] = dict(by)
    return out
