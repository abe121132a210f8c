"""A county's outline for a map: its boundary, else the padded hull of its places.

The boundary is the inventory's area (inline ring or boundary file, in WGS-84), the
same the survey places readings with. A county without one is drawn as the convex
hull of its devices and coverage points (``netwatch.survey``'s located places),
padded by ``PAD_M`` so that the outermost places are not on the line; the map says
so (``hull``). Outlines stored in a notice are simplified to ``STORED_VERTICES`` or
so, plenty for a page.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from netwatch.inventory import Inventory, Polygon, Ring
from netwatch.maps.frame import METRES_PER_DEGREE
from netwatch.survey import places_for

PAD_M = 1_000.0  # a hull reaches this far beyond the outermost places
PAD_SIDES = 16  # the pad's circle as a polygon of this many sides
STORED_VERTICES = 1_500  # about how many positions a notice keeps of an outline
DIGITS = 6  # ≈ 0.1 m: positions are rounded to this many decimals when stored


@dataclass(frozen=True, slots=True)
class CountyOutline:
    """A county's outline in WGS-84 and whether it is the padded hull (no boundary given)."""

    county: str
    name: str
    polygons: tuple[Polygon, ...]
    hull: bool


def county_outline(inventory: Inventory, county: str) -> CountyOutline | None:
    """The county's boundary, else the padded hull of its places; None when it has neither."""
    info = inventory.counties[county]
    if info.area is not None:
        return CountyOutline(county, info.name, info.area.polygons, False)
    located = places_for(inventory).located.get(county, [])
    if not located:
        return None
    ring = padded_hull([(lon, lat) for lat, lon in located])
    return CountyOutline(county, info.name, ((ring,),), True)


def padded_hull(points: Sequence[tuple[float, float]], pad_m: float = PAD_M) -> Ring:
    """The convex hull of ``(lon, lat)`` points grown by ``pad_m`` (closed ring)."""
    core = convex_hull(points)
    lat0 = sum(lat for _, lat in core) / len(core)
    dlat = pad_m / METRES_PER_DEGREE
    dlon = dlat / max(math.cos(math.radians(lat0)), 0.05)
    grown = [(lon + dlon * math.cos(a), lat + dlat * math.sin(a)) for lon, lat in core
             for a in (2 * math.pi * i / PAD_SIDES for i in range(PAD_SIDES))]
    ring = convex_hull(grown)
    return (*ring, ring[0])


def convex_hull(points: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """Andrew's monotone chain: the hull's corners counter-clockwise, not closed."""
    pts = sorted(set(points))
    if len(pts) <= 2:
        return pts

    def cross(o: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list[tuple[float, float]] = []
    upper: list[tuple[float, float]] = []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return lower[:-1] + upper[:-1]


def simplify_ring(ring: Ring, tolerance: float) -> Ring:
    """Douglas–Peucker on a closed ring (degrees); the result stays closed, ≥ 4 positions,
    or is empty when the ring is smaller than the tolerance."""
    if len(ring) <= 4:
        return ring
    open_ring = list(ring[:-1])
    # split at the point farthest from the first, so both halves are open lines
    far = max(range(len(open_ring)), key=lambda i: _dist2(open_ring[0], open_ring[i]))
    first = _douglas_peucker(open_ring[: far + 1], tolerance)
    second = _douglas_peucker([*open_ring[far:], open_ring[0]], tolerance)
    kept = first[:-1] + second[:-1]
    if len(kept) < 3:
        return ()
    return (*kept, kept[0])


def simplify(polygons: Sequence[Polygon], tolerance: float) -> tuple[Polygon, ...]:
    """Each ring simplified; a hole (or a polygon) smaller than the tolerance is dropped."""
    out = []
    for polygon in polygons:
        outer = simplify_ring(polygon[0], tolerance)
        if not outer:
            continue
        holes = tuple(h for h in (simplify_ring(r, tolerance) for r in polygon[1:]) if h)
        out.append((outer, *holes))
    return tuple(out)


def for_storage(polygons: Sequence[Polygon]) -> tuple[Polygon, ...]:
    """The outline as a notice keeps it: about ``STORED_VERTICES`` positions, rounded."""
    count = sum(len(r) for p in polygons for r in p)
    shaped = tuple(polygons)
    if count > STORED_VERTICES:
        lons = [x for p in polygons for x, _ in p[0]]
        lats = [y for p in polygons for _, y in p[0]]
        span = max(max(lons) - min(lons), max(lats) - min(lats))
        tolerance = span / 2000
        while True:
            shaped = simplify(polygons, tolerance)
            if sum(len(r) for p in shaped for r in p) <= STORED_VERTICES or not shaped:
                break
            tolerance *= 2
    return tuple(tuple(tuple((round(x, DIGITS), round(y, DIGITS)) for x, y in ring)
                       for ring in p) for p in shaped)


def label_point(polygons: Sequence[Polygon]) -> tuple[float, float]:
    """Where a county's name goes: the centroid of its largest polygon's outer ring (the
    middle of its box when the centroid falls outside, as in a crescent)."""
    outer = max((p[0] for p in polygons), key=lambda r: abs(_area(r)))
    a = _area(outer)
    if abs(a) < 1e-15:
        return outer[0]
    cx = cy = 0.0
    for (x1, y1), (x2, y2) in zip(outer, outer[1:], strict=False):
        f = x1 * y2 - x2 * y1
        cx += (x1 + x2) * f
        cy += (y1 + y2) * f
    cx, cy = cx / (6 * a), cy / (6 * a)
    lons = [x for x, _ in outer]
    lats = [y for _, y in outer]
    if not (min(lons) <= cx <= max(lons) and min(lats) <= cy <= max(lats)):
        return (min(lons) + max(lons)) / 2, (min(lats) + max(lats)) / 2
    return cx, cy


def _area(ring: Ring) -> float:
    return sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(ring, ring[1:], strict=False)) / 2


def _dist2(a: tuple[float, float], b: tuple[float, float]) -> float:
    return (a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2


def _douglas_peucker(line: list[tuple[float, float]], tolerance: float
                     ) -> list[tuple[float, float]]:
    """The line's corners that matter (iterative: outlines may have 100,000 positions)."""
    keep = [False] * len(line)
    keep[0] = keep[-1] = True
    stack = [(0, len(line) - 1)]
    t2 = tolerance * tolerance
    while stack:
        first, last = stack.pop()
        ax, ay = line[first]
        bx, by = line[last]
        dx, dy = bx - ax, by - ay
        length2 = dx * dx + dy * dy
        best, best_i = -1.0, -1
        for i in range(first + 1, last):
            px, py = line[i]
            if length2 == 0:
                d2 = (px - ax) ** 2 + (py - ay) ** 2
            else:
                t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / length2))
                d2 = (px - ax - t * dx) ** 2 + (py - ay - t * dy) ** 2
            if d2 > best:
                best, best_i = d2, i
        if best > t2:
            keep[best_i] = True
            stack.append((first, best_i))
            stack.append((best_i, last))
    return [p for p, k in zip(line, keep, strict=True) if k]
