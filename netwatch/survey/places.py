"""Which county a WGS-84 location falls in, for readings and for coverage cells (docs/coverage.md).

A county boundary polygon decides when the inventory gives one and the location
lies inside it; otherwise the county of the nearest coverage point or device with
coordinates, within ``NEAREST_MAX_M``; farther than that the location belongs to
no county (a reading there is refused). The inventory's coordinates are in its own
datum, so they are converted to WGS-84 once, when ``Places`` is built; lookups
use a coarse grid so that a city's 100,000 devices cost a few comparisons each.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from netwatch.inventory import Inventory
from netwatch.survey.geo import haversine_m, point_in_polygon, to_wgs84

NEAREST_MAX_M = 20_000.0  # a location farther than this from every known place has no county
GRID_DEG = 0.2  # grid cell edge, degrees of latitude (≈ 22 km)
METRES_PER_DEG = 111_320.0
_CACHED = 4  # inventories whose Places are kept (the daemon's current one, tests' few)


@dataclass(frozen=True, slots=True)
class Boundary:
    county: str
    ring: tuple[tuple[float, float], ...]  # (lon, lat), WGS-84
    lat_min: float
    lat_max: float
    lon_min: float
    lon_max: float

    def contains(self, lat: float, lon: float) -> bool:
        if not (self.lat_min <= lat <= self.lat_max and self.lon_min <= lon <= self.lon_max):
            return False
        return point_in_polygon(lat, lon, self.ring)


def _boundary(county: str, ring: Sequence[tuple[float, float]], datum: str) -> Boundary:
    wgs = tuple((lon2, lat2) for lat2, lon2 in (to_wgs84(datum, lat, lon) for lon, lat in ring))
    lons, lats = [p[0] for p in wgs], [p[1] for p in wgs]
    return Boundary(county, wgs, min(lats), max(lats), min(lons), max(lons))


class Places:
    """An inventory's county boundaries and located places, precomputed for lookups."""

    def __init__(self, inventory: Inventory, max_m: float = NEAREST_MAX_M) -> None:
        datum = inventory.coverage.datum
        self.max_m = max_m
        self.boundaries = tuple(_boundary(c.id, c.boundary, datum)
                                for c in inventory.counties.values() if len(c.boundary) >= 3)
        self.grid: dict[tuple[int, int], list[tuple[float, float, str]]] = defaultdict(list)
        located = [(p.lat, p.lon, p.county) for p in inventory.points]
        located += [(d.lat, d.lon, d.county) for d in inventory.devices
                    if d.lat is not None and d.lon is not None]
        for lat, lon, county in located:
            wlat, wlon = to_wgs84(datum, lat, lon)
            self.grid[_cell(wlat, wlon)].append((wlat, wlon, county))

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
