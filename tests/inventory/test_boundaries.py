"""County outlines: inline rings or a GeoJSON file, one source for placing readings and maps."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from netwatch.inventory import InventoryError, load_inventory, to_wgs84, wgs84_to_gcj02
from netwatch.survey import county_at

HEAD = textwrap.dedent("""\
    city: {name: Mapville, timezone: Asia/Shanghai}
    counties:
      - {id: north, name: 北区, receiving_unit: 北区分局}
      - {id: south, name: 南区, receiving_unit: 南区分局}
      - {id: east, name: 东区, receiving_unit: 东区分局,
         boundary: [[106.3, 38.0], [106.8, 38.0], [106.8, 38.8], [106.3, 38.8]]}
    devices:
      - {id: n-ts-1, kind: trunking_site, county: north, address: 127.72.2.1,
         name: North site, lat: 38.6, lon: 106.0, checks: [icmp]}
    """)
SQUARE_N = [[105.8, 38.4], [106.3, 38.4], [106.3, 38.8], [105.8, 38.8], [105.8, 38.4]]
HOLE_N = [[105.9, 38.5], [106.0, 38.5], [106.0, 38.6], [105.9, 38.6], [105.9, 38.5]]
SOUTH_A = [[105.8, 38.0], [106.0, 38.0], [106.0, 38.4], [105.8, 38.4], [105.8, 38.0]]
SOUTH_B = [[106.1, 38.0], [106.3, 38.0], [106.3, 38.4], [106.1, 38.4], [106.1, 38.0]]


def feature(cid: Any, geometry: dict[str, Any], key: str = "id") -> dict[str, Any]:
    return {"type": "Feature", "properties": {key: cid, "name": str(cid)},
            "geometry": geometry}


def collection(*features: dict[str, Any]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features)}


GOOD = collection(
    feature("north", {"type": "Polygon", "coordinates": [SQUARE_N, HOLE_N]}),
    feature("south", {"type": "MultiPolygon", "coordinates": [[SOUTH_A], [SOUTH_B]]}))


def write(tmp: Path, doc: Any, setting: str = "boundaries: {file: counties.geojson}",
          head: str = HEAD) -> Path:
    text = doc if isinstance(doc, str) else json.dumps(doc)
    (tmp / "counties.geojson").write_text(text, encoding="utf-8")
    path = tmp / "inventory.yaml"
    path.write_text(head + setting + "\n", encoding="utf-8")
    return path


def problems(tmp: Path, doc: Any, setting: str = "boundaries: {file: counties.geojson}",
             head: str = HEAD) -> list[str]:
    with pytest.raises(InventoryError) as caught:
        load_inventory(write(tmp, doc, setting, head))
    return [str(p).replace(f"{tmp}/", "") for p in caught.value.problems]


def test_polygons_multipolygons_and_holes_place_readings(tmp_path: Path) -> None:
    inv = load_inventory(write(tmp_path, GOOD))
    north, south, east = (inv.counties[c].area for c in ("north", "south", "east"))
    assert north is not None and south is not None and east is not None
    assert len(north.polygons) == 1 and len(north.polygons[0]) == 2  # outer ring and a hole
    assert len(south.polygons) == 2
    assert north.source == f"{tmp_path}/counties.geojson: feature 1"
    assert east.source == f"{tmp_path}/inventory.yaml:5"  # the inline ring, closed at load
    assert east.polygons[0][0][0] == east.polygons[0][0][-1]
    assert county_at(inv, 38.7, 106.2) == "north"
    assert county_at(inv, 38.2, 105.9) == "south"  # first polygon
    assert county_at(inv, 38.2, 106.2) == "south"  # second polygon
    assert county_at(inv, 38.4, 106.5) == "east"
    # inside the hole nothing's boundary holds it: the nearest place (north's site) decides
    assert county_at(inv, 38.55, 105.95) == "north"


def test_a_hole_takes_the_location_out_of_the_county(tmp_path: Path) -> None:
    """A hole's inside belongs to no boundary; with no place near, to no county at all."""
    head = HEAD.replace("lat: 38.6, lon: 106.0", "lat: 20.0, lon: 110.0")
    inv = load_inventory(write(tmp_path, GOOD, head=head))
    assert county_at(inv, 38.45, 106.2) == "north"
    assert county_at(inv, 38.55, 105.95) is None  # inside the hole
    assert county_at(inv, 38.5, 105.95) == "north"  # on the hole's edge: still the county's


def test_gcj02_file_is_converted_to_wgs84(tmp_path: Path) -> None:
    """A file in GCJ-02 gives the same WGS-84 outline as the WGS-84 file it was made from."""
    def shifted(ring: list[list[float]]) -> list[list[float]]:
        return [[round(x, 9) for x in reversed(wgs84_to_gcj02(lat, lon))] for lon, lat in ring]

    gcj = collection(feature("north", {"type": "Polygon", "coordinates": [shifted(SQUARE_N)]}))
    inv = load_inventory(write(tmp_path, gcj, "boundaries: {file: counties.geojson, "
                                              "datum: gcj02}"))
    area = inv.counties["north"].area
    assert area is not None
    for (lon, lat), (wlon, wlat) in zip(area.polygons[0][0], SQUARE_N, strict=True):
        assert abs(lon - wlon) < 1e-6 and abs(lat - wlat) < 1e-6
    lat, lon = to_wgs84("gcj02", 38.4, 106.0)
    assert abs(lat - 38.4) > 1e-4  # the conversion did something


