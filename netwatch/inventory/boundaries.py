"""The counties' outlines: an inline ``boundary`` ring or a feature of a GeoJSON file, in WGS-84.

One source serves both uses: the survey places readings with these areas and the
maps draw them. A county's outline comes from its inline ring (in the inventory's
``coverage.datum``) or from the ``boundaries`` file (a GeoJSON ``FeatureCollection``,
one ``Polygon`` or ``MultiPolygon`` feature per county, holes allowed, matched by
id; WGS-84 as GeoJSON has it, or GCJ-02/BD-09 converted at load), never both.
Problems in the file are reported as ``FILE: feature N: reason`` (N counts from 1).
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path
from typing import Any

from netwatch.inventory import units as u
from netwatch.inventory.datums import to_wgs84
from netwatch.inventory.files import FileRefused, inside, read_capped
from netwatch.inventory.model import DATUMS, Area, BoundaryFile, County, Polygon, Ring
from netwatch.inventory.reader import Reader, join, say, suggestion
from netwatch.inventory.yaml_lines import LineMap

MAX_GEOJSON_BYTES = 32 * 1024 * 1024
# every position costs each reading placed inside the county's box a comparison: a file
# past this is a survey map, not an outline (simplify it first)
MAX_POSITIONS = 200_000
KEYS = ("file", "datum", "id_property", "allow_outside")
WGS84_NAMES = ("urn:ogc:def:crs:OGC:1.3:CRS84", "urn:ogc:def:crs:OGC::CRS84",
               "urn:ogc:def:crs:EPSG::4326", "EPSG:4326", "CRS84")


class FeatureError(ValueError):
    """One feature is unusable; the message says where inside it and why."""


def closed(ring: Ring) -> Ring:
    """The ring with its first position repeated last (once)."""
    return ring if ring[0] == ring[-1] else (*ring, ring[0])


def read_boundaries(r: Reader, raw: Any, line: int, base_dir: Path,
                    counties: dict[str, County], datum: str) -> dict[str, County]:
    """The counties with their ``area`` set: inline rings converted from ``datum``, then the
    ``boundaries`` file's features (a county in both is a problem)."""
    out = {cid: _inline(c, datum) for cid, c in counties.items()}
    setting = read_setting(r, raw, line, base_dir)
    if setting is None:
        return out
    m = raw
    assert isinstance(m, LineMap)
    where = join("boundaries", "file")
    try:
        data = read_capped(Path(setting.path), MAX_GEOJSON_BYTES)
        text = data.decode("utf-8-sig")
    except (OSError, FileRefused) as exc:
        reason = exc.strerror or exc if isinstance(exc, OSError) else exc
        r.add(m.line_of("file"), say(where, f'cannot read "{m.get("file")}": {reason}'))
        return out
    except UnicodeDecodeError as exc:
        r.add(data[: exc.start].count(b"\n") + 1, "not valid UTF-8 text", setting.path)
        return out
    areas = read_geojson(r, text, setting, counties)
    for cid, area in areas.items():
        if counties[cid].boundary:
            r.add(m.line_of("file"), say(where, (
                f"county {cid} has an inline boundary ({counties[cid].source}) and one in "
                f"{area.source}: keep one")))
            continue
        out[cid] = replace(out[cid], area=area)
    return out


def _inline(county: County, datum: str) -> County:
    if len(county.boundary) < 3:
        return county
    ring = closed(tuple((lon, lat) for lat, lon in (
        to_wgs84(datum, lat, lon) for lon, lat in county.boundary)))
    return replace(county, area=Area.of(((ring,),), county.source))


def read_setting(r: Reader, raw: Any, line: int, base_dir: Path) -> BoundaryFile | None:
    """The ``boundaries`` section, or None when absent or unusable (with a problem)."""
    w = "boundaries"
    m = r.mapping(raw, line, w)
    if m is None:
        return None
    before = len(r.problems)
    r.keys(m, w, KEYS, required=("file",))
    rel = r.get(m, "file", w, u.text, "")
    datum = r.get(m, "datum", w, u.text, "wgs84")
    if datum not in DATUMS:
        r.add(m.line_of("datum"), say(join(w, "datum"),
                                      f'unknown datum "{datum}" (one of {", ".join(DATUMS)})'))
    prop = r.get(m, "id_property", w, u.text, "id")
    outside_ok = r.get(m, "allow_outside", w, u.boolean, False)
    path, kept_inside = inside(base_dir, rel) if rel else (base_dir, True)
    if rel and not outside_ok and (Path(rel).is_absolute() or not kept_inside):
        r.add(m.line_of("file"), say(join(w, "file"), f'"{rel}" is outside the inventory\'s '
                                     "directory (allow_outside: true permits it)"))
    if len(r.problems) != before or not rel:
        return None
    return BoundaryFile(str(path), datum, prop)


