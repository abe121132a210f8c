"""validate_reading: every class of error, and the normalised reading it accepts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from netwatch.inventory import Inventory
from netwatch.survey.geo import haversine_m, to_wgs84, wgs84_to_gcj02
from netwatch.survey.validate import Reading, validate_reading
from tests.survey.city import NOW, TAKEN, load_city

PDT: dict[str, Any] = {"point": "n-cp-1", "taken_at": TAKEN, "technology": "pdt",
                       "rssi_dbm": -95.5}
BROADBAND: dict[str, Any] = {"lat": 38.5, "lon": 105.9, "taken_at": TAKEN,
                             "technology": "broadband", "rsrp_dbm": -100, "sinr_db": 3}


@pytest.fixture(scope="module")
def inv(tmp_path_factory: pytest.TempPathFactory) -> Inventory:
    return load_city(Path(tmp_path_factory.mktemp("city")))


def check(inv: Inventory, raw: object, datum: str = "wgs84") -> Reading | list[tuple[str, str]]:
    return validate_reading(raw, inv, NOW, default_datum=datum)


def test_point_reading_takes_the_points_position(inv: Inventory) -> None:
    """A point without lat/lon is read at the point; taken_at becomes Unix time."""
    r = check(inv, PDT)
    assert isinstance(r, Reading)
    assert (r.point, r.lat, r.lon, r.technology, r.rssi_dbm) == ("n-cp-1", 38.61, 106.01,
                                                                 "pdt", -95.5)
    assert r.taken_at == NOW - 1800


def test_located_broadband_reading(inv: Inventory) -> None:
    """lat/lon without a point; integers are accepted as numbers."""
    r = check(inv, {**BROADBAND, "serving_site": "n-ts-1", "note": "gate", "client_id": "a1"})
    assert isinstance(r, Reading)
    assert (r.point, r.rsrp_dbm, r.sinr_db, r.serving_site, r.note, r.client_id) == (
        None, -100.0, 3.0, "n-ts-1", "gate", "a1")


@pytest.mark.parametrize("datum", ["gcj02", "bd09"])
def test_datum_is_converted_to_wgs84(inv: Inventory, datum: str) -> None:
    """GCJ-02 and BD-09 positions are stored in WGS-84 (the row's datum, else the default)."""
    lat, lon = 38.5, 105.9
    expected = to_wgs84(datum, lat, lon)
    assert haversine_m(*expected, lat, lon) > 100
    for raw, default in (({**BROADBAND, "datum": datum}, "wgs84"), (BROADBAND, datum)):
        r = check(inv, raw, default)
        assert isinstance(r, Reading)
        assert (r.lat, r.lon) == expected


def test_gcj02_reading_lands_where_it_was_taken(inv: Inventory) -> None:
    """A phone's GCJ-02 fix of a WGS-84 spot is stored within 0.5 m of that spot."""
    glat, glon = wgs84_to_gcj02(38.5, 105.9)
    r = check(inv, {**BROADBAND, "lat": glat, "lon": glon, "datum": "gcj02"})
    assert isinstance(r, Reading)
    assert haversine_m(r.lat, r.lon, 38.5, 105.9) < 0.5


def test_no_service_needs_no_figures(inv: Inventory) -> None:
    """no_service: true makes the signal figures optional."""
    r = check(inv, {"point": "n-cp-1", "taken_at": TAKEN, "no_service": True})
    assert isinstance(r, Reading) and r.no_service and r.rssi_dbm is None
    r = check(inv, {**BROADBAND, "rsrp_dbm": None, "sinr_db": None, "no_service": True})
    assert isinstance(r, Reading) and r.no_service


def test_technology_defaults_to_the_points(inv: Inventory) -> None:
    """A point reading may leave technology out; it is the point's."""
    r = check(inv, {"point": "n-cp-2", "taken_at": TAKEN, "rsrp_dbm": -90, "sinr_db": 5})
    assert isinstance(r, Reading) and r.technology == "broadband"


CASES: list[tuple[str, dict[str, Any], tuple[str, str]]] = [
    ("unknown field", {**PDT, "tester": "me"}, ("tester", "unknown field")),
    ("unknown point", {**PDT, "point": "nope"}, ("point", "no such coverage point")),
    ("no place", {"taken_at": TAKEN, "technology": "pdt", "rssi_dbm": -90},
     ("point", "give a coverage point id, or lat and lon")),
    ("lat alone", {**BROADBAND, "lon": None}, ("lon", "lat and lon go together")),
    ("lat not number", {**BROADBAND, "lat": "38.5"}, ("lat", "must be a finite number")),
    ("lat bool", {**BROADBAND, "lat": True}, ("lat", "must be a finite number")),
    ("lat range", {**BROADBAND, "lat": 91}, ("lat", "must be within -90..90")),
    ("lon range", {**BROADBAND, "lon": 181}, ("lon", "must be within -180..180")),
    ("outside bbox", {**BROADBAND, "lat": 39.0}, ("lat", "outside the city's bounding box")),
    ("outside bbox lon", {**BROADBAND, "lon": 105.6}, ("lon", "outside the city's bounding box")),
    ("bad datum", {**BROADBAND, "datum": "utm"}, ("datum", "must be one of wgs84, gcj02, bd09")),
    ("no taken_at", {**PDT, "taken_at": None},
     ("taken_at", "required (ISO 8601 with a UTC offset)")),
    ("taken_at garbage", {**PDT, "taken_at": "yesterday"},
     ("taken_at", "not an ISO 8601 date-time")),
    ("taken_at number", {**PDT, "taken_at": 1700000000},
     ("taken_at", "not an ISO 8601 date-time")),
    ("taken_at naive", {**PDT, "taken_at": "2026-11-20T11:30:00"},
     ("taken_at", "needs a UTC offset (e.g. +08:00 or Z)")),
    ("future", {**PDT, "taken_at": "2026-11-20T04:06:00Z"},
     ("taken_at", "more than 5 min in the future")),
    ("past retention", {**PDT, "taken_at": "2026-10-20T03:59:00Z"},
     ("taken_at", "older than the readings' retention period")),
    ("bad technology", {**PDT, "point": None, "lat": 38.5, "lon": 106.0, "technology": "lte"},
     ("technology", "must be one of pdt, broadband")),
    ("technology mismatch", {**PDT, "technology": "broadband", "rssi_dbm": None,
                             "rsrp_dbm": -90, "sinr_db": 1},
     ("technology", "the point is surveyed for pdt")),
    ("rssi missing", {**PDT, "rssi_dbm": None},
     ("rssi_dbm", "required for pdt unless no_service is true")),
    ("rssi range", {**PDT, "rssi_dbm": -10}, ("rssi_dbm", "must be within -140..-20")),
    ("ber range", {**PDT, "ber": 1.5}, ("ber", "must be within 0..1")),
    ("rsrp on pdt", {**PDT, "rsrp_dbm": -90}, ("rsrp_dbm", "not a pdt figure")),
    ("rsrp range", {**BROADBAND, "rsrp_dbm": -40}, ("rsrp_dbm", "must be within -140..-44")),
    ("sinr range", {**BROADBAND, "sinr_db": 41}, ("sinr_db", "must be within -20..40")),
    ("sinr missing", {**BROADBAND, "sinr_db": None},
     ("sinr_db", "required for broadband unless no_service is true")),
    ("no_service not bool", {**PDT, "no_service": "yes"},
     ("no_service", "must be true or false")),
    ("site unknown", {**PDT, "serving_site": "e-sw-1"},
     ("serving_site", "no such trunking_site device")),
    ("note long", {**PDT, "note": "x" * 501}, ("note", "longer than 500 characters")),
    ("note not text", {**PDT, "note": 5}, ("note", "must be a string")),
    ("client id long", {**PDT, "client_id": "c" * 65},
     ("client_id", "longer than 64 characters")),
    ("client id reserved", {**PDT, "client_id": "sha256:abc"},
     ("client_id", "may not start with 'sha256:'")),
]


@pytest.mark.parametrize(("raw", "problem"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_error_names_field_and_reason(inv: Inventory, raw: dict[str, Any],
                                           problem: tuple[str, str]) -> None:
    """Each rule refuses with its (field, reason)."""
    raw = {k: v for k, v in raw.items() if v is not None or k in ("rsrp_dbm", "sinr_db")}
    result = check(inv, raw)
    assert isinstance(result, list)
    assert problem in result


def test_not_an_object(inv: Inventory) -> None:
    """A row that is not an object is refused as a whole."""
    assert check(inv, ["pdt"]) == [("", "each reading must be an object")]


def test_all_problems_at_once(inv: Inventory) -> None:
    """Several problems in one row are all reported."""
    result = check(inv, {"point": "nope", "taken_at": "x", "colour": "red"})
    assert isinstance(result, list)
    assert {f for f, _ in result} >= {"colour", "point", "taken_at"}


def test_blank_text_is_absent(inv: Inventory) -> None:
    """A form's empty inputs (point, note, client_id) count as not given."""
    r = check(inv, {**BROADBAND, "point": "", "note": " ", "client_id": "", "serving_site": ""})
    assert isinstance(r, Reading) and (r.point, r.note, r.client_id) == (None, None, None)
    assert check(inv, {"point": "", "taken_at": TAKEN, "technology": "pdt", "rssi_dbm": -90}) == [
        ("point", "give a coverage point id, or lat and lon")]
    assert check(inv, {"point": 5, "taken_at": TAKEN, "technology": "pdt", "rssi_dbm": -90}) == [
        ("point", "must be a string")]
