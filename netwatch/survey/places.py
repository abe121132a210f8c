"""Which county a WGS-84 location falls in, for readings and for coverage cells (docs/coverage.md).

A county's area (its boundary: an inline ring or a GeoJSON feature, holes and
several polygons allowed, already in WGS-84 from the inventory) decides when the
inventory gives one and the location lies inside it; otherwise the county of the
nearest coverage point or device with coordinates, within ``NEAREST_MAX_M``; farther
than that the location belongs to no county (a reading there is refused). The
inventory's coordinates are in its own datum, so they are converted to WGS-84 once,
when ``Places`` is built; lookups use a coarse grid so that a city's 100,000 devices
cost a few comparisons each. The maps draw the same areas, and a county without one
as the hull of the places ``located`` gives.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from netwatch.inventory import Area, Inventory
from netwatch.survey.geo import haversine_m, on_ring, point_in_polygon, to_wgs84

NEAREST_MAX_M = 20_000.0  # a location farther than this from every known place has no county
GRID_DEG = 0.2  # grid cell edge, degrees of latitude (≈ 22 km)
METRES_PER_DEG = 111_320.0
_CACHED = 4  # inventories whose Places are kept (the daemon's current one, tests' few)


def area_contains(area: Area, lat: float, lon: float) -> bool:
    """Inside one of the area's polygons and in none of that polygon's holes (edges count
    as inside the outer ring and outside a hole)."""
    if not (area.lat_min <= lat <= area.lat_max and area.lon_min <= lon <= area.lon_max):
        return False
    for outer, *holes in area.polygons:
        if point_in_polygon(lat, lon, outer) and not any(
                _strictly_inside(lat, lon, hole) for hole in holes):
            return True
    return False


def _strictly_inside(lat: float, lon: float, ring: Sequence[tuple[float, float]]) -> bool:
    """Inside a hole, its edge not included (a point on a hole's edge is in the county)."""
    return point_in_polygon(lat, lon, ring) and not on_ring(lat, lon, ring)


@dataclass(frozen=True, slots=True)
class Boundary:
    county: str
    area: Area

    def contains(self, lat: float, lon: float) -> bool:
        return area_contains(self.area, lat, lon)


class Places:
    """An inventory's county boundaries and located places, precomputed for lookups."""

    def __init__(self, inventory: Inventory, max_m: float = NEAREST_MAX_M) -> None:
        datum = inventory.coverage.datum
        self.max_m = max_m
        self.boundaries = tuple(Boundary(c.id, c.area) for c in inventory.counties.values()
                                if c.area is not None)
        self.grid: dict[tuple[int, int], list[tuple[float, float, str]]] = defaultdict(list)
        self.located: dict[str, list[tuple[float, float]]] = defaultdict(list)
        located = [(p.lat, p.lon, p.county) for p in inventory.points]
        located += [(d.lat, d.lon, d.county) for d in inventory.devices
                    if d.lat is not None and d.lon is not None]
        for lat, lon, county in located:
            wlat, wlon = to_wgs84(datum, lat, lon)
            self.grid[_cell(wlat, wlon)].append((wlat, wlon, county))
            self.located[county].append((wlat, wlon))

    def county_at(self, lat: float, lon: float) -> str | None:
        """The county of a WGS-84 location, or None when nothing places it."""
        for b in self.boundaries:
            if b.contains(lat, lon):
                return b.county
        return self.nearest_county(lat, lon)

    def nearest_county(self, lat: float, lon: float) -> str | None:
        """The county of the nearest located place within ``max_m``."""
        row, col = _cell(lat, lon)
        span_lat = math.ceil(self.max_m / (METRES_PER_DEG * GRID_DEG))
        shrink = max(math.cos(math.radians(min(abs(lat) + GRID_DEG * span_lat, 89.0))), 1e-6)
        span_lon = math.ceil(self.max_m / (METRES_PER_DEG * shrink * GRID_DEG))
        best, best_m = None, self.max_m
        for r in range(row - span_lat, row + span_lat + 1):
            for c in range(col - span_lon, col + span_lon + 1):
                for plat, plon, county in self.grid.get((r, c), ()):
                    m = haversine_m(lat, lon, plat, plon)
                    if m <= best_m:
                        best, best_m = county, m
        return best


def _cell(lat: float, lon: float) -> tuple[int, int]:
    return math.floor(lat / GRID_DEG), math.floor(lon / GRID_DEG)


_cache: list[tuple[Inventory, Places]] = []


def places_for(inventory: Inventory) -> Places:
    """The inventory's ``Places``, built once per inventory object."""
    for inv, places in _cache:
        if inv is inventory:
            return places
    places = Places(inventory)
    _cache.insert(0, (inventory, places))
    del _cache[_CACHED:]
    return places


def county_at(inventory: Inventory, lat: float, lon: float) -> str | None:
    """The county a WGS-84 location falls in (polygon, else nearest place), or None."""
    return places_for(inventory).county_at(lat, lon)