def read_geojson(r: Reader, text: str, setting: BoundaryFile,
                 counties: dict[str, County]) -> dict[str, Area]:
    """Each matched county's area from the file's text; problems go to ``r`` under the file."""
    file = setting.path

    def bad(message: str, line: int = 0) -> None:
        r.add(line, message, file)

    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        bad(f"not valid JSON: {exc.msg} (column {exc.colno})", exc.lineno)
        return {}
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        bad('expected a GeoJSON FeatureCollection ({"type": "FeatureCollection", '
            '"features": [...]})')
        return {}
    crs = _crs_name(doc.get("crs"))
    if crs is not None and crs not in WGS84_NAMES:
        bad(f'crs "{crs}": expected longitude and latitude (WGS-84, EPSG:4326); reproject '
            "the file, or give GCJ-02/BD-09 longitude and latitude with boundaries.datum")
        return {}
    features = doc.get("features")
    if not isinstance(features, list):
        bad('"features": expected a list')
        return {}
    areas: dict[str, Area] = {}
    first: dict[str, int] = {}
    positions = 0
    for n, feature in enumerate(features, 1):
        try:
            cid, polygons = _feature(feature, setting)
        except FeatureError as exc:
            bad(f"feature {n}: {exc}")
            continue
        if cid not in counties:
            bad(f'feature {n}: unknown county "{cid}"{suggestion(cid, counties)}')
            continue
        if cid in first:
            bad(f'feature {n}: county "{cid}" again (first in feature {first[cid]})')
            continue
        first[cid] = n
        positions += sum(len(ring) for poly in polygons for ring in poly)
        if positions > MAX_POSITIONS:
            bad(f"feature {n}: over {MAX_POSITIONS:,} positions in the file; simplify the "
                "outlines (a county map needs a few thousand each)")
            return {}
        areas[cid] = Area.of(polygons, f"{file}: feature {n}")
    return areas


def _crs_name(crs: Any) -> str | None:
    """The name of a (2008 GeoJSON) named ``crs`` member, or None when there is none."""
    if not isinstance(crs, dict):
        return None
    props = crs.get("properties")
    name = props.get("name") if isinstance(props, dict) else None
    return str(name) if name is not None else "unnamed"


def _feature(feature: Any, setting: BoundaryFile) -> tuple[str, tuple[Polygon, ...]]:
    """(county id, polygons in WGS-84) of one feature, or FeatureError."""
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise FeatureError('expected a GeoJSON Feature ({"type": "Feature", ...})')
    props = feature.get("properties")
    cid = props.get(setting.id_property) if isinstance(props, dict) else None
    if cid is None:
        cid = feature.get("id")
    if isinstance(cid, int) and not isinstance(cid, bool):
        cid = str(cid)
    if not isinstance(cid, str) or not cid:
        raise FeatureError(f"no county id (properties.{setting.id_property} or the "
                           "feature's id)")
    geometry = feature.get("geometry")
    kind = geometry.get("type") if isinstance(geometry, dict) else None
    coords = geometry.get("coordinates") if isinstance(geometry, dict) else None
    if kind == "Polygon":
        parts = [coords]
    elif kind == "MultiPolygon":
        if not isinstance(coords, list) or not coords:
            raise FeatureError("MultiPolygon: expected a list of polygons")
        parts = coords
    else:
        raise FeatureError(f"county {cid}: geometry {u.shown(kind)}: expected Polygon or "
                           "MultiPolygon")
    polygons = []
    for p, part in enumerate(parts, 1):
        where = f"county {cid}: polygon {p}" if kind == "MultiPolygon" else f"county {cid}:"
        polygons.append(_polygon(part, where, setting.datum))
    return cid, tuple(polygons)


def _polygon(rings: Any, where: str, datum: str) -> Polygon:
    if not isinstance(rings, list) or not rings:
        raise FeatureError(say(where, "expected a list of rings (the outer ring, then holes)"))
    out = []
    for i, ring in enumerate(rings):
        name = "outer ring" if i == 0 else f"hole {i}"
        if not isinstance(ring, list) or len(ring) < 4:
            raise FeatureError(say(where, f"{name}: a ring needs at least 4 positions "
                                          "(3 corners and the first again)"))
        points = []
        for j, pos in enumerate(ring, 1):
            points.append(_position(pos, say(where, f"{name}: position {j}")))
        if points[0] != points[-1]:
            raise FeatureError(say(where, f"{name}: not closed (the last position must "
                                          "repeat the first)"))
        out.append(tuple((lon, lat) for lat, lon in (
            to_wgs84(datum, lat, lon) for lon, lat in points)))
    return tuple(out)


def _position(pos: Any, where: str) -> tuple[float, float]:
    ok = isinstance(pos, list) and len(pos) in (2, 3) and all(
        isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
        for v in pos)
    if not ok or not (-180.0 <= pos[0] <= 180.0 and -90.0 <= pos[1] <= 90.0):
        shown = json.dumps(pos)[:60] if isinstance(pos, list) else u.shown(pos)
        raise FeatureError(f"{where}: expected [longitude, latitude] in range, got {shown}")
    return float(pos[0]), float(pos[1])
