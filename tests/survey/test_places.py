"""county_at: boundary polygons first, then the nearest located place within 20 km."""

from __future__ import annotations

from pathlib import Path

from netwatch.inventory import gcj02_to_wgs84
from netwatch.survey.places import Places, county_at, places_for
from tests.survey.city import INVENTORY, load_city


def test_polygons_decide(tmp_path: Path) -> None:
    """A location inside a county's boundary is that county's, whatever lies nearer."""
    inv = load_city(tmp_path)
    assert county_at(inv, 38.6, 106.0) == "north"
    assert county_at(inv, 38.39, 106.25) == "south"


def test_nearest_place_without_boundary(tmp_path: Path) -> None:
    """East has no polygon: its site and point place nearby locations; 20 km is the limit."""
    inv = load_city(tmp_path)
    assert county_at(inv, 38.5, 106.55) == "east"  # ≈ 9 km from e-ts-1
    assert county_at(inv, 38.5, 106.9) is None  # ≈ 26 km from the nearest place
    assert county_at(inv, 10.0, 10.0) is None


def test_without_any_boundary_nearest_decides(tmp_path: Path) -> None:
    """An inventory with no polygons places by the nearest device or point."""
    text = "\n".join(line for line in INVENTORY.splitlines() if "boundary" not in line)
    text = text.replace("receiving_unit: 北区分局,", "receiving_unit: 北区分局}")
    text = text.replace("receiving_unit: 南区分局,", "receiving_unit: 南区分局}")
    inv = load_city(tmp_path, text)
    assert not any(c.boundary for c in inv.counties.values())
    assert county_at(inv, 38.25, 106.0) == "south"  # 5.5 km from s-ts-1, 39 km from n-ts-1
    assert county_at(inv, 38.59, 106.0) == "north"


def test_inventory_datum_is_converted(tmp_path: Path) -> None:
    """Inventory coordinates in GCJ-02 are compared in WGS-84: a boundary edge moves."""
    inv = load_city(tmp_path)
    gcj = load_city(tmp_path, INVENTORY.replace("retention: 30d", "retention: 30d\n  datum: gcj02"))
    edge, _ = gcj02_to_wgs84(38.4, 106.0)  # the GCJ-02 edge at 38.4, in WGS-84
    assert 38.4 - edge > 0.0002  # here GCJ-02 lies ≈ 47 m north (and ≈ 380 m east) of WGS-84
    probe = (38.4 + edge) / 2  # south of 38.4, north of the converted edge
    assert county_at(inv, probe, 106.0) == "south"
    assert county_at(gcj, probe, 106.0) == "north"


def test_places_are_built_once_per_inventory(tmp_path: Path) -> None:
    """Lookups reuse the precomputed places of the same inventory object."""
    inv = load_city(tmp_path)
    assert places_for(inv) is places_for(inv)
    assert isinstance(places_for(inv), Places)
