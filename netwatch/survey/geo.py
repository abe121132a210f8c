"""Coordinates: distances on the sphere and point in polygon; datums come from the inventory.

Readings are stored and compared in WGS-84; the datum conversions (GCJ-02, BD-09)
are the inventory's (``netwatch.inventory.datums``, re-exported here), which converts
its own boundary files with them at load. Polygon rings are ``(lon, lat)`` pairs, as
the inventory writes them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from netwatch.inventory import (
    bd09_to_gcj02,
    bd09_to_wgs84,
    gcj02_to_wgs84,
    outside_china,
    to_wgs84,
    wgs84_to_gcj02,
)

__all__ = [
    "EARTH_RADIUS_M", "bd09_to_gcj02", "bd09_to_wgs84", "gcj02_to_wgs84", "haversine_m",
    "on_ring", "outside_china", "point_in_polygon", "to_wgs84", "wgs84_to_gcj02",
]

EARTH_RADIUS_M = 6371008.8  # mean radius (IUGG) for haversine distances


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (sphere; well under 0.5 % off the ellipsoid)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def point_in_polygon(lat: float, lon: float, ring: Sequence[tuple[float, float]]) -> bool:
    """Even-odd ray casting over a ``(lon, lat)`` ring (closed or not); edges count as inside."""
    inside = False
    n = len(ring)
    for i in range(n):
        x1, y1 = ring[i - 1]
        x2, y2 = ring[i]
        if _on_segment(lon, lat, x1, y1, x2, y2):
            return True
        if (y1 > lat) != (y2 > lat):
            cross = x1 + (lat - y1) * (x2 - x1) / (y2 - y1)
            if lon < cross:
                inside = not inside
    return inside


def on_ring(lat: float, lon: float, ring: Sequence[tuple[float, float]]) -> bool:
    """Whether the location lies on one of the ring's edges."""
    return any(_on_segment(lon, lat, *ring[i - 1], *ring[i]) for i in range(len(ring)))


def _on_segment(x: float, y: float, x1: float, y1: float, x2: float, y2: float) -> bool:
    if (x - x1) * (y2 - y1) - (y - y1) * (x2 - x1) != 0:
        return False
    return min(x1, x2) <= x <= max(x1, x2) and min(y1, y2) <= y <= max(y1, y2)
