"""Analysis over real readings rows: windows, trend, points, cells and their county, causes."""

from __future__ import annotations

from pathlib import Path

import pytest

from netwatch.coverage.analysis import analyse
from netwatch.coverage.cells import CellGrid, cell_county, cell_id
from netwatch.inventory import Inventory
from netwatch.store import Store
from tests.coverage.city import DAY, NOW, add, add_many, load_city, open_fault


@pytest.fixture
def inv(tmp_path: Path) -> Inventory:
    return load_city(tmp_path)


def _point(store: Store, inv: Inventory, point: str):  # type: ignore[no-untyped-def]
    return next(v for v in analyse(store, inv, NOW).points if v.id == point)


def test_every_point_has_a_verdict_unsurveyed_without_readings(store: Store,
                                                                inv: Inventory) -> None:
    """Points nobody surveyed are listed as unsurveyed, not missing and not blind."""
    report = analyse(store, inv, NOW)
    assert [v.id for v in report.points] == ["n-cp-1", "n-cp-2", "n-cp-3", "s-cp-1", "e-cp-1"]
    assert {v.klass for v in report.points} == {"unsurveyed"}
    assert report.cells == () and report.blind_spots == ()


def test_a_point_is_judged_on_the_median_of_its_window(store: Store, inv: Inventory) -> None:
    """Readings older than the window do not count toward the current verdict."""
    add_many(store, [-112, -115, -111], county="north", point="n-cp-1")
    add_many(store, [-70, -70, -70, -70], county="north", point="n-cp-1",
             taken_at=NOW - 31 * DAY)
    v = _point(store, inv, "n-cp-1")
    assert (v.klass, v.current.median_dbm, v.current.readings) == ("blind", -112.0, 3)
    assert (v.previous.klass, v.trend) == ("good", "worse")
    assert v.last_taken == NOW - 3600 and v.first_taken == NOW - 3 * 3600


def test_readings_after_now_and_before_two_windows_are_ignored(store: Store,
                                                                inv: Inventory) -> None:
    add_many(store, [-130, -130, -130], county="north", point="n-cp-1", taken_at=NOW + 3600 * 4)
    add_many(store, [-130, -130, -130], county="north", point="n-cp-1",
             taken_at=NOW - 61 * DAY)
    v = _point(store, inv, "n-cp-1")
    assert (v.klass, v.previous.klass, v.trend) == ("unsurveyed", "unsurveyed", "new")


def test_no_service_and_ber_readings_make_a_point_blind(store: Store, inv: Inventory) -> None:
    """Good RSSI with a broken BER and no-service readings count under every threshold."""
    add(store, county="north", point="n-cp-1", rssi_dbm=-70)
    add(store, county="north", point="n-cp-1", rssi_dbm=-70, ber=0.2)
    add(store, county="north", point="n-cp-1", no_service=True)
    v = _point(store, inv, "n-cp-1")
    assert (v.klass, v.current.median_dbm) == ("blind", None)


def test_county_thresholds_apply_to_the_points_county(store: Store, inv: Inventory) -> None:
    """−110 dBm is blind in the north (−108) and weak in the south (−112)."""
    add_many(store, [-110, -110, -110], county="north", point="n-cp-1")
    add_many(store, [-110, -110, -110], county="south", point="s-cp-1", lat=38.2, lon=106.02)
    assert _point(store, inv, "n-cp-1").klass == "blind"
    assert _point(store, inv, "s-cp-1").klass == "weak"


def test_readings_of_an_unknown_point_are_left_out(store: Store, inv: Inventory) -> None:
    """A point removed from the inventory yields neither a point verdict nor a cell."""
    add_many(store, [-130, -130, -130], county="north", point="gone-cp")
    report = analyse(store, inv, NOW)
    assert "gone-cp" not in {v.id for v in report.verdicts} and report.cells == ()


def test_point_less_readings_form_cells_per_technology(store: Store, inv: Inventory) -> None:
    """Three PDT readings a few metres apart make one blind cell; broadband there is its own."""
    for d in (0.0, 0.0001, 0.0002):
        add(store, county="north", lat=38.45 + d, lon=105.95, rssi_dbm=-115)
    add(store, county="north", lat=38.45, lon=105.95, technology="broadband", rsrp_dbm=-80,
        sinr_db=10)
    report = analyse(store, inv, NOW)
    grid = CellGrid(300)
    index = grid.index(38.45, 105.95)
    cells = {(c.id, c.technology): c for c in report.cells}
    assert set(cells) == {(cell_id(index), "pdt"), (cell_id(index), "broadband")}
    pdt = cells[(cell_id(index), "pdt")]
    assert (pdt.klass, pdt.county, pdt.current.readings) == ("blind", "north", 3)
    assert (pdt.lat, pdt.lon) == grid.centre(index)
    assert cells[(cell_id(index), "broadband")].klass == "unsurveyed"
    assert [s.verdict.id for s in report.blind_spots] == [cell_id(index)]


