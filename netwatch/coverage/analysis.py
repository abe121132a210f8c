"""Readings → point and cell verdicts → blind spots with their cause (docs/coverage.md).

``analyse`` is a pure function of the database and the inventory at a moment:
one query reads the readings of the current window and the one before it (for
the trend), and one more reads the open site faults when something is blind.
Every inventory point gets a verdict (``unsurveyed`` without enough readings);
readings with no point are judged per cell and technology. Readings of a point
no longer in the inventory are left out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from netwatch.coverage.causes import Cause, cause_of, most_reported, open_site_faults, serving_site
from netwatch.coverage.cells import CellGrid, cell_county, cell_id
from netwatch.coverage.classify import Judgement, judge, level, trend
from netwatch.coverage.sites import wgs84_places
from netwatch.inventory import CoverageThresholds, Inventory
from netwatch.store import Store
from netwatch.survey import readings_within

CELL_PRIORITY = 3  # a surveyed area ranks like a point of the inventory's default priority


@dataclass(frozen=True, slots=True)
class Verdict:
    """A coverage point's or a cell's verdict for one technology."""

    subject_type: str  # "point" or "cell"
    id: str
    county: str
    technology: str
    lat: float  # WGS-84 (a cell's centre)
    lon: float
    name: str  # the point's name (untrusted text); "" for cells
    priority: int  # 1 (highest) .. 5
    current: Judgement
    previous: Judgement
    trend: str  # classify.TRENDS
    serving_site: str | None  # declared, else the one most readings name
    first_taken: float | None  # the oldest and newest readings in the window
    last_taken: float | None

    @property
    def klass(self) -> str:
        return self.current.klass


@dataclass(frozen=True, slots=True)
class BlindSpot:
    verdict: Verdict
    cause: Cause


@dataclass(frozen=True, slots=True)
class CoverageReport:
    now: float
    window_seconds: float
    points: tuple[Verdict, ...]
    cells: tuple[Verdict, ...]
    blind_spots: tuple[BlindSpot, ...]

    @property
    def verdicts(self) -> tuple[Verdict, ...]:
        return self.points + self.cells


@dataclass(slots=True)
class _Group:
    current: list[float] = field(default_factory=list)
    previous: list[float] = field(default_factory=list)
    sites: dict[str, int] = field(default_factory=dict)  # serving site → readings naming it
    counties: dict[str, int] = field(default_factory=dict)  # county → readings
    first_taken: float = math.inf
    last_taken: float = -math.inf


def _collect(store: Store, inventory: Inventory, now: float
             ) -> tuple[dict[str, _Group], dict[tuple[tuple[int, int], str], _Group]]:
    """The two windows' readings as levels per point and per (cell, technology)."""
    settings = inventory.coverage
    window = settings.window_seconds
    grid = CellGrid(settings.cell_size_m)
    technology_of = {p.id: p.technology for p in inventory.points}
    thresholds: dict[str, CoverageThresholds] = {}
    points: dict[str, _Group] = {}
    cells: dict[tuple[tuple[int, int], str], _Group] = {}
    start = now - window
    # plain tuples (readings.WINDOW_COLUMNS): a third faster than rows by name here
    for (point, county, lat, lon, taken, tech, rssi, ber, rsrp, sinr, no_service,
         site) in readings_within(store, now - 2 * window, now):
        if point is not None:
            if technology_of.get(point) != tech:
                continue
            group = points.get(point)
            if group is None:
                group = points[point] = _Group()
        else:
            key = (grid.index(lat, lon), tech)
            group = cells.get(key)
            if group is None:
                group = cells[key] = _Group()
        limits = thresholds.get(county)
        if limits is None:
            limits = thresholds[county] = settings.thresholds_for(county)
        value = level(tech, limits, bool(no_service), rssi, ber, rsrp, sinr)
        if value is None:
            continue
        if taken <= start:
            group.previous.append(value)
            continue
        group.current.append(value)
        group.counties[county] = group.counties.get(county, 0) + 1
        if site:
            group.sites[site] = group.sites.get(site, 0) + 1
        if taken < group.first_taken:
            group.first_taken = taken
        if taken > group.last_taken:
            group.last_taken = taken
    return points, cells


def _judged(group: _Group, technology: str, county: str, inventory: Inventory
            ) -> tuple[Judgement, Judgement, str]:
    settings = inventory.coverage
    limits = settings.thresholds_for(county)
    current = judge(group.current, technology, limits, settings.min_readings)
    previous = judge(group.previous, technology, limits, settings.min_readings)
    return current, previous, trend(current.klass, previous.klass)


def _span(group: _Group) -> tuple[float | None, float | None]:
    """The oldest and newest reading of the current window, None when it has none."""
    if not group.current:
        return None, None
    return group.first_taken, group.last_taken


def analyse(store: Store, inventory: Inventory, now: float) -> CoverageReport:
    """Every point's and surveyed cell's verdict at ``now``, and the blind spots' causes."""
    point_groups, cell_groups = _collect(store, inventory, now)
    places = wgs84_places(inventory)
    empty = _Group()
    points: list[Verdict] = []
    for p in inventory.points:
        group = point_groups.get(p.id, empty)
        current, previous, moved = _judged(group, p.technology, p.county, inventory)
        lat, lon = places.points[p.id]
        points.append(Verdict("point", p.id, p.county, p.technology, lat, lon, p.name,
                              p.priority, current, previous, moved,
                              p.serving_site or most_reported(group.sites), *_span(group)))
    cells: list[Verdict] = []
    grid = CellGrid(inventory.coverage.cell_size_m)
    for (index, tech), group in sorted(cell_groups.items()):
        if not group.current:
            continue  # surveyed in the previous window only: nothing to say now
        lat, lon = grid.centre(index)
        county = cell_county(inventory, group.counties, lat, lon)
        current, previous, moved = _judged(group, tech, county, inventory)
        cells.append(Verdict("cell", cell_id(index), county, tech, lat, lon, "", CELL_PRIORITY,
                             current, previous, moved, most_reported(group.sites),
                             *_span(group)))
    blind = [v for v in points + cells if v.klass == "blind"]
    faults = open_site_faults(store) if blind else {}
    spots = tuple(
        BlindSpot(v, cause_of(serving_site(v.serving_site, places.sites, v.county, v.lat, v.lon),
                              faults))
        for v in blind)
    return CoverageReport(now, inventory.coverage.window_seconds, tuple(points), tuple(cells),
                          spots)
