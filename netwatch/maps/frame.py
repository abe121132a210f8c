"""WGS-84 to the page: an equirectangular projection fitted to a box, and its scale bar.

At city scale (tens of kilometres) the equirectangular projection with the
longitude scaled by the cosine of the middle latitude is within a fraction of a
percent of Web Mercator and keeps one scale across the map, so a scale bar is
honest everywhere on it. North is up.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

METRES_PER_DEGREE = 6371008.8 * math.pi / 180.0  # of latitude, on the mean sphere
MIN_SPAN_DEG = 0.01  # ≈ 1 km: a single place still gets a map around it
PAD = 0.06  # of the span added on each side, so markers never sit on the frame
NICE = (1, 2, 5)


@dataclass(frozen=True, slots=True)
class Frame:
    """Where the map is drawn on the page (``x``, ``y``, ``width``, ``height`` in SVG units)
    and how degrees become units there."""

    x: float
    y: float
    width: float
    height: float
    lon0: float  # the map's centre
    lat0: float
    k: float  # SVG units per degree of latitude
    shrink: float  # cos(lat0): a degree of longitude is this much shorter

    @classmethod
    def fit(cls, places: Iterable[tuple[float, float]], x: float, y: float, width: float,
            height: float) -> Frame:
        """The frame showing every ``(lon, lat)`` of ``places`` inside the box, padded."""
        lons, lats = [], []
        for lon, lat in places:
            lons.append(lon)
            lats.append(lat)
        if not lons:
            lons, lats = [0.0], [0.0]
        lat0 = (min(lats) + max(lats)) / 2
        lon0 = (min(lons) + max(lons)) / 2
        shrink = max(math.cos(math.radians(lat0)), 0.05)
        span_x = max((max(lons) - min(lons)) * shrink, MIN_SPAN_DEG) * (1 + 2 * PAD)
        span_y = max(max(lats) - min(lats), MIN_SPAN_DEG) * (1 + 2 * PAD)
        k = min(width / span_x, height / span_y)
        return cls(x, y, width, height, lon0, lat0, k, shrink)

    def project(self, lon: float, lat: float) -> tuple[float, float]:
        """SVG coordinates of a WGS-84 position."""
        return (self.x + self.width / 2 + (lon - self.lon0) * self.shrink * self.k,
                self.y + self.height / 2 - (lat - self.lat0) * self.k)

    def inside(self, px: float, py: float) -> bool:
        return self.x <= px <= self.x + self.width and self.y <= py <= self.y + self.height

    @property
    def metres_per_unit(self) -> float:
        return METRES_PER_DEGREE / self.k

    def scale_bar(self, longest: float) -> tuple[float, str]:
        """(length in SVG units, label) of the longest round distance (1, 2 or 5 × 10ⁿ m)
        that fits in ``longest`` units."""
        metres = self.metres_per_unit * longest
        step = 10 ** math.floor(math.log10(metres))
        best = step
        for n in NICE:
            if n * step <= metres:
                best = n * step
        label = f"{best / 1000:g} km" if best >= 1000 else f"{best:g} m"
        return best / self.metres_per_unit, label