def test_cell_ids_are_stable_and_cells_are_about_the_size_asked() -> None:
    """The same place always maps to the same id; 300 m east or north is the next cell."""
    grid = CellGrid(300)
    a = grid.index(38.5, 106.0)
    assert CellGrid(300).index(38.5, 106.0) == a
    lat, lon = grid.centre(a)
    assert grid.index(lat, lon) == a
    assert grid.index(lat + 300 / 111_320, lon)[0] == a[0] + 1
    assert grid.index(lat, lon + 300 / (111_320 * 0.7826))[1] == a[1] + 1  # cos 38.5°
    assert cell_id((-3, 12)) == "cell--3-12"


def test_a_cell_takes_its_readings_county_when_they_agree(inv: Inventory) -> None:
    assert cell_county(inv, {"east": 2}, 38.45, 105.95) == "east"


def test_a_cell_whose_readings_disagree_takes_the_county_at_its_centre(inv: Inventory) -> None:
    """Readings straddling a border: the boundary polygon at the centre decides."""
    assert cell_county(inv, {"south": 2, "north": 1}, 38.5, 106.0) == "north"
    assert cell_county(inv, {"south": 1, "north": 2}, 38.2, 106.0) == "south"


def test_a_cell_far_from_every_county_takes_its_readings_majority(inv: Inventory) -> None:
    """No polygon and no place within reach at the centre: most readings decide."""
    assert cell_county(inv, {"north": 1, "east": 2}, 10.0, 10.0) == "east"


def test_a_blind_spot_whose_serving_site_is_unreachable_is_site_down(store: Store,
                                                                     inv: Inventory) -> None:
    """The point's declared serving site has a real open ``unreachable`` episode."""
    add_many(store, [-120, -120, -120], county="north", point="n-cp-1")
    open_fault(store, "n-ts-1", "unreachable")
    (spot,) = analyse(store, inv, NOW).blind_spots
    assert (spot.cause.kind, spot.cause.site, spot.cause.fault) == (
        "site_down", "n-ts-1", "unreachable")


@pytest.mark.parametrize(("fault", "cause"), [
    ("service_down", "site_down"), ("uplink_down", "uplink_down"),
    ("uplink_slow", "uplink_slow"), ("flapping", "coverage_hole"),
])
def test_site_faults_name_the_cause(store: Store, inv: Inventory, fault: str,
                                    cause: str) -> None:
    add_many(store, [-120, -120, -120], county="north", point="n-cp-1")
    open_fault(store, "n-ts-1", fault)
    assert analyse(store, inv, NOW).blind_spots[0].cause.kind == cause


def test_a_closed_fault_is_no_cause(store: Store, inv: Inventory) -> None:
    """Once the site's episode closed, the blind spot is a coverage hole."""
    add_many(store, [-120, -120, -120], county="north", point="n-cp-1")
    open_fault(store, "n-ts-1", "unreachable")
    store.conn.execute("UPDATE fault_episodes SET closed_at = ?, close_reason = 'recovered'",
                       (NOW - 60,))
    assert analyse(store, inv, NOW).blind_spots[0].cause.kind == "coverage_hole"


def test_without_a_declared_site_the_most_reported_site_is_judged(store: Store,
                                                                   inv: Inventory) -> None:
    """n-cp-2 declares none; two of three readings name n-ts-2, whose uplink is down."""
    for site in ("n-ts-2", "n-ts-1", "n-ts-2"):
        add(store, county="north", point="n-cp-2", technology="broadband", rsrp_dbm=-125,
            sinr_db=0, serving_site=site)
    open_fault(store, "n-ts-2", "uplink_down")
    (spot,) = analyse(store, inv, NOW).blind_spots
    assert (spot.verdict.id, spot.cause.kind, spot.cause.site) == ("n-cp-2", "uplink_down",
                                                                   "n-ts-2")


def test_without_any_site_named_the_nearest_site_of_the_county_is_judged(
        store: Store, inv: Inventory) -> None:
    """n-cp-3 (38.65, 106.15) is nearest to n-ts-2 (38.7, 106.2) of the northern sites."""
    add_many(store, [-120, -120, -120], county="north", point="n-cp-3")
    open_fault(store, "n-ts-2", "unreachable")
    (spot,) = analyse(store, inv, NOW).blind_spots
    assert (spot.cause.kind, spot.cause.site) == ("site_down", "n-ts-2")


def test_a_blind_cell_reports_its_readings_site(store: Store, inv: Inventory) -> None:
    for _ in range(3):
        add(store, county="south", lat=38.25, lon=106.1, rssi_dbm=-125, serving_site="s-ts-1")
    open_fault(store, "s-ts-1", "service_down", county="south")
    (spot,) = analyse(store, inv, NOW).blind_spots
    assert (spot.verdict.subject_type, spot.verdict.county, spot.cause.kind,
            spot.cause.site) == ("cell", "south", "site_down", "s-ts-1")


def test_the_window_boundary_belongs_to_the_previous_window(store: Store,
                                                            inv: Inventory) -> None:
    """The current window is (now − window, now]: a reading exactly 30 days old is previous."""
    for _ in range(3):
        add(store, county="north", point="n-cp-1", rssi_dbm=-80, taken_at=NOW - 30 * DAY)
        add(store, county="north", point="n-cp-1", rssi_dbm=-120, taken_at=NOW)
    v = _point(store, inv, "n-cp-1")
    assert (v.klass, v.previous.klass, v.trend) == ("blind", "good", "worse")
    assert (v.first_taken, v.last_taken) == (NOW, NOW)
