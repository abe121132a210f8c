"""Coverage points and maintenance windows: sections that refer to devices and counties.

They are read after every device is known, so a point's serving site and a
window's device list can be checked against the whole inventory.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any
from zoneinfo import ZoneInfo

from netwatch.inventory import units as u
from netwatch.inventory.devices import BBOX_MARGIN
from netwatch.inventory.model import (
    KINDS,
    POINT_PRIORITY,
    TECHNOLOGIES,
    BBox,
    County,
    CoveragePoint,
    Device,
    MaintenanceWindow,
)
from netwatch.inventory.reader import Reader, join, say, suggestion
from netwatch.inventory.settings import LAT, LON

POINT_KEYS = ("id", "name", "county", "lat", "lon", "technology", "serving_site", "priority")
WINDOW_KEYS = ("devices", "county", "site", "kind", "start", "end", "cron", "duration", "reason")


def read_points(r: Reader, raw: Any, line: int, counties: dict[str, County],
                devices: dict[str, Device], known: Collection[str],
                bbox: BBox | None) -> tuple[CoveragePoint, ...]:
    """The coverage points; ``known`` holds every device id seen, valid or not."""
    points: list[CoveragePoint] = []
    first: dict[str, int] = {}
    sites = [d.id for d in devices.values() if d.kind == "trunking_site"]
    items = r.items(raw, line, "coverage_points")
    for i, item in enumerate(items):
        m = r.mapping(item, items.line_of(i), f"coverage_points[{i}]")
        if m is None:
            continue
        before = len(r.problems)
        pid = r.need(m, "id", f"coverage_points[{i}]", u.identifier)
        where = f"point {pid}:" if pid else f"coverage_points[{i}]"
        r.keys(m, where, POINT_KEYS, required=("name", "county", "lat", "lon"))
        if pid in first:
            r.add(m.line, say(where, f"duplicate id (first defined at line {first[pid]})"))
        elif pid:
            first[pid] = m.line
        county = r.get(m, "county", where, u.text, "")
        if county and county not in counties:
            r.add(m.line_of("county"), say(where, f'unknown county "{county}"'
                                                  f"{suggestion(county, counties)}"))
        lat = r.get(m, "lat", where, LAT, None)
        lon = r.get(m, "lon", where, LON, None)
        if bbox is not None and lat is not None and lon is not None and not (
            bbox.lat_min - BBOX_MARGIN <= lat <= bbox.lat_max + BBOX_MARGIN
            and bbox.lon_min - BBOX_MARGIN <= lon <= bbox.lon_max + BBOX_MARGIN
        ):
            r.add(m.line, say(where, f"lat {lat}, lon {lon} is outside coverage.bbox"))
        technology = r.get(m, "technology", where, u.text, TECHNOLOGIES[0])
        if technology not in TECHNOLOGIES:
            r.add(m.line_of("technology"), say(join(where, "technology"),
                  f'unknown technology "{technology}" (one of {", ".join(TECHNOLOGIES)})'))
        site = r.get(m, "serving_site", where, u.identifier, None)
        if site is not None and site not in known:
            r.add(m.line_of("serving_site"), say(join(where, "serving_site"),
                  f'"{site}" is not a device{suggestion(site, sites)}'))
        elif site in devices and devices[site].kind != "trunking_site":
            r.add(m.line_of("serving_site"), say(join(where, "serving_site"),
                  f'"{site}" is a {devices[site].kind}, not a trunking_site'))
        priority = r.get(m, "priority", where, u.integer(1, 5), POINT_PRIORITY)
        if len(r.problems) == before and pid and lat is not None and lon is not None:
            points.append(CoveragePoint(pid, r.get(m, "name", where, u.name_text, pid), county, lat,
                                        lon, technology, site, priority, f"{r.file}:{m.line}"))
    return tuple(points)


def read_maintenance(r: Reader, raw: Any, line: int, counties: dict[str, County],
                     devices: dict[str, Device], known: Collection[str],
                     timezone: str) -> tuple[MaintenanceWindow, ...]:
    windows: list[MaintenanceWindow] = []
    sites = {d.site for d in devices.values() if d.site}
    zone = ZoneInfo(timezone)
    items = r.items(raw, line, "maintenance")
    for i, item in enumerate(items):
        where = f"maintenance[{i}]"
        m = r.mapping(item, items.line_of(i), where)
        if m is None:
            continue
        before = len(r.problems)
        r.keys(m, where, WINDOW_KEYS)
        ids = []
        dl = r.items(m.get("devices"), m.line_of("devices"), join(where, "devices"))
        for j, did in enumerate(dl):
            if not isinstance(did, str) or did not in known:
                r.add(dl.line_of(j), say(join(where, "devices"), f"{u.shown(did)} is not a device"
                                                                 f"{suggestion(did, devices)}"))
            elif isinstance(did, str):
                ids.append(did)
        county = r.get(m, "county", where, u.text, None)
        if county is not None and county not in counties:
            hint = suggestion(county, counties)
            r.add(m.line_of("county"),
                  say(join(where, "county"), f'unknown county "{county}"{hint}'))
        site = r.get(m, "site", where, u.text, None)
        if site is not None and site not in sites:
            r.add(m.line_of("site"), say(join(where, "site"), f'no device has site "{site}"'
                                                              f"{suggestion(site, sites)}"))
        kind = r.get(m, "kind", where, u.text, None)
        if kind is not None and kind not in KINDS:
            r.add(m.line_of("kind"), say(join(where, "kind"), f'unknown kind "{kind}"'
                                                              f"{suggestion(kind, KINDS)}"))
        if not dl and county is None and site is None and kind is None:
            r.add(m.line, say(where, "give devices, county, site or kind to say what it covers"))
        start = r.get(m, "start", where, u.timestamp(zone), None)
        end = r.get(m, "end", where, u.timestamp(zone), None)
        cron = r.get(m, "cron", where, u.cron(timezone), None)
        duration = r.get(m, "duration", where, u.positive_duration, None)
        one_off = "start" in m and "end" in m and "cron" not in m and "duration" not in m
        recurring = "cron" in m and "duration" in m and "start" not in m and "end" not in m
        if not (one_off or recurring):
            r.add(m.line, say(where, "give start and end (one-off) or cron and duration "
                                     "(recurring)"))
        elif start is not None and end is not None and end <= start:
            r.add(m.line_of("end"), say(join(where, "end"), "must be after start"))
        if len(r.problems) == before:
            windows.append(MaintenanceWindow(
                r.get(m, "reason", where, u.text_or_empty, ""), tuple(ids), county, site, kind,
                start, end, cron, duration or 0.0, timezone, f"{r.file}:{m.line}"))
    return tuple(windows)
