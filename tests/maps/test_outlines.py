"""County outlines: the inventory's boundary, else the padded hull of its places; stored
outlines simplified; the boundaries exported for Grafana, nothing else."""

from __future__ import annotations

import json
import math
from pathlib import Path

from netwatch.inventory import load_inventory
from netwatch.maps import boundaries_geojson, boundaries_text, county_outline, for_storage
from netwatch.maps.outlines import PAD_M, STORED_VERTICES, padded_hull
from netwatch.survey import haversine_m, places_for
from tests.survey.city import INVENTORY, write_city


def test_boundary_else_padded_hull(tmp_path: Path) -> None:
    inv = load_inventory(write_city(tmp_path))
    north = county_outline(inv, "north")
    assert north is not None and not north.hull
    assert north.polygons == inv.counties["north"].area.polygons  # type: ignore[union-attr]
    east = county_outline(inv, "east")  # no boundary: its site and point, padded
    assert east is not None and east.hull and east.name == "东区"
    ring = east.polygons[0][0]
    assert ring[0] == ring[-1]
    for lat, lon in places_for(inv).located["east"]:
        nearest = min(haversine_m(lat, lon, y, x) for x, y in ring)
        assert nearest >= PAD_M * math.cos(math.pi / 16) * 0.99


def test_a_county_with_nothing_located_has_no_outline(tmp_path: Path) -> None:
    text = INVENTORY.replace("  - {id: east, name: 东区, receiving_unit: 东区分局}",
                             "  - {id: east, name: 东区, receiving_unit: 东区分局}\n"
                             "  - {id: west, name: 西区, receiving_unit: 西区分局}")
    inv = load_inventory(write_city(tmp_path, text))
    assert county_outline(inv, "west") is None


def test_one_place_still_gets_a_ring() -> None:
    ring = padded_hull([(106.0, 38.0)])
    assert len(ring) >= 8 and ring[0] == ring[-1]


def test_stored_outlines_are_simplified_and_closed() -> None:
    n = 20_000  # a finely drawn circle of ≈ 10 km radius
    ring = tuple((106.0 + 0.1 * math.cos(2 * math.pi * i / n),
                  38.0 + 0.08 * math.sin(2 * math.pi * i / n)) for i in range(n))
    ring = (*ring, ring[0])
    hole = ((105.99, 37.99), (106.01, 37.99), (106.01, 38.01), (105.99, 38.01), (105.99, 37.99))
    stored = for_storage([(ring, hole)])
    count = sum(len(r) for p in stored for r in p)
    assert 50 < count <= STORED_VERTICES
    assert all(r[0] == r[-1] and len(r) >= 4 for p in stored for r in p)
    assert len(stored[0]) == 2  # the hole is kept
    small = for_storage([(hole,)])
    assert small == ((hole,),)


def test_boundaries_export_has_only_boundaries(tmp_path: Path) -> None:
    inv = load_inventory(write_city(tmp_path))
    doc = boundaries_geojson(inv)
    assert doc["type"] == "FeatureCollection"
    assert [f["id"] for f in doc["features"]] == ["north", "south"]  # east has none
    north = doc["features"][0]
    assert north["properties"] == {"id": "north", "name": "北区"}
    assert north["geometry"]["type"] == "Polygon"
    ring = north["geometry"]["coordinates"][0]
    assert ring[0] == ring[-1] and len(ring) == 5
    text = boundaries_text(inv)
    assert json.loads(text) == doc
    assert "n-ts-1" not in text and "127.110" not in text  # nothing about devices
