"""The inventory's trunking sites and coverage points in WGS-84, and the nearest sites.

Readings are WGS-84 and the inventory's coordinates are in its own datum, so the
places are converted once per inventory object (the daemon's current one and a
test's few are kept).
"""

from __future__ import annotations

from dataclasses import dataclass

from netwatch.inventory import Inventory
from netwatch.survey import haversine_m, to_wgs84

_CACHED = 4


@dataclass(frozen=True, slots=True)
class Site:
    id: str
    name: str
    county: str
    lat: float  # WGS-84
    lon: float


@dataclass(frozen=True, slots=True)
class Nearby:
    site: Site
    distance_m: float


@dataclass(frozen=True, slots=True)
class Places:
    sites: tuple[Site, ...]  # trunking sites with coordinates
    points: dict[str, tuple[float, float]]  # coverage point id → (lat, lon)


_cache: list[tuple[Inventory, Places]] = []


def wgs84_places(inventory: Inventory) -> Places:
    """The trunking sites and coverage points in WGS-84 (built once per inventory object)."""
    for inv, places in _cache:
        if inv is inventory:
            return places
    datum = inventory.coverage.datum
    sites = []
    for d in inventory.devices:
        if d.kind == "trunking_site" and d.lat is not None and d.lon is not None:
            lat, lon = to_wgs84(datum, d.lat, d.lon)
            sites.append(Site(d.id, d.name, d.county, lat, lon))
    points = {p.id: to_wgs84(datum, p.lat, p.lon) for p in inventory.points}
    places = Places(tuple(sites), points)
    _cache.insert(0, (inventory, places))
    del _cache[_CACHED:]
    return places


def nearest(sites: tuple[Site, ...], lat: float, lon: float, n: int = 3,
            county: str | None = None) -> list[Nearby]:
    """The ``n`` nearest sites (of ``county`` only, when given), nearest first."""
    found = [Nearby(s, haversine_m(lat, lon, s.lat, s.lon)) for s in sites
             if county is None or s.county == county]
    found.sort(key=lambda x: (x.distance_m, x.site.id))
    return found[:n]