def test_id_property_and_feature_id(tmp_path: Path) -> None:
    doc = collection(
        feature("north", {"type": "Polygon", "coordinates": [SQUARE_N]}, key="code"),
        {"type": "Feature", "id": "south", "properties": None,
         "geometry": {"type": "Polygon", "coordinates": [SOUTH_A]}})
    inv = load_inventory(write(tmp_path, doc, "boundaries: {file: counties.geojson, "
                                              "id_property: code}"))
    assert inv.counties["north"].area is not None and inv.counties["south"].area is not None


BAD = [
    ("both", collection(feature("east", {"type": "Polygon", "coordinates": [SQUARE_N]})),
     ["inventory.yaml:10: boundaries.file: county east has an inline boundary "
      "(inventory.yaml:5) and one in counties.geojson: feature 1: keep one"]),
    ("unknown", collection(feature("nort", {"type": "Polygon", "coordinates": [SQUARE_N]})),
     ['counties.geojson: feature 1: unknown county "nort" (did you mean "north"?)']),
    ("again", collection(feature("north", {"type": "Polygon", "coordinates": [SQUARE_N]}),
                         feature("north", {"type": "Polygon", "coordinates": [SQUARE_N]})),
     ['counties.geojson: feature 2: county "north" again (first in feature 1)']),
    ("open ring", collection(feature("north", {"type": "Polygon",
                                               "coordinates": [SQUARE_N[:-1] + [[1, 1]]]})),
     ["counties.geojson: feature 1: county north: outer ring: not closed (the last position "
      "must repeat the first)"]),
    ("short ring", collection(feature("north", {"type": "MultiPolygon", "coordinates": [
        [SOUTH_A], [SQUARE_N, HOLE_N[:3]]]})),
     ["counties.geojson: feature 1: county north: polygon 2: hole 1: a ring needs at least "
      "4 positions (3 corners and the first again)"]),
    ("point", collection(feature("north", {"type": "Point", "coordinates": [106, 38.5]})),
     ['counties.geojson: feature 1: county north: geometry "Point": expected Polygon or '
      "MultiPolygon"]),
    ("range", collection(feature("north", {"type": "Polygon", "coordinates": [
        [[105.8, 38.4], [106.3, 38.4], [106.3, 98.8], [105.8, 38.4]]]})),
     ["counties.geojson: feature 1: county north: outer ring: position 3: expected "
      "[longitude, latitude] in range, got [106.3, 98.8]"]),
    ("no id", collection({"type": "Feature", "properties": {},
                          "geometry": {"type": "Polygon", "coordinates": [SQUARE_N]}}),
     ["counties.geojson: feature 1: no county id (properties.id or the feature's id)"]),
    ("not a collection", {"type": "Feature"},
     ['counties.geojson: expected a GeoJSON FeatureCollection ({"type": "FeatureCollection", '
      '"features": [...]})']),
    ("projected", {**GOOD, "crs": {"type": "name", "properties": {
        "name": "urn:ogc:def:crs:EPSG::3857"}}},
     ['counties.geojson: crs "urn:ogc:def:crs:EPSG::3857": expected longitude and latitude '
      "(WGS-84, EPSG:4326); reproject the file, or give GCJ-02/BD-09 longitude and latitude "
      "with boundaries.datum"]),
    ("not json", '{"type": "FeatureCollection",\n "features": [}',
     ["counties.geojson:2: not valid JSON: Expecting value (column 15)"]),
]


@pytest.mark.parametrize(("doc", "expected"), [(d, e) for _, d, e in BAD],
                         ids=[name for name, _, _ in BAD])
def test_bad_files_name_the_feature_and_the_reason(tmp_path: Path, doc: Any,
                                                   expected: list[str]) -> None:
    assert problems(tmp_path, doc) == expected


def test_setting_problems(tmp_path: Path) -> None:
    assert problems(tmp_path, GOOD, "boundaries: {file: ../elsewhere.geojson, datum: utm}") == [
        'inventory.yaml:10: boundaries.datum: unknown datum "utm" (one of wgs84, gcj02, bd09)',
        'inventory.yaml:10: boundaries.file: "../elsewhere.geojson" is outside the inventory\'s '
        "directory (allow_outside: true permits it)"]
    assert problems(tmp_path, GOOD, "boundaries: {file: missing.geojson}") == [
        'inventory.yaml:10: boundaries.file: cannot read "missing.geojson": '
        "No such file or directory"]


def test_every_problem_at_once_with_the_rest_of_the_inventory(tmp_path: Path) -> None:
    """A file with several bad features reports each, beside the YAML's own problems."""
    doc = collection(feature("nort", {"type": "Polygon", "coordinates": [SQUARE_N]}),
                     feature("south", {"type": "Point", "coordinates": [1, 2]}),
                     feature("north", {"type": "Polygon", "coordinates": [SQUARE_N]}))
    found = problems(tmp_path, doc, head=HEAD.replace("kind: trunking_site", "kind: tower"))
    assert found[0].startswith("inventory.yaml:8: device n-ts-1: ")
    assert found[1:] == [
        'counties.geojson: feature 1: unknown county "nort" (did you mean "north"?)',
        'counties.geojson: feature 2: county south: geometry "Point": expected Polygon or '
        "MultiPolygon"]
